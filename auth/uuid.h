// UUID syntax check for ids globusfs takes from users (collections,
// identities, client ids). Pure; thread-safe.
#pragma once

#include <cctype>
#include <string_view>

namespace globusfs::auth {

// "1c2d3e4f-...": 8-4-4-4-12 hex digits (any case).
inline bool LooksLikeUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace globusfs::auth
