#include "tests/support/emulator_process.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef GLOBUS_EMULATOR_BIN
#error "GLOBUS_EMULATOR_BIN must name the globus-emulator binary"
#endif

namespace globusfs::testing {

using json = nlohmann::json;

namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Base64Url(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  for (auto& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

// Waits for the child, at most `timeout`; true if it exited.
bool WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

std::string RandomUuid() {
  unsigned char b[16];
  RAND_bytes(b, sizeof(b));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof(out),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::unique_ptr<EmulatorProcess> EmulatorProcess::Start(EmulatorOptions options) {
  std::unique_ptr<EmulatorProcess> e(new EmulatorProcess());
  e->options_ = std::move(options);
  std::string tmpl = (std::filesystem::temp_directory_path() / "globusfs-emu-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  e->dir_ = tmpl;
  for (const auto* names : {&e->options_.collections, &e->options_.personal_collections}) {
    for (const auto& name : *names) {
      std::filesystem::create_directories(e->dir_ / "data" / name);
      e->collections_.emplace_back(name, RandomUuid());
    }
  }
  e->Spawn();
  return e;
}

EmulatorProcess::~EmulatorProcess() {
  http_.reset();
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!WaitExit(pid_, std::chrono::seconds(10))) {
      ::kill(pid_, SIGKILL);
      WaitExit(pid_, std::chrono::seconds(5));
    }
  }
  std::error_code ec;
  if (!dir_.empty() && !std::getenv("GLOBUSFS_KEEP_TEST_DIRS")) std::filesystem::remove_all(dir_, ec);
}

void EmulatorProcess::Spawn() {
  std::vector<std::string> args = {GLOBUS_EMULATOR_BIN, "--state-dir", state_dir().string(),
                                   "--port", std::to_string(port_), "--task-delay-ms",
                                   std::to_string(options_.task_delay_ms)};
  const auto& personal = options_.personal_collections;
  for (const auto& [name, id] : collections_) {
    bool gcp = std::find(personal.begin(), personal.end(), name) != personal.end();
    args.push_back(gcp ? "--personal" : "--collection");
    args.push_back(name + "=" + id + ":" + root(name).string());
  }
  if (!options_.identity.empty()) {
    args.push_back("--identity");
    args.push_back(options_.identity);
  }
  for (const auto& l : options_.linked_identities) {
    args.push_back("--linked-identity");
    args.push_back(l);
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());

  std::filesystem::remove(state_dir() / "env");
  std::string log = (dir_ / "emulator.log").string();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(state_dir() / "env")) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("globus-emulator exited at start:\n" + ReadFile(log));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("globus-emulator did not start in 20 s:\n" + ReadFile(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  env_.clear();
  std::istringstream in(ReadFile(state_dir() / "env"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("export ", 0) != 0) continue;
    auto eq = line.find('=');
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    env_[line.substr(7, eq - 7)] = value;
  }
  base_url_ = env_.at("GLOBUS_EMULATOR_URL");
  port_ = static_cast<uint16_t>(std::stoi(base_url_.substr(base_url_.rfind(':') + 1)));
  client_id_ = env_.at("GLOBUSFS_CLIENT_ID");
  http_.reset();
}

void EmulatorProcess::Stop() {
  if (pid_ <= 0) return;
  http_.reset();
  ::kill(pid_, SIGTERM);
  if (!WaitExit(pid_, std::chrono::seconds(10))) {
    ::kill(pid_, SIGKILL);
    WaitExit(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

void EmulatorProcess::Kill() {
  if (pid_ <= 0) return;
  http_.reset();
  ::kill(pid_, SIGKILL);
  WaitExit(pid_, std::chrono::seconds(5));
  pid_ = -1;
}

void EmulatorProcess::Restart() {
  Stop();
  Spawn();
}

std::string EmulatorProcess::collection_id(const std::string& name) const {
  for (const auto& [n, id] : collections_) {
    if (n == name) return id;
  }
  throw std::runtime_error("no collection named " + name);
}

std::filesystem::path EmulatorProcess::root(const std::string& name) const {
  return dir_ / "data" / name;
}

http::HttpClient& EmulatorProcess::http() {
  if (!http_) {
    http::HttpConfig cfg;
    cfg.ca_file = ca_file().string();
    cfg.timeout_s = 30;
    http_ = std::make_unique<http::HttpClient>(cfg, std::make_shared<http::RealClock>());
  }
  return *http_;
}

json EmulatorProcess::Control(const std::string& method, const std::string& path, const json& body) {
  http::HttpRequest req;
  req.method = method;
  req.url = base_url_ + path;
  req.retry = false;
  if (!body.is_null()) {
    req.body = body.dump();
    req.headers.emplace_back("Content-Type", "application/json");
  }
  auto r = http().SendJson(req);
  if (!r) throw std::runtime_error("emulator control " + path + " failed: " + r.error().Summary());
  return *r;
}

json EmulatorProcess::Stats() { return Control("GET", "/_emulator/stats"); }

uint64_t EmulatorProcess::RequestCount(const std::string& route) {
  json s = Stats();
  return s["requests"].value(route, uint64_t{0});
}

void EmulatorProcess::ResetStats() { Control("POST", "/_emulator/reset", json::object()); }
void EmulatorProcess::AddFault(const json& fault) { Control("POST", "/_emulator/faults", fault); }
void EmulatorProcess::ClearFaults() { Control("DELETE", "/_emulator/faults"); }

void EmulatorProcess::ExpireTokens(const std::string& resource_server) {
  json body = json::object();
  if (!resource_server.empty()) body["resource_server"] = resource_server;
  Control("POST", "/_emulator/expire-tokens", body);
}

void EmulatorProcess::AgeSession(int64_t seconds) {
  json body = json::object();
  if (seconds > 0) body["seconds"] = seconds;
  Control("POST", "/_emulator/age-session", body);
}

std::string FullScopes(EmulatorProcess& emu, const std::vector<std::string>& names) {
  std::string transfer = "urn:globus:auth:scope:transfer.api.globus.org:all";
  std::string deps, https;
  for (const auto& n : names) {
    std::string id = emu.collection_id(n);
    deps += (deps.empty() ? "" : " ") + std::string("*https://auth.globus.org/scopes/") + id + "/data_access";
    https += " https://auth.globus.org/scopes/" + id + "/https https://auth.globus.org/scopes/" + id +
             "/data_access";
  }
  if (!deps.empty()) transfer += "[" + deps + "]";
  return "openid profile email urn:globus:auth:scope:auth.globus.org:view_identity_set " + transfer + https;
}

LoginResult Login(EmulatorProcess& emu, const std::string& scopes,
                  const std::vector<std::pair<std::string, std::string>>& extra) {
  unsigned char raw[32];
  RAND_bytes(raw, sizeof(raw));
  std::string verifier = Base64Url(raw, sizeof(raw));
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(verifier.data(), verifier.size(), digest, &len, EVP_sha256(), nullptr);
  std::string challenge = Base64Url(digest, len);
  std::string redirect = "http://localhost:1/";
  http::HeaderList q = {{"client_id", emu.client_id()},   {"redirect_uri", redirect},
                        {"scope", scopes},                {"state", "st"},
                        {"response_type", "code"},        {"code_challenge", challenge},
                        {"code_challenge_method", "S256"}, {"access_type", "offline"},
                        {"prompt", "login"}};
  q.insert(q.end(), extra.begin(), extra.end());
  http::HttpRequest req;
  req.url = emu.base_url() + "/v2/oauth2/authorize?" + http::FormEncode(q);
  req.retry = false;
  auto r = emu.http().Send(req);
  if (!r || r->status != 302) throw std::runtime_error("authorize did not redirect");
  std::string loc = r->Header("location").value_or("");
  auto pos = loc.find("code=");
  if (pos == std::string::npos) throw std::runtime_error("authorize failed: " + loc);
  std::string code = loc.substr(pos + 5, loc.find('&', pos) - pos - 5);
  auto tok = emu.http().PostForm(emu.base_url() + "/v2/oauth2/token",
                                 {{"grant_type", "authorization_code"},
                                  {"code", code},
                                  {"code_verifier", verifier},
                                  {"redirect_uri", redirect},
                                  {"client_id", emu.client_id()}});
  if (!tok) throw std::runtime_error("token exchange failed: " + tok.error().Summary());
  LoginResult out;
  out.response = *tok;
  auto add = [&](const json& t) {
    out.access_tokens[t["resource_server"]] = t["access_token"];
    if (t.contains("refresh_token")) out.refresh_tokens[t["resource_server"]] = t["refresh_token"];
  };
  add(*tok);
  for (const auto& t : (*tok)["other_tokens"]) add(t);
  return out;
}

}  // namespace globusfs::testing
