// globusfs-auth end to end against globus-emulator: both login modes,
// whoami, session show/update/consent, refresh, logout, exit codes.
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "auth/guidance.h"
#include "auth/uuid.h"
#include "tests/support/child_process.h"
#include "tests/support/emulator_process.h"

namespace globusfs {
namespace {

using json = nlohmann::json;
using testing::ChildProcess;
using testing::EmulatorProcess;
using testing::RunResult;
using namespace std::chrono_literals;

class AuthTool : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(std::vector<std::string> extra_args, std::vector<std::string> personal = {}) {
    testing::EmulatorOptions opts;
    opts.identity = "ada@example.org";
    opts.linked_identities = {"ada@university.edu"};
    opts.extra_args = std::move(extra_args);
    opts.personal_collections = std::move(personal);
    emu_ = EmulatorProcess::Start(opts);
    config_dir_ = emu_->dir() / "config";
  }

  std::map<std::string, std::string> Env(bool browser = true) {
    auto env = emu_->env();
    env["GLOBUSFS_CONFIG_DIR"] = config_dir_.string();
    env["GLOBUSFS_LOGIN_TIMEOUT"] = "20";
    if (browser) env["BROWSER"] = std::string(GLOBUSFS_SOURCE_DIR) + "/tools/emulator-browser";
    return env;
  }

