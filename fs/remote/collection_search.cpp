#include "fs/remote/collection_search.h"

#include <algorithm>

#include "auth/http/url.h"

namespace globusfs::fs {

namespace {

using json = nlohmann::json;

constexpr int kMaxPageSize = 100;  // the SDK's page size for endpoint_search
constexpr int kMaxResults = 1000;  // the service's cap per query

http::Error Malformed(const std::string& what) {
  return http::MakeError(http::ErrorKind::kMalformed, "Transfer's endpoint_search answer " + what);
}

// A string field, "" when missing or null; false when it has another type.
bool OptionalString(const json& doc, const char* key, std::string* out) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

}  // namespace

http::Result<CollectionPage> ParseEndpointSearchPage(const json& body) {
  if (!body.is_object()) return Malformed("is not a JSON object");
  if (auto t = body.find("DATA_TYPE"); t != body.end() && *t != "endpoint_list") {
    return Malformed("is not an endpoint_list");
  }
  auto data = body.find("DATA");
  if (data == body.end() || !data->is_array()) return Malformed("has no DATA list");
  CollectionPage page;
  if (auto next = body.find("has_next_page"); next != body.end() && next->is_boolean()) {
    page.has_next_page = next->get<bool>();
  }
  for (const json& doc : *data) {
    if (!doc.is_object()) return Malformed("lists something that is not a document");
    CollectionHit hit;
    auto id = doc.find("id");
    if (id == doc.end() || !id->is_string() || id->get<std::string>().empty()) {
      return Malformed("lists a document without an id");
    }
    hit.id = id->get<std::string>();
    if (!OptionalString(doc, "display_name", &hit.display_name) || !OptionalString(doc, "owner_string", &hit.owner) ||
        !OptionalString(doc, "entity_type", &hit.entity_type) ||
        !OptionalString(doc, "https_server", &hit.https_server)) {
      return Malformed("has a field of the wrong type in " + hit.id);
    }
    // A GCSv4 endpoint may have no display name: the CLI shows its name.
    if (hit.display_name.empty()) OptionalString(doc, "name", &hit.display_name);
    page.hits.push_back(std::move(hit));
  }
  return page;
}

http::Result<std::vector<CollectionHit>> SearchCollections(http::HttpClient& http,
                                                           http::Authorizer* transfer_authorizer,
                                                           const std::string& transfer_base,
                                                           const std::string& text, int limit,
                                                           int page_size) {
  limit = std::clamp(limit, 1, kMaxResults);
  page_size = std::clamp(page_size, 1, kMaxPageSize);
  std::vector<CollectionHit> hits;
  while (static_cast<int>(hits.size()) < limit) {
    const int offset = static_cast<int>(hits.size());
    const int asked = std::min(page_size, limit - offset);
    auto body = http.GetJson(transfer_base + "v0.10/endpoint_search?filter_fulltext=" +
                                 http::UrlEncodeComponent(text) + "&filter_scope=all&limit=" +
                                 std::to_string(asked) + "&offset=" + std::to_string(offset),
                             transfer_authorizer);
    if (!body) return std::move(body).error();
    auto page = ParseEndpointSearchPage(*body);
    if (!page) return std::move(page).error();
    const bool more = page->has_next_page && !page->hits.empty();
    for (auto& h : page->hits) {
      if (static_cast<int>(hits.size()) < limit) hits.push_back(std::move(h));
    }
    if (!more) break;
  }
  return hits;
}

}  // namespace globusfs::fs
