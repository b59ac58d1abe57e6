#include "tools/auth_command_util.h"

#include <time.h>

#include <algorithm>
#include <ostream>

#include "auth/guidance.h"
#include "auth/login_flow.h"

namespace globusfs::tools::internal {

namespace {

constexpr const char* kRegisterHelp =
    "globusfs-auth needs the client id of a Globus native app.\n"
    "Set GLOBUSFS_CLIENT_ID, or write {\"client_id\": \"<uuid>\"} to {CONFIG}/config.json\n"
    "(yours) or to /etc/globusfs/config.json (every user's).\n"
    "\n"
    "To register one: at https://app.globus.org/settings/developers add a project, then\n"
    "\"Register a thick client or script that will be installed and run by users on their\n"
    "devices\", allow the redirect URIs http://localhost and\n"
    "https://auth.globus.org/v2/web/auth-code, and copy its Client UUID.\n"
    "\n"
    "To try globusfs without a Globus account, start the local emulator and\n"
    "source its env file (see the README: tools/demo.sh).\n";

}  // namespace

int Fail(AuthToolContext& ctx, const http::Error& e) {
  if (auth::ClassifyRequirement(e) != auth::Requirement::kNone) {
    ctx.err << auth::RemedyText(e);
  } else if (e.code == auth::kAuthorizeRefused) {
    ctx.err << "Error: " << e.message << "\n";  // the page's text, whole (bounded)
  } else {
    ctx.err << "Error: " << e.Summary() << "\n";
  }
  return auth::ExitCodeFor(e);
}

bool RequireClientId(AuthToolContext& ctx) {
  if (!ctx.client_id.empty()) return true;
  std::string text = kRegisterHelp;
  text.replace(text.find("{CONFIG}"), 8, ctx.store->dir().string());
  ctx.err << text;
  return false;
}

http::Result<auth::LoginOutcome> DoLogin(AuthToolContext& ctx, const std::string& scopes,
                                         auth::AuthorizeParams params, bool no_local_server) {
  params.scopes = scopes;
  params.prompt_login = true;
  auth::LoginIo io{ctx.in, ctx.out, no_local_server, ctx.login_timeout};
  return auth::RunLogin(*ctx.auth, *ctx.store, *ctx.clock, std::move(params), io);
}

std::string FormatLocalTime(int64_t epoch) {
  time_t t = static_cast<time_t>(epoch);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M %Z", &tm);
  return buf;
}

void PrintTable(std::ostream& out, const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) w[i] = headers[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) {
      s += cells[i];
      if (i + 1 < cells.size()) s += std::string(w[i] - cells[i].size(), ' ') + " | ";
    }
    out << s << "\n";
  };
  line(headers);
  std::vector<std::string> rule;
  for (size_t x : w) rule.push_back(std::string(x, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
}

}  // namespace globusfs::tools::internal
