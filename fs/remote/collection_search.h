// Finding collections by name: Transfer's endpoint_search
// (GET /v0.10/endpoint_search, globus-api.md §2.11), as `globus endpoint
// search TEXT` calls it (filter_fulltext, filter_scope "all"), for
// `globusfs search` (fs/search_command.h).
//
// Pages: the service caps a query at 1000 results and pages with
// limit/offset and has_next_page; SearchCollections asks for pages of at
// most 100 until it has `limit` hits or has_next_page is false.
// Parsing is strict about the shape (DATA_TYPE endpoint_list, a DATA array
// of objects with a string id): a garbled answer is a kMalformed error,
// never an empty result. Nothing here throws.
//
// Thread-safety: SearchCollections is as thread-safe as the HttpClient
// (which is); the parser is a pure function.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/http/http_client.h"
#include "auth/http/result.h"

namespace globusfs::fs {

struct CollectionHit {
  std::string id;
  std::string display_name;
  std::string owner;        // owner_string (a username or "<client id>@clients.auth.globus.org")
  std::string entity_type;  // GCSv5_mapped_collection, GCP_mapped_collection, GCSv4_host, ...
  std::string https_server;  // "" when null: no HTTPS access to its files
};

struct CollectionPage {
  std::vector<CollectionHit> hits;
  bool has_next_page = false;
};

// One endpoint_list page.
http::Result<CollectionPage> ParseEndpointSearchPage(const nlohmann::json& body);

// Up to `limit` (1..1000) collections whose names match `text`, in the
// service's order (best first), asking for pages of `page_size` (1..100;
// smaller only in tests). `transfer_base` ends with '/'.
http::Result<std::vector<CollectionHit>> SearchCollections(http::HttpClient& http,
                                                           http::Authorizer* transfer_authorizer,
                                                           const std::string& transfer_base,
                                                           const std::string& text, int limit,
                                                           int page_size = 100);

}  // namespace globusfs::fs
