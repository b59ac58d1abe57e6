// Contract tests of globus-emulator's Transfer routes over TLS
// (globus-api.md §2, §3): every route, what it answers, and every error
// document it produces. Each test starts its own emulator (collections
// alpha, beta, gamma; consent to alpha and beta only) and logs in.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "auth/http/curl.h"
#include "auth/http/http_client.h"
#include "tests/support/emulator_process.h"

namespace globusfs {
namespace {

using json = nlohmann::json;
using testing::EmulatorProcess;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kTaskTimeout = std::chrono::seconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr const char* kTransferRs = "transfer.api.globus.org";

void WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary);
  out << data;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string UtcTime(time_t t, const char* fmt) {
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), fmt, &tm);
  return buf;
}

// "2021-01-15T18:13:11+00:00" (or with a space) -> epoch; -1 if malformed.
int64_t ParseUtc(const std::string& s) {
  struct tm tm {};
  char sep = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 7) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

bool LooksLikeUuid(const json& v) {
  static const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  return v.is_string() && std::regex_match(v.get<std::string>(), kUuid);
}

std::vector<std::string> Names(const json& list) {
  std::vector<std::string> out;
  for (const auto& d : list["DATA"]) out.push_back(d["name"]);
  return out;
}

const json* FindByName(const json& list, const std::string& name) {
  for (const auto& d : list["DATA"]) {
    if (d["name"] == name) return &d;
  }
  return nullptr;
}

std::set<std::string> Keys(const json& obj) {
  std::set<std::string> out;
  for (auto it = obj.begin(); it != obj.end(); ++it) out.insert(it.key());
  return out;
}

// An http::Result that failed with exactly this status and code.
template <typename T>
::testing::AssertionResult IsError(const http::Result<T>& r, int status, const std::string& code) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected HTTP " << status << " " << code << ", got success";
  const auto& e = r.error();
  if (e.http_status != status || e.code != code) {
    return ::testing::AssertionFailure() << "expected HTTP " << status << " " << code << ", got " << e.Summary();
  }
  if (e.request_id.empty()) return ::testing::AssertionFailure() << "no request_id in " << e.Summary();
  return ::testing::AssertionSuccess();
}

template <typename T>
::testing::AssertionResult IsErrorPrefix(const http::Result<T>& r, int status, const std::string& prefix) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected HTTP " << status << " " << prefix << "*, got success";
  const auto& e = r.error();
  if (e.http_status != status || e.code.rfind(prefix, 0) != 0) {
    return ::testing::AssertionFailure() << "expected HTTP " << status << " " << prefix << "*, got " << e.Summary();
  }
  return ::testing::AssertionSuccess();
}

// The §2.9 task document keys (the queued DELETE fixture), plus the three
// task lists also show.
const std::vector<std::string> kTaskKeys = {
    "task_id", "type", "status", "is_ok", "is_paused", "nice_status",
    "nice_status_short_description", "nice_status_details", "nice_status_expires_in",
    "fatal_error", "faults", "label", "command", "owner_id", "username", "request_time",
    "completion_time", "deadline", "source_endpoint", "source_endpoint_id",
    "source_endpoint_display_name", "destination_endpoint", "destination_endpoint_id",
    "destination_endpoint_display_name", "files", "directories", "symlinks", "files_transferred",
    "files_skipped", "bytes_transferred", "bytes_checksummed", "effective_bytes_per_second",
    "subtasks_total", "subtasks_pending", "subtasks_succeeded", "subtasks_failed",
    "subtasks_retrying", "subtasks_canceled", "subtasks_expired", "subtasks_skipped_errors",
    "sync_level", "verify_checksum", "preserve_timestamp", "encrypt_data",
    "delete_destination_extra", "recursive_symlinks", "canceled_by_admin",
    "canceled_by_admin_message", "history_deleted", "key", "skip_source_errors",
    "fail_on_quota_errors", "filter_rules"};

void ExpectTaskKeys(const json& doc) {
  for (const auto& k : kTaskKeys) EXPECT_TRUE(doc.contains(k)) << "task document lacks '" << k << "': " << doc.dump();
}

// The §2.2 file document keys, exactly.
const std::set<std::string> kFileKeys = {"DATA_TYPE", "name", "type", "size", "last_modified",
                                         "permissions", "user", "group", "link_target",
                                         "link_user", "link_group", "link_size",
                                         "link_last_modified"};

// A raw answer (status, headers, parsed body) fetched with libcurl directly,
// to see the whole error document (http::Error keeps only some fields).
struct Raw {
  long status = 0;
  json body;
  std::string content_type;
  std::map<std::string, std::string> headers;  // lower-case names
};

