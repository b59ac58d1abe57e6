// globusfs-auth's commands (login, logout, whoami in auth_commands.cpp;
// session show / update / consent in session_commands.cpp), written against
// an AuthToolContext so tests can run them in process. Exit codes follow the
// Globus CLI: 0 ok, 1 error, 2 usage, 3 wrong kind of object, 4
// authentication/authorisation requirements not met.
//
// Not thread-safe: one command per process.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>

#include "auth/auth_client.h"
#include "auth/http/clock.h"
#include "auth/http/http_client.h"
#include "auth/token_source.h"
#include "auth/token_store.h"
#include "tools/cli_parser.h"

namespace globusfs::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitWrongType = 3;
inline constexpr int kExitAuthRequired = 4;

// Everything a command needs, built from the environment once.
struct AuthToolContext {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  std::shared_ptr<http::Clock> clock;
  std::unique_ptr<http::HttpClient> http;
  http::ServiceUrls urls;
  std::string client_id;  // empty: not configured
  std::unique_ptr<auth::TokenStore> store;
  std::unique_ptr<auth::AuthClient> auth;
  std::unique_ptr<auth::TokenSource> tokens;
  std::chrono::seconds login_timeout{300};
};

// Builds the context; on a configuration error prints it to `err` and
// returns nullptr (the caller exits 1).
std::unique_ptr<AuthToolContext> MakeContext(std::istream& in, std::ostream& out, std::ostream& err);

int Login(AuthToolContext& ctx, const ParsedArgs& args);
int Logout(AuthToolContext& ctx, const ParsedArgs& args);
int WhoAmI(AuthToolContext& ctx, const ParsedArgs& args);
int SessionShow(AuthToolContext& ctx, const ParsedArgs& args);
int SessionUpdate(AuthToolContext& ctx, const ParsedArgs& args, const CommandSpec& spec);
int SessionConsent(AuthToolContext& ctx, const ParsedArgs& args);

}  // namespace globusfs::tools
