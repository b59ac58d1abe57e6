#include "emulator.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "auth_service.h"
#include "certs.h"
#include "id_token.h"
#include "https_service.h"
#include "transfer_service.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;

bool GlobMatch(std::string_view p, std::string_view t) {
  // '*' and '?' only; iterative with backtracking.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

Response JsonResponse(int status, const json& body) {
  // A name on disk that is not UTF-8 cannot go into JSON as is: its bad
  // bytes become U+FFFD rather than failing the whole answer (what the real
  // service does here is unverified).
  return Response::Json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

Response GlobusError(const Request& req, int status, const std::string& code,
                     const std::string& message, const json& extra) {
  json doc = {{"code", code},
              {"message", message},
              {"request_id", NewRequestId()},
              {"resource", req.raw_path}};
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) doc[it.key()] = it.value();
  }
  return JsonResponse(status, doc);
}

Response AuthError(int status, const std::string& code, const std::string& detail) {
  std::string title = status == 401   ? "Unauthorized"
                      : status == 403 ? "Forbidden"
                      : status == 404 ? "Not Found"
                      : status == 400 ? "Bad Request"
                                      : "Error";
  std::string lower = code;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  json doc = {{"errors",
               json::array({{{"status", std::to_string(status)},
                             {"id", NewUuid()},
                             {"code", code},
                             {"detail", detail},
                             {"title", title}}})},
              {"error_description", title},
              {"error", lower}};
  return JsonResponse(status, doc);
}

Response OAuthError(int status, const std::string& error, const std::string& description) {
  return JsonResponse(status, {{"error", error}, {"error_description", description}});
}

Emulator::Emulator(Config cfg) : cfg_(std::move(cfg)), collections_(cfg_.collections) {}

Emulator::~Emulator() { Stop(); }

std::string Emulator::BaseUrl() const {
  return "https://127.0.0.1:" + std::to_string(cfg_.public_port ? cfg_.public_port : port_);
}

std::string Emulator::Issuer() const { return cfg_.issuer.empty() ? BaseUrl() : cfg_.issuer; }

std::string Emulator::HttpsServerUrl(const Collection& c) const {
  return BaseUrl() + "/c/" + c.id;
}

std::optional<Collection> Emulator::FindCollection(std::string_view id) const {
  std::lock_guard lock(mu_);
  for (const auto& c : collections_) {
    if (c.id == id) return c;
  }
  return std::nullopt;
}

std::vector<Collection> Emulator::Collections() const {
  std::lock_guard lock(mu_);
  return collections_;
}

const Identity* Emulator::FindIdentity(std::string_view key) const {
  if (cfg_.identity.id == key || cfg_.identity.username == key) return &cfg_.identity;
  for (const auto& l : cfg_.linked) {
    if (l.id == key || l.username == key) return &l;
  }
  return nullptr;
}

std::vector<Identity> Emulator::IdentitySet() const {
  std::vector<Identity> out{cfg_.identity};
  out.insert(out.end(), cfg_.linked.begin(), cfg_.linked.end());
  return out;
}

std::optional<AccessToken> Emulator::BearerToken(const Request& req) {
  auto h = req.headers.Get("authorization");
  if (!h || h->size() < 8) return std::nullopt;
  std::string scheme = h->substr(0, 7);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return std::nullopt;
  std::string token = h->substr(7);
  int64_t now = NowEpoch();
  return state_->With([&](StateData& d) -> std::optional<AccessToken> {
    auto it = d.access_tokens.find(token);
    if (it == d.access_tokens.end() || it->second.expires_at <= now) return std::nullopt;
    return it->second;
  });
}

void Emulator::CountHttpsBytesReceived(uint64_t n) {
  std::lock_guard lock(mu_);
  https_bytes_received_ += n;
}

void Emulator::CountTask(const std::string& type) {
  std::lock_guard lock(mu_);
  if (type == "transfer") ++tasks_transfer_;
  if (type == "delete") ++tasks_delete_;
}

