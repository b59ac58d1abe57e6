#include "auth/id_token.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>

#include "auth/pkce.h"

namespace globusfs::auth {

using http::ErrorKind;
using http::MakeError;
using json = nlohmann::json;

namespace {

constexpr int64_t kLeewayS = 300;

http::Error Bad(const std::string& why) {
  return MakeError(ErrorKind::kMalformed, "the id_token from Globus Auth " + why);
}

// A time in seconds; absent when missing, not a number, or outside what
// int64_t holds (converting such a double would be undefined).
std::optional<int64_t> OptInt(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!(v > -0x1p63 && v < 0x1p63)) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

std::unique_ptr<EVP_PKEY, PkeyFree> RsaKeyFromJwk(const json& jwk) {
  std::string n = Base64UrlDecode(Str(jwk, "n")), e = Base64UrlDecode(Str(jwk, "e"));
  if (n.empty() || e.empty()) return nullptr;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* key = nullptr;
  if (ctx && EVP_PKEY_fromdata_init(ctx) == 1) EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return std::unique_ptr<EVP_PKEY, PkeyFree>(key);
}

}  // namespace

http::Result<IdTokenClaims> DecodeIdToken(const std::string& jwt) {
  auto d1 = jwt.find('.');
  auto d2 = d1 == std::string::npos ? d1 : jwt.find('.', d1 + 1);
  if (d2 == std::string::npos) return Bad("is not a JWT");
  json payload = json::parse(Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1)), nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) return Bad("has an unreadable payload");
  IdTokenClaims c;
  c.sub = Str(payload, "sub");
  if (c.sub.empty()) return Bad("has no subject");
  c.preferred_username = Str(payload, "preferred_username");
  c.name = Str(payload, "name");
  c.email = Str(payload, "email");
  c.iss = Str(payload, "iss");
  if (payload.contains("aud") && payload["aud"].is_array() && !payload["aud"].empty() &&
      payload["aud"][0].is_string()) {
    c.aud = payload["aud"][0];
  } else {
    c.aud = Str(payload, "aud");
  }
  c.exp = OptInt(payload, "exp").value_or(0);
  c.last_authentication = OptInt(payload, "last_authentication");
  if (payload.contains("identity_set") && payload["identity_set"].is_array()) {
    for (const auto& i : payload["identity_set"]) {
      if (!i.is_object()) continue;
      c.identity_set.push_back(
          {Str(i, "sub"), Str(i, "username"), Str(i, "name"), OptInt(i, "last_authentication")});
    }
  }
  c.raw = payload;
  return c;
}

http::Result<IdTokenClaims> VerifyIdToken(const std::string& jwt, const json& jwks,
                                          const std::string& expected_issuer,
                                          const std::string& client_id, int64_t now) {
  auto claims = DecodeIdToken(jwt);
  if (!claims) return claims;
  auto d1 = jwt.find('.');
  auto d2 = jwt.find('.', d1 + 1);
  json header = json::parse(Base64UrlDecode(jwt.substr(0, d1)), nullptr, false);
  if (header.is_discarded() || !header.is_object()) return Bad("has an unreadable header");
  if (Str(header, "alg") != "RS512") return Bad("is not signed with RS512");
  std::string kid = Str(header, "kid");
  const json* key_json = nullptr;
  if (jwks.contains("keys") && jwks["keys"].is_array()) {
    for (const auto& k : jwks["keys"]) {
      if (!k.is_object() || Str(k, "kty") != "RSA") continue;
      if (kid.empty() || Str(k, "kid") == kid || (jwks["keys"].size() == 1 && Str(k, "kid").empty())) {
        key_json = &k;
        break;
      }
    }
  }
  if (!key_json) return Bad("is signed with an unknown key");
  auto key = RsaKeyFromJwk(*key_json);
  if (!key) return Bad("names an unusable key");
  std::string signing_input = jwt.substr(0, d2);
  std::string sig = Base64UrlDecode(jwt.substr(d2 + 1));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha512(), nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return Bad("has a bad signature");
  auto strip = [](std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
  };
  if (strip(claims->iss) != strip(expected_issuer)) return Bad("was issued by someone else");
  if (claims->aud != client_id) return Bad("was issued to another client");
  if (claims->exp + kLeewayS < now) return Bad("has expired");
  return claims;
}

}  // namespace globusfs::auth
