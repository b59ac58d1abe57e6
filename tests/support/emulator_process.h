// Test support: runs build/bin/globus-emulator as a child process in a
// fresh temporary folder (state, CA, one data folder per collection), and
// talks to its /_emulator/ controls. The destructor always stops the child
// (SIGTERM, then SIGKILL after a timeout) and removes the folder.
//
// Not thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/http/http_client.h"

namespace globusfs::testing {

struct EmulatorOptions {
  std::vector<std::string> collections = {"alpha", "beta"};  // names; ids are random UUIDs
  // Globus Connect Personal collections (--personal): Transfer only, no HTTPS.
  std::vector<std::string> personal_collections;
  std::string identity;                                      // default: the emulator's
  std::vector<std::string> linked_identities;
  std::vector<std::string> extra_args;  // e.g. {"--task-delay-ms", "50"}
  int64_t task_delay_ms = 50;
};

class EmulatorProcess {
 public:
  // Starts the emulator and waits (up to 20 s) for DIR/env. Throws
  // std::runtime_error with the child's output when it does not come up.
  static std::unique_ptr<EmulatorProcess> Start(EmulatorOptions options = {});
  ~EmulatorProcess();
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  void Stop();     // SIGTERM and wait; idempotent
  void Kill();     // SIGKILL (a crash)
  void Restart();  // Stop (if running) and start again on the same state dir and port
  // Options used by the next Restart() (e.g. another --identity).
  EmulatorOptions& options() { return options_; }

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path state_dir() const { return dir_ / "state"; }
  std::filesystem::path ca_file() const { return state_dir() / "ca.pem"; }
  const std::string& base_url() const { return base_url_; }  // "https://127.0.0.1:PORT"
  const std::string& client_id() const { return client_id_; }
  std::string collection_id(const std::string& name) const;
  std::filesystem::path root(const std::string& name) const;  // the collection's data folder
  // The variables from DIR/env, for child processes (globusfs-auth, globusfs).
  const std::map<std::string, std::string>& env() const { return env_; }
  pid_t pid() const { return pid_; }

  // An HTTP client that trusts the emulator's CA (the SDK retry policy applies
  // unless a request sets retry = false).
  http::HttpClient& http();

  // /_emulator/ controls.
  nlohmann::json Stats();
  uint64_t RequestCount(const std::string& route);  // 0 when absent
  void ResetStats();
  void AddFault(const nlohmann::json& fault);
  void ClearFaults();
  void ExpireTokens(const std::string& resource_server = "");
  void AgeSession(int64_t seconds = 0);

 private:
  EmulatorProcess() = default;
  void Spawn();
  nlohmann::json Control(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr);

  EmulatorOptions options_;
  std::filesystem::path dir_;
  std::vector<std::pair<std::string, std::string>> collections_;  // name, id (personal ones too)
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string base_url_;
  std::string client_id_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<http::HttpClient> http_;
};

// Tokens from one login, by resource server.
struct LoginResult {
  nlohmann::json response;  // the whole token response
  std::map<std::string, std::string> access_tokens;   // resource server -> token
  std::map<std::string, std::string> refresh_tokens;
};

// Performs the PKCE authorization-code flow against the emulator without a
// browser (authorize answers with a redirect at once). `extra` adds query
// parameters to authorize (session_required_identities, prompt, ...).
LoginResult Login(EmulatorProcess& emu, const std::string& scopes,
                  const std::vector<std::pair<std::string, std::string>>& extra = {});

// The scopes the daemon needs for the named collections.
std::string FullScopes(EmulatorProcess& emu, const std::vector<std::string>& collection_names);

// A random version-4 UUID.
std::string RandomUuid();

}  // namespace globusfs::testing
