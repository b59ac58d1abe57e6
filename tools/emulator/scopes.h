// Globus scope strings for the emulator's Auth: parsing the space-separated
// list with dependent scopes ("parent[*child other]"), and mapping each
// scope to the resource server whose token carries it (globus-api.md §5).
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace emu {

struct Scope {
  std::string name;
  bool optional = false;  // a leading '*'
  std::vector<Scope> children;
};

// Parses a scope string; nullopt on unbalanced brackets or an empty name.
std::optional<std::vector<Scope>> ParseScopes(const std::string& text);

inline constexpr const char* kTransferScope = "urn:globus:auth:scope:transfer.api.globus.org:all";
inline constexpr const char* kTransferResourceServer = "transfer.api.globus.org";
inline constexpr const char* kAuthResourceServer = "auth.globus.org";

// openid, profile, email and urn:globus:auth:scope:auth.globus.org:*: the
// scopes of Auth's own token.
bool IsAuthScope(const std::string& scope);

// "https://auth.globus.org/scopes/<id>/<suffix>" -> <id> when suffix matches.
std::optional<std::string> CollectionScopeId(const std::string& scope, const std::string& suffix);
std::string CollectionScope(const std::string& collection_id, const std::string& suffix);

}  // namespace emu