size_t CollectBody(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

size_t CollectHeader(char* p, size_t size, size_t n, void* out) {
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

class EmulatorTransfer : public ::testing::Test {
 protected:
  void SetUp() override { Boot(); }

  // (Re)starts the emulator: collections alpha, beta, gamma; one login
  // consenting to the data_access of `consent`.
  void Boot(const std::vector<std::string>& extra_args = {},
            const std::vector<std::string>& consent = {"alpha", "beta"}, int64_t task_delay_ms = 50) {
    emu_.reset();
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta", "gamma"};
    opts.extra_args = extra_args;
    opts.task_delay_ms = task_delay_ms;
    emu_ = EmulatorProcess::Start(opts);
    login_ = testing::Login(*emu_, testing::FullScopes(*emu_, consent));
    tt_ = login_.access_tokens.at(kTransferRs);
  }

  std::string Id(const std::string& name) { return emu_->collection_id(name); }
  fs::path Root(const std::string& name) { return emu_->root(name); }
  std::string Url(const std::string& path) { return emu_->base_url() + path; }
  static std::string Op(const std::string& id, const std::string& op) {
    return "/v0.10/operation/endpoint/" + id + "/" + op;
  }
  std::string OpOn(const std::string& name, const std::string& op) { return Op(Id(name), op); }
  static std::string WithQuery(const std::string& path, const http::HeaderList& query) {
    return query.empty() ? path : path + "?" + http::FormEncode(query);
  }
  http::HeaderList Bearer(const std::optional<std::string>& token = std::nullopt) {
    std::string t = token.value_or(tt_);
    if (t.empty()) return {};
    return {{"Authorization", "Bearer " + t}};
  }

  // JSON helpers through the product's HttpClient (retries on by default).
  http::Result<json> Get(const std::string& path, const http::HeaderList& query = {},
                         const std::optional<std::string>& token = std::nullopt) {
    return emu_->http().GetJson(Url(WithQuery(path, query)), nullptr, Bearer(token));
  }
  http::Result<json> Post(const std::string& path, const json& body,
                          const std::optional<std::string>& token = std::nullopt) {
    return emu_->http().PostJson(Url(path), body, nullptr, Bearer(token));
  }
  // One request, no retries, any method and body; the HTTP status is visible.
  http::Result<http::HttpResponse> Call(const std::string& method, const std::string& path,
                                        const std::optional<std::string>& body = std::nullopt,
                                        const std::optional<std::string>& token = std::nullopt) {
    http::HttpRequest req;
    req.method = method;
    req.url = Url(path);
    req.retry = false;
    req.headers = Bearer(token);
    req.headers.emplace_back("Accept", "application/json");
    if (body) {
      req.body = *body;
      req.headers.emplace_back("Content-Type", "application/json");
    }
    return emu_->http().Send(req);
  }
  http::Result<json> CallJson(const std::string& method, const std::string& path,
                              const std::optional<std::string>& body = std::nullopt,
                              const std::optional<std::string>& token = std::nullopt) {
    auto r = Call(method, path, body, token);
    if (!r) return r.error();
    return json::parse(r->body);
  }

  Raw RawCall(const std::string& method, const std::string& path, const std::string& body = "",
              const std::optional<std::string>& token = std::nullopt) {
    http::EnsureCurlGlobalInit();
    Raw out;
    CURL* c = curl_easy_init();
    std::string url = Url(path), text, ca = emu_->ca_file().string();
    curl_slist* hdrs = nullptr;
    for (const auto& [k, v] : Bearer(token)) hdrs = curl_slist_append(hdrs, (k + ": " + v).c_str());
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (!body.empty() || method == "POST" || method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &text);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    out.body = json::parse(text, nullptr, false);
    out.content_type = out.headers.count("content-type") ? out.headers["content-type"] : "";
    return out;
  }

  http::Result<json> Ls(const std::string& name, const std::optional<std::string>& path,
                        http::HeaderList extra = {}) {
    http::HeaderList q;
    if (path) q.emplace_back("path", *path);
    q.insert(q.end(), extra.begin(), extra.end());
    return Get(OpOn(name, "ls"), q);
  }
  http::Result<json> Stat(const std::string& name, const std::string& path) {
    return Get(OpOn(name, "stat"), {{"path", path}});
  }
  http::Result<json> Mkdir(const std::string& name, const std::string& path) {
    return Post(OpOn(name, "mkdir"), {{"DATA_TYPE", "mkdir"}, {"path", path}});
  }
  http::Result<json> Rename(const std::string& name, const std::string& from, const std::string& to) {
    return Post(OpOn(name, "rename"), {{"DATA_TYPE", "rename"}, {"old_path", from}, {"new_path", to}});
  }

  std::string NewSubmissionId() {
    auto r = Get("/v0.10/submission_id");
    if (!r) {
      ADD_FAILURE() << "submission_id: " << r.error().Summary();
      return testing::RandomUuid();
    }
    return (*r)["value"];
  }

  static json Item(const std::string& sp, const std::string& dp, std::optional<bool> recursive = std::nullopt) {
    json item = {{"DATA_TYPE", "transfer_item"}, {"source_path", sp}, {"destination_path", dp}};
    if (recursive) item["recursive"] = *recursive;
    return item;
  }
  static json DeleteItem(const std::string& p) { return {{"DATA_TYPE", "delete_item"}, {"path", p}}; }

  json TransferDoc(const json& items, const json& extra = json::object(), const std::string& src = "alpha",
                   const std::string& dst = "beta") {
    json doc = {{"DATA_TYPE", "transfer"},
                {"submission_id", NewSubmissionId()},
                {"source_endpoint", Id(src)},
                {"destination_endpoint", Id(dst)},
                {"notify_on_succeeded", false},
                {"notify_on_failed", false},
                {"notify_on_inactive", false},
                {"DATA", items}};
    for (auto it = extra.begin(); it != extra.end(); ++it) doc[it.key()] = it.value();
    return doc;
  }
  json DeleteDoc(const json& items, const json& extra = json::object(), const std::string& on = "alpha") {
    json doc = {{"DATA_TYPE", "delete"},
                {"submission_id", NewSubmissionId()},
                {"endpoint", Id(on)},
                {"notify_on_succeeded", false},
                {"notify_on_failed", false},
                {"notify_on_inactive", false},
                {"DATA", items}};
    for (auto it = extra.begin(); it != extra.end(); ++it) doc[it.key()] = it.value();
    return doc;
  }

  // Submits a transfer or delete document; returns the task id ("" and a
  // test failure when not Accepted with 202).
  std::string Submit(const std::string& kind, const json& doc) {
    auto r = Call("POST", "/v0.10/" + kind, doc.dump());
    if (!r) {
      ADD_FAILURE() << "submit " << kind << ": " << r.error().Summary();
      return "";
    }
    EXPECT_EQ(r->status, 202) << r->body;
    json body = json::parse(r->body);
    EXPECT_EQ(body["code"], "Accepted") << r->body;
    return body.value("task_id", "");
  }

  http::Result<json> Task(const std::string& id) { return Get("/v0.10/task/" + id); }

  // Polls GET /task/{id} (bounded) until `done(doc)`; fails the test with
  // the last document when it does not happen in time.
  json WaitTaskUntil(const std::string& id, const std::function<bool(const json&)>& done,
                     const std::string& what, std::chrono::seconds timeout = kTaskTimeout) {
    auto deadline = SteadyClock::now() + timeout;
    json doc;
    while (true) {
      auto r = Task(id);
      if (!r) {
        ADD_FAILURE() << "GET task " << id << ": " << r.error().Summary();
        return doc;
      }
      doc = *r;
      if (done(doc)) return doc;
      if (SteadyClock::now() > deadline) {
        ADD_FAILURE() << "task " << id << " did not reach '" << what << "' in "
                      << timeout.count() << " s: " << doc.dump();
        return doc;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  // As the SDK's task_wait: until status != ACTIVE.
  json WaitTask(const std::string& id) {
    return WaitTaskUntil(id, [](const json& d) { return d["status"] != "ACTIVE"; }, "status != ACTIVE");
  }

  std::string PrimaryIdentity() {
    auto info = emu_->http().GetJson(Url("/_emulator/info"));
    if (!info) return "";
    return (*info)["identities"][0]["id"];
  }

  std::unique_ptr<EmulatorProcess> emu_;
  testing::LoginResult login_;
  std::string tt_;  // the Transfer access token
};

// ---------------------------------------------------------------- auth

TEST_F(EmulatorTransfer, AuthNoTokenIs401) {
  auto r = Get("/v0.10/endpoint/" + Id("alpha"), {}, "");
  EXPECT_TRUE(IsError(r, 401, "ClientError.AuthenticationFailed"));
  auto ls = Ls("alpha", "/");
  ASSERT_TRUE(ls.ok()) << ls.error().Summary();
  auto no_token = Get(OpOn("alpha", "ls"), {{"path", "/"}}, "");
  EXPECT_TRUE(IsError(no_token, 401, "ClientError.AuthenticationFailed"));
  // A scheme other than Bearer, and "Bearer " with nothing after it.
  for (const std::string& header : {"Basic " + tt_, std::string("Bearer "), std::string("Bearer")}) {
    auto r2 = emu_->http().GetJson(Url("/v0.10/submission_id"), nullptr, {{"Authorization", header}});
    EXPECT_TRUE(IsError(r2, 401, "ClientError.AuthenticationFailed")) << header;
  }
}

TEST_F(EmulatorTransfer, AuthWrongResourceServerIs401) {
  // Tokens of Globus Auth and of a collection are not Transfer tokens.
  auto auth = Get("/v0.10/endpoint/" + Id("alpha"), {}, login_.access_tokens.at("auth.globus.org"));
  EXPECT_TRUE(IsError(auth, 401, "ClientError.AuthenticationFailed"));
  auto coll = Ls("alpha", "/");
  ASSERT_TRUE(coll.ok());
  auto with_collection_token =
      Get(OpOn("alpha", "ls"), {{"path", "/"}}, login_.access_tokens.at(Id("alpha")));
  EXPECT_TRUE(IsError(with_collection_token, 401, "ClientError.AuthenticationFailed"));
  auto garbage = Get("/v0.10/submission_id", {}, "not-a-token");
  EXPECT_TRUE(IsError(garbage, 401, "ClientError.AuthenticationFailed"));
  // 401 is never retried.
  EXPECT_EQ(emu_->RequestCount("transfer.submission_id"), 1u);
}

TEST_F(EmulatorTransfer, AuthExpiredTokenIs401) {
  ASSERT_TRUE(Get("/v0.10/submission_id").ok());
  emu_->ExpireTokens(kTransferRs);
  auto r = Get("/v0.10/submission_id");
  EXPECT_TRUE(IsError(r, 401, "ClientError.AuthenticationFailed"));
  auto ls = Ls("alpha", "/");
  EXPECT_TRUE(IsError(ls, 401, "ClientError.AuthenticationFailed"));
  // A refreshed token works again.
  auto refreshed = emu_->http().PostForm(Url("/v2/oauth2/token"),
                                         {{"grant_type", "refresh_token"},
                                          {"refresh_token", login_.refresh_tokens.at(kTransferRs)},
                                          {"client_id", emu_->client_id()}});
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().Summary();
  EXPECT_TRUE(Get("/v0.10/submission_id", {}, (*refreshed)["access_token"].get<std::string>()).ok());
}

TEST_F(EmulatorTransfer, ConsentRequiredForAnUnconsentedCollection) {
  const std::string gamma = Id("gamma");
  const std::string scope = "urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/" +
                            gamma + "/data_access]";
  auto check = [&](const http::Result<json>& r, const std::string& what) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(IsError(r, 403, "ConsentRequired"));
    const auto& e = r.error();
    EXPECT_EQ(e.message, "Missing required data_access consent");
    EXPECT_EQ(e.required_scopes, std::vector<std::string>{scope});
    EXPECT_TRUE(e.IsConsentRequired());
    ASSERT_TRUE(e.authorization_parameters.is_object());
    EXPECT_EQ(e.authorization_parameters["required_scopes"], json::array({scope}));
    EXPECT_EQ(e.authorization_parameters["session_message"], "Missing required data_access consent");
  };
  check(Ls("gamma", "/"), "ls");
  check(Stat("gamma", "/"), "stat");
  check(Mkdir("gamma", "/d"), "mkdir");
  check(Rename("gamma", "/a", "/b"), "rename");
  check(Post("/v0.10/transfer", TransferDoc(json::array({Item("/x", "/x")}), {}, "alpha", "gamma")),
        "transfer to gamma");
  check(Post("/v0.10/transfer", TransferDoc(json::array({Item("/x", "/x")}), {}, "gamma", "alpha")),
        "transfer from gamma");
  check(Post("/v0.10/delete", DeleteDoc(json::array({DeleteItem("/x")}), {}, "gamma")), "delete");
  EXPECT_EQ(emu_->Stats()["tasks"]["transfer"], 0);
  // The raw body matches §3.3 field for field.
  Raw raw = RawCall("GET", WithQuery(OpOn("gamma", "ls"), {{"path", "/"}}));
  EXPECT_EQ(raw.status, 403);
  EXPECT_EQ(raw.body["required_scopes"], json::array({scope}));
  EXPECT_EQ(raw.body["resource"], OpOn("gamma", "ls"));
  // The endpoint document needs no consent; consented collections work.
  EXPECT_TRUE(Get("/v0.10/endpoint/" + gamma).ok());
  EXPECT_TRUE(Ls("alpha", "/").ok());
  EXPECT_TRUE(Ls("beta", "/").ok());
  // Consenting fixes it.
  auto again = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha", "beta", "gamma"}));
  EXPECT_TRUE(Get(OpOn("gamma", "ls"), {{"path", "/"}}, again.access_tokens.at(kTransferRs)).ok());
}

// ---------------------------------------------------------------- endpoint

TEST_F(EmulatorTransfer, EndpointDocument) {
  const std::string id = Id("alpha");
  auto r = Get("/v0.10/endpoint/" + id);
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  const json& d = *r;
  EXPECT_EQ(d["DATA_TYPE"], "endpoint");
  EXPECT_EQ(d["id"], id);
  EXPECT_EQ(d["entity_type"], "GCSv5_mapped_collection");
  EXPECT_EQ(d["high_assurance"], false);
  EXPECT_EQ(d["https_server"], emu_->base_url() + "/c/" + id);
  EXPECT_TRUE(d["default_directory"].is_null()) << "as GCSv5 collections usually have it";
  EXPECT_EQ(d["display_name"], "alpha");
  EXPECT_EQ(d["non_functional"], false);
  EXPECT_TRUE(d["authentication_timeout_mins"].is_null());
  // canonical_name "<endpoint_id>#<collection_id>", owner_string "<ep>@clients.auth.globus.org".
  std::string canonical = d["canonical_name"];
  auto hash = canonical.find('#');
  ASSERT_NE(hash, std::string::npos);
  EXPECT_TRUE(LooksLikeUuid(canonical.substr(0, hash)));
  EXPECT_EQ(canonical.substr(hash + 1), id);
  EXPECT_EQ(d["owner_string"], canonical.substr(0, hash) + "@clients.auth.globus.org");
  ASSERT_TRUE(d["DATA"].is_array());
  ASSERT_FALSE(d["DATA"].empty());
  EXPECT_EQ(d["DATA"][0]["DATA_TYPE"], "server");
  // Every key §2.10 lists for full documents is there.
  for (const char* k :
       {"display_name", "canonical_name", "gcs_manager_url", "gcs_version", "host_endpoint_id",
        "owner_id", "public", "shareable", "subscription_id", "force_encryption", "is_globus_connect",
        "local_user_info_available", "https_server", "tlsftp_server", "authentication_timeout_mins",
        "authentication_assurance_timeout", "authentication_policy_id", "mfa_required",
        "mapped_collection_id", "mapped_collection_display_name", "host_endpoint",
        "host_endpoint_display_name", "host_path", "sharing_target_endpoint",
        "sharing_target_root_path", "gcp_connected", "gcp_paused", "my_effective_roles",
        "organization", "department", "description", "keywords", "contact_email", "contact_info",
        "info_link", "max_concurrency", "preferred_concurrency", "max_parallelism",
        "preferred_parallelism", "network_use", "location", "in_use", "last_accessed_time",
        "activated", "expires_in", "expire_time", "myproxy_server", "myproxy_dn", "oauth_server",
        "s3_url", "s3_owner_activated", "requester_pays", "storage_type", "user_message",
        "user_message_link", "username", "name", "acl_available", "acl_editable"}) {
    EXPECT_TRUE(d.contains(k)) << "endpoint document lacks " << k;
  }
  EXPECT_EQ(emu_->RequestCount("transfer.endpoint"), 1u);
}

TEST_F(EmulatorTransfer, EndpointGuestCollection) {
  Boot({"--guest", "gamma"}, {"alpha", "beta"});
  auto r = Get("/v0.10/endpoint/" + Id("gamma"));
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ((*r)["entity_type"], "GCSv5_guest_collection");
  EXPECT_EQ((*r)["high_assurance"], false);
  // globus-api.md §2.10: "host_endpoint_id: on a guest collection, the id
  // of its mapped collection".
  EXPECT_TRUE(LooksLikeUuid((*r)["host_endpoint_id"]))
      << "guest collection host_endpoint_id: " << (*r)["host_endpoint_id"].dump();
  // No data_access consent is needed for a guest collection.
  WriteFile(Root("gamma") / "g.txt", "guest");
  auto ls = Ls("gamma", "/");
  ASSERT_TRUE(ls.ok()) << ls.error().Summary();
  EXPECT_EQ(Names(*ls), std::vector<std::string>{"g.txt"});
  EXPECT_TRUE(Stat("gamma", "/g.txt").ok());
  std::string task = Submit("transfer", TransferDoc(json::array({Item("/g.txt", "/g.txt")}), {}, "gamma", "alpha"));
  EXPECT_EQ(WaitTask(task)["status"], "SUCCEEDED");
  EXPECT_EQ(ReadFile(Root("alpha") / "g.txt"), "guest");
}

TEST_F(EmulatorTransfer, EndpointHighAssurance) {
  Boot({"--high-assurance", "gamma", "--auth-timeout", "60"}, {"alpha"});
  auto r = Get("/v0.10/endpoint/" + Id("gamma"));
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ((*r)["entity_type"], "GCSv5_mapped_collection");
  EXPECT_EQ((*r)["high_assurance"], true);
  EXPECT_EQ((*r)["authentication_timeout_mins"], 1);
  // A high-assurance collection needs no data_access consent.
  EXPECT_TRUE(Ls("gamma", "/").ok());
  auto alpha = Get("/v0.10/endpoint/" + Id("alpha"));
  ASSERT_TRUE(alpha.ok());
  EXPECT_EQ((*alpha)["high_assurance"], false);
}

TEST_F(EmulatorTransfer, EndpointNotFound) {
  const std::string nobody = testing::RandomUuid();
  auto r = Get("/v0.10/endpoint/" + nobody);
  ASSERT_TRUE(IsError(r, 404, "EndpointNotFound"));
  EXPECT_EQ(r.error().message, "No such endpoint '" + nobody + "'");
  for (const std::string op : {"ls", "stat"}) {
    auto o = Get(Op(nobody, op), {{"path", "/"}});
    ASSERT_TRUE(IsError(o, 404, "EndpointNotFound")) << op;
    EXPECT_EQ(o.error().message, "No such endpoint '" + nobody + "'");
  }
  EXPECT_TRUE(IsError(Post(Op(nobody, "mkdir"), {{"DATA_TYPE", "mkdir"}, {"path", "/x"}}), 404, "EndpointNotFound"));
  EXPECT_TRUE(IsError(Post(Op(nobody, "rename"), {{"DATA_TYPE", "rename"}, {"old_path", "/a"}, {"new_path", "/b"}}),
                      404, "EndpointNotFound"));
  json doc = TransferDoc(json::array({Item("/a", "/a")}));
  doc["destination_endpoint"] = nobody;
  EXPECT_TRUE(IsError(Post("/v0.10/transfer", doc), 404, "EndpointNotFound"));
  json del = DeleteDoc(json::array({DeleteItem("/a")}));
  del["endpoint"] = nobody;
  EXPECT_TRUE(IsError(Post("/v0.10/delete", del), 404, "EndpointNotFound"));
  // An empty id is no resource at all.
  EXPECT_TRUE(IsError(Get("/v0.10/endpoint/"), 404, "ClientError.NotFound"));
}

TEST_F(EmulatorTransfer, EndpointSearch) {
  auto one = Get("/v0.10/endpoint_search", {{"filter_fulltext", "alp"}});
  ASSERT_TRUE(one.ok()) << one.error().Summary();
  EXPECT_EQ((*one)["DATA_TYPE"], "endpoint_list");
  EXPECT_EQ((*one)["has_next_page"], false);
  EXPECT_EQ((*one)["offset"], 0);
  ASSERT_EQ((*one)["DATA"].size(), 1u);
  EXPECT_EQ((*one)["DATA"][0]["id"], Id("alpha"));
  EXPECT_EQ((*one)["DATA"][0]["DATA_TYPE"], "endpoint");
  EXPECT_TRUE((*one)["DATA"][0]["_rank"].is_number());
  // Case-insensitive; no match gives an empty list.
  auto upper = Get("/v0.10/endpoint_search", {{"filter_fulltext", "BETA"}});
  ASSERT_TRUE(upper.ok());
  ASSERT_EQ((*upper)["DATA"].size(), 1u);
  EXPECT_EQ((*upper)["DATA"][0]["id"], Id("beta"));
  auto none = Get("/v0.10/endpoint_search", {{"filter_fulltext", "zzz"}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["DATA"].empty());
  // "a" is in all three names: page through them two at a time.
  auto p1 = Get("/v0.10/endpoint_search", {{"filter_fulltext", "a"}, {"limit", "2"}});
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ((*p1)["limit"], 2);
  EXPECT_EQ((*p1)["DATA"].size(), 2u);
  EXPECT_EQ((*p1)["has_next_page"], true);
  auto p2 = Get("/v0.10/endpoint_search", {{"filter_fulltext", "a"}, {"limit", "2"}, {"offset", "2"}});
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ((*p2)["offset"], 2);
  EXPECT_EQ((*p2)["DATA"].size(), 1u);
  EXPECT_EQ((*p2)["has_next_page"], false);
  std::set<std::string> ids;
  for (const auto& page : {*p1, *p2}) {
    for (const auto& d : page["DATA"]) ids.insert(d["id"]);
  }
  EXPECT_EQ(ids, (std::set<std::string>{Id("alpha"), Id("beta"), Id("gamma")}));
  // Entity-type filter.
  auto guests = Get("/v0.10/endpoint_search",
                    {{"filter_fulltext", "a"}, {"filter_entity_type", "GCSv5_guest_collection"}});
  ASSERT_TRUE(guests.ok());
  EXPECT_TRUE((*guests)["DATA"].empty());
  // Another scope needs no text.
  auto mine = Get("/v0.10/endpoint_search", {{"filter_scope", "my-endpoints"}});
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ((*mine)["DATA"].size(), 3u);
  // Errors.
  auto missing = Get("/v0.10/endpoint_search", {{"filter_scope", "all"}});
  ASSERT_TRUE(IsError(missing, 400, "ClientError.BadRequest"));
  EXPECT_NE(missing.error().message.find("filter_fulltext"), std::string::npos);
  EXPECT_TRUE(IsError(Get("/v0.10/endpoint_search"), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/endpoint_search", {{"filter_fulltext", "a"}, {"filter_scope", "mine"}}), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/endpoint_search", {{"filter_fulltext", "a"}, {"filter_entity_type", "x"}}), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/endpoint_search",
                          {{"filter_fulltext", "a"}, {"filter_non_functional", "1"},
                           {"filter_entity_type", "GCSv5_endpoint"}}),
                      400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/endpoint_search", {{"filter_fulltext", "a"}, {"limit", "0"}}), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/endpoint_search", {{"filter_fulltext", "a"}, {"limit", "1001"}}), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/endpoint_search", {{"filter_fulltext", "a"}, {"limit", "500"}, {"offset", "600"}}),
                      400, "ClientError.BadRequest"))
      << "never more than 1000 results";
}

// ---------------------------------------------------------------- ls

TEST_F(EmulatorTransfer, LsDocumentShape) {
  const fs::path root = Root("alpha");
  WriteFile(root / "file1.txt", "four");
  ::chmod((root / "file1.txt").c_str(), 0640);
  fs::create_directories(root / "share" / "godata");
  WriteFile(root / "share" / "godata" / "x", "x");

  auto r = Ls("alpha", "/");
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  const json& l = *r;
  EXPECT_EQ(l["DATA_TYPE"], "file_list");
  EXPECT_EQ(l["endpoint"], Id("alpha"));
  EXPECT_EQ(l["path"], "/");
  EXPECT_TRUE(l.contains("absolute_path") && l["absolute_path"].is_null());
  EXPECT_EQ(l["length"], 2);
  EXPECT_EQ(l["total"], 2);
  EXPECT_EQ(l["rename_supported"], true);
  EXPECT_EQ(l["symlink_supported"], true);
  EXPECT_FALSE(l.contains("has_next_page")) << "ls pages by limit/offset + length/total only";
  ASSERT_EQ(Names(l), (std::vector<std::string>{"file1.txt", "share"}));

  struct stat st;
  ASSERT_EQ(::stat((root / "file1.txt").c_str(), &st), 0);
  std::string user = getpwuid(st.st_uid)->pw_name, group = getgrgid(st.st_gid)->gr_name;
  const json& f = *FindByName(l, "file1.txt");
  EXPECT_EQ(Keys(f), kFileKeys) << f.dump();
  EXPECT_EQ(f["DATA_TYPE"], "file");
  EXPECT_EQ(f["type"], "file");
  EXPECT_EQ(f["size"], 4);
  EXPECT_EQ(f["permissions"], "0640");
  EXPECT_EQ(f["last_modified"], UtcTime(st.st_mtime, "%Y-%m-%d %H:%M:%S+00:00"));
  EXPECT_TRUE(std::regex_match(f["last_modified"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00)")));
  EXPECT_EQ(f["user"], user);
  EXPECT_EQ(f["group"], group);
  for (const char* k : {"link_target", "link_user", "link_group", "link_size", "link_last_modified"}) {
    EXPECT_TRUE(f[k].is_null()) << k;
  }
  const json& d = *FindByName(l, "share");
  ASSERT_EQ(::stat((root / "share").c_str(), &st), 0);
  EXPECT_EQ(Keys(d), kFileKeys);
  EXPECT_EQ(d["type"], "dir");
  EXPECT_EQ(d["size"], static_cast<int64_t>(st.st_size));
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
  EXPECT_EQ(d["permissions"], mode);
  EXPECT_TRUE(d["permissions"].is_string());

  // The path comes back with a trailing slash, "/~/" as asked, and no path
  // means the default directory "/~/".
  auto share = Ls("alpha", "/share");
  ASSERT_TRUE(share.ok());
  EXPECT_EQ((*share)["path"], "/share/");
  EXPECT_EQ(Names(*share), std::vector<std::string>{"godata"});
  auto godata = Ls("alpha", "/share/godata/");
  ASSERT_TRUE(godata.ok());
  EXPECT_EQ((*godata)["path"], "/share/godata/");
  auto home = Ls("alpha", "/~/");
  ASSERT_TRUE(home.ok());
  EXPECT_EQ((*home)["path"], "/~/");
  EXPECT_EQ(Names(*home), Names(l));
  auto home_sub = Ls("alpha", "/~/share");
  ASSERT_TRUE(home_sub.ok());
  EXPECT_EQ((*home_sub)["path"], "/~/share/");
  EXPECT_EQ(Names(*home_sub), std::vector<std::string>{"godata"});
  auto deflt = Ls("alpha", std::nullopt);
  ASSERT_TRUE(deflt.ok());
  EXPECT_EQ((*deflt)["path"], "/~/");
  EXPECT_EQ(Names(*deflt), Names(l));
  // An empty folder.
  auto empty = Ls("beta", "/");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)["length"], 0);
  EXPECT_EQ((*empty)["total"], 0);
  EXPECT_TRUE((*empty)["DATA"].is_array());
}

TEST_F(EmulatorTransfer, LsSymlinks) {
  const fs::path root = Root("alpha");
  fs::create_directories(root / "d");
  WriteFile(root / "d" / "inner.txt", "inner");
  WriteFile(root / "target.txt", "0123456789");
  fs::create_directory_symlink("d", root / "linkdir");
  fs::create_symlink("target.txt", root / "linkfile");
  fs::create_symlink("nowhere", root / "broken");
  fs::create_directory_symlink("/etc", root / "outside");

  auto r = Ls("alpha", "/");
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  const json* ld = FindByName(*r, "linkdir");
  ASSERT_NE(ld, nullptr);
  EXPECT_EQ((*ld)["type"], "dir") << "a valid symlink reports the target's type";
  EXPECT_EQ((*ld)["link_target"], "/d") << "its real path (globus-api.md §2.2)";
  EXPECT_TRUE((*ld)["link_user"].is_string());
  EXPECT_TRUE((*ld)["link_size"].is_number());
  EXPECT_TRUE((*ld)["link_last_modified"].is_string());
  const json* lf = FindByName(*r, "linkfile");
  ASSERT_NE(lf, nullptr);
  EXPECT_EQ((*lf)["type"], "file");
  EXPECT_EQ((*lf)["size"], 10);
  EXPECT_EQ((*lf)["link_target"], "/target.txt");
  const json* br = FindByName(*r, "broken");
  ASSERT_NE(br, nullptr);
  EXPECT_EQ((*br)["type"], "invalid_symlink");
  EXPECT_EQ((*br)["link_target"], "nowhere");
  const json* out = FindByName(*r, "outside");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ((*out)["type"], "invalid_symlink") << "a link leaving the collection is not followed";
  // `type:dir` sees the link as a dir.
  auto dirs = Ls("alpha", "/", {{"filter", "type:dir"}});
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ(Names(*dirs), (std::vector<std::string>{"d", "linkdir"}));
  // Listing through a link to a folder works; through a link out is denied.
  auto through = Ls("alpha", "/linkdir");
  ASSERT_TRUE(through.ok());
  EXPECT_EQ(Names(*through), std::vector<std::string>{"inner.txt"});
  EXPECT_TRUE(IsError(Ls("alpha", "/outside"), 403, "EndpointPermissionDenied"));
  EXPECT_TRUE(IsError(Ls("alpha", "/outside/ssl"), 403, "EndpointPermissionDenied"));
  EXPECT_TRUE(IsError(Stat("alpha", "/outside/hostname"), 403, "EndpointPermissionDenied"));
  // stat of a link reports the link.
  auto st = Stat("alpha", "/linkfile");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)["type"], "file");
  EXPECT_EQ((*st)["link_target"], "/target.txt");
  auto sb = Stat("alpha", "/broken");
  ASSERT_TRUE(sb.ok());
  EXPECT_EQ((*sb)["type"], "invalid_symlink");
}

