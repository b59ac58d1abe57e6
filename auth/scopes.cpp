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

std::string ScopesFor(const std::vector<CollectionInfo>& collections) {
  std::vector<std::string> seen, deps, extra;
  for (const auto& c : collections) {
    if (std::find(seen.begin(), seen.end(), c.id) != seen.end()) continue;
    seen.push_back(c.id);
    if (c.NeedsDataAccess()) deps.push_back(c.id);
    if (!c.HasHttpsScope()) continue;
    extra.push_back(CollectionHttpsScope(c.id));
    if (c.NeedsDataAccess()) extra.push_back(CollectionDataAccessScope(c.id));
  }
  std::vector<std::string> all = {AuthScopes(), TransferScope(deps)};
  all.insert(all.end(), extra.begin(), extra.end());
  return JoinScopes(all);
}

bool HasCollectionScopes(const std::vector<CollectionInfo>& collections) {
  for (const auto& c : collections) {
    if (c.NeedsDataAccess() || c.HasHttpsScope()) return true;
  }
  return false;
}

}  // namespace globusfs::auth