std::string Emulator::RouteName(const Request& req) {
  const std::string& p = req.path;
  auto starts = [&](std::string_view pre) { return p.rfind(pre, 0) == 0; };
  auto ends = [&](std::string_view suf) {
    return p.size() >= suf.size() && p.compare(p.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (starts("/_emulator/")) return "_emulator";
  if (starts("/c/")) {
    if (req.method == "GET") return "https.get";
    if (req.method == "HEAD") return "https.head";
    if (req.method == "PUT") return "https.put";
    return "https.other";
  }
  if (starts("/v2/")) {
    if (p == "/v2/oauth2/authorize") return "auth.authorize";
    if (p == "/v2/oauth2/token") return "auth.token";
    if (p == "/v2/oauth2/token/revoke") return "auth.revoke";
    if (p == "/v2/oauth2/token/introspect") return "auth.introspect";
    if (p == "/v2/oauth2/token/validate") return "auth.validate";
    if (p == "/v2/oauth2/userinfo") return "auth.userinfo";
    if (p == "/v2/api/identities") return "auth.identities";
    if (p == "/v2/api/clients") return "auth.clients";
    if (p == "/v2/web/auth-code") return "auth.auth_code_page";
    return "auth.other";
  }
  if (p == "/.well-known/openid-configuration") return "auth.openid_configuration";
  if (p == "/jwk.json") return "auth.jwks";
  if (starts("/v0.10/")) {
    if (starts("/v0.10/operation/endpoint/")) {
      if (ends("/ls")) return "transfer.ls";
      if (ends("/stat")) return "transfer.stat";
      if (ends("/mkdir")) return "transfer.mkdir";
      if (ends("/rename")) return "transfer.rename";
      return "transfer.other";
    }
    if (p == "/v0.10/endpoint_search") return "transfer.endpoint_search";
    if (starts("/v0.10/endpoint/")) return "transfer.endpoint";
    if (p == "/v0.10/submission_id") return "transfer.submission_id";
    if (p == "/v0.10/transfer") return "transfer.transfer";
    if (p == "/v0.10/delete") return "transfer.delete";
    if (p == "/v0.10/task_list") return "transfer.task_list";
    if (starts("/v0.10/task/")) {
      if (ends("/event_list")) return "transfer.event_list";
      if (ends("/cancel")) return "transfer.cancel";
      if (ends("/successful_transfers")) return "transfer.successful_transfers";
      return "transfer.task";
    }
    return "transfer.other";
  }
  return "other";
}

std::optional<FaultRule> Emulator::TakeFault(const std::string& route) {
  std::lock_guard lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!GlobMatch(it->route, route)) continue;
    if (it->fraction > 0) {
      if (std::uniform_real_distribution<double>(0, 1)(rng_) >= it->fraction) continue;
      FaultRule hit = *it;
      hit.hits = it->hits++;
      return hit;
    }
    FaultRule hit = *it;
    hit.hits = it->hits++;
    if (it->count > 0 && --it->count == 0) faults_.erase(it);
    return hit;
  }
  return std::nullopt;
}

Response Emulator::InjectedError(const Request& req, const std::string& route, const FaultRule& f) {
  Response r;
  std::string code = f.code;
  if (route.rfind("auth.", 0) == 0) {
    if (code.empty()) code = f.status == 429 ? "TOO_MANY_REQUESTS" : "SERVICE_UNAVAILABLE";
    r = AuthError(f.status, code, "injected by globus-emulator");
  } else {
    if (code.empty()) {
      switch (f.status) {
        case 429: code = "RequestLimitExceeded"; break;
        case 500: code = "InternalError"; break;
        case 502: code = "BadGateway"; break;
        case 503: code = "ServiceUnavailable"; break;
        case 504: code = "GatewayTimeout"; break;
        default: code = "InjectedError"; break;
      }
    }
    r = GlobusError(req, f.status, code, "Injected by globus-emulator");
  }
  if (f.retry_after >= 0) r.headers.Set("Retry-After", std::to_string(f.retry_after));
  return r;
}

