#include "transfer_service.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "emulator.h"
#include "scopes.h"
#include "session_check.h"
#include "transfer_listing.h"
#include "transfer_tasks.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;

struct TransferService::Worker {
  explicit Worker(Emulator& emu) : runner(emu) {}
  TaskRunner runner;
};

namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;  // "/v0.10/task/x" -> {"v0.10", "task", "x"}
}

std::string Lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string DisplayName(const Collection& c) {
  return c.display_name.empty() ? c.name : c.display_name;
}

Response NotFound(const Request& req) {
  return GlobusError(req, 404, "ClientError.NotFound", "No such resource: " + req.raw_path);
}

Response MethodNotAllowed(const Request& req, const std::string& allow) {
  Response r = GlobusError(req, 405, "ClientError.MethodNotAllowed",
                           "Method " + req.method + " is not allowed on " + req.raw_path);
  r.headers.Set("Allow", allow);
  return r;
}

Response EndpointNotFound(const Request& req, const std::string& id) {
  return GlobusError(req, 404, "EndpointNotFound", "No such endpoint '" + id + "'");
}

}  // namespace

TransferService::TransferService(Emulator& emu)
    : emu_(emu), worker_(std::make_unique<Worker>(emu)) {}

TransferService::~TransferService() { Stop(); }

void TransferService::Start() { worker_->runner.Start(); }

void TransferService::Stop() { worker_->runner.Stop(); }

std::string TransferService::Server() const {
  return emu_.BaseUrl().substr(std::string("https://").size());
}

json TransferService::EndpointDoc(const Collection& c) const {
  std::string ep = HostEndpointId(c);
  std::string compact = emu_.config().identity.id;
  compact.erase(std::remove(compact.begin(), compact.end(), '-'), compact.end());
  json timeout_mins = c.high_assurance ? json((c.auth_timeout_s + 59) / 60) : json();
  // A guest collection lives on a mapped collection (not served itself):
  // host_endpoint_id / mapped_collection_id name it (§2.10).
  bool guest = c.entity_type == "GCSv5_guest_collection";
  json mapped_id = guest ? json(NameUuid("mapped-collection-of:" + c.id)) : json();
  json mapped_name = guest ? json("mapped collection of " + DisplayName(c)) : json();
  json doc = {
      {"DATA_TYPE", "endpoint"},
      {"id", c.id},
      {"name", c.id},
      {"display_name", DisplayName(c)},
      {"canonical_name", CanonicalName(c)},
      {"entity_type", c.entity_type},
      {"gcs_version", "5.4.67"},
      {"gcs_manager_url", emu_.BaseUrl()},
      {"https_server", c.https ? json(emu_.HttpsServerUrl(c)) : json()},
      {"tlsftp_server", "tlsftp://" + Server()},
      {"high_assurance", c.high_assurance},
      {"authentication_timeout_mins", timeout_mins},
      {"authentication_assurance_timeout", timeout_mins},
      {"authentication_policy_id", nullptr},
      {"mfa_required", c.mfa_required},
      {"host_endpoint", nullptr},
      {"host_endpoint_id", mapped_id},
      {"host_endpoint_display_name", mapped_name},
      {"host_path", guest ? json("/") : json()},
      {"mapped_collection_id", mapped_id},
      {"mapped_collection_display_name", mapped_name},
      {"sharing_target_endpoint", nullptr},
      {"sharing_target_root_path", nullptr},
      {"non_functional", false},
      {"non_functional_endpoint_id", ep},
      {"non_functional_endpoint_display_name", "host of " + DisplayName(c)},
      {"owner_id", ep},
      {"owner_string", ep + "@clients.auth.globus.org"},
      {"username", "u_" + compact.substr(0, 26)},
      {"default_directory", c.default_directory.empty() ? json() : json(c.default_directory)},
      {"public", false},
      {"shareable", false},
      {"subscription_id", nullptr},
      {"force_encryption", false},
      {"force_verify", false},
      {"disable_verify", false},
      {"disable_anonymous_writes", false},
      {"is_globus_connect", false},
      {"globus_connect_setup_key", nullptr},
      {"gcp_connected", nullptr},
      {"gcp_paused", nullptr},
      {"local_user_info_available", nullptr},
      {"my_effective_roles", json::array()},
      {"max_concurrency", 4},
      {"preferred_concurrency", 2},
      {"max_parallelism", 8},
      {"preferred_parallelism", 4},
      {"network_use", "normal"},
      {"location", "Automatic"},
      {"in_use", false},
      {"last_accessed_time", nullptr},
      {"activated", false},
      {"expires_in", -1},
      {"expire_time", nullptr},
      {"myproxy_server", "myproxy.globusonline.org"},
      {"myproxy_dn", nullptr},
      {"oauth_server", nullptr},
      {"s3_url", nullptr},
      {"s3_owner_activated", false},
      {"requester_pays", false},
      {"storage_type", nullptr},
      {"user_message", nullptr},
      {"user_message_link", nullptr},
      {"acl_available", false},
      {"acl_editable", false},
      {"acl_max_expiration_period_mins", nullptr},
      {"organization", nullptr},
      {"department", nullptr},
      {"description", nullptr},
      {"keywords", nullptr},
      {"contact_email", nullptr},
      {"contact_info", nullptr},
      {"info_link", nullptr},
      {"french_english_bilingual", false},
      {"DATA", json::array({{{"DATA_TYPE", "server"}, {"hostname", "127.0.0.1"}}})}};
  if (c.IsPersonal()) {
    // Globus Connect Personal: owned by the user, no GCS (no manager, no
    // HTTPS or TLS-FTP server, no host endpoint), connected (§2.10).
    const Identity& owner = emu_.config().identity;
    doc["gcs_version"] = doc["gcs_manager_url"] = doc["https_server"] = doc["tlsftp_server"] = nullptr;
    doc["non_functional_endpoint_id"] = doc["non_functional_endpoint_display_name"] = nullptr;
    doc["owner_id"] = owner.id;
    doc["owner_string"] = owner.username;
    doc["is_globus_connect"] = true;
    doc["gcp_connected"] = true;
    doc["gcp_paused"] = false;
  }
  return doc;
}

