// globusfs-auth session show / update / consent (declared in
// auth_commands.h), as the Globus CLI's `globus session ...` commands.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "auth/id_token.h"
#include "auth/scopes.h"
#include "auth/uuid.h"
#include "tools/auth_command_util.h"
#include "tools/auth_commands.h"

namespace globusfs::tools {

using auth::kAuthResourceServer;
using auth::kTransferResourceServer;
using internal::DoLogin;
using internal::Fail;
using internal::FormatLocalTime;
using internal::PrintTable;
using internal::RequireClientId;
using json = nlohmann::json;

int SessionShow(AuthToolContext& ctx, const ParsedArgs& args) {
  // userinfo first: it refreshes the Auth token if the server refuses it.
  auto authorizer = ctx.tokens->AuthorizerFor(kAuthResourceServer);
  auto info = ctx.auth->GetUserInfo(authorizer.get());
  if (!info) return Fail(ctx, info.error());
  std::map<std::string, std::string> usernames;
  if (info->identity_set) {
    for (const auto& i : *info->identity_set) usernames[i.id] = i.username;
  }
  auto token = ctx.tokens->Get(kAuthResourceServer);
  if (!token) return Fail(ctx, token.error());
  auto login = ctx.store->Load();
  if (!login) return Fail(ctx, login.error());

  // Live session state needs introspection with client credentials (a
  // templated client, as the Globus CLI makes); without them, fall back to
  // the id_token's snapshot from the last login.
  struct Row {
    std::string id;
    int64_t auth_time;
    std::optional<std::vector<std::string>> amr;  // how it authenticated; introspection only
  };
  std::vector<Row> rows;
  std::string source = "introspect";
  std::string session_id;  // introspection only: the id_token carries none
  auto creds = login->templated_client;
  if (!creds) {
    auto made = ctx.auth->CreateTemplatedClient("globusfs-auth session show");
    if (made) {
      creds = *made;
      (void)ctx.store->Update([&](auth::StoredLogin& l) {
        l.templated_client = creds;
        return true;
      });
    }
  }
  bool introspected = false;
  if (creds) {
    auto session = ctx.auth->IntrospectSession(*creds, *token);
    if (session) {
      for (const auto& a : session->authentications) rows.push_back({a.identity_id, a.auth_time, a.amr});
      session_id = session->session_id;
      introspected = true;
    } else if (session.error().kind != http::ErrorKind::kHttp) {
      return Fail(ctx, session.error());
    }
  }
  if (!introspected) {
    source = "id_token";
    auto claims = auth::DecodeIdToken(login->id_token);
    if (!claims) return Fail(ctx, claims.error());
    for (const auto& i : claims->identity_set) {
      if (i.last_authentication) rows.push_back({i.sub, *i.last_authentication, std::nullopt});
      if (!i.username.empty()) usernames.emplace(i.sub, i.username);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.auth_time > b.auth_time; });

  if (args.Value("--format", "text") == "json") {
    // With the session id, as the Globus CLI's JSON carries it (for
    // debugging with Globus support); null when it came from the id_token.
    json list = json::array();
    for (const auto& r : rows) {
      list.push_back({{"id", r.id}, {"username", usernames.count(r.id) ? json(usernames[r.id]) : json(nullptr)},
                      {"auth_time", r.auth_time}, {"amr", r.amr ? json(*r.amr) : json(nullptr)}});
    }
    ctx.out << json{{"source", source},
                    {"session_id", session_id.empty() ? json(nullptr) : json(session_id)},
                    {"identities", list}}
                   .dump(2)
            << "\n";
    return kExitOk;
  }
  // The session may not hold the primary identity: the CLI points to whoami.
  ctx.out << "For information on your primary identity or full identity set see\n"
             "  globusfs-auth whoami\n\n";
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    table.push_back({usernames.count(r.id) ? usernames[r.id] : "", r.id, FormatLocalTime(r.auth_time)});
  }
  PrintTable(ctx.out, {"Username", "ID", "Auth Time"}, table);
  if (!introspected) {
    ctx.err << "(from your last login: this client cannot introspect tokens to read the live session)\n";
  }
  return kExitOk;
}