TEST_F(EmulatorTransfer, LsHiddenFiles) {
  const fs::path root = Root("alpha");
  WriteFile(root / ".hidden", "h");
  fs::create_directories(root / ".cache");
  WriteFile(root / "shown", "s");
  auto all = Ls("alpha", "/");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Names(*all), (std::vector<std::string>{".cache", ".hidden", "shown"})) << "show_hidden defaults to true";
  auto one = Ls("alpha", "/", {{"show_hidden", "1"}});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)["total"], 3);
  auto zero = Ls("alpha", "/", {{"show_hidden", "0"}});
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(Names(*zero), std::vector<std::string>{"shown"});
  EXPECT_EQ((*zero)["total"], 1);
  EXPECT_EQ((*zero)["length"], 1);
  EXPECT_TRUE(IsError(Ls("alpha", "/", {{"show_hidden", "maybe"}}), 400, "ClientError.BadRequest"));
}

TEST_F(EmulatorTransfer, LsPagingAndTotals) {
  const fs::path root = Root("alpha");
  std::vector<std::string> all;
  for (int i = 0; i < 7; ++i) {
    std::string n = "f" + std::to_string(i);
    WriteFile(root / n, n);
    all.push_back(n);
  }
  std::vector<std::string> seen;
  for (int offset = 0; offset < 10; offset += 3) {
    auto r = Ls("alpha", "/", {{"limit", "3"}, {"offset", std::to_string(offset)}});
    ASSERT_TRUE(r.ok()) << r.error().Summary();
    EXPECT_EQ((*r)["total"], 7) << "total does not change with paging";
    size_t want = offset >= 7 ? 0 : std::min(3, 7 - offset);
    EXPECT_EQ((*r)["length"], want);
    EXPECT_EQ((*r)["DATA"].size(), want);
    for (const auto& n : Names(*r)) seen.push_back(n);
  }
  EXPECT_EQ(seen, all);
  auto zero = Ls("alpha", "/", {{"limit", "0"}});
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ((*zero)["length"], 0);
  EXPECT_EQ((*zero)["total"], 7);
  auto far = Ls("alpha", "/", {{"offset", "100"}});
  ASSERT_TRUE(far.ok());
  EXPECT_EQ((*far)["length"], 0);
  EXPECT_EQ((*far)["total"], 7);
  for (const auto& [k, v] : http::HeaderList{{"limit", "-1"}, {"limit", "100001"}, {"limit", "x"}, {"offset", "-2"}}) {
    EXPECT_TRUE(IsError(Ls("alpha", "/", {{k, v}}), 400, "ClientError.BadRequest")) << k << "=" << v;
  }
}

TEST_F(EmulatorTransfer, LsOrderBy) {
  const fs::path root = Root("alpha");
  WriteFile(root / "b.txt", std::string(30, 'b'));
  WriteFile(root / "a.txt", std::string(10, 'a'));
  WriteFile(root / "c.dat", std::string(20, 'c'));
  fs::create_directories(root / "zdir");
  auto by = [&](const std::string& orderby) {
    auto r = Ls("alpha", "/", {{"orderby", orderby}, {"filter", "type:file"}});
    EXPECT_TRUE(r.ok()) << orderby << ": " << (r.ok() ? "" : r.error().Summary());
    return r.ok() ? Names(*r) : std::vector<std::string>{};
  };
  EXPECT_EQ(by("size DESC"), (std::vector<std::string>{"b.txt", "c.dat", "a.txt"}));
  EXPECT_EQ(by("size ASC"), (std::vector<std::string>{"a.txt", "c.dat", "b.txt"}));
  EXPECT_EQ(by("size"), (std::vector<std::string>{"a.txt", "c.dat", "b.txt"}));
  EXPECT_EQ(by("name ASC"), (std::vector<std::string>{"a.txt", "b.txt", "c.dat"}));
  EXPECT_EQ(by("name DESC"), (std::vector<std::string>{"c.dat", "b.txt", "a.txt"}));
  auto mixed = Ls("alpha", "/", {{"orderby", "type ASC,name DESC"}});
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(Names(*mixed), (std::vector<std::string>{"zdir", "c.dat", "b.txt", "a.txt"}));
  auto paged = Ls("alpha", "/", {{"orderby", "size DESC"}, {"filter", "type:file"}, {"limit", "1"}, {"offset", "1"}});
  ASSERT_TRUE(paged.ok());
  EXPECT_EQ(Names(*paged), std::vector<std::string>{"c.dat"}) << "paging applies after ordering";
  EXPECT_TRUE(IsError(Ls("alpha", "/", {{"orderby", "colour ASC"}}), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Ls("alpha", "/", {{"orderby", "name UP"}}), 400, "ClientError.BadRequest"));
}

TEST_F(EmulatorTransfer, LsFilters) {
  const fs::path root = Root("alpha");
  WriteFile(root / "a", "1");
  WriteFile(root / "b", "123456789");
  WriteFile(root / "x", "1234567");
  WriteFile(root / "file3.txt", "12345678");
  WriteFile(root / "small.txt", "12");
  fs::create_directories(root / "sub");
  auto names = [&](const http::HeaderList& q) {
    auto r = Ls("alpha", "/", q);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().Summary());
    if (!r.ok()) return std::vector<std::string>{};
    EXPECT_EQ((*r)["total"], (*r)["DATA"].size()) << "total counts what the filter kept";
    return Names(*r);
  };
  EXPECT_EQ(names({{"filter", "name:~*.txt"}}), (std::vector<std::string>{"file3.txt", "small.txt"}));
  EXPECT_EQ(names({{"filter", "type:dir"}}), std::vector<std::string>{"sub"});
  EXPECT_EQ(names({{"filter", "type:file"}}), (std::vector<std::string>{"a", "b", "file3.txt", "small.txt", "x"}));
  EXPECT_EQ(names({{"filter", "name:a,b"}}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names({{"filter", "type:file/size:>5"}}), (std::vector<std::string>{"b", "file3.txt", "x"}));
  EXPECT_EQ(names({{"filter", "name:!=x"}}), (std::vector<std::string>{"a", "b", "file3.txt", "small.txt", "sub"}));
  EXPECT_EQ(names({{"filter", "name:file3.txt/size:>5"}}), std::vector<std::string>{"file3.txt"});
  EXPECT_EQ(names({{"filter", "name:small.txt/size:>5"}}), std::vector<std::string>{});
  // Repeated filter params are ANDed like '/'.
  EXPECT_EQ(names({{"filter", "name:~*.txt"}, {"filter", "size:<5"}}), std::vector<std::string>{"small.txt"});
  EXPECT_EQ(names({{"filter", "last_modified:,2001-01-01"}}), std::vector<std::string>{});
  EXPECT_EQ(names({{"filter", "last_modified:2001-01-01,"}, {"filter", "type:dir"}}), std::vector<std::string>{"sub"});
  for (const std::string bad : {"name", ":x", "colour:red", "size:big", "last_modified:yesterday", "name:a/"}) {
    EXPECT_TRUE(IsError(Ls("alpha", "/", {{"filter", bad}}), 400, "ClientError.BadRequest")) << bad;
  }
}

TEST_F(EmulatorTransfer, LsErrors) {
  const fs::path root = Root("alpha");
  WriteFile(root / "plain.txt", "p");
  fs::create_symlink("loop", root / "loop");

  auto missing = Ls("alpha", "/no/such/dir");
  ASSERT_TRUE(IsError(missing, 404, "ClientError.NotFound"));
  EXPECT_NE(missing.error().message.find("PATH_NOT_FOUND"), std::string::npos) << missing.error().message;

  // ls on a file: 502 NotDirectory, and the client does not retry it.
  uint64_t before = emu_->RequestCount("transfer.ls");
  auto file = Ls("alpha", "/plain.txt");
  ASSERT_TRUE(IsError(file, 502, "ExternalError.DirListingFailed.NotDirectory"));
  EXPECT_NE(file.error().message.find("NOT_A_DIRECTORY"), std::string::npos);
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), before + 1) << "ExternalError 5xx must not be retried";

  // Another endpoint failure (a symlink loop): 502 ExternalError.DirListingFailed.
  before = emu_->RequestCount("transfer.ls");
  EXPECT_TRUE(IsError(Ls("alpha", "/loop"), 502, "ExternalError.DirListingFailed"));
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), before + 1);

  // Relative and NUL-bearing paths are bad requests.
  for (const std::string& bad : std::vector<std::string>{"relative/path", "plain.txt", std::string("/a\0b", 4), ""}) {
    EXPECT_TRUE(IsError(Ls("alpha", bad), 400, "ClientError.BadRequest")) << json(bad).dump();
  }
  // A missing path under a file.
  EXPECT_TRUE(IsError(Ls("alpha", "/plain.txt/x"), 404, "ClientError.NotFound"));
}

TEST_F(EmulatorTransfer, LsDoesNotEscapeTheRoot) {
  const fs::path root = Root("alpha");
  fs::create_directories(root / "etc");
  WriteFile(root / "etc" / "inside", "i");
  WriteFile(root / "top", "t");
  auto r = Ls("alpha", "/../../etc");
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(Names(*r), std::vector<std::string>{"inside"}) << "'..' stops at the collection root";
  for (const std::string p : {"/..", "/../..", "/../../../../", "/~/../..", "/etc/../../.."}) {
    auto up = Ls("alpha", p);
    ASSERT_TRUE(up.ok()) << p << ": " << up.error().Summary();
    EXPECT_EQ(Names(*up), (std::vector<std::string>{"etc", "top"})) << p;
  }
  auto st = Stat("alpha", "/../../etc/passwd");
  EXPECT_TRUE(IsError(st, 404, "NotFound")) << "no /etc/passwd inside the root";
  auto mk = Mkdir("alpha", "/../../escaped");
  ASSERT_TRUE(mk.ok()) << mk.error().Summary();
  EXPECT_TRUE(fs::is_directory(root / "escaped"));
  EXPECT_FALSE(fs::exists(root.parent_path().parent_path() / "escaped"));
}

