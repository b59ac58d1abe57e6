#include "tools/auth_commands.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "auth/client_id.h"
#include "auth/collection_info.h"
#include "auth/scopes.h"
#include "tools/auth_command_util.h"

namespace globusfs::tools {

using auth::kAuthResourceServer;
using auth::kTransferResourceServer;
using internal::DoLogin;
using internal::Fail;
using internal::PrintTable;
using internal::RequireClientId;
using json = nlohmann::json;

namespace {

http::Result<std::vector<auth::CollectionInfo>> LookUpCollections(AuthToolContext& ctx,
                                                                  const std::vector<std::string>& ids) {
  auto authorizer = ctx.tokens->AuthorizerFor(kTransferResourceServer);
  std::vector<auth::CollectionInfo> out;
  for (const auto& id : ids) {
    auto info = auth::FetchCollectionInfo(*ctx.http, ctx.urls.transfer, id, authorizer.get());
    if (!info) return info.error();
    out.push_back(*info);
  }
  return out;
}

// A WrongEntityTypeError (exit code 3) for the first id that is not a
// collection (a GCSv5 endpoint, a GCSv4 host); kExitOk when all are.
int CheckCollectionTypes(AuthToolContext& ctx, const std::vector<auth::CollectionInfo>& infos) {
  for (const auto& c : infos) {
    if (!c.IsCollection()) {
      ctx.err << "WrongEntityTypeError: " << c.id << " (" << c.display_name << ") is a " << c.entity_type
              << ", not a collection.\n"
              << "Give the UUID of one of its collections instead.\n";
      return kExitWrongType;
    }
  }
  return kExitOk;
}

// Whether the stored login already holds what each collection can give:
// its own token where it has an https scope. A data_access consent alone
// leaves no trace in the store, so a collection that needs one but has no
// HTTPS server always asks again.
bool CollectionsCovered(const std::vector<auth::CollectionInfo>& infos, const auth::StoredLogin& login) {
  for (const auto& c : infos) {
    if (c.HasHttpsScope() ? !login.Find(c.id) : c.NeedsDataAccess()) return false;
  }
  return true;
}

// One note per collection without an HTTPS server: what globusfs can do
// with it, and what not.
void NoteCollectionsWithoutHttps(std::ostream& out, const std::vector<auth::CollectionInfo>& infos) {
  for (const auto& c : infos) {
    if (c.HasHttpsScope()) continue;
    out << "Note: '" << c.display_name << "' (" << c.id << ") "
        << (c.IsPersonal() ? "is a Globus Connect Personal collection, which has no HTTPS server"
                           : "has no HTTPS server (" + c.entity_type + ")")
        << ":\nglobusfs lists, renames, copies and deletes its files through Globus Transfer, but "
           "cannot read or write their contents.\n\n";
  }
}

void PrintLoggedIn(std::ostream& out, bool already) {
  out << (already ? "You are already logged in!\n\nYou may force a new login with\n  globusfs-auth login --force\n\n"
                  : "You have successfully logged in to globusfs!\n\n")
      << "You can check your primary identity with\n  globusfs-auth whoami\n\n"
      << "For information on which of your identities are in session use\n  globusfs-auth session show\n\n"
      << "Logout of globusfs with\n  globusfs-auth logout\n";
}

}  // namespace

std::unique_ptr<AuthToolContext> MakeContext(std::istream& in, std::ostream& out, std::ostream& err) {
  auto cfg = http::HttpConfigFromEnv();
  if (!cfg) {
    err << "globusfs-auth: " << cfg.error().message << "\n";
    return nullptr;
  }
  if (!cfg->warning.empty()) err << "globusfs-auth: warning: " << cfg->warning << "\n";
  auto urls = http::ServiceUrlsFromEnv();
  if (!urls) {
    err << "globusfs-auth: " << urls.error().message << "\n";
    return nullptr;
  }
  auto ctx = std::unique_ptr<AuthToolContext>(new AuthToolContext{in, out, err, nullptr, nullptr, *urls});
  ctx->clock = std::make_shared<http::RealClock>();
  ctx->http = std::make_unique<http::HttpClient>(*cfg, ctx->clock);
  ctx->store = std::make_unique<auth::TokenStore>(auth::DefaultConfigDir());
  auto sources = auth::DefaultClientIdSources();
  sources.user_config = ctx->store->dir() / "config.json";
  ctx->client_id = auth::FindClientId(sources).client_id;
  if (const char* t = std::getenv("GLOBUSFS_LOGIN_TIMEOUT"); t && *t) {
    // Seconds, 1 to a day; anything else keeps the default (strtol, unlike
    // atoi, is defined on overflow).
    char* end = nullptr;
    long seconds = std::strtol(t, &end, 10);
    if (*end == '\0' && seconds > 0 && seconds <= 86400) ctx->login_timeout = std::chrono::seconds(seconds);
  }
  ctx->auth = std::make_unique<auth::AuthClient>(*ctx->http, ctx->urls.auth, ctx->client_id);
  ctx->tokens = std::make_unique<auth::TokenSource>(*ctx->store, *ctx->auth, ctx->clock);
  return ctx;
}

int Login(AuthToolContext& ctx, const ParsedArgs& args) {
  if (!RequireClientId(ctx)) return kExitError;
  auto collections = args.All("--collection");
  bool force = args.Has("--force");
  bool paste = args.Has("--no-local-server");
  auto login = ctx.store->Load();
  if (!login) return Fail(ctx, login.error());
  // Logged in means the stored tokens still work (refreshing them if needed),
  // as the Globus CLI validates its tokens before saying so.
  bool logged_in = login->Find(kAuthResourceServer) && login->Find(kTransferResourceServer) &&
                   ctx.tokens->Get(kAuthResourceServer) && ctx.tokens->Get(kTransferResourceServer);

  // With a working Transfer token the collection documents are read first
  // and one login covers everything; otherwise a first login gets that
  // token and a second one (when a collection has scopes of its own) adds
  // the collections. Either way only scopes the documents promise are
  // asked for (auth::ScopesFor).
  std::vector<auth::CollectionInfo> infos;
  const bool looked_up_first = !collections.empty() && logged_in;
  if (looked_up_first) {
    auto got = LookUpCollections(ctx, collections);
    if (!got) return Fail(ctx, got.error());
    infos = *got;
    if (int rc = CheckCollectionTypes(ctx, infos); rc != kExitOk) return rc;
  }
  if (logged_in && !force && CollectionsCovered(infos, *login)) {
    NoteCollectionsWithoutHttps(ctx.out, infos);
    PrintLoggedIn(ctx.out, true);
    return kExitOk;
  }

  if (!logged_in || force) {
    auto r = DoLogin(ctx, auth::ScopesFor(infos), {}, paste);
    if (!r) return Fail(ctx, r.error());
  }
  if (!collections.empty() && !looked_up_first) {
    auto got = LookUpCollections(ctx, collections);
    if (!got) return Fail(ctx, got.error());
    infos = *got;
    if (int rc = CheckCollectionTypes(ctx, infos); rc != kExitOk) return rc;
    if (auth::HasCollectionScopes(infos)) {
      ctx.out << "\nNow granting globusfs access to the collection" << (infos.size() > 1 ? "s" : "")
              << ":\n\n";
      auto r = DoLogin(ctx, auth::ScopesFor(infos), {}, paste);
      if (!r) return Fail(ctx, r.error());
    }
  } else if (logged_in && !force) {
    // Logged in, but a collection still lacks its token or consent.
    auto r = DoLogin(ctx, auth::ScopesFor(infos), {}, paste);
    if (!r) return Fail(ctx, r.error());
  }
  NoteCollectionsWithoutHttps(ctx.out, infos);
  PrintLoggedIn(ctx.out, false);
  return kExitOk;
}

int Logout(AuthToolContext& ctx, const ParsedArgs& args) {
  if (!args.Has("--yes")) {
    ctx.out << "Are you sure you want to logout? [y/N]: " << std::flush;
    std::string answer;
    std::getline(ctx.in, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      ctx.err << "Aborted!\n";
      return kExitError;
    }
  }
  auto login = ctx.store->Load();
  if (!login) {
    if (!args.Has("--ignore-errors")) return Fail(ctx, login.error());
    login = auth::StoredLogin{};
  }
  bool ignore = args.Has("--ignore-errors");
  bool offline = false;  // after one network failure, --ignore-errors stops trying
  if (!login->empty() && !ctx.client_id.empty()) {
    for (const auto& [rs, rec] : login->tokens) {
      for (const std::string* token : {&rec.access_token, &rec.refresh_token}) {
        if (token->empty() || offline) continue;
        auto r = ctx.auth->Revoke(*token);
        if (r) continue;
        const http::Error& e = r.error();
        bool transient = e.kind != http::ErrorKind::kHttp || e.http_status >= 500;
        if (transient && !ignore) {
          ctx.err << "Error: could not revoke your tokens (" << e.Summary()
                  << "); they were not removed.\nRun 'globusfs-auth logout --ignore-errors' to "
                     "remove them anyway.\n";
          return kExitError;
        }
        if (transient) {
          ctx.err << "Warning: could not revoke your tokens (" << e.Summary()
                  << "); removing them anyway.\n";
          offline = true;
        }
        // A 4xx means the token is already unusable: nothing left to revoke.
      }
    }
  }
  auto removed = ctx.store->Remove();
  if (!removed) return Fail(ctx, removed.error());
  ctx.out << "You are now successfully logged out of globusfs"
          << (login->username.empty() ? "" : " as " + login->username) << ".\n"
          << "You may also want to logout of any browser session you may have with Globus:\n\n  "
          << ctx.urls.auth << "v2/web/logout\n\n"
          << "Before attempting any further globusfs commands, you will have to login again using\n\n"
          << "  globusfs-auth login\n";
  return kExitOk;
}

int WhoAmI(AuthToolContext& ctx, const ParsedArgs& args) {
  auto authorizer = ctx.tokens->AuthorizerFor(kAuthResourceServer);
  auto info = ctx.auth->GetUserInfo(authorizer.get());
  if (!info) return Fail(ctx, info.error());
  bool verbose = args.Has("--verbose");
  if (args.Value("--format", "text") == "json") {
    ctx.out << info->raw.dump(2) << "\n";
    return kExitOk;
  }
  if (args.Has("--linked-identities")) {
    if (!info->identity_set) {
      ctx.err << "Your current login does not have the consents required to view your full "
                 "identity set. Please log in again to agree to the required consents:\n\n"
                 "  globusfs-auth login --force\n";
      return kExitError;
    }
    if (verbose) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& i : *info->identity_set) rows.push_back({i.username, i.name, i.id, i.email});
      PrintTable(ctx.out, {"Username", "Name", "ID", "Email"}, rows);
    } else {
      for (const auto& i : *info->identity_set) ctx.out << i.username << "\n";
    }
    return kExitOk;
  }
  if (verbose) {
    ctx.out << "Username: " << info->preferred_username << "\nName:     " << info->name
            << "\nID:       " << info->sub << "\nEmail:    " << info->email << "\n";
  } else {
    ctx.out << info->preferred_username << "\n";
  }
  return kExitOk;
}

}  // namespace globusfs::tools
