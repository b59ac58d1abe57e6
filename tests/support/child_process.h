// Test support: runs a program with a given environment, feeds its
// standard input, captures standard output and error, and bounds every
// wait. The destructor kills and reaps a child still running.
// Not thread-safe: one test thread drives it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace globusfs::testing {

class ChildProcess {
 public:
  // `env` replaces the environment entirely (PATH, HOME, LANG, TMPDIR and the
  // sanitizers' *SAN_OPTIONS are added from the test's own environment
  // unless given).
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void WriteStdin(const std::string& text);
  void CloseStdin();
  // Reads output until `needle` appears in stdout+stderr (or timeout).
  bool WaitForOutput(const std::string& needle, std::chrono::milliseconds timeout);
  // Waits for exit (killing the child at the timeout); returns the exit code
  // (128+signal when killed).
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // True once the child has exited (reaps it; output read so far is kept).
  bool Exited();
  pid_t pid() const { return pid_; }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  std::string all() const { return out_ + err_; }

 private:
  void Pump(int timeout_ms);

  pid_t pid_ = -1;
  int in_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
  std::optional<int> status_;
};

struct RunResult {
  int exit_code;
  std::string out;
  std::string err;
  std::string all() const { return out + err; }
};

RunResult Run(std::vector<std::string> argv, std::map<std::string, std::string> env,
              const std::string& stdin_text = "",
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace globusfs::testing