TEST_F(EmulatorTransfer, OddNamesRoundTrip) {
  const fs::path root = Root("alpha");
  const std::vector<std::string> odd = {"with space",  "caf\xc3\xa9 \xc3\xbc\xe2\x9c\x93", "100%",
                                        "50%20off",    "hash#tag",                         "what?",
                                        "new\nline",   "plus+sign",                        "amp&eq=x;y",
                                        "tab\there",   "quote\"'",                         "back\\slash"};
  const std::string dir = "dir #?% \xc3\xa9\n";
  fs::create_directories(root / dir);
  for (const auto& n : odd) {
    WriteFile(root / n, n);
    WriteFile(root / dir / n, n + "!");
  }
  auto top = Ls("alpha", "/");
  ASSERT_TRUE(top.ok()) << top.error().Summary();
  std::set<std::string> got;
  for (const auto& n : Names(*top)) got.insert(n);
  for (const auto& n : odd) EXPECT_TRUE(got.count(n)) << json(n).dump();
  EXPECT_TRUE(got.count(dir));
  auto inner = Ls("alpha", "/" + dir);
  ASSERT_TRUE(inner.ok()) << inner.error().Summary();
  EXPECT_EQ((*inner)["path"], "/" + dir + "/");
  EXPECT_EQ((*inner)["total"], odd.size());
  for (const auto& n : odd) {
    auto st = Stat("alpha", "/" + dir + "/" + n);
    ASSERT_TRUE(st.ok()) << json(n).dump() << ": " << st.error().Summary();
    EXPECT_EQ((*st)["name"], n);
    EXPECT_EQ((*st)["size"], n.size() + 1);
    auto filtered = Ls("alpha", "/", {{"filter", "name:" + n}});
    if (n.find(',') == std::string::npos && n.find('/') == std::string::npos) {
      ASSERT_TRUE(filtered.ok());
      EXPECT_EQ(Names(*filtered), std::vector<std::string>{n}) << json(n).dump();
    }
  }
  // mkdir and rename with odd names; then a transfer and a delete.
  const std::string made = "/" + dir + "/made #?%\n\xe2\x9c\x93";
  ASSERT_TRUE(Mkdir("alpha", made).ok());
  EXPECT_TRUE(fs::is_directory(root / dir / "made #?%\n\xe2\x9c\x93"));
  ASSERT_TRUE(Rename("alpha", "/with space", "/" + dir + "/renamed ?#%").ok());
  EXPECT_EQ(ReadFile(root / dir / "renamed ?#%"), "with space");
  std::string task = Submit("transfer", TransferDoc(json::array({Item("/" + dir, "/copy of " + dir, true)})));
  json done = WaitTask(task);
  EXPECT_EQ(done["status"], "SUCCEEDED") << done.dump();
  for (const auto& n : odd) {
    if (n == "with space") continue;
    EXPECT_EQ(ReadFile(Root("beta") / ("copy of " + dir) / n), n + "!") << json(n).dump();
  }
  std::string del = Submit("delete", DeleteDoc(json::array({DeleteItem("/hash#tag"), DeleteItem("/new\nline")})));
  EXPECT_EQ(WaitTask(del)["status"], "SUCCEEDED");
  EXPECT_FALSE(fs::exists(root / "hash#tag"));
  EXPECT_FALSE(fs::exists(root / "new\nline"));
}

// ---------------------------------------------------------------- stat