namespace {

// Every string value becomes a number and every number (or boolean) a
// string; keys and nesting stay.
json Retyped(const json& j) {
  if (j.is_object()) {
    json o = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) o[it.key()] = Retyped(it.value());
    return o;
  }
  if (j.is_array()) {
    json a = json::array();
    for (const auto& e : j) a.push_back(Retyped(e));
    return a;
  }
  if (j.is_string()) return 7;
  if (j.is_number() || j.is_boolean()) return j.dump();
  return j;
}

// Picks the variant this hit uses among `names`: in turn for "any", else the
// one named (nullptr when it is not of this kind of answer).
template <size_t N>
const char* PickVariant(const FaultRule& f, const char* const (&names)[N]) {
  if (f.malformed == "any") return names[f.hits % N];
  for (const char* n : names) {
    if (f.malformed == n) return n;
  }
  return nullptr;
}

}  // namespace

void Emulator::Malform(const std::string& route, const FaultRule& f, Response* r) {
  if (r->head_only) return;  // no body to garble
  bool json_answer = !r->file && r->headers.Get("content-type").value_or("").rfind("application/json", 0) == 0;
  if (json_answer) {
    const char* v = PickVariant(f, kMalformedJsonVariants);
    if (!v) return;
    std::string_view name = v;
    if (name == "cut") {
      // A complete HTTP answer (its Content-Length matches) of half a document.
      r->body = r->body.substr(0, r->body.size() / 2);
    } else if (name == "wrong_types") {
      r->body = R"({"DATA_TYPE": "file_list", "DATA": [42, {"name": 7}]})";
    } else if (name == "unterminated") {
      r->body = R"({"DATA_TYPE": "file_list", "DATA": [42, {"name": 7}])";
    } else if (name == "retyped") {
      json doc = json::parse(r->body, nullptr, false);
      r->body = doc.is_discarded() ? "7" : Retyped(doc).dump();
    } else {  // not_object
      r->body = R"([42, "garbage", null])";
    }
    return;
  }
  // A file body (https.get): a 206 that contradicts the request or itself.
  if (!r->file || route != "https.get" || (r->status != 200 && r->status != 206)) return;
  const char* v = PickVariant(f, kMalformedFileVariants);
  if (!v) return;
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(r->file->path, ec);
  if (ec) return;
  uint64_t off = r->file->offset, len = r->file->length;
  if (std::string_view(v) == "bad_range") {
    // Another range than the one asked for (one byte later), honestly labelled.
    if (len < 2) return;
    r->status = 206;
    r->file->offset = off + 1;
    r->file->length = len - 1;
    r->headers.Set("Content-Range", "bytes " + std::to_string(off + 1) + "-" + std::to_string(off + len - 1) +
                                        "/" + std::to_string(size));
  } else {  // short_body
    // The range asked for in Content-Range, but half as many bytes, of garbage.
    if (len == 0) return;
    r->status = 206;
    r->headers.Set("Content-Range", "bytes " + std::to_string(off) + "-" + std::to_string(off + len - 1) + "/" +
                                        std::to_string(size));
    static const std::string kGarbage = "globus-emulator: malformed body. ";
    std::string body(len / 2, '\0');
    for (size_t i = 0; i < body.size(); ++i) body[i] = kGarbage[i % kGarbage.size()];
    r->file.reset();
    r->body = std::move(body);
  }
}

void Emulator::Delay(int64_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!stopping_ && std::chrono::steady_clock::now() < until) {
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(20)));
  }
}

