// The emulator's persistent state: clients, authorization codes, tokens,
// the Auth session, tasks and submission ids. It lives in DIR/state.json
// (0600, written atomically) so a restarted emulator keeps every token and
// task, as the real services would.
//
// Thread-safety: everything goes through With(), which holds one mutex for
// the duration of the callback. Callbacks must be short: no file or network
// I/O inside. Save() writes a snapshot (call it after changes that must
// survive a crash: tokens, submissions); MarkDirty() lets the background
// saver write within ~100 ms (task progress).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace emu {

struct Client {
  std::string id;
  std::string secret;       // empty for the native app
  std::string name;
  std::string template_id;  // set for templated confidential clients
  bool native = false;
};

struct AuthCode {
  std::string code;
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;
  std::string scope;          // the requested scope string
  bool offline = false;       // access_type=offline
  int64_t expires_at = 0;
  bool used = false;
};

// One token per resource server, as Globus Auth issues them.
struct AccessToken {
  std::string token;
  std::string client_id;
  std::string sub;              // the primary identity
  std::string resource_server;  // "auth.globus.org", "transfer.api.globus.org", a collection id
  std::vector<std::string> scopes;           // top-level scope strings
  std::vector<std::string> dependent_scopes; // e.g. data_access scopes under Transfer
  int64_t issued_at = 0;
  int64_t expires_at = 0;
  std::string refresh_token;  // the refresh token it came with (may be empty)
};

struct RefreshToken {
  std::string token;
  std::string client_id;
  std::string sub;
  std::string resource_server;
  std::vector<std::string> scopes;
  std::vector<std::string> dependent_scopes;
};

// The browser session at Auth: who authenticated, and when.
struct AuthSession {
  std::string id;
  std::map<std::string, int64_t> auth_times;  // identity id -> epoch seconds
  // identity id -> how its last authentication was made ({"mfa"} when
  // session_required_mfa asked for it; empty otherwise).
  std::map<std::string, std::vector<std::string>> amr;
  std::vector<std::string> policies;          // policies satisfied by the last login
};

struct Task {
  nlohmann::json doc;      // the public task document (GET /v0.10/task/{id})
  nlohmann::json request;  // the submitted document (transfer or delete), DATA included
  std::vector<nlohmann::json> events;  // oldest first; event_list returns newest first
  int64_t run_after_ms = 0;            // not started before this time
  int64_t deadline = 0;                // epoch seconds
  std::string owner_sub;
};

struct StateData {
  std::map<std::string, Client> clients;
  std::map<std::string, AuthCode> codes;
  std::map<std::string, AccessToken> access_tokens;
  std::map<std::string, RefreshToken> refresh_tokens;
  AuthSession session;
  std::map<std::string, Task> tasks;             // task id -> task
  std::vector<std::string> task_order;           // submission order
  std::map<std::string, std::string> submissions;  // submission id -> task id
  // Dependent scopes each client has been granted (Auth remembers consents
  // across logins; every new Transfer token carries all of them).
  std::map<std::string, std::vector<std::string>> consents;
};

class State {
 public:
  explicit State(std::filesystem::path file);
  ~State();
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // Loads the file if it exists. Throws std::runtime_error if it is corrupt.
  void Load();

  template <class F>
  auto With(F&& f) {
    std::lock_guard lock(mu_);
    return f(data_);
  }

  void Save();       // synchronous snapshot
  void MarkDirty();  // saved soon by the background saver
  void StopSaver();  // final save; idempotent

 private:
  void SaverLoop();
  void WriteSnapshot(const std::string& text);

  std::filesystem::path file_;
  std::mutex mu_;  // guards data_, dirty_, stop_
  StateData data_;
  bool dirty_ = false;
  bool stop_ = false;
  std::condition_variable cv_;
  std::mutex write_mu_;  // serialises file writes (taken without mu_ held)
  std::thread saver_;
};

}  // namespace emu
