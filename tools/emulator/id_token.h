// Signs OpenID Connect id_tokens (JWT, RS512) for the emulator's Auth and
// publishes the matching JWKS (/jwk.json). The RSA key is kept in
// DIR/id-token-key.pem so tokens stay verifiable across restarts.
// Thread-safe after construction (signing uses a fresh context per call).
#pragma once

#include <openssl/evp.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace emu {

class IdTokenSigner {
 public:
  explicit IdTokenSigner(const std::filesystem::path& dir);
  ~IdTokenSigner();
  IdTokenSigner(const IdTokenSigner&) = delete;
  IdTokenSigner& operator=(const IdTokenSigner&) = delete;

  std::string Sign(const nlohmann::json& claims) const;  // compact JWS
  nlohmann::json Jwks() const;                            // {"keys": [...]}

 private:
  EVP_PKEY* key_ = nullptr;
  std::string kid_;
};

}  // namespace emu