TEST_F(EmulatorTransfer, StatFileAndDir) {
  const fs::path root = Root("alpha");
  fs::create_directories(root / "dir");
  WriteFile(root / "dir" / "file1.txt", "four");
  auto f = Stat("alpha", "/dir/file1.txt");
  ASSERT_TRUE(f.ok()) << f.error().Summary();
  EXPECT_EQ(Keys(*f), kFileKeys) << f->dump();
  EXPECT_EQ((*f)["DATA_TYPE"], "file");
  EXPECT_EQ((*f)["name"], "file1.txt");
  EXPECT_EQ((*f)["type"], "file");
  EXPECT_EQ((*f)["size"], 4);
  EXPECT_TRUE((*f)["link_target"].is_null());
  // The same document as the ls entry.
  auto l = Ls("alpha", "/dir");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(*f, (*l)["DATA"][0]);
  auto d = Stat("alpha", "/dir/");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["name"], "dir");
  EXPECT_EQ((*d)["type"], "dir");
  auto home = Stat("alpha", "/~/dir/file1.txt");
  ASSERT_TRUE(home.ok());
  EXPECT_EQ((*home)["name"], "file1.txt");
  auto r = Stat("alpha", "/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["type"], "dir");

  auto missing = Stat("alpha", "/dir/nope");
  ASSERT_TRUE(IsError(missing, 404, "NotFound"));
  EXPECT_NE(missing.error().message.find("PATH_NOT_FOUND"), std::string::npos) << missing.error().message;
  EXPECT_TRUE(IsError(Stat("alpha", "/dir/file1.txt/below"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Stat("alpha", "dir"), 400, "ClientError.BadRequest"));
  // Any other failure of the storage: 502 ExternalError.StatFailed, not retried.
  uint64_t before = emu_->RequestCount("transfer.stat");
  EXPECT_TRUE(IsError(Stat("alpha", "/" + std::string(300, 'n')), 502, "ExternalError.StatFailed"));
  EXPECT_EQ(emu_->RequestCount("transfer.stat"), before + 1);
}

// ---------------------------------------------------------------- mkdir

TEST_F(EmulatorTransfer, Mkdir) {
  const fs::path root = Root("alpha");
  auto r = Call("POST", OpOn("alpha", "mkdir"), json({{"DATA_TYPE", "mkdir"}, {"path", "/newdir"}}).dump());
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(r->status, 202);
  json body = json::parse(r->body);
  EXPECT_EQ(body["DATA_TYPE"], "mkdir_result");
  EXPECT_EQ(body["code"], "DirectoryCreated");
  EXPECT_EQ(body["message"], "The directory was created successfully");
  EXPECT_TRUE(body["request_id"].is_string() && !body["request_id"].get<std::string>().empty());
  EXPECT_EQ(body["resource"], OpOn("alpha", "mkdir"));
  EXPECT_TRUE(fs::is_directory(root / "newdir"));
  // The SDK's form: "/~/newdir/".
  ASSERT_TRUE(Mkdir("alpha", "/~/other/").ok());
  EXPECT_TRUE(fs::is_directory(root / "other"));
  ASSERT_TRUE(Mkdir("alpha", "/newdir/nested").ok());
  EXPECT_TRUE(fs::is_directory(root / "newdir" / "nested"));

  // Exists: 502 ExternalError.MkdirFailed.Exists, not retried.
  uint64_t before = emu_->RequestCount("transfer.mkdir");
  auto exists = Mkdir("alpha", "/newdir");
  EXPECT_TRUE(IsError(exists, 502, "ExternalError.MkdirFailed.Exists"));
  EXPECT_EQ(emu_->RequestCount("transfer.mkdir"), before + 1);
  EXPECT_TRUE(IsError(Mkdir("alpha", "/"), 502, "ExternalError.MkdirFailed.Exists"));
  WriteFile(root / "afile", "x");
  EXPECT_TRUE(IsError(Mkdir("alpha", "/afile"), 502, "ExternalError.MkdirFailed.Exists"));
  // Not recursive: a missing parent.
  auto parent = Mkdir("alpha", "/no/such/parent");
  ASSERT_TRUE(IsErrorPrefix(parent, 502, "ExternalError.MkdirFailed"));
  EXPECT_NE(parent.error().message.find("No such file"), std::string::npos) << parent.error().message;
  EXPECT_FALSE(fs::exists(root / "no"));
  // Bad bodies.
  EXPECT_TRUE(IsError(CallJson("POST", OpOn("alpha", "mkdir"), "not json"), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(CallJson("POST", OpOn("alpha", "mkdir"), "[]"), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Post(OpOn("alpha", "mkdir"), {{"path", "/x"}}), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Post(OpOn("alpha", "mkdir"), {{"DATA_TYPE", "rename"}, {"path", "/x"}}), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Post(OpOn("alpha", "mkdir"), {{"DATA_TYPE", "mkdir"}}), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Post(OpOn("alpha", "mkdir"), {{"DATA_TYPE", "mkdir"}, {"path", 7}}), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Mkdir("alpha", "relative"), 400, "ClientError.BadRequest"));
  EXPECT_FALSE(fs::exists(root / "x"));
  EXPECT_FALSE(fs::exists(root / "relative"));
}

// ---------------------------------------------------------------- rename

TEST_F(EmulatorTransfer, Rename) {
  const fs::path root = Root("alpha");
  WriteFile(root / "file1.txt", "one");
  WriteFile(root / "keep.txt", "keep");
  fs::create_directories(root / "d" / "sub");
  auto r = Call("POST", OpOn("alpha", "rename"),
                json({{"DATA_TYPE", "rename"}, {"old_path", "/~/file1.txt"}, {"new_path", "/~/project1data.txt"}}).dump());
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(r->status, 200);
  json body = json::parse(r->body);
  EXPECT_EQ(body["DATA_TYPE"], "result");
  EXPECT_EQ(body["code"], "FileRenamed");
  EXPECT_EQ(body["message"], "File or directory renamed successfully");
  EXPECT_TRUE(body["request_id"].is_string());
  EXPECT_TRUE(body["resource"].is_string());
  EXPECT_FALSE(fs::exists(root / "file1.txt"));
  EXPECT_EQ(ReadFile(root / "project1data.txt"), "one");
  // Into another folder, and a folder itself.
  ASSERT_TRUE(Rename("alpha", "/project1data.txt", "/d/moved.txt").ok());
  EXPECT_EQ(ReadFile(root / "d" / "moved.txt"), "one");
  ASSERT_TRUE(Rename("alpha", "/d", "/e").ok());
  EXPECT_TRUE(fs::is_directory(root / "e" / "sub"));

  // Old path missing: 404 ClientError.NotFound.
  auto missing = Rename("alpha", "/nope", "/whatever");
  ASSERT_TRUE(IsError(missing, 404, "ClientError.NotFound"));
  EXPECT_FALSE(fs::exists(root / "whatever"));
  // New path exists: 502 ...Exists, and nothing is overwritten.
  uint64_t before = emu_->RequestCount("transfer.rename");
  auto exists = Rename("alpha", "/e/moved.txt", "/keep.txt");
  EXPECT_TRUE(IsError(exists, 502, "ExternalError.RenameFailed.Exists"));
  EXPECT_EQ(emu_->RequestCount("transfer.rename"), before + 1) << "not retried";
  EXPECT_EQ(ReadFile(root / "keep.txt"), "keep");
  EXPECT_EQ(ReadFile(root / "e" / "moved.txt"), "one");
  fs::create_directories(root / "full");
  WriteFile(root / "full" / "x", "x");
  EXPECT_TRUE(IsError(Rename("alpha", "/e", "/full"), 502, "ExternalError.RenameFailed.Exists"));
  EXPECT_EQ(ReadFile(root / "full" / "x"), "x");
  fs::create_directories(root / "emptydir");
  EXPECT_TRUE(IsError(Rename("alpha", "/e", "/emptydir"), 502, "ExternalError.RenameFailed.Exists"))
      << "an empty folder is not replaced either";
  EXPECT_TRUE(fs::is_directory(root / "e" / "sub"));
  EXPECT_TRUE(IsError(Rename("alpha", "/keep.txt", "/"), 502, "ExternalError.RenameFailed.Exists"));
  // A folder into itself.
  auto self = Rename("alpha", "/e", "/e/sub/inner");
  EXPECT_TRUE(IsErrorPrefix(self, 502, "ExternalError.RenameFailed"));
  EXPECT_TRUE(fs::is_directory(root / "e" / "sub"));
  // The root cannot be renamed.
  EXPECT_TRUE(IsError(Rename("alpha", "/", "/newroot"), 403, "EndpointPermissionDenied"));
  // A missing parent of the new path.
  EXPECT_TRUE(IsErrorPrefix(Rename("alpha", "/keep.txt", "/no/such/x"), 502, "ExternalError.RenameFailed"));
  EXPECT_EQ(ReadFile(root / "keep.txt"), "keep");
  // Bad bodies.
  EXPECT_TRUE(IsError(CallJson("POST", OpOn("alpha", "rename"), "{"), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Post(OpOn("alpha", "rename"), {{"DATA_TYPE", "mkdir"}, {"old_path", "/a"}, {"new_path", "/b"}}),
                      400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Post(OpOn("alpha", "rename"), {{"DATA_TYPE", "rename"}, {"old_path", "/keep.txt"}}), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Post(OpOn("alpha", "rename"), {{"DATA_TYPE", "rename"}, {"new_path", "/b"}}), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Rename("alpha", "keep.txt", "/b"), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Rename("alpha", "/keep.txt", "b"), 400, "ClientError.BadRequest"));
  EXPECT_EQ(ReadFile(root / "keep.txt"), "keep");
}

// ---------------------------------------------------------------- submission_id

TEST_F(EmulatorTransfer, SubmissionId) {
  auto a = Get("/v0.10/submission_id");
  ASSERT_TRUE(a.ok()) << a.error().Summary();
  EXPECT_EQ(Keys(*a), (std::set<std::string>{"DATA_TYPE", "value"}));
  EXPECT_EQ((*a)["DATA_TYPE"], "submission_id");
  EXPECT_TRUE(LooksLikeUuid((*a)["value"])) << a->dump();
  auto b = Get("/v0.10/submission_id");
  ASSERT_TRUE(b.ok());
  EXPECT_NE((*a)["value"], (*b)["value"]);
  EXPECT_EQ(emu_->RequestCount("transfer.submission_id"), 2u);
}

// ---------------------------------------------------------------- transfer

TEST_F(EmulatorTransfer, TransferAcceptedRunsAndSucceeds) {
  std::string data(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7919) % 251);
  WriteFile(Root("alpha") / "big.bin", data);
  json doc = TransferDoc(json::array({Item("/big.bin", "/in/new/dir/big.bin")}), {{"label", "my label"}});
  auto r = Call("POST", "/v0.10/transfer", doc.dump());
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(r->status, 202);
  json res = json::parse(r->body);
  EXPECT_EQ(res["DATA_TYPE"], "transfer_result");
  EXPECT_EQ(res["code"], "Accepted");
  EXPECT_EQ(res["message"], "The transfer has been accepted and a task has been created and queued for execution");
  EXPECT_TRUE(res["request_id"].is_string());
  EXPECT_EQ(res["resource"], "/v0.10/transfer");
  EXPECT_EQ(res["submission_id"], doc["submission_id"]);
  ASSERT_TRUE(LooksLikeUuid(res["task_id"])) << res.dump();
  std::string id = res["task_id"];
  EXPECT_EQ(res["task_link"], json({{"DATA_TYPE", "link"},
                                    {"href", "/v0.10/task/" + id + "?format=json"},
                                    {"rel", "related"},
                                    {"resource", "task"},
                                    {"title", "related task"}}));
  EXPECT_EQ(emu_->Stats()["tasks"]["transfer"], 1);

  json t = WaitTask(id);
  ExpectTaskKeys(t);
  EXPECT_EQ(t["DATA_TYPE"], "task");
  EXPECT_EQ(t["task_id"], id);
  EXPECT_EQ(t["type"], "TRANSFER");
  EXPECT_EQ(t["status"], "SUCCEEDED") << t.dump();
  EXPECT_EQ(t["label"], "my label");
  EXPECT_EQ(t["files"], 1);
  EXPECT_EQ(t["files_transferred"], 1);
  EXPECT_EQ(t["bytes_transferred"], data.size());
  EXPECT_EQ(t["subtasks_total"], 1);
  EXPECT_EQ(t["subtasks_succeeded"], 1);
  EXPECT_EQ(t["subtasks_pending"], 0);
  EXPECT_EQ(t["faults"], 0);
  EXPECT_TRUE(t["fatal_error"].is_null());
  EXPECT_TRUE(t["is_ok"].is_null()) << "a finished task has is_ok null";
  EXPECT_TRUE(t["nice_status"].is_null());
  EXPECT_EQ(t["source_endpoint_id"], Id("alpha"));
  EXPECT_EQ(t["destination_endpoint_id"], Id("beta"));
  EXPECT_TRUE(std::regex_match(t["completion_time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)")));
  EXPECT_TRUE(std::regex_match(t["request_time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)")));
  // The bytes at the destination (its parents created on the way).
  EXPECT_EQ(ReadFile(Root("beta") / "in" / "new" / "dir" / "big.bin"), data);
  EXPECT_EQ(ReadFile(Root("alpha") / "big.bin"), data) << "the source is untouched";
  // Events, newest first.
  auto ev = Get("/v0.10/task/" + id + "/event_list");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ((*ev)["DATA_TYPE"], "event_list");
  ASSERT_EQ((*ev)["DATA"].size(), 2u) << ev->dump();
  EXPECT_EQ((*ev)["DATA"][0]["code"], "SUCCEEDED");
  EXPECT_EQ((*ev)["DATA"][0]["is_error"], false);
  EXPECT_EQ((*ev)["DATA"][1]["code"], "STARTED");
  EXPECT_EQ((*ev)["DATA"][1]["DATA_TYPE"], "event");
  // successful_transfers.
  auto st = Get("/v0.10/task/" + id + "/successful_transfers");
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ((*st)["DATA_TYPE"], "successful_transfers");
  ASSERT_EQ((*st)["DATA"].size(), 1u);
  EXPECT_EQ((*st)["DATA"][0]["DATA_TYPE"], "successful_transfer");
  EXPECT_EQ((*st)["DATA"][0]["source_path"], "/big.bin");
  EXPECT_EQ((*st)["DATA"][0]["destination_path"], "/in/new/dir/big.bin");
  EXPECT_TRUE((*st)["next_marker"].is_null());
  EXPECT_TRUE(IsError(Get("/v0.10/task/" + id + "/successful_transfers", {{"marker", "x"}}), 400,
                      "ClientError.BadRequest"));
  // A cancel after the end.
  auto cancel = CallJson("POST", "/v0.10/task/" + id + "/cancel");
  ASSERT_TRUE(cancel.ok()) << cancel.error().Summary();
  EXPECT_EQ((*cancel)["code"], "TaskComplete");
  EXPECT_EQ((*cancel)["DATA_TYPE"], "result");
  EXPECT_EQ(Task(id).value()["status"], "SUCCEEDED");
}

TEST_F(EmulatorTransfer, TransferPreservesTimestamps) {
  const fs::path src = Root("alpha") / "old.txt";
  WriteFile(src, "old");
  const time_t when = 981173106;  // 2001-02-03 04:05:06 UTC
  struct timespec times[2] = {{when, 0}, {when, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, src.c_str(), times, 0), 0);
  std::string kept = Submit("transfer", TransferDoc(json::array({Item("/old.txt", "/kept.txt")}),
                                                    {{"preserve_timestamp", true}}));
  std::string fresh = Submit("transfer", TransferDoc(json::array({Item("/old.txt", "/fresh.txt")})));
  json k = WaitTask(kept), f = WaitTask(fresh);
  EXPECT_EQ(k["status"], "SUCCEEDED");
  EXPECT_EQ(k["preserve_timestamp"], true);
  EXPECT_EQ(f["status"], "SUCCEEDED");
  EXPECT_EQ(f["preserve_timestamp"], false);
  struct stat st;
  ASSERT_EQ(::stat((Root("beta") / "kept.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, when);
  ASSERT_EQ(::stat((Root("beta") / "fresh.txt").c_str(), &st), 0);
  EXPECT_GT(st.st_mtime, time(nullptr) - 600);
  auto st2 = Stat("beta", "/kept.txt");
  ASSERT_TRUE(st2.ok());
  EXPECT_EQ((*st2)["last_modified"], "2001-02-03 04:05:06+00:00");
}

TEST_F(EmulatorTransfer, TransferRecursiveFolder) {
  const fs::path root = Root("alpha");
  fs::create_directories(root / "tree" / "sub" / "deeper");
  fs::create_directories(root / "tree" / "empty");
  WriteFile(root / "tree" / "a.txt", "aaaa");
  WriteFile(root / "tree" / "sub" / "b.bin", std::string(5000, 'b'));
  WriteFile(root / "tree" / "sub" / "deeper" / "c", "c");
  std::string id = Submit("transfer", TransferDoc(json::array({Item("/tree/", "/copy", true)})));
  json t = WaitTask(id);
  ASSERT_EQ(t["status"], "SUCCEEDED") << t.dump();
  EXPECT_EQ(t["files"], 3);
  EXPECT_EQ(t["directories"], 4);
  EXPECT_EQ(t["files_transferred"], 3);
  EXPECT_EQ(t["bytes_transferred"], 4 + 5000 + 1);
  EXPECT_EQ(t["subtasks_pending"], 0);
  EXPECT_EQ(t["subtasks_succeeded"], t["subtasks_total"]);
  EXPECT_EQ(t["subtasks_failed"], 0);
  const fs::path dst = Root("beta") / "copy";
  EXPECT_EQ(ReadFile(dst / "a.txt"), "aaaa");
  EXPECT_EQ(ReadFile(dst / "sub" / "b.bin"), std::string(5000, 'b'));
  EXPECT_EQ(ReadFile(dst / "sub" / "deeper" / "c"), "c");
  EXPECT_TRUE(fs::is_directory(dst / "empty"));
  // recursive omitted: the type is detected.
  std::string auto_id = Submit("transfer", TransferDoc(json::array({Item("/tree", "/auto")})));
  EXPECT_EQ(WaitTask(auto_id)["status"], "SUCCEEDED");
  EXPECT_EQ(ReadFile(Root("beta") / "auto" / "sub" / "deeper" / "c"), "c");
  // successful_transfers lists every file.
  auto st = Get("/v0.10/task/" + id + "/successful_transfers");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)["DATA"].size(), 3u);
}

TEST_F(EmulatorTransfer, TransferAndDeleteDoNotEscapeTheRoot) {
  // Links leading out of the collections, in the source and the destination.
  const fs::path outside = emu_->dir() / "outside";
  fs::create_directories(outside);
  WriteFile(outside / "secret", "secret");
  fs::create_directories(Root("alpha") / "tree");
  WriteFile(Root("alpha") / "tree" / "ok.txt", "ok");
  fs::create_directory_symlink(outside, Root("alpha") / "tree" / "out");
  fs::create_directory_symlink(outside, Root("alpha") / "out");
  fs::create_symlink(outside / "secret", Root("alpha") / "secret-link");
  fs::create_directory_symlink(outside, Root("beta") / "evil");

  // A source behind a link out: a PERMISSION_DENIED fault, nothing copied.
  std::string src = Submit("transfer", TransferDoc(json::array({Item("/out/secret", "/stolen")})));
  json s = WaitTaskUntil(src, [](const json& d) { return d.value("faults", 0) >= 1; }, "faults >= 1");
  EXPECT_EQ(s["status"], "ACTIVE");
  auto ev = Get("/v0.10/task/" + src + "/event_list");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ((*ev)["DATA"][0]["code"], "PERMISSION_DENIED");
  EXPECT_TRUE(CallJson("POST", "/v0.10/task/" + src + "/cancel").ok());
  EXPECT_FALSE(fs::exists(Root("beta") / "stolen"));
  std::string file_link = Submit("transfer", TransferDoc(json::array({Item("/secret-link", "/stolen2")})));
  WaitTaskUntil(file_link, [](const json& d) { return d.value("faults", 0) >= 1; }, "faults >= 1");
  EXPECT_TRUE(CallJson("POST", "/v0.10/task/" + file_link + "/cancel").ok());
  EXPECT_FALSE(fs::exists(Root("beta") / "stolen2"));
  // A recursive copy skips the link out.
  std::string tree = Submit("transfer", TransferDoc(json::array({Item("/tree", "/tree", true)}),
                                                    {{"recursive_symlinks", "copy"}}));
  json t = WaitTask(tree);
  EXPECT_EQ(t["status"], "SUCCEEDED") << t.dump();
  EXPECT_EQ(ReadFile(Root("beta") / "tree" / "ok.txt"), "ok");
  EXPECT_FALSE(fs::exists(Root("beta") / "tree" / "out" / "secret"));
  // A destination behind a link out: nothing written there.
  std::string dst = Submit("transfer", TransferDoc(json::array({Item("/tree/ok.txt", "/evil/planted")})));
  WaitTaskUntil(dst, [](const json& d) { return d.value("faults", 0) >= 1; }, "faults >= 1");
  EXPECT_TRUE(CallJson("POST", "/v0.10/task/" + dst + "/cancel").ok());
  EXPECT_FALSE(fs::exists(outside / "planted"));
  // A delete behind a link out fails; deleting the link removes only the link.
  std::string del = Submit("delete", DeleteDoc(json::array({DeleteItem("/out/secret")})));
  json d = WaitTask(del);
  EXPECT_EQ(d["status"], "FAILED");
  EXPECT_EQ(d["fatal_error"]["code"], "PERMISSION_DENIED");
  std::string unlink = Submit("delete", DeleteDoc(json::array({DeleteItem("/out")}), {{"recursive", true}}));
  EXPECT_EQ(WaitTask(unlink)["status"], "SUCCEEDED");
  EXPECT_EQ(ReadFile(outside / "secret"), "secret");
  // mkdir / rename behind a link out are denied.
  EXPECT_TRUE(IsError(Mkdir("beta", "/evil/d"), 403, "EndpointPermissionDenied"));
  EXPECT_TRUE(IsError(Rename("alpha", "/tree/ok.txt", "/tree/out/ok.txt"), 403, "EndpointPermissionDenied"));
  EXPECT_FALSE(fs::exists(outside / "d"));
  EXPECT_FALSE(fs::exists(outside / "ok.txt"));
}

TEST_F(EmulatorTransfer, CancelDuringACopyLeavesNoPartialFile) {
  const size_t size = 128u << 20;  // big enough that the cancel lands mid-copy
  {
    std::ofstream out(Root("alpha") / "huge.bin", std::ios::binary);
    std::string chunk(1 << 20, 'h');
    for (size_t i = 0; i < size / chunk.size(); ++i) out << chunk;
  }
  std::string id = Submit("transfer", TransferDoc(json::array({Item("/huge.bin", "/huge.bin")}), {{"verify_checksum", true}}));
  WaitTaskUntil(id, [](const json& d) { return d["nice_status"] == "OK" || d["status"] != "ACTIVE"; }, "started");
  auto c = CallJson("POST", "/v0.10/task/" + id + "/cancel");
  ASSERT_TRUE(c.ok()) << c.error().Summary();
  if ((*c)["code"] == "TaskComplete") GTEST_SKIP() << "the copy finished before the cancel";
  EXPECT_EQ((*c)["code"], "Canceled");
  json t = *Task(id);
  EXPECT_EQ(t["status"], "FAILED");
  EXPECT_EQ(t["files_transferred"], 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Task(id).value()["status"], "FAILED");
  EXPECT_FALSE(fs::exists(Root("beta") / "huge.bin")) << "no file lands after the cancel";
  for (const auto& e : fs::directory_iterator(Root("beta"))) {
    ADD_FAILURE() << "left behind: " << e.path().filename();
  }
}

TEST_F(EmulatorTransfer, TransferDuplicateSubmission) {
  WriteFile(Root("alpha") / "f", "f");
  json doc = TransferDoc(json::array({Item("/f", "/f")}));
  std::string first = Submit("transfer", doc);
  ASSERT_FALSE(first.empty());
  auto again = Call("POST", "/v0.10/transfer", doc.dump());
  ASSERT_TRUE(again.ok()) << again.error().Summary();
  json dup = json::parse(again->body);
  EXPECT_EQ(dup["code"], "Duplicate");
  EXPECT_EQ(dup["task_id"], first) << "the ORIGINAL task id";
  EXPECT_EQ(dup["submission_id"], doc["submission_id"]);
  EXPECT_EQ(dup["DATA_TYPE"], "transfer_result");
  // Even with a different body, the submission id decides.
  json other = doc;
  other["DATA"] = json::array({Item("/f", "/g")});
  auto third = Post("/v0.10/transfer", other);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ((*third)["code"], "Duplicate");
  EXPECT_EQ((*third)["task_id"], first);
  EXPECT_EQ(emu_->Stats()["tasks"]["transfer"], 1);
  EXPECT_EQ(WaitTask(first)["status"], "SUCCEEDED");
  EXPECT_FALSE(fs::exists(Root("beta") / "g"));
  auto list = Get("/v0.10/task_list");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["total"], 1);
}

TEST_F(EmulatorTransfer, TransferValidationErrors) {
  auto post = [&](const json& doc) { return Post("/v0.10/transfer", doc); };
  auto empty = post(TransferDoc(json::array()));
  ASSERT_TRUE(IsError(empty, 400, "ClientError.BadRequest.NoTransferItems"));
  EXPECT_EQ(empty.error().message, "A transfer requires at least one item");
  Raw raw = RawCall("POST", "/v0.10/transfer", TransferDoc(json::array()).dump());
  EXPECT_EQ(raw.body["resource"], "/v0.10/transfer");

  auto bad = [&](const std::string& what, const std::function<void(json&)>& change) {
    json doc = TransferDoc(json::array({Item("/a", "/a")}));
    change(doc);
    EXPECT_TRUE(IsError(post(doc), 400, "ClientError.BadRequest")) << what;
  };
  bad("no submission_id", [](json& d) { d.erase("submission_id"); });
  bad("submission_id not a uuid", [](json& d) { d["submission_id"] = "abc"; });
  bad("DATA_TYPE", [](json& d) { d["DATA_TYPE"] = "delete"; });
  bad("no source_endpoint", [](json& d) { d.erase("source_endpoint"); });
  bad("DATA not a list", [](json& d) { d["DATA"] = "x"; });
  bad("item DATA_TYPE", [](json& d) { d["DATA"][0]["DATA_TYPE"] = "delete_item"; });
  bad("relative source", [](json& d) { d["DATA"][0]["source_path"] = "a"; });
  bad("missing destination", [](json& d) { d["DATA"][0].erase("destination_path"); });
  bad("recursive not bool", [](json& d) { d["DATA"][0]["recursive"] = "yes"; });
  bad("label not string", [](json& d) { d["label"] = 5; });
  bad("deadline", [](json& d) { d["deadline"] = "tomorrow"; });
  bad("sync_level 4", [](json& d) { d["sync_level"] = 4; });
  bad("sync_level word", [](json& d) { d["sync_level"] = "sometimes"; });
  bad("verify_checksum", [](json& d) { d["verify_checksum"] = "true"; });
  bad("notify", [](json& d) { d["notify_on_failed"] = 0; });
  bad("recursive_symlinks", [](json& d) { d["recursive_symlinks"] = "follow"; });
  bad("filter_rules", [](json& d) { d["filter_rules"] = json::array({{{"method", "drop"}, {"name", "*"}}}); });
  EXPECT_TRUE(IsError(CallJson("POST", "/v0.10/transfer", "nope"), 400, "ClientError.BadRequest"));
  EXPECT_EQ(emu_->Stats()["tasks"]["transfer"], 0);
  auto list = Get("/v0.10/task_list");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["total"], 0);
  // Valid option spellings are accepted.
  json ok = TransferDoc(json::array({Item("/a", "/a")}),
                        {{"sync_level", "checksum"}, {"verify_checksum", true}, {"recursive_symlinks", "keep"},
                         {"deadline", "2999-10-12 12:33:54+00:00"},
                         {"filter_rules", json::array({{{"DATA_TYPE", "filter_rule"}, {"method", "exclude"},
                                                        {"name", "*.tgz"}, {"type", "file"}}})}});
  std::string id = Submit("transfer", ok);
  auto t = Task(id);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["sync_level"], 3);
  EXPECT_EQ((*t)["deadline"], "2999-10-12T12:33:54+00:00");
  ASSERT_TRUE(CallJson("POST", "/v0.10/task/" + id + "/cancel").ok());
}

