#include "id_token.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "util.h"

namespace emu {
namespace {

std::string BnBytes(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &bn)) throw std::runtime_error("id_token key: no param");
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

}  // namespace

IdTokenSigner::IdTokenSigner(const std::filesystem::path& dir) {
  auto path = dir / "id-token-key.pem";
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string pem = ss.str();
    BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    key_ = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
  }
  if (!key_) {
    key_ = EVP_RSA_gen(2048);
    if (!key_) throw std::runtime_error("cannot make the id_token RSA key");
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key_, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string tmp = path.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out.write(data, n);
    }
    BIO_free(b);
    ::chmod(tmp.c_str(), 0600);
    std::filesystem::rename(tmp, path);
  }
  kid_ = Sha256Hex(BnBytes(key_, OSSL_PKEY_PARAM_RSA_N)).substr(0, 16);
}

IdTokenSigner::~IdTokenSigner() { EVP_PKEY_free(key_); }

std::string IdTokenSigner::Sign(const nlohmann::json& claims) const {
  nlohmann::json header = {{"alg", "RS512"}, {"typ", "JWT"}, {"kid", kid_}};
  std::string input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::vector<unsigned char> sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha512(), nullptr, key_) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()),
                        input.size()) == 1;
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("id_token signing failed");
  return input + "." + Base64Url(std::string(reinterpret_cast<char*>(sig.data()), len));
}

nlohmann::json IdTokenSigner::Jwks() const {
  return {{"keys",
           nlohmann::json::array({{{"kty", "RSA"},
                                   {"alg", "RS512"},
                                   {"use", "sig"},
                                   {"kid", kid_},
                                   {"n", Base64Url(BnBytes(key_, OSSL_PKEY_PARAM_RSA_N))},
                                   {"e", Base64Url(BnBytes(key_, OSSL_PKEY_PARAM_RSA_E))}}})}};
}

}  // namespace emu