int SessionUpdate(AuthToolContext& ctx, const ParsedArgs& args, const CommandSpec& spec) {
  const auto& values = args.positionals;
  bool all = args.Has("--all");
  bool mfa = args.Has("--mfa");
  std::string policy = args.Value("--policy");
  // --mfa goes with any of the three, or alone (then the login that asks
  // for MFA re-authenticates whoever signs in, as a plain login does).
  int modes = (!values.empty()) + all + !policy.empty();
  if (modes > 1 || (modes == 0 && !mfa)) {
    ctx.err << UsageErrorText(spec, "give one or more identities or domains, or --all, or --policy "
                                    "(exactly one of these), or --mfa");
    return kExitUsage;
  }
  std::vector<std::string> ids, usernames, domains;
  for (const auto& v : values) {
    if (auth::LooksLikeUuid(v)) ids.push_back(v);
    else if (v.find('@') != std::string::npos) usernames.push_back(v);
    else domains.push_back(v);
  }
  if (!domains.empty() && (!ids.empty() || !usernames.empty())) {
    ctx.err << UsageErrorText(spec, "domain-type identities and user-type identities are mutually exclusive");
    return kExitUsage;
  }
  if (!RequireClientId(ctx)) return kExitError;

  auth::AuthorizeParams params;
  params.session_required_mfa = mfa;
  if (modes == 0) {
    // --mfa alone: nobody in particular.
  } else if (!domains.empty()) {
    params.session_required_single_domain = domains;
  } else if (!policy.empty()) {
    size_t i = 0;
    while (i <= policy.size()) {
      size_t j = policy.find(',', i);
      if (j == std::string::npos) j = policy.size();
      if (j > i) params.session_required_policies.push_back(policy.substr(i, j - i));
      i = j + 1;
    }
  } else {
    auto authorizer = ctx.tokens->AuthorizerFor(kAuthResourceServer);
    auto info = ctx.auth->GetUserInfo(authorizer.get());
    if (!info) return Fail(ctx, info.error());
    if (!info->identity_set) {
      ctx.err << "Your current login does not have the consents required to view your full "
                 "identity set. Please log in again:\n\n  globusfs-auth login --force\n";
      return kExitError;
    }
    auto find = [&](const std::string& key, bool by_id) -> const auth::Identity* {
      for (const auto& i : *info->identity_set) {
        if (by_id ? i.id == key : i.username == key) return &i;
      }
      return nullptr;
    };
    if (all) {
      for (const auto& i : *info->identity_set) params.session_required_identities.push_back(i.id);
    }
    for (const auto& id : ids) {
      if (!find(id, true)) {
        ctx.err << "Error: '" << id << "' is not in your identity set\n";
        return kExitError;
      }
      params.session_required_identities.push_back(id);
    }
    for (const auto& u : usernames) {
      const auth::Identity* i = find(u, false);
      if (!i) {
        ctx.err << "Error: '" << u << "' is not in your identity set\n";
        return kExitError;
      }
      params.session_required_identities.push_back(i->id);
    }
  }
  params.session_message = "Authenticate to update your globusfs session.";

  // Re-issue every token we hold (plus any --scope), so all of them come
  // from the updated session.
  auto login = ctx.store->Load();
  if (!login) return Fail(ctx, login.error());
  std::vector<std::string> scopes = {auth::AuthScopes(), auth::TransferScope()};
  for (const auto& [rs, rec] : login->tokens) {
    if (rs != kAuthResourceServer && rs != kTransferResourceServer) scopes.push_back(rec.scope);
  }
  for (const auto& s : args.All("--scope")) scopes.push_back(s);
  auto r = DoLogin(ctx, auth::JoinScopes(scopes), params, args.Has("--no-local-server"));
  if (!r) return Fail(ctx, r.error());
  ctx.out << "\nYou have successfully updated your globusfs session.\n\n"
          << "Use 'globusfs-auth session show' to see the updated session.\n";
  return kExitOk;
}

int SessionConsent(AuthToolContext& ctx, const ParsedArgs& args) {
  if (!RequireClientId(ctx)) return kExitError;
  std::vector<std::string> scopes = {auth::AuthScopes()};
  scopes.insert(scopes.end(), args.positionals.begin(), args.positionals.end());
  auto r = DoLogin(ctx, auth::JoinScopes(scopes), {}, args.Has("--no-local-server"));
  if (!r) return Fail(ctx, r.error());
  ctx.out << "\nYou have successfully updated your consents.\n";
  return kExitOk;
}

}  // namespace globusfs::tools