TEST_F(EmulatorTransfer, TransferMissingSourceStaysActiveThenCancel) {
  std::string id = Submit("transfer", TransferDoc(json::array({Item("/does/not/exist", "/x")})));
  json t = WaitTaskUntil(id, [](const json& d) { return d.value("faults", 0) >= 1; }, "faults >= 1");
  EXPECT_EQ(t["status"], "ACTIVE") << "a missing source does not fail a transfer (§2.9)";
  EXPECT_EQ(t["subtasks_pending"], 1);
  EXPECT_EQ(t["is_ok"], false);
  EXPECT_TRUE(t["fatal_error"].is_null());
  EXPECT_TRUE(t["nice_status_details"].is_string());
  ExpectTaskKeys(t);
  auto ev = Get("/v0.10/task/" + id + "/event_list");
  ASSERT_TRUE(ev.ok()) << ev.error().Summary();
  ASSERT_GE((*ev)["DATA"].size(), 2u) << ev->dump();
  const json& newest = (*ev)["DATA"][0];
  EXPECT_EQ(newest["code"], "FILE_NOT_FOUND");
  EXPECT_EQ(newest["description"], "file not found");
  EXPECT_EQ(newest["is_error"], true);
  EXPECT_NE(newest["details"].get<std::string>().find("/does/not/exist"), std::string::npos);
  EXPECT_TRUE(std::regex_match(newest["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)")));
  EXPECT_EQ((*ev)["DATA"].back()["code"], "STARTED") << "newest first: STARTED is the oldest";
  // successful_transfers is not available while the task runs.
  EXPECT_TRUE(IsError(Get("/v0.10/task/" + id + "/successful_transfers"), 400, "ClientError.BadRequest"));
  // Cancel.
  auto c = CallJson("POST", "/v0.10/task/" + id + "/cancel");
  ASSERT_TRUE(c.ok()) << c.error().Summary();
  EXPECT_EQ((*c)["DATA_TYPE"], "result");
  EXPECT_EQ((*c)["code"], "Canceled");
  json done = *Task(id);
  EXPECT_EQ(done["status"], "FAILED");
  EXPECT_EQ(done["fatal_error"], json({{"code", "CANCELED"}, {"description", "canceled"}}));
  EXPECT_EQ(done["subtasks_canceled"], 1);
  EXPECT_EQ(done["subtasks_pending"], 0);
  EXPECT_TRUE(done["completion_time"].is_string());
  auto ev2 = Get("/v0.10/task/" + id + "/event_list");
  ASSERT_TRUE(ev2.ok());
  EXPECT_EQ((*ev2)["DATA"][0]["code"], "CANCELED");
  EXPECT_EQ((*ev2)["DATA"][0]["is_error"], true);
  EXPECT_GE((*ev2)["total"].get<int>(), (*ev)["total"].get<int>() + 1);
  // Cancelling again: the task is complete.
  auto again = CallJson("POST", "/v0.10/task/" + id + "/cancel");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["code"], "TaskComplete");
  // It stays canceled (no later attempt revives it).
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_EQ(Task(id).value()["status"], "FAILED");
}

TEST_F(EmulatorTransfer, TransferDeadlineExpires) {
  std::string deadline = UtcTime(time(nullptr) + 2, "%Y-%m-%d %H:%M:%S+00:00");
  std::string id = Submit("transfer", TransferDoc(json::array({Item("/missing", "/x")}), {{"deadline", deadline}}));
  json t = WaitTask(id);
  EXPECT_EQ(t["status"], "FAILED");
  EXPECT_EQ(t["fatal_error"]["code"], "EXPIRED") << t.dump();
  EXPECT_EQ(t["subtasks_expired"], 1);
  auto ev = Get("/v0.10/task/" + id + "/event_list");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ((*ev)["DATA"][0]["code"], "EXPIRED");
}

TEST_F(EmulatorTransfer, TaskUpdate) {
  std::string id = Submit("transfer", TransferDoc(json::array({Item("/missing", "/x")})));
  auto r = CallJson("PUT", "/v0.10/task/" + id,
                    json({{"DATA_TYPE", "task"}, {"label", "renamed"}, {"deadline", "2999-01-01T00:00:00+00:00"}}).dump());
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ((*r)["code"], "Updated");
  json t = *Task(id);
  EXPECT_EQ(t["label"], "renamed");
  EXPECT_EQ(t["deadline"], "2999-01-01T00:00:00+00:00");
  EXPECT_TRUE(IsError(CallJson("PUT", "/v0.10/task/" + id, json({{"status", "SUCCEEDED"}}).dump()), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(CallJson("PUT", "/v0.10/task/" + id, json({{"deadline", "soon"}}).dump()), 400,
                      "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(CallJson("PUT", "/v0.10/task/" + id, json({{"label", 3}}).dump()), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(CallJson("PUT", "/v0.10/task/" + id, "x"), 400, "ClientError.BadRequest"));
  ASSERT_TRUE(CallJson("POST", "/v0.10/task/" + id + "/cancel").ok());
  EXPECT_TRUE(IsError(CallJson("PUT", "/v0.10/task/" + id, json({{"label", "late"}}).dump()), 409, "Conflict"));
  EXPECT_EQ(Task(id).value()["label"], "renamed");
}

TEST_F(EmulatorTransfer, UnknownTaskIs404) {
  const std::string nobody = testing::RandomUuid();
  EXPECT_TRUE(IsError(Task(nobody), 404, "ClientError.NotFound"));
  EXPECT_TRUE(IsError(Get("/v0.10/task/" + nobody + "/event_list"), 404, "ClientError.NotFound"));
  EXPECT_TRUE(IsError(Get("/v0.10/task/" + nobody + "/successful_transfers"), 404, "ClientError.NotFound"));
  EXPECT_TRUE(IsError(CallJson("POST", "/v0.10/task/" + nobody + "/cancel"), 404, "ClientError.NotFound"));
  EXPECT_TRUE(IsError(CallJson("PUT", "/v0.10/task/" + nobody, json({{"label", "x"}}).dump()), 404,
                      "ClientError.NotFound"));
  EXPECT_TRUE(IsError(Task("not-a-task"), 404, "ClientError.NotFound"));
}

// ---------------------------------------------------------------- delete

TEST_F(EmulatorTransfer, DeleteRunsAndRemovesFiles) {
  const fs::path root = Root("alpha");
  WriteFile(root / "gone.txt", "g");
  fs::create_directories(root / "dir" / "sub");
  WriteFile(root / "dir" / "a", "a");
  WriteFile(root / "dir" / "sub" / "b", "b");
  fs::create_symlink("a", root / "dir" / "link");
  WriteFile(root / "stay.txt", "s");
  json doc = DeleteDoc(json::array({DeleteItem("/gone.txt"), DeleteItem("/~/dir/")}), {{"recursive", true}});
  auto r = Call("POST", "/v0.10/delete", doc.dump());
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(r->status, 202);
  json res = json::parse(r->body);
  EXPECT_EQ(res["DATA_TYPE"], "delete_result");
  EXPECT_EQ(res["code"], "Accepted");
  EXPECT_EQ(res["message"], "The delete has been accepted and a task has been created and queued for execution");
  EXPECT_EQ(res["resource"], "/v0.10/delete");
  EXPECT_EQ(res["submission_id"], doc["submission_id"]);
  EXPECT_EQ(res["task_link"]["href"], "/v0.10/task/" + res["task_id"].get<std::string>() + "?format=json");
  json t = WaitTask(res["task_id"]);
  EXPECT_EQ(t["status"], "SUCCEEDED") << t.dump();
  EXPECT_EQ(t["type"], "DELETE");
  EXPECT_TRUE(t["destination_endpoint"].is_null());
  EXPECT_TRUE(t["destination_endpoint_id"].is_null());
  EXPECT_TRUE(t["destination_endpoint_display_name"].is_null());
  EXPECT_EQ(t["source_endpoint_id"], Id("alpha"));
  EXPECT_EQ(t["files"], 3);
  EXPECT_EQ(t["directories"], 2);
  EXPECT_EQ(t["symlinks"], 1);
  EXPECT_EQ(t["subtasks_pending"], 0);
  ExpectTaskKeys(t);
  EXPECT_FALSE(fs::exists(root / "gone.txt"));
  EXPECT_FALSE(fs::exists(root / "dir"));
  EXPECT_EQ(ReadFile(root / "stay.txt"), "s");
  EXPECT_EQ(emu_->Stats()["tasks"]["delete"], 1);
  EXPECT_EQ(emu_->Stats()["tasks"]["transfer"], 0);
  // A symlink is unlinked, never followed.
  fs::create_directories(root / "real");
  WriteFile(root / "real" / "kept", "k");
  fs::create_directory_symlink("real", root / "alias");
  std::string l = Submit("delete", DeleteDoc(json::array({DeleteItem("/alias")}), {{"recursive", true}}));
  EXPECT_EQ(WaitTask(l)["status"], "SUCCEEDED");
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "alias")));
  EXPECT_EQ(ReadFile(root / "real" / "kept"), "k");
}

TEST_F(EmulatorTransfer, DeleteDirectoryWithoutRecursiveFails) {
  fs::create_directories(Root("alpha") / "dir");
  WriteFile(Root("alpha") / "dir" / "f", "f");
  std::string id = Submit("delete", DeleteDoc(json::array({DeleteItem("/dir")}), {{"recursive", false}}));
  json t = WaitTask(id);
  EXPECT_EQ(t["status"], "FAILED") << t.dump();
  EXPECT_TRUE(t["fatal_error"].is_object());
  EXPECT_EQ(t["fatal_error"]["code"], "IS_A_DIRECTORY");
  EXPECT_TRUE(fs::exists(Root("alpha") / "dir" / "f"));
  // recursive defaults to false.
  std::string def = Submit("delete", DeleteDoc(json::array({DeleteItem("/dir")})));
  EXPECT_EQ(WaitTask(def)["status"], "FAILED");
  EXPECT_TRUE(fs::exists(Root("alpha") / "dir" / "f"));
}

TEST_F(EmulatorTransfer, DeleteMissingPath) {
  std::string id = Submit("delete", DeleteDoc(json::array({DeleteItem("/missing")}), {{"ignore_missing", false}}));
  json t = WaitTask(id);
  EXPECT_EQ(t["status"], "FAILED");
  EXPECT_EQ(t["fatal_error"], json({{"code", "FILE_NOT_FOUND"}, {"description", "file not found"}}));
  EXPECT_TRUE(t["is_ok"].is_null());
  EXPECT_TRUE(t["completion_time"].is_string());
  auto ev = Get("/v0.10/task/" + id + "/event_list");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ((*ev)["DATA"][0]["code"], "FILE_NOT_FOUND");
  EXPECT_EQ((*ev)["DATA"][0]["is_error"], true);
  // ignore_missing: success.
  std::string ok = Submit("delete", DeleteDoc(json::array({DeleteItem("/missing")}), {{"ignore_missing", true}}));
  json o = WaitTask(ok);
  EXPECT_EQ(o["status"], "SUCCEEDED") << o.dump();
  EXPECT_TRUE(o["fatal_error"].is_null());
}

TEST_F(EmulatorTransfer, DeleteInterpretGlobs) {
  const fs::path g = Root("alpha") / "g";
  fs::create_directories(g);
  for (const char* n : {"a.log", "b.log", "c.txt", "*.log"}) WriteFile(g / n, n);
  // Without interpret_globs, "*.log" is a name.
  std::string literal = Submit("delete", DeleteDoc(json::array({DeleteItem("/g/*.log")})));
  EXPECT_EQ(WaitTask(literal)["status"], "SUCCEEDED");
  EXPECT_FALSE(fs::exists(g / "*.log"));
  EXPECT_TRUE(fs::exists(g / "a.log"));
  WriteFile(g / "*.log", "again");
  // With it, the last component is a glob...
  std::string globbed = Submit("delete", DeleteDoc(json::array({DeleteItem("/g/[ab].log")}), {{"interpret_globs", true}}));
  json t = WaitTask(globbed);
  EXPECT_EQ(t["status"], "SUCCEEDED") << t.dump();
  EXPECT_FALSE(fs::exists(g / "a.log"));
  EXPECT_FALSE(fs::exists(g / "b.log"));
  EXPECT_TRUE(fs::exists(g / "c.txt"));
  EXPECT_TRUE(fs::exists(g / "*.log"));
  // ...a backslash escapes it...
  std::string escaped = Submit("delete", DeleteDoc(json::array({DeleteItem("/g/\\*.log")}), {{"interpret_globs", true}}));
  EXPECT_EQ(WaitTask(escaped)["status"], "SUCCEEDED");
  EXPECT_FALSE(fs::exists(g / "*.log"));
  EXPECT_TRUE(fs::exists(g / "c.txt"));
  // ...and no match is a missing file.
  std::string none = Submit("delete", DeleteDoc(json::array({DeleteItem("/g/*.zip")}), {{"interpret_globs", true}}));
  json n = WaitTask(none);
  EXPECT_EQ(n["status"], "FAILED");
  EXPECT_EQ(n["fatal_error"]["code"], "FILE_NOT_FOUND");
  std::string none_ok = Submit("delete", DeleteDoc(json::array({DeleteItem("/g/*.zip")}),
                                                   {{"interpret_globs", true}, {"ignore_missing", true}}));
  EXPECT_EQ(WaitTask(none_ok)["status"], "SUCCEEDED");
  EXPECT_TRUE(fs::exists(g / "c.txt"));
}

TEST_F(EmulatorTransfer, DeleteDuplicateAndValidation) {
  WriteFile(Root("alpha") / "f", "f");
  json doc = DeleteDoc(json::array({DeleteItem("/f")}));
  std::string first = Submit("delete", doc);
  auto dup = Post("/v0.10/delete", doc);
  ASSERT_TRUE(dup.ok()) << dup.error().Summary();
  EXPECT_EQ((*dup)["code"], "Duplicate");
  EXPECT_EQ((*dup)["task_id"], first);
  EXPECT_EQ((*dup)["DATA_TYPE"], "delete_result");
  EXPECT_EQ(WaitTask(first)["status"], "SUCCEEDED");
  auto dup2 = Post("/v0.10/delete", doc);
  ASSERT_TRUE(dup2.ok());
  EXPECT_EQ((*dup2)["code"], "Duplicate") << "also once the task has finished";
  EXPECT_EQ(emu_->Stats()["tasks"]["delete"], 1);

  auto empty = Post("/v0.10/delete", DeleteDoc(json::array()));
  ASSERT_TRUE(IsError(empty, 400, "ClientError.BadRequest.NoDeleteItems"));
  EXPECT_EQ(empty.error().message, "A delete requires at least one item");
  auto bad = [&](const std::string& what, const std::function<void(json&)>& change) {
    json d = DeleteDoc(json::array({DeleteItem("/a")}));
    change(d);
    EXPECT_TRUE(IsError(Post("/v0.10/delete", d), 400, "ClientError.BadRequest")) << what;
  };
  bad("DATA_TYPE", [](json& d) { d["DATA_TYPE"] = "transfer"; });
  bad("no endpoint", [](json& d) { d.erase("endpoint"); });
  bad("no submission_id", [](json& d) { d.erase("submission_id"); });
  bad("item type", [](json& d) { d["DATA"][0]["DATA_TYPE"] = "transfer_item"; });
  bad("relative", [](json& d) { d["DATA"][0]["path"] = "a"; });
  bad("recursive", [](json& d) { d["recursive"] = "yes"; });
  bad("ignore_missing", [](json& d) { d["ignore_missing"] = 1; });
  bad("interpret_globs", [](json& d) { d["interpret_globs"] = "no"; });
  EXPECT_EQ(emu_->Stats()["tasks"]["delete"], 1);
}

