// Unit tests of the auth pieces that need no server: PKCE, the token store,
// id_token decoding/verification, guidance and exit codes.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "auth/collection_info.h"
#include <nlohmann/json.hpp>

#include "auth/guidance.h"
#include "auth/id_token.h"
#include "auth/pkce.h"
#include "auth/scopes.h"
#include "auth/token_store.h"

namespace globusfs::auth {
namespace {

using json = nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "globusfs-unit-XXXXXX").string();
    path_ = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

mode_t ModeOf(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// ---------------------------------------------------------------- PKCE

TEST(CollectionInfo, WhatCountsAsACollectionIsWhatTheGlobusCliAccepts) {
  auth::CollectionInfo c;
  for (const char* kind : {"GCSv5_mapped_collection", "GCSv5_guest_collection", "GCP_mapped_collection",
                           "GCP_guest_collection", "GCSv4_host", "GCSv4_share"}) {
    c.entity_type = kind;
    EXPECT_TRUE(c.IsCollection()) << kind;
  }
  c.entity_type = "GCSv5_endpoint";
  EXPECT_FALSE(c.IsCollection());
  c.entity_type = "GCSv4_host";
  c.non_functional = true;
  EXPECT_FALSE(c.IsCollection());
}

TEST(Pkce, MatchesRfc7636AppendixB) {
  EXPECT_EQ(S256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, VerifierIsRandomAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    Pkce p = MakePkce();
    ASSERT_EQ(p.verifier.size(), 43u);  // 32 bytes of base64url, no padding
    for (char c : p.verifier) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << c;
    }
    EXPECT_EQ(p.challenge, S256Challenge(p.verifier));
    seen.insert(p.verifier);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(Pkce, Base64UrlRoundTrip) {
  for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd",
                                               std::string("\xff\xfe\x00\x01", 4)}) {
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_EQ(Base64Encode("id:secret"), "aWQ6c2VjcmV0");
  EXPECT_EQ(Base64UrlDecode("not base64!"), "");
}

// ---------------------------------------------------------------- token store

StoredLogin SampleLogin(const std::string& tag) {
  StoredLogin l;
  l.client_id = "client";
  l.sub = "sub-" + tag;
  l.username = "user@example.org";
  l.tokens["transfer.api.globus.org"] =
      TokenRecord{"transfer.api.globus.org", "at-" + tag, "rt-" + tag, 1000, kTransferScope, "Bearer"};
  return l;
}

TEST(TokenStore, EmptyWhenMissing) {
  TempDir dir;
  TokenStore store(dir.path() / "cfg");
  auto l = store.Load();
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->empty());
}

TEST(TokenStore, FolderIs0700AndFileIs0600EvenWithAPermissiveUmask) {
  TempDir dir;
  mode_t old = ::umask(0);
  TokenStore store(dir.path() / "cfg");
  auto r = store.Update([](StoredLogin& l) {
    l = SampleLogin("a");
    return true;
  });
  ::umask(old);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(ModeOf(dir.path() / "cfg"), 0700u);
  EXPECT_EQ(ModeOf(store.file()), 0600u);
}

TEST(TokenStore, RoundTripsEveryField) {
  TempDir dir;
  TokenStore store(dir.path());
  StoredLogin in = SampleLogin("x");
  in.id_token = "a.b.c";
  in.templated_client = ClientCredentials{"cid", "secret"};
  ASSERT_TRUE(store.Update([&](StoredLogin& l) {
    l = in;
    return true;
  }));
  auto out = store.Load();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->sub, "sub-x");
  EXPECT_EQ(out->id_token, "a.b.c");
  ASSERT_TRUE(out->templated_client);
  EXPECT_EQ(out->templated_client->client_secret, "secret");
  const TokenRecord* t = out->Find("transfer.api.globus.org");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->refresh_token, "rt-x");
  EXPECT_EQ(t->expires_at, 1000);
}

TEST(TokenStore, UpdateReturningFalseWritesNothing) {
  TempDir dir;
  TokenStore store(dir.path());
  ASSERT_TRUE(store.Update([](StoredLogin&) { return false; }));
  EXPECT_FALSE(std::filesystem::exists(store.file()));
}

