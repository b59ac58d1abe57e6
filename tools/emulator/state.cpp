#include "state.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace emu {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Client, id, secret, name, template_id, native)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AuthCode, code, client_id, redirect_uri,
                                                code_challenge, scope, offline, expires_at, used)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AccessToken, token, client_id, sub,
                                                resource_server, scopes, dependent_scopes,
                                                issued_at, expires_at, refresh_token)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RefreshToken, token, client_id, sub,
                                                resource_server, scopes, dependent_scopes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(AuthSession, id, auth_times, amr, policies)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Task, doc, request, events, run_after_ms,
                                                deadline, owner_sub)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StateData, clients, codes, access_tokens,
                                                refresh_tokens, session, tasks, task_order,
                                                submissions, consents)

State::State(std::filesystem::path file) : file_(std::move(file)) {
  saver_ = std::thread([this] { SaverLoop(); });
}

State::~State() { StopSaver(); }

void State::Load() {
  std::ifstream in(file_);
  if (!in) return;
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    auto j = nlohmann::json::parse(ss.str());
    std::lock_guard lock(mu_);
    data_ = j.get<StateData>();
  } catch (const std::exception& e) {
    throw std::runtime_error("corrupt state file " + file_.string() + ": " + e.what());
  }
}

void State::Save() {
  std::string text;
  {
    std::lock_guard lock(mu_);
    text = nlohmann::json(data_).dump();
    dirty_ = false;
  }
  WriteSnapshot(text);
}

void State::MarkDirty() {
  std::lock_guard lock(mu_);
  dirty_ = true;
}

void State::StopSaver() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (saver_.joinable()) saver_.join();
  Save();
}

void State::SaverLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (!dirty_ || stop_) continue;
    std::string text = nlohmann::json(data_).dump();
    dirty_ = false;
    lock.unlock();
    WriteSnapshot(text);
    lock.lock();
  }
}

void State::WriteSnapshot(const std::string& text) {
  std::lock_guard lock(write_mu_);
  std::string tmp = file_.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;  // the state dir vanished (test teardown): nothing to keep
  size_t off = 0;
  while (off < text.size()) {
    ssize_t w = ::write(fd, text.data() + off, text.size() - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  ::fsync(fd);
  ::close(fd);
  if (off == text.size()) ::rename(tmp.c_str(), file_.c_str());
}

}  // namespace emu
