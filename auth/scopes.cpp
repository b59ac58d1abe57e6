#include "auth/scopes.h"

#include <algorithm>

namespace globusfs::auth {

std::string AuthScopes() { return std::string("openid profile email ") + kViewIdentitySetScope; }

std::string CollectionHttpsScope(const std::string& id) {
  return "https://auth.globus.org/scopes/" + id + "/https";
}

std::string CollectionDataAccessScope(const std::string& id) {
  return "https://auth.globus.org/scopes/" + id + "/data_access";
}

std::string TransferScope(const std::vector<std::string>& data_access_collections) {
  std::string s = kTransferScope;
  if (data_access_collections.empty()) return s;
  s += "[";
  bool first = true;
  for (const auto& id : data_access_collections) {
    s += (first ? "*" : " *") + CollectionDataAccessScope(id);
    first = false;
  }
  return s + "]";
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::vector<std::string> seen;
  std::string out;
  for (const auto& s : scopes) {
    if (s.empty() || std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
    seen.push_back(s);
    out += (out.empty() ? "" : " ") + s;
  }
  return out;
}

}  // namespace globusfs::auth