// ---------------------------------------------------------------- task_list / event_list

TEST_F(EmulatorTransfer, TaskListFiltersAndPaging) {
  WriteFile(Root("alpha") / "f", "f");
  WriteFile(Root("alpha") / "g", "g");
  std::string t1 = Submit("transfer", TransferDoc(json::array({Item("/f", "/f")}), {{"label", "one"}}));
  std::string d1 = Submit("delete", DeleteDoc(json::array({DeleteItem("/g")})));
  std::string t2 = Submit("transfer", TransferDoc(json::array({Item("/f", "/f2")}), {{"label", "two"}}));
  std::string d2 = Submit("delete", DeleteDoc(json::array({DeleteItem("/missing")})));
  for (const auto& id : {t1, d1, t2, d2}) WaitTask(id);
  auto ids = [](const json& list) {
    std::vector<std::string> out;
    for (const auto& t : list["DATA"]) out.push_back(t["task_id"]);
    return out;
  };
  auto all = Get("/v0.10/task_list");
  ASSERT_TRUE(all.ok()) << all.error().Summary();
  EXPECT_EQ((*all)["DATA_TYPE"], "task_list");
  EXPECT_EQ((*all)["total"], 4);
  EXPECT_EQ((*all)["length"], 4);
  EXPECT_EQ((*all)["offset"], 0);
  EXPECT_TRUE((*all)["limit"].is_number());
  for (const auto& t : (*all)["DATA"]) ExpectTaskKeys(t);
  EXPECT_EQ(ids(*all), (std::vector<std::string>{d2, t2, d1, t1})) << "default order: newest first";
  auto desc = Get("/v0.10/task_list", {{"orderby", "request_time DESC"}});
  ASSERT_TRUE(desc.ok());
  EXPECT_EQ(ids(*desc), (std::vector<std::string>{d2, t2, d1, t1}));
  auto asc = Get("/v0.10/task_list", {{"orderby", "request_time ASC"}});
  ASSERT_TRUE(asc.ok());
  EXPECT_EQ(ids(*asc), (std::vector<std::string>{t1, d1, t2, d2}));

  auto succeeded = Get("/v0.10/task_list", {{"filter", "status:SUCCEEDED"}});
  ASSERT_TRUE(succeeded.ok());
  EXPECT_EQ((*succeeded)["total"], 3);
  for (const auto& t : (*succeeded)["DATA"]) EXPECT_EQ(t["status"], "SUCCEEDED");
  auto deletes = Get("/v0.10/task_list", {{"filter", "type:DELETE"}});
  ASSERT_TRUE(deletes.ok());
  EXPECT_EQ(ids(*deletes), (std::vector<std::string>{d2, d1}));
  auto failed_deletes = Get("/v0.10/task_list", {{"filter", "type:DELETE/status:FAILED"}});
  ASSERT_TRUE(failed_deletes.ok());
  EXPECT_EQ(ids(*failed_deletes), std::vector<std::string>{d2});
  auto either = Get("/v0.10/task_list", {{"filter", "status:FAILED,SUCCEEDED"}});
  ASSERT_TRUE(either.ok());
  EXPECT_EQ((*either)["total"], 4);
  auto by_id = Get("/v0.10/task_list", {{"filter", "task_id:" + t1 + "," + d1}});
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(ids(*by_id), (std::vector<std::string>{d1, t1}));
  auto by_label = Get("/v0.10/task_list", {{"filter", "label:two"}});
  ASSERT_TRUE(by_label.ok());
  EXPECT_EQ(ids(*by_label), std::vector<std::string>{t2});
  auto active = Get("/v0.10/task_list", {{"filter", "status:ACTIVE"}});
  ASSERT_TRUE(active.ok());
  EXPECT_EQ((*active)["total"], 0);
  EXPECT_TRUE((*active)["DATA"].empty());

  std::vector<std::string> paged;
  for (int offset = 0; offset <= 4; offset += 2) {
    auto p = Get("/v0.10/task_list", {{"limit", "2"}, {"offset", std::to_string(offset)}});
    ASSERT_TRUE(p.ok());
    EXPECT_EQ((*p)["total"], 4);
    EXPECT_EQ((*p)["limit"], 2);
    EXPECT_EQ((*p)["offset"], offset);
    EXPECT_EQ((*p)["length"], offset == 4 ? 0 : 2);
    for (const auto& id : ids(*p)) paged.push_back(id);
  }
  EXPECT_EQ(paged, ids(*all));

  EXPECT_TRUE(IsError(Get("/v0.10/task_list", {{"filter", "colour:red"}}), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/task_list", {{"filter", "request_time:soon,"}}), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/task_list", {{"orderby", "speed DESC"}}), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/task_list", {{"limit", "0"}}), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/task_list", {{"limit", "1001"}}), 400, "ClientError.BadRequest"));
}

TEST_F(EmulatorTransfer, EventListPaging) {
  WriteFile(Root("alpha") / "f", "f");
  std::string id = Submit("transfer", TransferDoc(json::array({Item("/f", "/f")})));
  ASSERT_EQ(WaitTask(id)["status"], "SUCCEEDED");
  auto all = Get("/v0.10/task/" + id + "/event_list");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)["total"], 2);
  EXPECT_EQ((*all)["length"], 2);
  EXPECT_EQ((*all)["offset"], 0);
  EXPECT_TRUE((*all)["limit"].is_number());
  for (const auto& e : (*all)["DATA"]) {
    EXPECT_EQ(Keys(e), (std::set<std::string>{"DATA_TYPE", "code", "description", "details", "is_error", "time"}));
  }
  auto first = Get("/v0.10/task/" + id + "/event_list", {{"limit", "1"}});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)["length"], 1);
  EXPECT_EQ((*first)["limit"], 1);
  EXPECT_EQ((*first)["total"], 2);
  EXPECT_EQ((*first)["DATA"][0]["code"], "SUCCEEDED");
  auto second = Get("/v0.10/task/" + id + "/event_list", {{"limit", "1"}, {"offset", "1"}});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)["offset"], 1);
  EXPECT_EQ((*second)["DATA"][0]["code"], "STARTED");
  auto past = Get("/v0.10/task/" + id + "/event_list", {{"offset", "5"}});
  ASSERT_TRUE(past.ok());
  EXPECT_EQ((*past)["length"], 0);
  EXPECT_EQ((*past)["total"], 2);
  auto errors = Get("/v0.10/task/" + id + "/event_list", {{"filter", "is_error:1"}});
  ASSERT_TRUE(errors.ok());
  EXPECT_EQ((*errors)["total"], 0);
  auto fine = Get("/v0.10/task/" + id + "/event_list", {{"filter", "is_error:0"}});
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ((*fine)["total"], 2);
  EXPECT_TRUE(IsError(Get("/v0.10/task/" + id + "/event_list", {{"filter", "code:X"}}), 400, "ClientError.BadRequest"));
  EXPECT_TRUE(IsError(Get("/v0.10/task/" + id + "/event_list", {{"limit", "0"}}), 400, "ClientError.BadRequest"));
}

TEST_F(EmulatorTransfer, TaskDocumentHasEveryKey) {
  // A long start-up delay keeps the tasks queued while they are read.
  Boot({}, {"alpha", "beta"}, 5000);
  std::string del = Submit("delete", DeleteDoc(json::array({DeleteItem("/~/dir/")}), {{"recursive", true}}));
  auto d = Task(del);
  ASSERT_TRUE(d.ok()) << d.error().Summary();
  ExpectTaskKeys(*d);
  // Values of the queued DELETE fixture (§2.9).
  const json& q = *d;
  EXPECT_EQ(q["type"], "DELETE");
  EXPECT_EQ(q["status"], "ACTIVE");
  EXPECT_EQ(q["is_ok"], true);
  EXPECT_EQ(q["is_paused"], false);
  EXPECT_EQ(q["nice_status"], "Queued");
  EXPECT_EQ(q["nice_status_short_description"], "Queued");
  EXPECT_TRUE(q["nice_status_details"].is_null());
  EXPECT_EQ(q["nice_status_expires_in"], -1);
  EXPECT_TRUE(q["fatal_error"].is_null());
  EXPECT_EQ(q["faults"], 0);
  EXPECT_TRUE(q["label"].is_null());
  EXPECT_EQ(q["command"], "API 0.10");
  EXPECT_TRUE(LooksLikeUuid(q["owner_id"]));
  EXPECT_EQ(q["owner_id"], PrimaryIdentity());
  EXPECT_TRUE(q["username"].is_string());
  EXPECT_TRUE(q["completion_time"].is_null());
  EXPECT_EQ(ParseUtc(q["deadline"]) - ParseUtc(q["request_time"]), 24 * 3600) << "default deadline: +24 h";
  EXPECT_TRUE(std::regex_match(q["deadline"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)")));
  EXPECT_EQ(q["source_endpoint_id"], Id("alpha"));
  EXPECT_EQ(q["source_endpoint_display_name"], "alpha");
  EXPECT_TRUE(q["source_endpoint"].is_string());
  EXPECT_TRUE(q["destination_endpoint"].is_null());
  EXPECT_TRUE(q["destination_endpoint_id"].is_null());
  EXPECT_TRUE(q["destination_endpoint_display_name"].is_null());
  EXPECT_EQ(q["files"], 1);
  EXPECT_EQ(q["directories"], 0);
  EXPECT_EQ(q["subtasks_total"], 1);
  EXPECT_EQ(q["subtasks_pending"], 1);
  EXPECT_EQ(q["subtasks_succeeded"], 0);
  EXPECT_TRUE(q["sync_level"].is_null());
  EXPECT_EQ(q["verify_checksum"], false);
  EXPECT_EQ(q["preserve_timestamp"], false);
  EXPECT_EQ(q["encrypt_data"], false);
  EXPECT_EQ(q["delete_destination_extra"], false);
  EXPECT_TRUE(q["recursive_symlinks"].is_null());
  EXPECT_TRUE(q["canceled_by_admin"].is_null());
  EXPECT_TRUE(q["canceled_by_admin_message"].is_null());
  EXPECT_EQ(q["history_deleted"], false);
  EXPECT_TRUE(std::regex_match(q["key"].get<std::string>(),
                               std::regex(R"(active,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})")))
      << q["key"];
  // A queued TRANSFER: the same keys plus the destination.
  std::string tr = Submit("transfer", TransferDoc(json::array({Item("/a", "/b")}), {{"label", "L"}}));
  auto t = Task(tr);
  ASSERT_TRUE(t.ok());
  ExpectTaskKeys(*t);
  EXPECT_EQ((*t)["type"], "TRANSFER");
  EXPECT_EQ((*t)["status"], "ACTIVE");
  EXPECT_EQ((*t)["nice_status"], "Queued");
  EXPECT_EQ((*t)["label"], "L");
  EXPECT_EQ((*t)["destination_endpoint_id"], Id("beta"));
  EXPECT_EQ((*t)["destination_endpoint_display_name"], "beta");
  EXPECT_TRUE((*t)["destination_endpoint"].is_string());
  EXPECT_EQ((*t)["recursive_symlinks"], "ignore");
  EXPECT_EQ((*t)["subtasks_pending"], 1);
  // Both are in the task list with every key too.
  auto list = Get("/v0.10/task_list");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["DATA"].size(), 2u);
  for (const auto& doc : (*list)["DATA"]) ExpectTaskKeys(doc);
  // Nothing ran yet: no events beyond none at all, no successful transfers.
  auto ev = Get("/v0.10/task/" + tr + "/event_list");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ((*ev)["total"], 0);
}

// ---------------------------------------------------------------- high assurance

TEST_F(EmulatorTransfer, HighAssuranceSessionTimeout) {
  Boot({"--high-assurance", "gamma", "--auth-timeout", "60"}, {"alpha"});
  WriteFile(Root("gamma") / "ha.txt", "secret");
  const std::string primary = PrimaryIdentity();
  ASSERT_FALSE(primary.empty());
  // A fresh login: everything works.
  auto ok = Ls("gamma", "/");
  ASSERT_TRUE(ok.ok()) << ok.error().Summary();
  EXPECT_EQ(Names(*ok), std::vector<std::string>{"ha.txt"});

  emu_->AgeSession(120);
  uint64_t before = emu_->RequestCount("transfer.ls");
  auto r = Ls("gamma", "/");
  ASSERT_TRUE(IsError(r, 502, "ExternalError.DirListingFailed.LoginFailed"));
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), before + 1) << "not retried";
  const auto& e = r.error();
  EXPECT_TRUE(e.HasSessionRequirements());
  ASSERT_TRUE(e.authorization_parameters.is_object());
  const json& ids = e.authorization_parameters["session_required_identities"];
  ASSERT_TRUE(ids.is_array()) << e.authorization_parameters.dump();
  EXPECT_NE(std::find(ids.begin(), ids.end(), json(primary)), ids.end()) << ids.dump();
  EXPECT_TRUE(e.authorization_parameters["session_message"].is_string());
  EXPECT_EQ(e.authorization_parameters["prompt"], "login");
  EXPECT_FALSE(e.IsConsentRequired());
  // The other operations too, each with its own code.
  EXPECT_TRUE(IsError(Stat("gamma", "/ha.txt"), 502, "ExternalError.StatFailed.LoginFailed"));
  EXPECT_TRUE(IsError(Mkdir("gamma", "/d"), 502, "ExternalError.MkdirFailed.LoginFailed"));
  EXPECT_TRUE(IsError(Rename("gamma", "/ha.txt", "/x"), 502, "ExternalError.RenameFailed.LoginFailed"));
  EXPECT_FALSE(fs::exists(Root("gamma") / "d"));
  EXPECT_TRUE(fs::exists(Root("gamma") / "ha.txt"));
  // A non-HA collection is unaffected; a token refresh does not help.
  EXPECT_TRUE(Ls("alpha", "/").ok());
  auto refreshed = emu_->http().PostForm(Url("/v2/oauth2/token"),
                                         {{"grant_type", "refresh_token"},
                                          {"refresh_token", login_.refresh_tokens.at(kTransferRs)},
                                          {"client_id", emu_->client_id()}});
  ASSERT_TRUE(refreshed.ok());
  EXPECT_TRUE(IsError(Get(OpOn("gamma", "ls"), {{"path", "/"}}, (*refreshed)["access_token"].get<std::string>()),
                      502, "ExternalError.DirListingFailed.LoginFailed"));
  // A new authentication of the identity asked for fixes it.
  auto again = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha"}), {{"session_required_identities", primary}});
  auto fixed = Get(OpOn("gamma", "ls"), {{"path", "/"}}, again.access_tokens.at(kTransferRs));
  ASSERT_TRUE(fixed.ok()) << fixed.error().Summary();
  EXPECT_EQ(Names(*fixed), std::vector<std::string>{"ha.txt"});
}

// ---------------------------------------------------------------- persistence