Response Emulator::Handle(Request& req) {
  std::string route = RouteName(req);
  if (route == "_emulator") return HandleControl(req);
  {
    std::lock_guard lock(mu_);
    ++requests_[route];
  }
  if (cfg_.latency_ms > 0) Delay(cfg_.latency_ms);

  auto fault = TakeFault(route);
  if (fault) {
    if (fault->delay_ms > 0) Delay(fault->delay_ms);
    if (fault->drop) {
      Response r;
      r.drop = true;
      return r;
    }
    if (fault->status > 0) return InjectedError(req, route, *fault);
  }

  Response r;
  if (route.rfind("https.", 0) == 0) {
    r = https_->Handle(req, route);
  } else if (route.rfind("auth.", 0) == 0) {
    r = auth_->Handle(req, route);
  } else if (route.rfind("transfer.", 0) == 0) {
    r = transfer_->Handle(req, route);
  } else {
    r = JsonResponse(404, {{"code", "NotFound"}, {"message", "No such resource: " + req.raw_path}});
  }
  if (fault && !fault->malformed.empty()) Malform(route, *fault, &r);
  if (fault && fault->truncate) {
    uint64_t len = r.file ? r.file->length : r.body.size();
    r.truncate_at = len / 2;
  }
  if (fault && fault->body_delay_ms > 0) r.body_chunk_delay_ms = static_cast<uint32_t>(fault->body_delay_ms);
  return r;
}

void Emulator::OnSent(const Request& req, uint64_t body_bytes) {
  if (req.method != "GET" || req.path.rfind("/c/", 0) != 0) return;
  std::lock_guard lock(mu_);
  https_bytes_sent_ += body_bytes;
}