TEST(TokenStore, CorruptFileIsAClearErrorWithoutTokens) {
  TempDir dir;
  TokenStore store(dir.path());
  std::ofstream(store.file()) << "{\"tokens\": [oops";
  auto l = store.Load();
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("corrupt"), std::string::npos);
  EXPECT_NE(l.error().message.find(store.file().string()), std::string::npos);
}

TEST(TokenStore, ReplaceIsAtomicForReaders) {
  // Readers racing a writer always see a whole store: old or new, never a mix.
  TempDir dir;
  TokenStore store(dir.path());
  ASSERT_TRUE(store.Update([](StoredLogin& l) {
    l = SampleLogin("0");
    return true;
  }));
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      auto l = store.Load();
      if (!l.ok() || l->empty()) {
        ++bad;
        continue;
      }
      const TokenRecord* t = l->Find("transfer.api.globus.org");
      // Every record is internally consistent: at-N goes with rt-N and sub-N.
      if (!t || t->access_token.substr(3) != t->refresh_token.substr(3) ||
          l->sub.substr(4) != t->access_token.substr(3)) {
        ++bad;
      }
    }
  });
  for (int i = 1; i <= 200; ++i) {
    ASSERT_TRUE(store.Update([&](StoredLogin& l) {
      l = SampleLogin(std::to_string(i));
      return true;
    }));
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(TokenStore, ConcurrentWritersLoseNothing) {
  // Several processes (threads here; each Update takes its own flock) each add
  // their own record; every record survives.
  TempDir dir;
  TokenStore store(dir.path());
  constexpr int kWriters = 8, kEach = 10;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        auto r = store.Update([&](StoredLogin& l) {
          std::string rs = "rs-" + std::to_string(w) + "-" + std::to_string(i);
          l.tokens[rs] = TokenRecord{rs, "at", "rt", 1, "", "Bearer"};
          return true;
        });
        ASSERT_TRUE(r.ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto l = store.Load();
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->tokens.size(), static_cast<size_t>(kWriters * kEach));
}

TEST(TokenStore, ConcurrentWritersInSeparateProcessesLoseNothing) {
  TempDir dir;
  constexpr int kProcs = 4, kEach = 10;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      TokenStore store(dir.path());
      for (int i = 0; i < kEach; ++i) {
        auto r = store.Update([&](StoredLogin& l) {
          std::string rs = "p" + std::to_string(p) + "-" + std::to_string(i);
          l.tokens[rs] = TokenRecord{rs, "at", "rt", 1, "", "Bearer"};
          return true;
        });
        if (!r.ok()) ::_exit(1);
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ::waitpid(k, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto l = TokenStore(dir.path()).Load();
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->tokens.size(), static_cast<size_t>(kProcs * kEach));
}

TEST(TokenStore, RemoveDeletesTheFile) {
  TempDir dir;
  TokenStore store(dir.path());
  ASSERT_TRUE(store.Update([](StoredLogin& l) {
    l = SampleLogin("a");
    return true;
  }));
  int64_t stamp = store.Stamp();
  EXPECT_NE(stamp, 0);
  ASSERT_TRUE(store.Remove());
  EXPECT_FALSE(std::filesystem::exists(store.file()));
  EXPECT_EQ(store.Stamp(), 0);
  EXPECT_TRUE(store.Remove());  // idempotent
}

// ---------------------------------------------------------------- id_token

class Signer {
 public:
  Signer() : key_(EVP_RSA_gen(2048)) {}
  ~Signer() { EVP_PKEY_free(key_); }
  std::string Sign(const json& claims, const std::string& alg = "RS512") const {
    std::string input = Base64UrlEncode(json{{"alg", alg}, {"kid", "k1"}}.dump()) + "." +
                        Base64UrlEncode(claims.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha512(), nullptr, key_);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return input + "." + Base64UrlEncode(sig);
  }
  json Jwks() const {
    auto param = [&](const char* name) {
      BIGNUM* bn = nullptr;
      EVP_PKEY_get_bn_param(key_, name, &bn);
      std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
      BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
      BN_free(bn);
      return Base64UrlEncode(out);
    };
    return {{"keys", json::array({{{"kty", "RSA"}, {"kid", "k1"}, {"alg", "RS512"},
                                   {"n", param(OSSL_PKEY_PARAM_RSA_N)}, {"e", param(OSSL_PKEY_PARAM_RSA_E)}}})}};
  }

 private:
  EVP_PKEY* key_;
};

json Claims() {
  return {{"sub", "c8aad43e"},
          {"preferred_username", "ada@globusid.org"},
          {"iss", "https://auth.example.org"},
          {"aud", "client-1"},
          {"exp", 2000},
          {"last_authentication", 1500},
          {"identity_set", json::array({{{"sub", "c8aad43e"}, {"username", "ada@globusid.org"},
                                         {"last_authentication", 1500}},
                                        {{"sub", "b6e227e8"}, {"username", "ada.alt@example.org"},
                                         {"last_authentication", nullptr}}})}};
}

TEST(IdToken, DecodesTheIdentitySet) {
  Signer s;
  auto c = DecodeIdToken(s.Sign(Claims()));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->sub, "c8aad43e");
  ASSERT_EQ(c->identity_set.size(), 2u);
  EXPECT_EQ(c->identity_set[0].last_authentication, 1500);
  EXPECT_FALSE(c->identity_set[1].last_authentication.has_value());
}

TEST(IdToken, VerifiesSignatureIssuerAudienceAndExpiry) {
  Signer s, other;
  std::string jwt = s.Sign(Claims());
  EXPECT_TRUE(VerifyIdToken(jwt, s.Jwks(), "https://auth.example.org/", "client-1", 1900).ok());
  EXPECT_TRUE(VerifyIdToken(jwt, s.Jwks(), "https://auth.example.org", "client-1", 2299).ok())
      << "300 s of leeway";
  EXPECT_FALSE(VerifyIdToken(jwt, s.Jwks(), "https://auth.example.org", "client-1", 2301).ok());
  EXPECT_FALSE(VerifyIdToken(jwt, other.Jwks(), "https://auth.example.org", "client-1", 1900).ok());
  EXPECT_FALSE(VerifyIdToken(jwt, s.Jwks(), "https://evil.example.org", "client-1", 1900).ok());
  EXPECT_FALSE(VerifyIdToken(jwt, s.Jwks(), "https://auth.example.org", "client-2", 1900).ok());
  EXPECT_FALSE(VerifyIdToken(s.Sign(Claims(), "none"), s.Jwks(), "https://auth.example.org",
                             "client-1", 1900).ok());
  // A tampered payload fails the signature.
  auto d1 = jwt.find('.'), d2 = jwt.find('.', d1 + 1);
  json evil = Claims();
  evil["sub"] = "someone-else";
  std::string tampered = jwt.substr(0, d1 + 1) + Base64UrlEncode(evil.dump()) + jwt.substr(d2);
  EXPECT_FALSE(VerifyIdToken(tampered, s.Jwks(), "https://auth.example.org", "client-1", 1900).ok());
}

TEST(IdToken, TimesOutsideInt64AreAbsent) {
  Signer s;
  json claims = Claims();
  claims["exp"] = 1e300;
  claims["last_authentication"] = -1e300;
  auto c = DecodeIdToken(s.Sign(claims));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->exp, 0) << "no usable expiry: the token counts as expired";
  EXPECT_FALSE(c->last_authentication.has_value());
  EXPECT_FALSE(VerifyIdToken(s.Sign(claims), s.Jwks(), "https://auth.example.org", "client-1", 1900).ok());
  claims["exp"] = 2000.9;  // a fraction is cut
  EXPECT_EQ(DecodeIdToken(s.Sign(claims))->exp, 2000);
}

