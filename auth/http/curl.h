// Move-only RAII owners of libcurl handles: CurlEasy (CURL*), CurlSlist
// (curl_slist*) and CurlShare (CURLSH* sharing DNS cache and TLS sessions
// between easy handles, with its own lock callbacks).
//
// Invariants: each object owns at most one handle and frees it exactly once;
// a moved-from object holds nothing. curl_global_init runs exactly once per
// process (EnsureCurlGlobalInit, std::call_once) before any handle exists;
// curl_global_cleanup is never called (other libraries may still use curl).
//
// Thread-safety: a CurlEasy or CurlSlist must be used by one thread at a
// time. A CurlShare may be attached to easy handles used concurrently on
// many threads: its lock callbacks serialise access to each shared data set.
// A CurlShare must outlive every easy handle attached to it.
#pragma once

#include <curl/curl.h>

#include <array>
#include <memory>
#include <mutex>

namespace globusfs::http {

// Initialises libcurl once; later calls return the first call's result.
CURLcode EnsureCurlGlobalInit();

class CurlEasy {
 public:
  CurlEasy() = default;  // empty
  // Creates a handle; empty (operator bool false) if libcurl fails.
  static CurlEasy Create();

  CurlEasy(CurlEasy&&) noexcept = default;
  CurlEasy& operator=(CurlEasy&&) noexcept = default;
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;

  CURL* get() const { return handle_.get(); }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  struct Deleter {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  explicit CurlEasy(CURL* handle) : handle_(handle) {}
  std::unique_ptr<CURL, Deleter> handle_;
};

class CurlSlist {
 public:
  CurlSlist() = default;
  CurlSlist(CurlSlist&&) noexcept = default;
  CurlSlist& operator=(CurlSlist&&) noexcept = default;
  CurlSlist(const CurlSlist&) = delete;
  CurlSlist& operator=(const CurlSlist&) = delete;

  // Appends a copy of `line`; false if libcurl is out of memory (the list
  // is then unchanged).
  bool Append(const char* line);
  curl_slist* get() const { return list_.get(); }

 private:
  struct Deleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
  };
  std::unique_ptr<curl_slist, Deleter> list_;
};

class CurlShare {
 public:
  CurlShare() = default;  // empty
  // Creates a share of DNS cache and TLS session ids; empty on failure.
  static CurlShare Create();

  CurlShare(CurlShare&&) noexcept = default;
  CurlShare& operator=(CurlShare&&) noexcept = default;
  CurlShare(const CurlShare&) = delete;
  CurlShare& operator=(const CurlShare&) = delete;

  CURLSH* get() const { return state_ ? state_->share : nullptr; }
  explicit operator bool() const { return get() != nullptr; }

 private:
  // Heap-allocated so the lock callbacks' userdata stays valid across moves.
  struct State {
    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State();
    CURLSH* share = nullptr;
    std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
  };
  static void Lock(CURL* handle, curl_lock_data data, curl_lock_access access, void* userptr);
  static void Unlock(CURL* handle, curl_lock_data data, void* userptr);

  std::unique_ptr<State> state_;
};

}  // namespace globusfs::http