  RunResult Tool(std::vector<std::string> args, const std::string& stdin_text = "",
                 std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), GLOBUSFS_AUTH_BIN);
    if (env.empty()) env = Env();
    RunResult r = testing::Run(args, env, stdin_text, 60s);
    // No token from the store may ever be printed.
    for (const auto& t : StoredTokens()) {
      EXPECT_EQ(r.all().find(t), std::string::npos) << "a token leaked into the output";
    }
    return r;
  }

  json Store() {
    std::ifstream in(config_dir_ / "tokens.json");
    if (!in) return json();
    return json::parse(in, nullptr, false);
  }

  std::vector<std::string> StoredTokens() {
    std::vector<std::string> out;
    json s = Store();
    if (!s.is_object()) return out;
    for (const auto& [rs, t] : s["tokens"].items()) {
      out.push_back(t["access_token"]);
      if (!t["refresh_token"].get<std::string>().empty()) out.push_back(t["refresh_token"]);
    }
    return out;
  }

  std::string Token(const std::string& rs) { return Store()["tokens"][rs]["access_token"]; }

  void LoginOrDie(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"login"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Tool(args);
    ASSERT_EQ(r.exit_code, 0) << r.all();
  }

  // The Auth times shown by `session show --format json`, by username.
  std::map<std::string, int64_t> SessionTimes() {
    RunResult r = Tool({"session", "show", "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.all();
    std::map<std::string, int64_t> out;
    json j = json::parse(r.out, nullptr, false);
    if (!j.is_object()) return out;
    for (const auto& i : j["identities"]) {
      if (i["username"].is_string()) out[i["username"]] = i["auth_time"];
    }
    return out;
  }

  std::unique_ptr<EmulatorProcess> emu_;
  std::filesystem::path config_dir_;
};

mode_t ModeOf(const std::filesystem::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

TEST_F(AuthTool, LoginWithTheLocalServerAndTheBrowser) {
  RunResult r = Tool({"login"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("You have successfully logged in"), std::string::npos);
  EXPECT_NE(r.out.find("/v2/oauth2/authorize?"), std::string::npos) << "the URL is printed too";
  EXPECT_NE(r.out.find("redirect_uri=http%3A%2F%2Flocalhost%3A"), std::string::npos);
  EXPECT_NE(r.out.find("code_challenge_method=S256"), std::string::npos);
  EXPECT_NE(r.out.find("access_type=offline"), std::string::npos);
  EXPECT_NE(r.out.find("prompt=login"), std::string::npos);
  EXPECT_EQ(ModeOf(config_dir_), 0700u);
  EXPECT_EQ(ModeOf(config_dir_ / "tokens.json"), 0600u);
  json s = Store();
  EXPECT_TRUE(s["tokens"].contains("auth.globus.org"));
  EXPECT_TRUE(s["tokens"].contains("transfer.api.globus.org"));
  EXPECT_FALSE(s["sub"].get<std::string>().empty());

  // Again: already logged in, suggests --force, exit 0.
  RunResult again = Tool({"login"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("You are already logged in"), std::string::npos);
  EXPECT_NE(again.out.find("globusfs-auth login --force"), std::string::npos);
}

TEST_F(AuthTool, LoginByPastingTheCode) {
  std::vector<std::string> argv = {GLOBUSFS_AUTH_BIN, "login", "--no-local-server"};
  ChildProcess p(argv, Env(false));
  ASSERT_TRUE(p.WaitForOutput("Enter the resulting Authorization Code here:", 20s)) << p.all();
  std::smatch m;
  std::string out = p.out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("(https://\\S+/v2/oauth2/authorize\\?\\S+)")));
  std::string url = m[1];
  EXPECT_NE(url.find("redirect_uri=" + std::string("https%3A%2F%2F127.0.0.1")), std::string::npos);
  // "The user" opens the URL and reads the code off the page.
  http::HttpRequest req;
  req.url = url;
  auto redirect = emu_->http().Send(req);
  ASSERT_TRUE(redirect.ok());
  ASSERT_EQ(redirect->status, 302);
  req.url = *redirect->Header("location");
  auto page = emu_->http().Send(req);
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(std::regex_search(page->body, m, std::regex("<pre id=\"auth-code\">([^<]+)</pre>")));
  p.WriteStdin(std::string(m[1]) + "\n");
  p.CloseStdin();
  ASSERT_EQ(p.Wait(30s), 0) << p.all();
  EXPECT_NE(p.out().find("You have successfully logged in"), std::string::npos);
  EXPECT_TRUE(Store()["tokens"].contains("transfer.api.globus.org"));
}

TEST_F(AuthTool, LoginWithCollectionsGetsTheirTokensAndConsents) {
  std::string alpha = emu_->collection_id("alpha"), beta = emu_->collection_id("beta");
  LoginOrDie({"--collection", alpha, "--collection", beta});
  json s = Store();
  ASSERT_TRUE(s["tokens"].contains(alpha));
  ASSERT_TRUE(s["tokens"].contains(beta));
  EXPECT_NE(s["tokens"][alpha]["scope"].get<std::string>().find(alpha + "/https"), std::string::npos);
  // The Transfer token can list both (data_access consents were granted).
  for (const auto& id : {alpha, beta}) {
    auto ls = emu_->http().GetJson(emu_->base_url() + "/v0.10/operation/endpoint/" + id + "/ls?path=/", nullptr,
                                   {{"Authorization", "Bearer " + Token("transfer.api.globus.org")}});
    EXPECT_TRUE(ls.ok()) << ls.error().Summary();
  }
  // A collection added later, while logged in: one more login, old tokens kept.
  RunResult again = Tool({"login", "--collection", alpha});
  EXPECT_NE(again.out.find("already logged in"), std::string::npos);
}

TEST_F(AuthTool, LoginWithAPersonalCollectionAsksOnlyForTheScopesItHas) {
  // Globus Connect Personal: https_server null, no https or data_access
  // scope. Asking Auth for one would end the login on Auth's error page.
  Start({}, {"laptop"});
  std::string laptop = emu_->collection_id("laptop"), alpha = emu_->collection_id("alpha");
  RunResult r = Tool({"login", "--collection", laptop, "--collection", alpha});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out.find("scopes%2F" + laptop), std::string::npos) << "no scope of the personal collection: " << r.out;
  EXPECT_NE(r.out.find("scopes%2F" + alpha + "%2Fhttps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Note: 'laptop' (" + laptop + ") is a Globus Connect Personal collection"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("cannot read or write their contents"), std::string::npos);
  EXPECT_NE(r.out.find("You have successfully logged in"), std::string::npos);
  json s = Store();
  EXPECT_TRUE(s["tokens"].contains(alpha));
  EXPECT_FALSE(s["tokens"].contains(laptop)) << "it has no HTTPS server, so no token of its own";
  // Its names work through Transfer.
  auto ls = emu_->http().GetJson(emu_->base_url() + "/v0.10/operation/endpoint/" + laptop + "/ls?path=/", nullptr,
                                 {{"Authorization", "Bearer " + Token("transfer.api.globus.org")}});
  EXPECT_TRUE(ls.ok()) << ls.error().Summary();

  // Logged in already: nothing is missing for it, so no new login.
  uint64_t authorizes = emu_->RequestCount("auth.authorize");
  RunResult again = Tool({"login", "--collection", laptop});
  EXPECT_EQ(again.exit_code, 0) << again.all();
  EXPECT_NE(again.out.find("You are already logged in"), std::string::npos) << again.out;
  EXPECT_EQ(emu_->RequestCount("auth.authorize"), authorizes);
}

TEST_F(AuthTool, APersonalCollectionAloneNeedsOneLogin) {
  Start({}, {"laptop"});
  RunResult r = Tool({"login", "--collection", emu_->collection_id("laptop")});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(emu_->RequestCount("auth.authorize"), 1u) << "nothing of its own to ask for: " << r.out;
  EXPECT_EQ(r.out.find("Now granting"), std::string::npos);
}

TEST_F(AuthTool, ALoginAuthRefusesEndsAtOnceWithItsPage) {
  // Auth answers an unknown scope with its own page and no redirect; the
  // browser (tools/emulator-browser) reports it, and the login stops
  // waiting at once instead of timing out.
  LoginOrDie();
  std::string unknown = "https://auth.globus.org/scopes/" + testing::RandomUuid() + "/https";
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = Tool({"session", "consent", unknown});
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s) << "did not wait for the 20 s timeout";
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.err.find("Error: Globus Auth refused the login request (HTTP 400)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Unknown scope(s)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("UNKNOWN_SCOPE_ERROR"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("timed out"), std::string::npos);
}

TEST_F(AuthTool, TheIdTokenIsCheckedAgainstTheIssuerAuthsConfigurationNames) {
  // As globus-sdk does: the issuer (and keys) come from
  // /.well-known/openid-configuration, not from the service URL's text.
  Start({"--issuer", "https://auth.example.org"});
  RunResult r = Tool({"login"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_GE(emu_->RequestCount("auth.openid_configuration"), 1u);
  EXPECT_GE(emu_->RequestCount("auth.jwks"), 1u);
  EXPECT_FALSE(Store()["sub"].get<std::string>().empty());
  EXPECT_EQ(Tool({"whoami"}).out, "ada@example.org\n");
}

TEST_F(AuthTool, LoginWithAnEndpointIdIsTheWrongKindOfObject) {
  LoginOrDie();
  auto doc = emu_->http().GetJson(emu_->base_url() + "/v0.10/endpoint/" + emu_->collection_id("alpha"), nullptr,
                                  {{"Authorization", "Bearer " + Token("transfer.api.globus.org")}});
  ASSERT_TRUE(doc.ok());
  std::string host = (*doc)["non_functional_endpoint_id"];
  RunResult r = Tool({"login", "--collection", host});
  EXPECT_EQ(r.exit_code, 3) << r.all();
  EXPECT_NE(r.err.find("GCSv5_endpoint"), std::string::npos);
}

TEST_F(AuthTool, WhoAmI) {
  LoginOrDie();
  RunResult r = Tool({"whoami"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "ada@example.org\n");
  r = Tool({"whoami", "-v"});
  EXPECT_NE(r.out.find("Username: ada@example.org"), std::string::npos);
  EXPECT_NE(r.out.find("ID:"), std::string::npos);
  r = Tool({"whoami", "--linked-identities"});
  EXPECT_EQ(r.out, "ada@example.org\nada@university.edu\n");
  r = Tool({"whoami", "--format", "json"});
  json j = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["preferred_username"], "ada@example.org");
}

TEST_F(AuthTool, SessionShowBeforeAndAfterUpdatingALinkedIdentity) {
  LoginOrDie();
  RunResult table = Tool({"session", "show"});
  ASSERT_EQ(table.exit_code, 0) << table.all();
  // As the Globus CLI: the session may not hold the primary identity.
  EXPECT_EQ(table.out.rfind("For information on your primary identity or full identity set see\n"
                            "  globusfs-auth whoami\n\nUsername",
                            0),
            0u)
      << table.out;
  EXPECT_NE(table.out.find("Username"), std::string::npos);
  EXPECT_NE(table.out.find("| ID"), std::string::npos);
  EXPECT_NE(table.out.find("Auth Time"), std::string::npos);
  auto before = SessionTimes();
  ASSERT_TRUE(before.count("ada@example.org"));
  EXPECT_FALSE(before.count("ada@university.edu")) << "the linked identity never authenticated";

  emu_->AgeSession(3600);  // so a new auth time is visibly later
  RunResult u = Tool({"session", "update", "ada@university.edu"});
  ASSERT_EQ(u.exit_code, 0) << u.all();
  EXPECT_NE(u.out.find("successfully updated your globusfs session"), std::string::npos);
  EXPECT_NE(u.out.find("globusfs-auth session show"), std::string::npos);
  EXPECT_NE(u.out.find("session_required_identities="), std::string::npos);
  auto after = SessionTimes();
  ASSERT_TRUE(after.count("ada@university.edu"));
  EXPECT_GT(after["ada@university.edu"], before["ada@example.org"] - 1);
  EXPECT_LT(after["ada@example.org"], before["ada@example.org"]) << "aged, not re-authenticated";
}

TEST_F(AuthTool, SessionShowJsonCarriesTheSessionId) {
  // The Globus CLI's JSON carries the session id (introspection's
  // session_info.session_id), for debugging with Globus support.
  LoginOrDie();
  RunResult r = Tool({"session", "show", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  json j = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["source"], "introspect");
  ASSERT_TRUE(j["session_id"].is_string()) << r.out;
  EXPECT_TRUE(auth::LooksLikeUuid(j["session_id"].get<std::string>())) << r.out;
  EXPECT_EQ(r.out.find("globusfs-auth whoami"), std::string::npos) << "the hint is for the text form only";
  // The same session after another login.
  LoginOrDie({"--force"});
  json again = json::parse(Tool({"session", "show", "--format", "json"}).out, nullptr, false);
  EXPECT_EQ(again["session_id"], j["session_id"]);
}

TEST_F(AuthTool, AnMfaRequirementIsMetBySessionUpdateMfa) {
  Start({"--mfa-required", "alpha"});
  std::string alpha = emu_->collection_id("alpha");
  LoginOrDie({"--collection", alpha});
  auto ls = [&] {
    return emu_->http().GetJson(emu_->base_url() + "/v0.10/operation/endpoint/" + alpha + "/ls?path=/", nullptr,
                                {{"Authorization", "Bearer " + Token("transfer.api.globus.org")}});
  };
  auto refused = ls();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().authorization_parameters.value("session_required_mfa", false), true);
  EXPECT_FALSE(refused.error().authorization_parameters.contains("session_required_identities"))
      << "the login is recent: MFA is all that is missing";
  EXPECT_EQ(auth::ClassifyRequirement(refused.error()), auth::Requirement::kSession);
  ASSERT_EQ(auth::RemedyCommand(refused.error()).value_or(""), "globusfs-auth session update --mfa");

  RunResult u = Tool({"session", "update", "--mfa"});
  ASSERT_EQ(u.exit_code, 0) << u.all();
  EXPECT_NE(u.out.find("session_required_mfa=true"), std::string::npos) << u.out;
  EXPECT_NE(u.out.find("successfully updated your globusfs session"), std::string::npos);
  auto now_ok = ls();
  EXPECT_TRUE(now_ok.ok()) << now_ok.error().Summary();
  json show = json::parse(Tool({"session", "show", "--format", "json"}).out, nullptr, false);
  ASSERT_TRUE(show.is_object());
  ASSERT_EQ(show["identities"].size(), 1u);
  EXPECT_EQ(show["identities"][0]["amr"], json::array({"mfa"})) << show.dump();

  // A later login without MFA loses it again.
  LoginOrDie({"--force"});
  EXPECT_FALSE(ls().ok());
  RunResult usage = Tool({"session", "update", "--all", "--policy", "p1", "--mfa"});
  EXPECT_EQ(usage.exit_code, 2);
  RunResult with_all = Tool({"session", "update", "--all", "--mfa"});
  ASSERT_EQ(with_all.exit_code, 0) << with_all.all();
  EXPECT_TRUE(ls().ok());
}

TEST_F(AuthTool, SessionShowFallsBackToTheIdTokenWithoutIntrospection) {
  Start({"--no-client-template"});
  LoginOrDie();
  RunResult r = Tool({"session", "show", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  json j = json::parse(r.out);
  EXPECT_EQ(j["source"], "id_token");
  EXPECT_TRUE(j["session_id"].is_null()) << "the id_token carries no session id";
  ASSERT_EQ(j["identities"].size(), 1u);
  EXPECT_EQ(j["identities"][0]["username"], "ada@example.org");
}

TEST_F(AuthTool, SessionUpdateChecksItsArguments) {
  LoginOrDie();
  RunResult r = Tool({"session", "update", "stranger@example.org"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'stranger@example.org' is not in your identity set"), std::string::npos);
  r = Tool({"session", "update", "example.org", "ada@example.org"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("mutually exclusive"), std::string::npos);
  r = Tool({"session", "update"});
  EXPECT_EQ(r.exit_code, 2);
  r = Tool({"session", "update", "--all", "--policy", "p1"});
  EXPECT_EQ(r.exit_code, 2);
  r = Tool({"session", "update", "--all"});
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(SessionTimes().size(), 2u);
  r = Tool({"session", "update", "university.edu"});
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("session_required_single_domain=university.edu"), std::string::npos);
}

TEST_F(AuthTool, SessionConsent) {
  LoginOrDie();
  std::string gamma_scope = "urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/" +
                            emu_->collection_id("alpha") + "/data_access]";
  auto ls = [&] {
    return emu_->http().GetJson(emu_->base_url() + "/v0.10/operation/endpoint/" + emu_->collection_id("alpha") +
                                    "/ls?path=/",
                                nullptr, {{"Authorization", "Bearer " + Token("transfer.api.globus.org")}});
  };
  auto before = ls();
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code, "ConsentRequired");
  RunResult r = Tool({"session", "consent", gamma_scope});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("successfully updated your consents"), std::string::npos);
  EXPECT_TRUE(ls().ok());
}

TEST_F(AuthTool, ExpiredAccessTokensAreRefreshedTransparently) {
  LoginOrDie();
  std::string old = Token("auth.globus.org");
  emu_->ExpireTokens();
  RunResult r = Tool({"whoami"});
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(Token("auth.globus.org"), old);
}

TEST_F(AuthTool, ARevokedRefreshTokenEndsInGuidanceToLogIn) {
  LoginOrDie();
  std::string rt = Store()["tokens"]["auth.globus.org"]["refresh_token"];
  ASSERT_TRUE(emu_->http().PostForm(emu_->base_url() + "/v2/oauth2/token/revoke",
                                    {{"token", rt}, {"client_id", emu_->client_id()}}).ok());
  RunResult r = Tool({"whoami"});
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.err.find("globusfs-auth login"), std::string::npos);
}

TEST_F(AuthTool, LogoutRevokesEveryToken) {
  LoginOrDie();
  std::string at = Token("transfer.api.globus.org");
  RunResult r = Tool({"logout", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("successfully logged out"), std::string::npos);
  EXPECT_NE(r.out.find("/v2/web/logout"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(config_dir_ / "tokens.json"));
  auto doc = emu_->http().GetJson(emu_->base_url() + "/v0.10/endpoint/" + emu_->collection_id("alpha"), nullptr,
                                  {{"Authorization", "Bearer " + at}});
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().http_status, 401) << "the old token is refused";
  EXPECT_EQ(emu_->RequestCount("auth.revoke"), 4u) << "access and refresh tokens of Auth and Transfer";
}

TEST_F(AuthTool, LogoutAsksFirstAndRefusesToForgetTokensItCouldNotRevoke) {
  LoginOrDie();
  RunResult no = Tool({"logout"}, "n\n");
  EXPECT_EQ(no.exit_code, 1);
  EXPECT_TRUE(std::filesystem::exists(config_dir_ / "tokens.json"));
  emu_->Stop();
  RunResult offline = Tool({"logout", "--yes"});
  EXPECT_EQ(offline.exit_code, 1) << offline.all();
  EXPECT_NE(offline.err.find("--ignore-errors"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(config_dir_ / "tokens.json"));
  RunResult forced = Tool({"logout", "--yes", "--ignore-errors"});
  EXPECT_EQ(forced.exit_code, 0) << forced.all();
  EXPECT_FALSE(std::filesystem::exists(config_dir_ / "tokens.json"));
}

TEST_F(AuthTool, ADifferentAccountIsRefused) {
  LoginOrDie();
  json before = Store();
  emu_->options().identity = "mallory@example.org";
  emu_->options().linked_identities = {};
  emu_->Restart();
  RunResult r = Tool({"login", "--force"});
  EXPECT_EQ(r.exit_code, 1) << r.all();
  EXPECT_NE(r.err.find("does not match"), std::string::npos);
  EXPECT_NE(r.err.find("globusfs-auth logout"), std::string::npos);
  EXPECT_EQ(Store()["sub"], before["sub"]);
  EXPECT_EQ(Store()["tokens"], before["tokens"]) << "nothing of the other account was stored";
}

TEST_F(AuthTool, ExitCodes) {
  RunResult r = Tool({"whoami"});
  EXPECT_EQ(r.exit_code, 4) << "not logged in";
  EXPECT_NE(r.err.find("MissingLoginError: Missing login for Globus Auth."), std::string::npos);
  EXPECT_NE(r.err.find("  globusfs-auth login\n"), std::string::npos);
  r = Tool({"session", "show"});
  EXPECT_EQ(r.exit_code, 4);
  r = Tool({"login", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("Error: No such option: --bogus"), std::string::npos);
  EXPECT_NE(r.err.find("Try 'globusfs-auth login --help' for help."), std::string::npos);
  r = Tool({"session", "consent"});
  EXPECT_EQ(r.exit_code, 2);
  r = Tool({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  r = Tool({"login", "--collection", "not-a-uuid"});
  EXPECT_EQ(r.exit_code, 2);
  r = Tool({"whoami", "--format", "yaml"});
  EXPECT_EQ(r.exit_code, 2);
  for (auto cmd : std::vector<std::vector<std::string>>{{"login"}, {"logout"}, {"whoami"},
                                                        {"session", "show"}, {"session", "update"},
                                                        {"session", "consent"}}) {
    cmd.push_back("--help");
    r = Tool(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd[0];
    EXPECT_NE(r.out.find("Usage: globusfs-auth"), std::string::npos);
  }
}

TEST_F(AuthTool, AMissingClientIdSaysHowToRegisterOne) {
  if (std::filesystem::exists("/etc/globusfs/config.json")) {
    GTEST_SKIP() << "/etc/globusfs/config.json exists here: its client id would be found";
  }
  auto env = Env();
  env.erase("GLOBUSFS_CLIENT_ID");
  RunResult r = Tool({"login"}, "", env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("GLOBUSFS_CLIENT_ID"), std::string::npos);
  EXPECT_NE(r.err.find("app.globus.org/settings/developers"), std::string::npos);
  EXPECT_NE(r.err.find("/etc/globusfs/config.json"), std::string::npos) << r.err;
}

TEST_F(AuthTool, ALoginThatTimesOutSaysWhatToDo) {
  auto env = Env(false);
  env["BROWSER"] = "/bin/true";  // a browser that never comes back
  env["GLOBUSFS_LOGIN_TIMEOUT"] = "1";
  RunResult r = Tool({"login"}, "", env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("timed out"), std::string::npos);
  EXPECT_NE(r.err.find("--no-local-server"), std::string::npos);
}

}  // namespace
}  // namespace globusfs
