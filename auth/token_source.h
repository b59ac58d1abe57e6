// TokenSource: valid access tokens for each resource server, from the
// shared TokenStore, refreshed when they expire (or after a 401), for the
// daemon and for globusfs-auth alike.
//
// Tokens written by globusfs-auth while the daemon runs (login, session
// update, consent) are picked up on the next request: the store file's
// stamp is checked on every Get (one stat), and the cache reloaded when it
// changed. A refresh runs under the store's exclusive lock and re-reads the
// store first, so when the tool and the daemon (or two daemon threads)
// race, only one refresh is made and nobody loses a rotated refresh token.
//
// Errors: kLoginRequired-style guidance travels as http::Error with code
// "MissingLogin" (no token for that resource server) or "invalid_grant"
// (the refresh token was refused): both mean "run globusfs-auth login".
//
// Thread-safety: all methods are thread-safe. mu_ guards the in-memory
// copy only; it is never held across the store lock or network I/O.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "auth/auth_client.h"
#include "auth/http/clock.h"
#include "auth/http/http_client.h"
#include "auth/token_store.h"

namespace globusfs::auth {

class TokenSource {
 public:
  TokenSource(TokenStore& store, const AuthClient& auth, std::shared_ptr<http::Clock> clock);

  // A usable access token for `resource_server`, refreshed first if it
  // expires within a minute.
  http::Result<std::string> Get(const std::string& resource_server);
  // After `rejected` was refused with a 401: refresh unless the store
  // already holds a newer token. True when a different token is available.
  bool RefreshAfterReject(const std::string& resource_server, const std::string& rejected);
  // Whether the store has any token for `resource_server` (no network).
  bool Has(const std::string& resource_server);

  // An Authorizer for HttpClient bound to one resource server.
  std::unique_ptr<http::Authorizer> AuthorizerFor(std::string resource_server);

 private:
  http::Result<TokenRecord> Current(const std::string& rs);
  http::Result<TokenRecord> RefreshLocked(const std::string& rs, const std::string& rejected);
  void Reload();

  TokenStore& store_;
  const AuthClient& auth_;
  std::shared_ptr<http::Clock> clock_;

  std::mutex mu_;  // guards stamp_, cache_
  int64_t stamp_ = -1;
  std::map<std::string, TokenRecord> cache_;
};

// The error for "no token for this resource server": names the command.
http::Error MissingLoginError(const std::string& resource_server);

}  // namespace globusfs::auth