Response Emulator::HandleControl(Request& req) {
  if (req.remote_addr != "127.0.0.1") {
    return JsonResponse(403, {{"code", "Forbidden"}, {"message", "controls are loopback only"}});
  }
  const std::string& p = req.path;
  auto body_json = [&]() -> std::optional<json> {
    auto body = req.ReadAllBody(1 << 20);
    if (!body) return std::nullopt;
    if (body->empty()) return json::object();
    auto j = json::parse(*body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
  };
  auto bad = [](const std::string& msg) {
    return JsonResponse(400, {{"code", "BadRequest"}, {"message", msg}});
  };

  if (p == "/_emulator/stats" && req.method == "GET") {
    std::lock_guard lock(mu_);
    json requests = json::object();
    for (const auto& [k, v] : requests_) requests[k] = v;
    return JsonResponse(200, {{"requests", requests},
                              {"https_bytes_sent", https_bytes_sent_},
                              {"https_bytes_received", https_bytes_received_},
                              {"tasks", {{"transfer", tasks_transfer_}, {"delete", tasks_delete_}}}});
  }
  if (p == "/_emulator/reset" && req.method == "POST") {
    std::lock_guard lock(mu_);
    requests_.clear();
    https_bytes_sent_ = https_bytes_received_ = 0;
    tasks_transfer_ = tasks_delete_ = 0;
    faults_.clear();
    return JsonResponse(200, {{"reset", true}});
  }
  if (p == "/_emulator/faults" && req.method == "DELETE") {
    std::lock_guard lock(mu_);
    faults_.clear();
    return JsonResponse(200, {{"faults", json::array()}});
  }
  if (p == "/_emulator/faults" && req.method == "GET") {
    std::lock_guard lock(mu_);
    json list = json::array();
    for (const auto& f : faults_) {
      list.push_back({{"route", f.route}, {"status", f.status}, {"count", f.count},
                      {"fraction", f.fraction}, {"drop", f.drop}, {"truncate", f.truncate},
                      {"malformed", f.malformed}, {"inactive_ms", f.inactive_ms}});
    }
    return JsonResponse(200, {{"faults", list}});
  }
  if (p == "/_emulator/faults" && req.method == "POST") {
    auto j = body_json();
    if (!j) return bad("the body must be a JSON object");
    FaultRule f;
    try {
      f.route = j->value("route", std::string("*"));
      f.status = j->value("status", 0);
      f.retry_after = j->value("retry_after", -1);
      f.code = j->value("code", std::string());
      f.delay_ms = j->value("delay_ms", int64_t{0});
      f.drop = j->value("drop", false);
      f.truncate = j->value("truncate", false);
      f.body_delay_ms = j->value("body_delay_ms", int64_t{0});
      f.count = j->value("count", int64_t{-1});
      f.fraction = j->value("fraction", 0.0);
      f.inactive_ms = j->value("inactive_ms", int64_t{0});
      f.nice_status = j->value("nice_status", std::string());
      if (auto m = j->find("malformed"); m != j->end()) {
        if (m->is_boolean()) {
          f.malformed = m->get<bool>() ? "any" : "";
        } else if (m->is_string()) {
          f.malformed = m->get<std::string>();
          bool known = f.malformed == "any";
          for (const char* n : kMalformedJsonVariants) known = known || f.malformed == n;
          for (const char* n : kMalformedFileVariants) known = known || f.malformed == n;
          if (!known) return bad("unknown malformed variant: " + f.malformed);
        } else {
          return bad("malformed must be true, false or a variant's name");
        }
      }
    } catch (const json::exception& e) {
      return bad(std::string("bad fault: ") + e.what());
    }
    if (f.status != 0 && (f.status < 400 || f.status > 599)) return bad("status must be 4xx or 5xx");
    if (f.fraction < 0 || f.fraction > 1) return bad("fraction must be within 0..1");
    if (f.count == 0) return bad("count must be positive");
    if (f.fraction > 0 && j->contains("count")) return bad("give count or fraction, not both");
    bool task_fault = f.route.rfind("task.", 0) == 0;  // fails (or suspends) the task itself
    if (f.inactive_ms < 0) return bad("inactive_ms must not be negative");
    if (f.inactive_ms > 0 && !task_fault) return bad("inactive_ms needs a task.* route");
    if (!f.nice_status.empty() && f.inactive_ms == 0) return bad("nice_status needs inactive_ms");
    if (!task_fault && f.status == 0 && !f.drop && !f.truncate && f.delay_ms == 0 && f.body_delay_ms == 0 &&
        f.malformed.empty()) {
      return bad("the fault does nothing: give status, drop, truncate, malformed, delay_ms or body_delay_ms");
    }
    std::lock_guard lock(mu_);
    faults_.push_back(f);
    return JsonResponse(200, {{"added", true}, {"faults", faults_.size()}});
  }
  if (p == "/_emulator/expire-tokens" && req.method == "POST") {
    auto j = body_json();
    if (!j) return bad("the body must be a JSON object");
    std::string rs = j->value("resource_server", std::string());
    int64_t now = NowEpoch();
    int n = state_->With([&](StateData& d) {
      int count = 0;
      for (auto& [tok, at] : d.access_tokens) {
        if (!rs.empty() && at.resource_server != rs) continue;
        if (at.expires_at > now) {
          at.expires_at = now;
          ++count;
        }
      }
      return count;
    });
    state_->Save();
    return JsonResponse(200, {{"expired", n}});
  }
  if (p == "/_emulator/age-session" && req.method == "POST") {
    auto j = body_json();
    if (!j) return bad("the body must be a JSON object");
    int64_t seconds = j->value("seconds", int64_t{0});
    if (seconds <= 0) {
      seconds = 86400;
      for (const auto& c : Collections()) {
        if (c.high_assurance) seconds = std::max(seconds, c.auth_timeout_s + 1);
      }
    }
    state_->With([&](StateData& d) {
      for (auto& [id, t] : d.session.auth_times) t -= seconds;
    });
    state_->Save();
    return JsonResponse(200, {{"aged_seconds", seconds}});
  }
  if (p == "/_emulator/high-assurance" && req.method == "POST") {
    auto j = body_json();
    if (!j) return bad("the body must be a JSON object");
    std::string id = j->value("collection", std::string());
    bool enabled = j->value("enabled", true);
    int64_t timeout = j->value("auth_timeout", int64_t{900});
    bool mfa = enabled && j->value("mfa_required", false);
    std::lock_guard lock(mu_);
    for (auto& c : collections_) {
      if (c.id == id || c.name == id) {
        c.high_assurance = enabled;
        c.auth_timeout_s = enabled ? timeout : 0;
        c.mfa_required = mfa;
        return JsonResponse(200, {{"collection", c.id}, {"high_assurance", enabled},
                                  {"auth_timeout", c.auth_timeout_s}, {"mfa_required", mfa}});
      }
    }
    return JsonResponse(404, {{"code", "NotFound"}, {"message", "no such collection: " + id}});
  }
  if (p == "/_emulator/info" && req.method == "GET") {
    json cols = json::array();
    for (const auto& c : Collections()) {
      cols.push_back({{"name", c.name}, {"id", c.id}, {"root", c.root.string()},
                      {"entity_type", c.entity_type}, {"high_assurance", c.high_assurance},
                      {"mfa_required", c.mfa_required},
                      {"https_server", c.https ? json(HttpsServerUrl(c)) : json(nullptr)}});
    }
    json ids = json::array();
    for (const auto& i : IdentitySet()) ids.push_back({{"id", i.id}, {"username", i.username}});
    return JsonResponse(200, {{"base_url", BaseUrl()}, {"client_id", cfg_.client_id},
                              {"collections", cols}, {"identities", ids}});
  }
  return JsonResponse(404, {{"code", "NotFound"}, {"message", "no such control: " + req.method + " " + p}});
}

void Emulator::Start() {
  std::error_code ec;
  std::filesystem::create_directories(cfg_.state_dir, ec);
  if (ec) throw std::runtime_error("cannot create " + cfg_.state_dir.string() + ": " + ec.message());
  ::chmod(cfg_.state_dir.c_str(), 0700);
  std::filesystem::remove(cfg_.state_dir / "env", ec);  // written again once listening

  state_ = std::make_unique<State>(cfg_.state_dir / "state.json");
  state_->Load();
  state_->With([&](StateData& d) {
    Client& c = d.clients[cfg_.client_id];
    c.id = cfg_.client_id;
    c.name = "globusfs (emulator native app)";
    c.native = true;
    if (d.session.id.empty()) d.session.id = NewUuid();
  });

  TlsIdentity tls = LoadOrCreateTls(cfg_.state_dir);
  signer_ = std::make_unique<IdTokenSigner>(cfg_.state_dir);
  auth_ = std::make_unique<AuthService>(*this);
  transfer_ = std::make_unique<TransferService>(*this);
  https_ = std::make_unique<HttpsService>(*this);
  server_ = std::make_unique<HttpServer>([this](Request& r) { return Handle(r); },
                                         [this](const Request& r, uint64_t n) { OnSent(r, n); });
  port_ = server_->Start(cfg_.port, tls);
  transfer_->Start();
  state_->Save();
  WriteEnvFile();
}

void Emulator::Stop() {
  stopping_ = true;
  if (server_) server_->Stop();
  if (transfer_) transfer_->Stop();
  if (state_) state_->StopSaver();
}

void Emulator::WriteEnvFile() {
  // Values are single-quoted so that `. DIR/env` works for any path.
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  std::string base = BaseUrl() + "/";
  std::string text = "# globus-emulator on " + BaseUrl() + " (pid " + std::to_string(::getpid()) + ")\n";
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"GLOBUS_SDK_SERVICE_URL_AUTH", base},
           {"GLOBUS_SDK_SERVICE_URL_TRANSFER", base},
           {"GLOBUS_SDK_VERIFY_SSL", (cfg_.state_dir / "ca.pem").string()},
           {"GLOBUSFS_CLIENT_ID", cfg_.client_id},
           {"GLOBUS_EMULATOR_URL", BaseUrl()}}) {
    text += "export " + k + "=" + quote(v) + "\n";
  }
  auto tmp = cfg_.state_dir / "env.tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, cfg_.state_dir / "env");
}

}  // namespace emu
