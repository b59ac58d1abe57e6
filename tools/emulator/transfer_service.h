// The emulator's Transfer API (/v0.10/...): collection documents, search,
// ls/stat/mkdir/rename on each collection's folder, submission ids, transfer
// and delete tasks (run by a background worker), task documents, event
// lists, task lists and cancel. Faithful to globus-api.md §2 and §3.
//
// Thread-safety: Handle() is called concurrently; the worker runs on its own
// thread. Task state lives in State (its own lock); file work is never done
// while State's lock is held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "config.h"
#include "http_server.h"
#include "state.h"

namespace emu {

class Emulator;

class TransferService {
 public:
  explicit TransferService(Emulator& emu);
  ~TransferService();

  void Start();  // starts the task worker (resumes ACTIVE tasks from State)
  void Stop();   // stops and joins the worker; idempotent

  // `route` is Emulator::RouteName(req), e.g. "transfer.ls".
  Response Handle(Request& req, const std::string& route);

 private:
  std::string Server() const;  // "127.0.0.1:PORT", the "Server:" line of error texts
  nlohmann::json EndpointDoc(const Collection& c) const;
  // 403 ConsentRequired (§3.3) when a non-HA mapped collection lacks the
  // token's data_access dependent scope.
  std::optional<Response> CheckConsent(const Request& req, const AccessToken& token,
                                       const Collection& c) const;
  // 502 ExternalError.<op>Failed.LoginFailed (§3.4) when a high-assurance
  // collection's authentication timeout has lapsed for the primary identity.
  std::optional<Response> CheckSession(const Request& req, const Collection& c,
                                       const std::string& op) const;
  Response EndpointSearch(const Request& req) const;
  Response FileOperation(Request& req, const AccessToken& token, const std::string& route);
  Response TaskRoute(Request& req, const AccessToken& token, const std::string& route);

  Emulator& emu_;
  struct Worker;  // owns the TaskRunner (transfer_tasks.h)
  std::unique_ptr<Worker> worker_;
};

}  // namespace emu