std::optional<Response> TransferService::CheckConsent(const Request& req, const AccessToken& token,
                                                      const Collection& c) const {
  if (!c.NeedsDataAccess()) return std::nullopt;
  std::string scope = CollectionScope(c.id, "data_access");
  for (const auto& s : token.dependent_scopes) {
    if (s == scope) return std::nullopt;
  }
  std::string required = std::string(kTransferScope) + "[*" + scope + "]";
  const std::string message = "Missing required data_access consent";
  return GlobusError(req, 403, "ConsentRequired", message,
                     {{"required_scopes", {required}},
                      {"authorization_parameters",
                       {{"required_scopes", {required}}, {"session_message", message}}}});
}

std::optional<Response> TransferService::CheckSession(const Request& req, const Collection& c,
                                                      const std::string& op) const {
  auto params = SessionShortfall(emu_, c);
  if (!params) return std::nullopt;
  EndpointError e{"", "login", "", "", "Login Failed",
                  {"530-Login incorrect. : GlobusError: v=1 c=LOGIN_DENIED",
                   "530-GridFTP-Errno: 1", "530-GridFTP-Reason: Authentication failed",
                   params->contains("session_required_identities")
                       ? "530-GridFTP-Error-String: Session reauthentication required"
                       : "530-GridFTP-Error-String: Multi-factor authentication required",
                   "530 End."}};
  // "Command Failed: Error (login)\nEndpoint: ..." as the operator report shows it.
  std::string message = "Command Failed: " + FormatEndpointError(e, c, Server());
  return GlobusError(req, 502, "ExternalError." + op + "Failed.LoginFailed", message,
                     {{"authorization_parameters", *params}});
}

