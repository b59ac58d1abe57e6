// Globus scope strings globusfs requests (globus-api.md §5). Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace globusfs::auth {

inline constexpr const char* kAuthResourceServer = "auth.globus.org";
inline constexpr const char* kTransferResourceServer = "transfer.api.globus.org";
inline constexpr const char* kTransferScope = "urn:globus:auth:scope:transfer.api.globus.org:all";
inline constexpr const char* kViewIdentitySetScope = "urn:globus:auth:scope:auth.globus.org:view_identity_set";

// "openid profile email urn:...:view_identity_set"
std::string AuthScopes();
std::string CollectionHttpsScope(const std::string& collection_id);
std::string CollectionDataAccessScope(const std::string& collection_id);
// Transfer with optional data_access dependents:
// "urn:...transfer.api.globus.org:all[*https://auth.globus.org/scopes/C1/data_access ...]"
std::string TransferScope(const std::vector<std::string>& data_access_collections = {});

// Joins scope strings with single spaces, dropping empties and duplicates.
std::string JoinScopes(const std::vector<std::string>& scopes);

}  // namespace globusfs::auth
