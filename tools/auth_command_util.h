// Helpers shared by globusfs-auth's commands (auth_commands.cpp,
// session_commands.cpp): printing an error with its guidance and exit code,
// running one interactive login, the CLI's table and time formats.
// Not thread-safe: one command per process.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "auth/auth_client.h"
#include "auth/login.h"
#include "tools/auth_commands.h"

namespace globusfs::tools::internal {

// Prints the error (the remedy text for auth requirements) to ctx.err and
// returns the exit code the Globus CLI would use.
int Fail(AuthToolContext& ctx, const http::Error& e);
// False (with registration help printed) when no client id is configured.
bool RequireClientId(AuthToolContext& ctx);
// One interactive login asking for `scopes` (prompt=login).
http::Result<auth::LoginOutcome> DoLogin(AuthToolContext& ctx, const std::string& scopes,
                                         auth::AuthorizeParams params, bool no_local_server);
// "%Y-%m-%d %H:%M %Z" in local time, as the Globus CLI shows auth times.
std::string FormatLocalTime(int64_t epoch);
// A table as the Globus CLI prints one: "a | b" rows under a dashed rule.
void PrintTable(std::ostream& out, const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);

}  // namespace globusfs::tools::internal