Response TransferService::EndpointSearch(const Request& req) const {
  auto bad = [&](const std::string& m) { return GlobusError(req, 400, "ClientError.BadRequest", m); };
  static const std::vector<std::string> kScopes = {
      "all", "administered-by-me", "my-endpoints", "my-gcp-endpoints", "recently-used",
      "in-use", "shared-by-me", "shared-with-me"};
  static const std::vector<std::string> kTypes = {
      "GCP_mapped_collection", "GCP_guest_collection", "GCSv5_endpoint",
      "GCSv5_mapped_collection", "GCSv5_guest_collection"};
  std::string scope = req.QueryParam("filter_scope").value_or("all");
  if (std::find(kScopes.begin(), kScopes.end(), scope) == kScopes.end()) {
    return bad("Invalid filter_scope '" + scope + "'");
  }
  std::string text = req.QueryParam("filter_fulltext").value_or("");
  if (scope == "all" && text.empty()) {
    return bad("filter_fulltext is required when filter_scope is 'all'");
  }
  auto type = req.QueryParam("filter_entity_type");
  if (type && std::find(kTypes.begin(), kTypes.end(), *type) == kTypes.end()) {
    return bad("Invalid filter_entity_type '" + *type + "'");
  }
  auto non_functional = req.QueryParam("filter_non_functional");
  if (non_functional && type) {
    return bad("filter_non_functional and filter_entity_type are mutually exclusive");
  }
  if (non_functional && *non_functional != "1" && *non_functional != "0") {
    return bad("Invalid filter_non_functional: must be 1 or 0");
  }
  std::string error;
  auto limit = IntParam(req, "limit", 25, 1, 1000, &error);
  auto offset = IntParam(req, "offset", 0, 0, 999, &error);
  if (!limit || !offset) return bad(error);
  if (*offset + *limit > 1000) return bad("offset + limit must not exceed 1000");
  auto owner = req.QueryParam("filter_owner_id");
  auto host = req.QueryParam("filter_host_endpoint");

  std::vector<json> hits;
  std::string needle = Lower(text);
  for (const auto& c : emu_.Collections()) {
    std::string name = Lower(DisplayName(c));
    size_t at = needle.empty() ? 0 : name.find(needle);
    if (at == std::string::npos) continue;
    if (type && c.entity_type != *type) continue;
    if (non_functional && *non_functional == "1") continue;  // every collection is functional
    json doc = EndpointDoc(c);
    if (owner && doc["owner_id"] != *owner) continue;
    if (host && doc["host_endpoint_id"] != *host) continue;
    // Rank: a whole-name match above a prefix match above any substring.
    doc["_rank"] = needle.empty() ? 1.0 : name == needle ? 10.0 : at == 0 ? 5.0 : 2.0;
    hits.push_back(std::move(doc));
  }
  std::stable_sort(hits.begin(), hits.end(), [](const json& a, const json& b) {
    if (a["_rank"] != b["_rank"]) return a["_rank"].get<double>() > b["_rank"].get<double>();
    return a["display_name"].get<std::string>() < b["display_name"].get<std::string>();
  });
  json data = json::array();
  size_t begin = std::min<size_t>(hits.size(), static_cast<size_t>(*offset));
  size_t end = std::min<size_t>(hits.size(), begin + static_cast<size_t>(*limit));
  for (size_t i = begin; i < end; ++i) data.push_back(std::move(hits[i]));
  return JsonResponse(200, {{"DATA_TYPE", "endpoint_list"},
                            {"limit", *limit},
                            {"offset", *offset},
                            {"has_next_page", end < hits.size()},
                            {"DATA", data}});
}

Response TransferService::FileOperation(Request& req, const AccessToken& token,
                                        const std::string& route) {
  // /v0.10/operation/endpoint/{id}/{op}
  auto seg = Segments(req.path);
  if (seg.size() != 5) return NotFound(req);
  const std::string& op = seg[4];
  bool is_get = op == "ls" || op == "stat";
  if (req.method != (is_get ? "GET" : "POST")) return MethodNotAllowed(req, is_get ? "GET" : "POST");
  auto c = emu_.FindCollection(seg[3]);
  if (!c) return EndpointNotFound(req, seg[3]);
  if (auto denied = CheckConsent(req, token, *c)) return *denied;
  static const std::map<std::string, std::string> kOpNames = {
      {"transfer.ls", "DirListing"}, {"transfer.stat", "Stat"},
      {"transfer.mkdir", "Mkdir"},   {"transfer.rename", "Rename"}};
  if (auto denied = CheckSession(req, *c, kOpNames.at(route))) return *denied;
  if (route == "transfer.ls") return HandleLs(req, *c, Server());
  if (route == "transfer.stat") return HandleStat(req, *c, Server());
  if (route == "transfer.mkdir") return HandleMkdir(req, *c, Server());
  return HandleRename(req, *c, Server());
}

