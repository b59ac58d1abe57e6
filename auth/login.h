// One interactive login (login, session update, session consent all use
// it): build the authorize URL with PKCE and state, get the code back (a
// local redirect listener and the browser, or copy-and-paste), exchange it,
// verify the id_token, make sure it is the same account as the stored one,
// and merge the new tokens into the TokenStore (one record per resource
// server; records for other resource servers are kept).
//
// Not thread-safe (interactive); the store itself is.
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>

#include "auth/auth_client.h"
#include "auth/http/clock.h"
#include "auth/token_store.h"

namespace globusfs::auth {

struct LoginIo {
  std::istream& in;
  std::ostream& out;
  bool no_local_server = false;
  std::chrono::seconds timeout{300};  // local server flow only
};

struct LoginOutcome {
  std::string sub;
  std::string username;
  std::vector<std::string> resource_servers;  // of the tokens stored
};

// `params.redirect_uri`, `state` and `code_challenge` are filled in here.
http::Result<LoginOutcome> RunLogin(const AuthClient& auth, TokenStore& store, http::Clock& clock,
                                    AuthorizeParams params, LoginIo& io);

}  // namespace globusfs::auth
