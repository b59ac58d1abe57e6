// globus-emulator's application core: routing, statistics, injected faults
// and latency, the test controls under /_emulator/, and what the services
// share (collections, bearer-token checks, Globus error documents).
//
// Services (Auth, Transfer, collection HTTPS) are separate classes that get
// an Emulator& and answer one request each; Emulator owns them all.
//
// Thread-safety: Handle() runs concurrently on connection threads. Stats and
// faults have their own mutex (mu_); State has its own. Lock order: never
// hold mu_ while calling into State or a service.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "config.h"
#include "http_server.h"
#include "state.h"

namespace emu {

class AuthService;
class TransferService;
class HttpsService;
class IdTokenSigner;

// One injected fault (POST /_emulator/faults).
struct FaultRule {
  std::string route = "*";  // a route name or a glob such as "transfer.*"
  int status = 0;           // 0 = answer normally (after any delay)
  int retry_after = -1;     // Retry-After header on the injected status
  std::string code;         // Globus code for the injected error document
  int64_t delay_ms = 0;     // sleep before answering
  bool drop = false;        // close the connection without a byte
  bool truncate = false;    // answer, but cut the body in half and close
  int64_t body_delay_ms = 0;  // slow body: sleep between 16 KiB chunks
  int64_t count = -1;       // how many requests it hits (-1: no limit)
  double fraction = 0;      // instead of count: the share of requests it hits
  // A garbled answer: "" (no), "any" (the variants in turn) or one variant's
  // name (kMalformedJsonVariants, kMalformedFileVariants); see Malform().
  std::string malformed;
  // Task routes only: instead of failing the task, hold it INACTIVE with
  // this nice_status ("" = kDefaultInactiveStatus) for inactive_ms, then let
  // it run on.
  int64_t inactive_ms = 0;
  std::string nice_status;
  uint64_t hits = 0;        // requests hit so far (in a taken copy: this hit's index)
};

// The ways "malformed" garbles a JSON answer and a file body (https.get).
inline constexpr const char* kMalformedJsonVariants[] = {"cut", "wrong_types", "unterminated",
                                                         "retyped", "not_object"};
inline constexpr const char* kMalformedFileVariants[] = {"bad_range", "short_body"};

class Emulator {
 public:
  explicit Emulator(Config cfg);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Loads state, makes or loads the CA, listens, starts the task worker and
  // writes DIR/env. Throws std::runtime_error with a clear message.
  void Start();
  void Stop();
  uint16_t port() const { return port_; }

  // --- shared with the services ---
  const Config& config() const { return cfg_; }
  State& state() { return *state_; }
  IdTokenSigner& signer() { return *signer_; }
  // "https://127.0.0.1:PORT" (no trailing slash).
  std::string BaseUrl() const;
  // The OpenID issuer: --issuer, else BaseUrl().
  std::string Issuer() const;
  std::string HttpsServerUrl(const Collection& c) const;  // BaseUrl() + "/c/<id>"
  // A copy, so the high-assurance switch can change underneath.
  std::optional<Collection> FindCollection(std::string_view id) const;
  std::vector<Collection> Collections() const;
  const Identity* FindIdentity(std::string_view id_or_username) const;
  std::vector<Identity> IdentitySet() const;  // primary first

  // The access token in "Authorization: Bearer ..." if it is known, not
  // revoked and not expired.
  std::optional<AccessToken> BearerToken(const Request& req);

  // A fault injected on a task route ("task.transfer", "task.delete"): the
  // worker fails that task with the fault's code (default PERMISSION_DENIED),
  // or, with inactive_ms, holds it INACTIVE that long.
  std::optional<FaultRule> TakeTaskFault(const std::string& route) { return TakeFault(route); }

  void CountHttpsBytesReceived(uint64_t n);
  void CountTask(const std::string& type);  // "transfer" or "delete"

  // The route name used by /_emulator/stats and faults ("transfer.ls", ...).
  static std::string RouteName(const Request& req);

  Response Handle(Request& req);
  void OnSent(const Request& req, uint64_t body_bytes);

 private:
  Response HandleControl(Request& req);
  std::optional<FaultRule> TakeFault(const std::string& route);
  // Sleeps up to `ms`, waking early when the emulator stops.
  void Delay(int64_t ms);
  Response InjectedError(const Request& req, const std::string& route, const FaultRule& f);
  // Applies a "malformed" fault to the answer the service gave.
  static void Malform(const std::string& route, const FaultRule& f, Response* r);
  void WriteEnvFile();

  Config cfg_;
  std::unique_ptr<State> state_;
  std::unique_ptr<IdTokenSigner> signer_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<TransferService> transfer_;
  std::unique_ptr<HttpsService> https_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;  // guards everything below
  std::vector<Collection> collections_;
  std::map<std::string, uint64_t> requests_;
  uint64_t https_bytes_sent_ = 0;
  uint64_t https_bytes_received_ = 0;
  uint64_t tasks_transfer_ = 0;
  uint64_t tasks_delete_ = 0;
  std::vector<FaultRule> faults_;
  std::mt19937_64 rng_{std::random_device{}()};
};

// A Globus "type zero" error document (globus-api.md §3.1), with request_id
// and resource filled in; extra keys (authorization_parameters, ...) merged.
Response GlobusError(const Request& req, int status, const std::string& code,
                     const std::string& message, const nlohmann::json& extra = nullptr);
// Auth's own error format (§4.1).
Response AuthError(int status, const std::string& code, const std::string& detail);
// OAuth2 token-endpoint errors: {"error": ..., "error_description": ...}.
Response OAuthError(int status, const std::string& error, const std::string& description);
// JSON body helper.
Response JsonResponse(int status, const nlohmann::json& body);

bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace emu