Response TransferService::TaskRoute(Request& req, const AccessToken& token,
                                    const std::string& route) {
  TaskRunner& tasks = worker_->runner;
  auto seg = Segments(req.path);  // v0.10 task {id} [sub]
  bool plain = route == "transfer.task";
  if (seg.size() != (plain ? 3u : 4u) || seg[2].empty()) return NotFound(req);
  const std::string& id = seg[2];
  if (plain) {
    if (req.method == "GET") return tasks.GetTask(req, token, id);
    if (req.method == "PUT") return tasks.UpdateTask(req, token, id);
    return MethodNotAllowed(req, "GET, PUT");
  }
  if (route == "transfer.cancel") {
    if (req.method != "POST") return MethodNotAllowed(req, "POST");
    return tasks.Cancel(req, token, id);
  }
  if (req.method != "GET") return MethodNotAllowed(req, "GET");
  if (route == "transfer.event_list") return tasks.EventList(req, token, id);
  return tasks.SuccessfulTransfers(req, token, id);
}

Response TransferService::Handle(Request& req, const std::string& route) {
  auto header = req.headers.Get("authorization");
  if (!header || Lower(header->substr(0, 7)) != "bearer " || header->size() <= 7) {
    return GlobusError(req, 401, "ClientError.AuthenticationFailed", "No token provided");
  }
  auto token = emu_.BearerToken(req);
  if (!token || token->resource_server != kTransferResourceServer) {
    return GlobusError(req, 401, "ClientError.AuthenticationFailed", "Token is not active");
  }
  if (route == "transfer.ls" || route == "transfer.stat" || route == "transfer.mkdir" ||
      route == "transfer.rename") {
    return FileOperation(req, *token, route);
  }
  if (route == "transfer.task" || route == "transfer.event_list" || route == "transfer.cancel" ||
      route == "transfer.successful_transfers") {
    return TaskRoute(req, *token, route);
  }
  auto only = [&](const char* method) -> std::optional<Response> {
    if (req.method == method) return std::nullopt;
    return MethodNotAllowed(req, method);
  };
  if (route == "transfer.endpoint") {
    auto seg = Segments(req.path);  // v0.10 endpoint {id}
    if (seg.size() != 3 || seg[2].empty()) return NotFound(req);
    if (auto r = only("GET")) return *r;
    auto c = emu_.FindCollection(seg[2]);
    if (c) return JsonResponse(200, EndpointDoc(*c));
    // The GCSv5 endpoint hosting a collection is a document too, but not a
    // data collection: non_functional, no HTTPS, nothing to list.
    for (const auto& host : emu_.Collections()) {
      if (host.IsPersonal() || HostEndpointId(host) != seg[2]) continue;
      json doc = EndpointDoc(host);
      doc["id"] = doc["name"] = seg[2];
      doc["entity_type"] = "GCSv5_endpoint";
      doc["display_name"] = doc["non_functional_endpoint_display_name"];
      doc["canonical_name"] = seg[2];
      doc["non_functional"] = true;
      doc["https_server"] = nullptr;
      doc["default_directory"] = nullptr;
      doc["high_assurance"] = false;
      return JsonResponse(200, doc);
    }
    return EndpointNotFound(req, seg[2]);
  }
  if (route == "transfer.endpoint_search") {
    if (auto r = only("GET")) return *r;
    return EndpointSearch(req);
  }
  if (route == "transfer.submission_id") {
    if (auto r = only("GET")) return *r;
    return JsonResponse(200, {{"DATA_TYPE", "submission_id"}, {"value", NewUuid()}});
  }
  if (route == "transfer.transfer" || route == "transfer.delete") {
    if (auto r = only("POST")) return *r;
    AccessCheck check = [&](const Collection& c) { return CheckConsent(req, *token, c); };
    return worker_->runner.Submit(req, *token, route == "transfer.delete", check);
  }
  if (route == "transfer.task_list") {
    if (auto r = only("GET")) return *r;
    return worker_->runner.TaskList(req, *token);
  }
  return NotFound(req);
}

}  // namespace emu
