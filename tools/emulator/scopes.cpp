#include "scopes.h"

#include <cctype>

namespace emu {
namespace {

// Recursive descent over: list := item (ws item)* ; item := ['*'] name ['[' list ']']
bool ParseList(const std::string& s, size_t& i, std::vector<Scope>& out, bool nested) {
  for (;;) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) return !nested;
    if (s[i] == ']') return nested;
    Scope sc;
    if (s[i] == '*') {
      sc.optional = true;
      ++i;
    }
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '[' &&
           s[i] != ']') {
      ++i;
    }
    sc.name = s.substr(start, i - start);
    if (sc.name.empty()) return false;
    if (i < s.size() && s[i] == '[') {
      ++i;
      if (!ParseList(s, i, sc.children, true)) return false;
      if (i >= s.size() || s[i] != ']') return false;
      ++i;
    }
    out.push_back(std::move(sc));
  }
}

}  // namespace

std::optional<std::vector<Scope>> ParseScopes(const std::string& text) {
  std::vector<Scope> out;
  size_t i = 0;
  if (!ParseList(text, i, out, false)) return std::nullopt;
  return out;
}

bool IsAuthScope(const std::string& s) {
  return s == "openid" || s == "profile" || s == "email" ||
         s.rfind("urn:globus:auth:scope:auth.globus.org:", 0) == 0;
}

std::optional<std::string> CollectionScopeId(const std::string& scope, const std::string& suffix) {
  static const std::string kPrefix = "https://auth.globus.org/scopes/";
  if (scope.rfind(kPrefix, 0) != 0) return std::nullopt;
  std::string rest = scope.substr(kPrefix.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos || rest.substr(slash + 1) != suffix) return std::nullopt;
  return rest.substr(0, slash);
}

std::string CollectionScope(const std::string& collection_id, const std::string& suffix) {
  return "https://auth.globus.org/scopes/" + collection_id + "/" + suffix;
}

}  // namespace emu
