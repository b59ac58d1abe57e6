#include "auth/token_source.h"

#include <chrono>

namespace globusfs::auth {

using http::ErrorKind;
using http::MakeError;

namespace {

constexpr int64_t kRefreshMarginS = 60;

std::string ServiceName(const std::string& rs) {
  if (rs == "transfer.api.globus.org") return "Globus Transfer";
  if (rs == "auth.globus.org") return "Globus Auth";
  return "collection " + rs;
}

// invalid_grant (or any 4xx from the token endpoint): only a new login helps.
http::Error LoginAgain(const std::string& rs, http::Error e) {
  if (e.kind == ErrorKind::kHttp && e.http_status >= 400 && e.http_status < 500) {
    http::Error out = MakeError(ErrorKind::kHttp,
                                "your login for " + ServiceName(rs) +
                                    " has expired or was revoked; run 'globusfs-auth login'");
    out.http_status = e.http_status;
    out.code = e.code.empty() ? "invalid_grant" : e.code;
    return out;
  }
  return e;
}

}  // namespace

http::Error MissingLoginError(const std::string& resource_server) {
  http::Error e = MakeError(ErrorKind::kConfig, "Missing login for " + ServiceName(resource_server) + ".");
  e.code = "MissingLogin";
  return e;
}

TokenSource::TokenSource(TokenStore& store, const AuthClient& auth, std::shared_ptr<http::Clock> clock)
    : store_(store), auth_(auth), clock_(std::move(clock)) {}

void TokenSource::Reload() {
  int64_t stamp = store_.Stamp();
  {
    std::lock_guard lock(mu_);
    if (stamp == stamp_) return;
  }
  auto login = store_.Load();
  std::lock_guard lock(mu_);
  stamp_ = stamp;
  cache_ = login ? login->tokens : std::map<std::string, TokenRecord>{};
}

http::Result<TokenRecord> TokenSource::Current(const std::string& rs) {
  Reload();
  std::lock_guard lock(mu_);
  auto it = cache_.find(rs);
  if (it == cache_.end() || it->second.access_token.empty()) return MissingLoginError(rs);
  return it->second;
}

bool TokenSource::Has(const std::string& rs) { return Current(rs).ok(); }

http::Result<std::string> TokenSource::Get(const std::string& rs) {
  auto rec = Current(rs);
  if (!rec) return rec.error();
  int64_t now = std::chrono::system_clock::to_time_t(clock_->SystemNow());
  if (rec->expires_at - kRefreshMarginS > now) return rec->access_token;
  auto fresh = RefreshLocked(rs, rec->access_token);
  if (!fresh) return fresh.error();
  return fresh->access_token;
}

bool TokenSource::RefreshAfterReject(const std::string& rs, const std::string& rejected) {
  auto fresh = RefreshLocked(rs, rejected);
  return fresh.ok() && fresh->access_token != rejected;
}

http::Result<TokenRecord> TokenSource::RefreshLocked(const std::string& rs, const std::string& rejected) {
  int64_t now = std::chrono::system_clock::to_time_t(clock_->SystemNow());
  std::optional<http::Result<TokenRecord>> result;
  auto wrote = store_.Update([&](StoredLogin& login) {
    auto it = login.tokens.find(rs);
    if (it == login.tokens.end()) {
      result = MissingLoginError(rs);
      return false;
    }
    // Someone (another thread, the daemon, the tool) already refreshed.
    if (it->second.access_token != rejected && it->second.expires_at - kRefreshMarginS > now) {
      result = it->second;
      return false;
    }
    if (it->second.refresh_token.empty()) {
      http::Error e = MakeError(ErrorKind::kHttp, "the access token for " + ServiceName(rs) +
                                                      " has expired and there is no refresh token; "
                                                      "run 'globusfs-auth login'");
      e.code = "invalid_grant";
      e.http_status = 401;
      result = e;
      return false;
    }
    auto fresh = auth_.Refresh(it->second, now);
    if (!fresh) {
      result = LoginAgain(rs, fresh.error());
      return false;
    }
    it->second = *fresh;
    result = *fresh;
    return true;
  });
  if (!wrote) return wrote.error();
  {
    std::lock_guard lock(mu_);
    stamp_ = -1;  // re-read on next use
  }
  return std::move(*result);
}

namespace {

class ResourceAuthorizer : public http::Authorizer {
 public:
  ResourceAuthorizer(TokenSource& source, std::string rs) : source_(source), rs_(std::move(rs)) {}
  http::Result<std::string> AuthorizationHeader() override {
    auto t = source_.Get(rs_);
    if (!t) return t.error();
    std::lock_guard lock(mu_);
    last_ = *t;
    return "Bearer " + *t;
  }
  bool HandleUnauthorized() override {
    std::string rejected;
    {
      std::lock_guard lock(mu_);
      rejected = last_;
    }
    return source_.RefreshAfterReject(rs_, rejected);
  }

 private:
  TokenSource& source_;
  std::string rs_;
  std::mutex mu_;
  std::string last_;
};

}  // namespace

std::unique_ptr<http::Authorizer> TokenSource::AuthorizerFor(std::string resource_server) {
  return std::make_unique<ResourceAuthorizer>(*this, std::move(resource_server));
}

}  // namespace globusfs::auth
