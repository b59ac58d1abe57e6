#include "auth/http/curl.h"

#include <cstddef>

namespace globusfs::http {

CURLcode EnsureCurlGlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

CurlEasy CurlEasy::Create() {
  if (EnsureCurlGlobalInit() != CURLE_OK) return CurlEasy();
  return CurlEasy(curl_easy_init());
}

bool CurlSlist::Append(const char* line) {
  curl_slist* appended = curl_slist_append(list_.get(), line);
  if (appended == nullptr) return false;
  // curl_slist_append returns the head, which only changes when the list
  // was empty.
  if (list_ == nullptr) list_.reset(appended);
  return true;
}

CurlShare::State::~State() {
  if (share != nullptr) curl_share_cleanup(share);
}

CurlShare CurlShare::Create() {
  if (EnsureCurlGlobalInit() != CURLE_OK) return CurlShare();
  auto state = std::make_unique<State>();
  state->share = curl_share_init();
  if (state->share == nullptr) return CurlShare();
  CURLSH* sh = state->share;
  if (curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, &CurlShare::Lock) != CURLSHE_OK ||
      curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, &CurlShare::Unlock) != CURLSHE_OK ||
      curl_share_setopt(sh, CURLSHOPT_USERDATA, state.get()) != CURLSHE_OK ||
      curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
      curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
    return CurlShare();
  }
  CurlShare out;
  out.state_ = std::move(state);
  return out;
}

void CurlShare::Lock(CURL* /*handle*/, curl_lock_data data, curl_lock_access /*access*/,
                     void* userptr) {
  auto* state = static_cast<State*>(userptr);
  state->locks[static_cast<size_t>(data) % state->locks.size()].lock();
}

void CurlShare::Unlock(CURL* /*handle*/, curl_lock_data data, void* userptr) {
  auto* state = static_cast<State*>(userptr);
  state->locks[static_cast<size_t>(data) % state->locks.size()].unlock();
}

}  // namespace globusfs::http