TEST(IdToken, GarbageIsAnError) {
  EXPECT_FALSE(DecodeIdToken("").ok());
  EXPECT_FALSE(DecodeIdToken("a.b").ok());
  EXPECT_FALSE(DecodeIdToken("a.!!!.c").ok());
}

// ---------------------------------------------------------------- guidance

http::Error WithBody(int status, const json& body) {
  return http::ParseErrorDocument(status, body.dump());
}

TEST(Guidance, ConsentRequiredNamesTheConsentCommand) {
  std::string scope = "urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/C/data_access]";
  http::Error e = WithBody(403, {{"code", "ConsentRequired"},
                                 {"message", "Missing required data_access consent"},
                                 {"required_scopes", {scope}},
                                 {"authorization_parameters", {{"required_scopes", {scope}}}}});
  EXPECT_EQ(ClassifyRequirement(e), Requirement::kConsent);
  EXPECT_EQ(*RemedyCommand(e), "globusfs-auth session consent '" + scope + "'");
  EXPECT_EQ(ExitCodeFor(e), 4);
  EXPECT_NE(RemedyText(e).find("grant consent"), std::string::npos);
}

TEST(Guidance, SessionRequirementsNameSessionUpdate) {
  http::Error ids = WithBody(502, {{"code", "ExternalError.DirListingFailed.LoginFailed"},
                                   {"message", "Login Failed"},
                                   {"authorization_parameters",
                                    {{"session_message", "Session reauthentication required"},
                                     {"session_required_identities", {"id-1", "id-2"}}}}});
  EXPECT_EQ(*RemedyCommand(ids), "globusfs-auth session update id-1 id-2");
  EXPECT_EQ(ExitCodeFor(ids), 4);
  EXPECT_NE(RemedyText(ids).find("message: Session reauthentication required"), std::string::npos);

  http::Error policies = WithBody(403, {{"code", "AuthPolicyFailed"},
                                        {"message", "Failing collection authentication policy"},
                                        {"authorization_parameters",
                                         {{"session_required_policies", "p1,p2"}}}});
  EXPECT_EQ(*RemedyCommand(policies), "globusfs-auth session update --policy 'p1,p2'");

  http::Error domain = WithBody(502, {{"code", "ExternalError.DirListingFailed.LoginFailed"},
                                      {"authorization_parameters",
                                       {{"session_required_single_domain", {"uchicago.edu"}}}}});
  EXPECT_EQ(*RemedyCommand(domain), "globusfs-auth session update uchicago.edu");
}

