#include "auth/collection_info.h"

namespace globusfs::auth {

using json = nlohmann::json;

bool CollectionInfo::IsCollection() const {
  // As the Globus CLI: every kind but a GCSv5 endpoint (whose collections
  // are what one lists); a GCSv4 host is used like a collection.
  return !non_functional && entity_type != "GCSv5_endpoint";
}

bool CollectionInfo::NeedsDataAccess() const {
  return entity_type == "GCSv5_mapped_collection" && !high_assurance;
}

bool CollectionInfo::HasHttpsScope() const {
  return !https_server.empty() && !IsPersonal() && !entity_type.starts_with("GCSv4_");
}

bool CollectionInfo::IsPersonal() const { return entity_type.starts_with("GCP_"); }

http::Result<CollectionInfo> ParseCollectionInfo(const json& doc) {
  auto str = [&](const char* k) {
    auto it = doc.find(k);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto flag = [&](const char* k) {
    auto it = doc.find(k);
    return it != doc.end() && it->is_boolean() && it->get<bool>();
  };
  if (!doc.is_object() || str("id").empty()) {
    return http::MakeError(http::ErrorKind::kMalformed, "Transfer sent an unreadable collection document");
  }
  CollectionInfo c;
  c.id = str("id");
  c.display_name = str("display_name");
  c.entity_type = str("entity_type");
  c.high_assurance = flag("high_assurance");
  c.non_functional = flag("non_functional");
  c.https_server = str("https_server");
  while (!c.https_server.empty() && c.https_server.back() == '/') c.https_server.pop_back();
  c.default_directory = str("default_directory");
  return c;
}

http::Result<CollectionInfo> FetchCollectionInfo(http::HttpClient& http, const std::string& transfer_base,
                                                 const std::string& id,
                                                 http::Authorizer* transfer_authorizer) {
  auto doc = http.GetJson(transfer_base + "v0.10/endpoint/" + http::UrlEncodeComponent(id),
                          transfer_authorizer);
  if (!doc) return doc.error();
  return ParseCollectionInfo(*doc);
}

}  // namespace globusfs::auth
