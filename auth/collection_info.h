// A collection's Transfer document (GET /v0.10/endpoint/{id}), reduced to
// what globusfs needs: whether it is a data collection at all, which
// collection scopes exist for it (§5: a data_access consent, an https scope)
// and its HTTPS server (§6).
//
// Invariant: globusfs never asks Auth for a collection scope the document
// does not promise, because Auth refuses the whole authorization request
// (its own "Unknown scope(s)" page, no redirect) for one unknown scope.
// Stateless; thread-safe.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/http/http_client.h"

namespace globusfs::auth {

struct CollectionInfo {
  std::string id;
  std::string display_name;
  std::string entity_type;
  bool high_assurance = false;
  bool non_functional = false;
  std::string https_server;       // empty when null (no HTTPS access)
  std::string default_directory;  // empty when null
  // Not in the endpoint document: what "/~/" is on the collection's
  // storage, as an absolute path ("/home/ada"), which the daemon asks
  // Transfer at start-up (fs TransferApi::HomePath) for the HTTPS server.
  // nullopt: not asked, or the question failed; "": Transfer cannot tell.
  std::optional<std::string> home_path;

  // A GCSv5 endpoint is not a collection (CLI exit code 3); a GCSv4 host is
  // used like one, as the Globus CLI does.
  bool IsCollection() const;
  // data_access is needed only for non-HA GCSv5 mapped collections.
  bool NeedsDataAccess() const;
  // Whether asking for the collection's https scope is both possible and of
  // use: only a collection with an HTTPS server has one. Globus Connect
  // Personal and GCSv4 collections (https_server null) have no such scope;
  // for a GCSv5 collection with HTTPS off it would serve nothing.
  bool HasHttpsScope() const;
  // A Globus Connect Personal collection (entity_type GCP_*).
  bool IsPersonal() const;
};

http::Result<CollectionInfo> ParseCollectionInfo(const nlohmann::json& doc);

// `transfer_base` ends with '/'. Errors as the HTTP core gives them (404
// EndpointNotFound for a wrong id).
http::Result<CollectionInfo> FetchCollectionInfo(http::HttpClient& http,
                                                 const std::string& transfer_base,
                                                 const std::string& id,
                                                 http::Authorizer* transfer_authorizer);

}  // namespace globusfs::auth