TEST(Guidance, AnMfaRequirementNamesSessionUpdateMfa) {
  // Only session_required_mfa: the remedy must ask Auth for MFA (--all
  // would re-authenticate without it, and the error would come back).
  http::Error mfa = WithBody(502, {{"code", "ExternalError.DirListingFailed.LoginFailed"},
                                   {"message", "Login Failed"},
                                   {"authorization_parameters",
                                    {{"session_message", "Session reauthentication required"},
                                     {"session_required_mfa", true},
                                     {"prompt", "login"}}}});
  EXPECT_EQ(ClassifyRequirement(mfa), Requirement::kSession);
  EXPECT_EQ(*RemedyCommand(mfa), "globusfs-auth session update --mfa");
  EXPECT_EQ(ExitCodeFor(mfa), 4);
  EXPECT_NE(RemedyText(mfa).find("  globusfs-auth session update --mfa\n\nto re-authenticate with multi-factor "
                                 "authentication (MFA).\n"),
            std::string::npos)
      << RemedyText(mfa);

  // With identities (or policies) too, --mfa is added to their command.
  http::Error both = WithBody(403, {{"code", "AuthPolicyFailed"},
                                    {"authorization_parameters",
                                     {{"session_required_identities", {"id-1"}}, {"session_required_mfa", true}}}});
  EXPECT_EQ(*RemedyCommand(both), "globusfs-auth session update id-1 --mfa");
  EXPECT_NE(RemedyText(both).find("with the required identities, with multi-factor authentication (MFA)."),
            std::string::npos);
  http::Error policy = WithBody(403, {{"code", "AuthPolicyFailed"},
                                      {"authorization_parameters",
                                       {{"session_required_policies", "p1"}, {"session_required_mfa", "true"}}}});
  EXPECT_EQ(*RemedyCommand(policy), "globusfs-auth session update --policy 'p1' --mfa");
  // session_required_mfa false is no requirement at all.
  http::Error none = WithBody(403, {{"code", "X"}, {"authorization_parameters", {{"session_required_mfa", false}}}});
  EXPECT_EQ(ClassifyRequirement(none), Requirement::kNone);
}

