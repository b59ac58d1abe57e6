// Globus scope strings globusfs requests (globus-api.md §5), and the scopes
// one login asks for to use a set of collections. Pure; thread-safe.
//
// Invariant: ScopesFor names a collection scope only where the collection's
// Transfer document says the scope exists (CollectionInfo::NeedsDataAccess,
// HasHttpsScope): Globus Auth refuses an authorization request that names
// one unknown scope, and then issues no token at all.
#pragma once

#include <string>
#include <vector>

#include "auth/collection_info.h"

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

// The scopes for full access to these collections: the Auth scopes,
// Transfer with a data_access dependent for each collection that needs one,
// and for each collection with an HTTPS server its https scope (plus its
// data_access scope, plainly, where it needs one: the collection's own
// token must carry both, §5).
std::string ScopesFor(const std::vector<CollectionInfo>& collections);

// Whether any of these collections has a scope of its own to ask for (an
// https scope or a data_access consent); when none has, a login for them is
// a login for Auth and Transfer alone.
bool HasCollectionScopes(const std::vector<CollectionInfo>& collections);

}  // namespace globusfs::auth