TEST_F(EmulatorTransfer, PersistenceAcrossRestart) {
  WriteFile(Root("alpha") / "f", "f");
  json done_doc = TransferDoc(json::array({Item("/f", "/f")}));
  std::string done = Submit("transfer", done_doc);
  json before_done = WaitTask(done);
  ASSERT_EQ(before_done["status"], "SUCCEEDED");
  json active_doc = TransferDoc(json::array({Item("/missing", "/m")}));
  std::string active = Submit("transfer", active_doc);
  json before_active =
      WaitTaskUntil(active, [](const json& d) { return d.value("faults", 0) >= 1; }, "faults >= 1");
  ASSERT_EQ(before_active["status"], "ACTIVE");

  emu_->Restart();
  auto d = Task(done);
  ASSERT_TRUE(d.ok()) << d.error().Summary();
  EXPECT_EQ((*d)["status"], "SUCCEEDED");
  EXPECT_EQ((*d)["task_id"], done);
  EXPECT_EQ((*d)["completion_time"], before_done["completion_time"]);
  EXPECT_EQ((*d)["bytes_transferred"], before_done["bytes_transferred"]);
  auto a = Task(active);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["status"], "ACTIVE");
  EXPECT_GE((*a)["faults"].get<int>(), 1);
  auto ev = Get("/v0.10/task/" + done + "/event_list");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ((*ev)["total"], 2);
  // Submissions are remembered: a retry after the restart is a Duplicate.
  auto dup = Post("/v0.10/transfer", done_doc);
  ASSERT_TRUE(dup.ok()) << dup.error().Summary();
  EXPECT_EQ((*dup)["code"], "Duplicate");
  EXPECT_EQ((*dup)["task_id"], done);
  auto dup_active = Post("/v0.10/transfer", active_doc);
  ASSERT_TRUE(dup_active.ok());
  EXPECT_EQ((*dup_active)["code"], "Duplicate");
  EXPECT_EQ((*dup_active)["task_id"], active);
  EXPECT_EQ(emu_->Stats()["tasks"]["transfer"], 0) << "a Duplicate is not a new task";
  auto list = Get("/v0.10/task_list");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["total"], 2);
  // The active task still runs after the restart and can be canceled.
  auto c = CallJson("POST", "/v0.10/task/" + active + "/cancel");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)["code"], "Canceled");
}

// ---------------------------------------------------------------- faults

TEST_F(EmulatorTransfer, FaultsAreRetriedByTheClient) {
  WriteFile(Root("alpha") / "f", "f");
  emu_->AddFault({{"route", "transfer.*"}, {"status", 503}, {"count", 1}});
  auto r = Ls("alpha", "/");  // default retry policy
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(Names(*r), std::vector<std::string>{"f"});
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 2u);

  // Without retries, each injected status comes back with its code.
  const std::vector<std::pair<int, std::string>> cases = {{429, "RequestLimitExceeded"}, {500, "InternalError"},
                                                          {502, "BadGateway"},           {503, "ServiceUnavailable"},
                                                          {504, "GatewayTimeout"}};
  for (const auto& [status, code] : cases) {
    emu_->AddFault({{"route", "transfer.ls"}, {"status", status}, {"count", 1}, {"retry_after", 1}});
    auto raw = Call("GET", WithQuery(OpOn("alpha", "ls"), {{"path", "/"}}));
    ASSERT_TRUE(IsError(raw, status, code)) << status;
    EXPECT_EQ(raw.error().message, "Injected by globus-emulator");
  }
  Raw raw_doc;
  emu_->AddFault({{"route", "transfer.task_list"}, {"status", 503}, {"count", 1}, {"retry_after", 1}});
  raw_doc = RawCall("GET", "/v0.10/task_list");
  EXPECT_EQ(raw_doc.status, 503);
  EXPECT_EQ(raw_doc.headers["retry-after"], "1");
  EXPECT_EQ(raw_doc.body["resource"], "/v0.10/task_list");
  // A given code: an ExternalError 502 is not retried.
  emu_->AddFault({{"route", "transfer.stat"}, {"status", 502}, {"count", 1},
                  {"code", "ExternalError.DirListingFailed.GCDisconnected"}});
  uint64_t before = emu_->RequestCount("transfer.stat");
  EXPECT_TRUE(IsError(Stat("alpha", "/f"), 502, "ExternalError.DirListingFailed.GCDisconnected"));
  EXPECT_EQ(emu_->RequestCount("transfer.stat"), before + 1);
  EXPECT_TRUE(Stat("alpha", "/f").ok()) << "count 1: the fault is gone";
}

// ---------------------------------------------------------------- routing

TEST_F(EmulatorTransfer, MethodNotAllowedAndUnknownRoutes) {
  const std::string alpha = Id("alpha");
  std::string task = Submit("transfer", TransferDoc(json::array({Item("/missing", "/m")})));
  struct Case {
    std::string method, path, allow;
  };
  const std::vector<Case> cases = {
      {"POST", "/v0.10/endpoint/" + alpha, "GET"},
      {"DELETE", "/v0.10/endpoint/" + alpha, "GET"},
      {"POST", "/v0.10/endpoint_search", "GET"},
      {"POST", Op(alpha, "ls"), "GET"},
      {"POST", Op(alpha, "stat"), "GET"},
      {"GET", Op(alpha, "mkdir"), "POST"},
      {"GET", Op(alpha, "rename"), "POST"},
      {"POST", "/v0.10/submission_id", "GET"},
      {"GET", "/v0.10/transfer", "POST"},
      {"GET", "/v0.10/delete", "POST"},
      {"POST", "/v0.10/task_list", "GET"},
      {"DELETE", "/v0.10/task/" + task, "GET, PUT"},
      {"POST", "/v0.10/task/" + task, "GET, PUT"},
      {"GET", "/v0.10/task/" + task + "/cancel", "POST"},
      {"POST", "/v0.10/task/" + task + "/event_list", "GET"},
      {"POST", "/v0.10/task/" + task + "/successful_transfers", "GET"},
  };
  for (const auto& c : cases) {
    Raw r = RawCall(c.method, c.path, c.method == "GET" || c.method == "DELETE" ? "" : "{}");
    EXPECT_EQ(r.status, 405) << c.method << " " << c.path;
    EXPECT_EQ(r.body.value("code", ""), "ClientError.MethodNotAllowed") << c.method << " " << c.path;
    EXPECT_EQ(r.headers["allow"], c.allow) << c.method << " " << c.path;
  }
  for (const std::string& path :
       std::vector<std::string>{"/v0.10/nothing", "/v0.10/endpoint/", "/v0.10/task/", "/v0.10/task/" + task + "/x/y",
                                Op(alpha, "symlink"), "/v0.10/operation/endpoint/" + alpha + "/a/ls"}) {
    Raw r = RawCall("GET", path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.value("code", ""), "ClientError.NotFound") << path << " " << r.body.dump();
  }
  ASSERT_TRUE(CallJson("POST", "/v0.10/task/" + task + "/cancel").ok());
}

// ---------------------------------------------------------------- error documents

TEST_F(EmulatorTransfer, EveryErrorDocumentHasTheTypeZeroShape) {
  const fs::path root = Root("alpha");
  WriteFile(root / "file", "f");
  fs::create_directories(root / "dir" / "sub");
  fs::create_directory_symlink("/etc", root / "out");
  fs::create_symlink("loop", root / "loop");
  const std::string a = Id("alpha"), nobody = testing::RandomUuid();
  std::string active = Submit("transfer", TransferDoc(json::array({Item("/missing", "/m")})));
  WriteFile(root / "done", "d");
  std::string finished = Submit("transfer", TransferDoc(json::array({Item("/done", "/done")})));
  WaitTask(finished);
  auto q = [](const std::string& path, const http::HeaderList& query) { return WithQuery(path, query); };
  auto body = [](const json& j) { return j.dump(); };
  const std::string long_name = "/" + std::string(300, 'n');

  struct Case {
    std::string method, path, body;
    int status;
    std::string code;
    std::optional<std::string> token;
  };
  const std::vector<Case> cases = {
      // Authentication.
      {"GET", "/v0.10/endpoint/" + a, "", 401, "ClientError.AuthenticationFailed", ""},
      {"GET", "/v0.10/endpoint/" + a, "", 401, "ClientError.AuthenticationFailed", "bogus"},
      // Routing.
      {"GET", "/v0.10/nothing", "", 404, "ClientError.NotFound", std::nullopt},
      {"PATCH", "/v0.10/transfer", "{}", 405, "ClientError.MethodNotAllowed", std::nullopt},
      // Endpoints.
      {"GET", "/v0.10/endpoint/" + nobody, "", 404, "EndpointNotFound", std::nullopt},
      {"GET", q(Op(nobody, "ls"), {{"path", "/"}}), "", 404, "EndpointNotFound", std::nullopt},
      {"GET", q(OpOn("gamma", "ls"), {{"path", "/"}}), "", 403, "ConsentRequired", std::nullopt},
      {"GET", "/v0.10/endpoint_search", "", 400, "ClientError.BadRequest", std::nullopt},
      {"GET", q("/v0.10/endpoint_search", {{"filter_fulltext", "a"}, {"limit", "x"}}), "", 400,
       "ClientError.BadRequest", std::nullopt},
      // ls.
      {"GET", q(Op(a, "ls"), {{"path", "rel"}}), "", 400, "ClientError.BadRequest", std::nullopt},
      {"GET", q(Op(a, "ls"), {{"path", "/nope"}}), "", 404, "ClientError.NotFound", std::nullopt},
      {"GET", q(Op(a, "ls"), {{"path", "/file"}}), "", 502, "ExternalError.DirListingFailed.NotDirectory",
       std::nullopt},
      {"GET", q(Op(a, "ls"), {{"path", "/loop"}}), "", 502, "ExternalError.DirListingFailed", std::nullopt},
      {"GET", q(Op(a, "ls"), {{"path", "/out"}}), "", 403, "EndpointPermissionDenied", std::nullopt},
      {"GET", q(Op(a, "ls"), {{"path", "/"}, {"show_hidden", "2"}}), "", 400, "ClientError.BadRequest", std::nullopt},
      {"GET", q(Op(a, "ls"), {{"path", "/"}, {"orderby", "x"}}), "", 400, "ClientError.BadRequest", std::nullopt},
      {"GET", q(Op(a, "ls"), {{"path", "/"}, {"filter", "x"}}), "", 400, "ClientError.BadRequest", std::nullopt},
      // stat.
      {"GET", q(Op(a, "stat"), {{"path", "/nope"}}), "", 404, "NotFound", std::nullopt},
      {"GET", q(Op(a, "stat"), {{"path", "rel"}}), "", 400, "ClientError.BadRequest", std::nullopt},
      {"GET", q(Op(a, "stat"), {{"path", long_name}}), "", 502, "ExternalError.StatFailed", std::nullopt},
      {"GET", q(Op(a, "stat"), {{"path", "/out/x"}}), "", 403, "EndpointPermissionDenied", std::nullopt},
      // mkdir.
      {"POST", Op(a, "mkdir"), "junk", 400, "ClientError.BadRequest", std::nullopt},
      {"POST", Op(a, "mkdir"), body({{"DATA_TYPE", "mkdir"}, {"path", "/dir"}}), 502,
       "ExternalError.MkdirFailed.Exists", std::nullopt},
      {"POST", Op(a, "mkdir"), body({{"DATA_TYPE", "mkdir"}, {"path", "/no/parent"}}), 502,
       "ExternalError.MkdirFailed", std::nullopt},
      {"POST", Op(a, "mkdir"), body({{"DATA_TYPE", "mkdir"}, {"path", "/out/x"}}), 403, "EndpointPermissionDenied",
       std::nullopt},
      // rename.
      {"POST", Op(a, "rename"), body({{"DATA_TYPE", "rename"}}), 400, "ClientError.BadRequest", std::nullopt},
      {"POST", Op(a, "rename"), body({{"DATA_TYPE", "rename"}, {"old_path", "/nope"}, {"new_path", "/x"}}), 404,
       "ClientError.NotFound", std::nullopt},
      {"POST", Op(a, "rename"), body({{"DATA_TYPE", "rename"}, {"old_path", "/file"}, {"new_path", "/dir"}}), 502,
       "ExternalError.RenameFailed.Exists", std::nullopt},
      {"POST", Op(a, "rename"), body({{"DATA_TYPE", "rename"}, {"old_path", "/dir"}, {"new_path", "/dir/sub/x"}}),
       502, "ExternalError.RenameFailed", std::nullopt},
      {"POST", Op(a, "rename"), body({{"DATA_TYPE", "rename"}, {"old_path", "/"}, {"new_path", "/x"}}), 403,
       "EndpointPermissionDenied", std::nullopt},
      // Submissions.
      {"POST", "/v0.10/transfer", body(TransferDoc(json::array())), 400, "ClientError.BadRequest.NoTransferItems",
       std::nullopt},
      {"POST", "/v0.10/delete", body(DeleteDoc(json::array())), 400, "ClientError.BadRequest.NoDeleteItems",
       std::nullopt},
      {"POST", "/v0.10/transfer", "[]", 400, "ClientError.BadRequest", std::nullopt},
      {"POST", "/v0.10/transfer", body(TransferDoc(json::array({Item("/a", "/a")}), {}, "alpha", "gamma")), 403,
       "ConsentRequired", std::nullopt},
      {"POST", "/v0.10/delete", body(DeleteDoc(json::array({DeleteItem("/a")}), {{"endpoint", nobody}})), 404,
       "EndpointNotFound", std::nullopt},
      // Tasks.
      {"GET", "/v0.10/task/" + nobody, "", 404, "ClientError.NotFound", std::nullopt},
      {"PUT", "/v0.10/task/" + finished, body({{"label", "x"}}), 409, "Conflict", std::nullopt},
      {"PUT", "/v0.10/task/" + active, body({{"type", "x"}}), 400, "ClientError.BadRequest", std::nullopt},
      {"GET", "/v0.10/task/" + nobody + "/event_list", "", 404, "ClientError.NotFound", std::nullopt},
      {"GET", q("/v0.10/task/" + active + "/event_list", {{"filter", "x:y"}}), "", 400, "ClientError.BadRequest",
       std::nullopt},
      {"POST", "/v0.10/task/" + nobody + "/cancel", "", 404, "ClientError.NotFound", std::nullopt},
      {"GET", "/v0.10/task/" + active + "/successful_transfers", "", 400, "ClientError.BadRequest", std::nullopt},
      {"GET", "/v0.10/task/" + nobody + "/successful_transfers", "", 404, "ClientError.NotFound", std::nullopt},
      {"GET", q("/v0.10/task_list", {{"filter", "x:y"}}), "", 400, "ClientError.BadRequest", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path + " " + c.body);
    Raw r = RawCall(c.method, c.path, c.body, c.token);
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.content_type.rfind("application/json", 0), 0u) << r.content_type;
    ASSERT_TRUE(r.body.is_object()) << r.body.dump();
    EXPECT_EQ(r.body.value("code", ""), c.code) << r.body.dump();
    EXPECT_TRUE(r.body["message"].is_string() && !r.body["message"].get<std::string>().empty());
    EXPECT_TRUE(r.body["request_id"].is_string() && !r.body["request_id"].get<std::string>().empty());
    EXPECT_EQ(r.body.value("resource", ""), c.path.substr(0, c.path.find('?')));
    // Endpoint errors carry the GridFTP reply in a multi-line message (§3.1).
    if (c.code.rfind("ExternalError", 0) == 0 || c.code == "NotFound" || c.code == "ClientError.NotFound") {
      if (c.path.find("/operation/") != std::string::npos) {
        EXPECT_NE(r.body["message"].get<std::string>().find("GlobusError: v=1 c="), std::string::npos)
            << r.body["message"];
        EXPECT_NE(r.body["message"].get<std::string>().find('\n'), std::string::npos);
      }
    }
  }
  EXPECT_EQ(emu_->Stats()["tasks"]["transfer"], 2);
  EXPECT_EQ(emu_->Stats()["tasks"]["delete"], 0);
  ASSERT_TRUE(CallJson("POST", "/v0.10/task/" + active + "/cancel").ok());
}

}  // namespace
}  // namespace globusfs