TEST(Guidance, ConsentWinsOverSession) {
  http::Error e = WithBody(403, {{"code", "ConsentRequired"},
                                 {"required_scopes", {"s1"}},
                                 {"authorization_parameters",
                                  {{"required_scopes", {"s1"}}, {"session_required_identities", {"x"}}}}});
  EXPECT_EQ(ClassifyRequirement(e), Requirement::kConsent);
}

TEST(Guidance, LoginProblems) {
  http::Error missing;
  missing.kind = http::ErrorKind::kConfig;
  missing.code = "MissingLogin";
  missing.message = "Missing login for Globus Transfer.";
  EXPECT_EQ(*RemedyCommand(missing), "globusfs-auth login");
  EXPECT_EQ(ExitCodeFor(missing), 4);
  http::Error grant = WithBody(401, {{"error", "invalid_grant"}});
  EXPECT_EQ(*RemedyCommand(grant), "globusfs-auth login");
  EXPECT_EQ(ExitCodeFor(grant), 1) << "the CLI exits 1 for invalid_grant";
  http::Error other = WithBody(404, {{"code", "NotFound"}, {"message", "nope"}});
  EXPECT_FALSE(RemedyCommand(other).has_value());
  EXPECT_EQ(ExitCodeFor(other), 1);
}

TEST(Guidance, ShellQuote) {
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

TEST(Scopes, Builders) {
  EXPECT_EQ(TransferScope({"C1", "C2"}),
            "urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/C1/"
            "data_access *https://auth.globus.org/scopes/C2/data_access]");
  EXPECT_EQ(JoinScopes({"a", "", "b", "a"}), "a b");
}

CollectionInfo Collection(const std::string& id, const std::string& entity_type, const std::string& https_server,
                          bool high_assurance = false) {
  CollectionInfo c;
  c.id = id;
  c.entity_type = entity_type;
  c.https_server = https_server;
  c.high_assurance = high_assurance;
  return c;
}

TEST(Scopes, ScopesForAskOnlyForTheScopesACollectionHas) {
  // Auth refuses a request naming one scope that does not exist: a Globus
  // Connect Personal or GCSv4 collection (https_server null) has no https
  // scope and needs no data_access consent.
  const std::string base = AuthScopes() + " " + kTransferScope;
  auto gcp = Collection("P", "GCP_mapped_collection", "");
  auto gcsv4 = Collection("S", "GCSv4_share", "");
  EXPECT_EQ(ScopesFor({gcp}), base);
  EXPECT_EQ(ScopesFor({gcp, gcsv4}), base);
  EXPECT_FALSE(HasCollectionScopes({gcp, gcsv4}));
  EXPECT_FALSE(gcp.HasHttpsScope());
  EXPECT_TRUE(gcp.IsPersonal());

  auto mapped = Collection("M", "GCSv5_mapped_collection", "https://m.data.globus.org");
  EXPECT_EQ(ScopesFor({gcp, mapped, mapped}),
            AuthScopes() + " " + kTransferScope + "[*https://auth.globus.org/scopes/M/data_access] " +
                "https://auth.globus.org/scopes/M/https https://auth.globus.org/scopes/M/data_access");
  EXPECT_TRUE(HasCollectionScopes({gcp, mapped}));
  // High assurance and guest collections: https, no data_access.
  EXPECT_EQ(ScopesFor({Collection("H", "GCSv5_mapped_collection", "https://h", true)}),
            base + " https://auth.globus.org/scopes/H/https");
  EXPECT_EQ(ScopesFor({Collection("G", "GCSv5_guest_collection", "https://g")}),
            base + " https://auth.globus.org/scopes/G/https");
  // HTTPS off on a mapped collection: its data_access consent (Transfer
  // needs it), no https scope (nothing to use it on).
  EXPECT_EQ(ScopesFor({Collection("N", "GCSv5_mapped_collection", "")}),
            AuthScopes() + " " + kTransferScope + "[*https://auth.globus.org/scopes/N/data_access]");
}

}  // namespace
}  // namespace globusfs::auth
