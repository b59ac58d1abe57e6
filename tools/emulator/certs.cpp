#include "certs.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace emu {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct BioFree { void operator()(BIO* p) const { BIO_free(p); } };
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void Fail(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = {};
  if (e) ERR_error_string_n(e, buf, sizeof(buf));
  throw std::runtime_error("TLS setup: " + what + (e ? std::string(": ") + buf : ""));
}

PkeyPtr NewKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) Fail("cannot make an EC key");
  return key;
}

std::string ToPem(EVP_PKEY* key) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) Fail("PEM key");
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string ToPem(X509* cert) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(b.get(), cert)) Fail("PEM cert");
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) Fail("extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509Ptr MakeCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca,
                 long days) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400L);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("globus-emulator"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExt(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    AddExt(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    AddExt(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExt(cert.get(), signer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    AddExt(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    AddExt(cert.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    AddExt(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256())) Fail("signing");
  return cert;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::filesystem::path& p, const std::string& text, mode_t mode) {
  auto tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), mode);
  std::filesystem::rename(tmp, p);
}

}  // namespace

TlsIdentity LoadOrCreateTls(const std::filesystem::path& dir) {
  auto ca_pem = dir / "ca.pem";
  auto ca_key_pem = dir / "ca-key.pem";
  PkeyPtr ca_key;
  X509Ptr ca_cert;
  if (std::filesystem::exists(ca_pem) && std::filesystem::exists(ca_key_pem)) {
    std::string kp = ReadFile(ca_key_pem), cp = ReadFile(ca_pem);
    BioPtr kb(BIO_new_mem_buf(kp.data(), static_cast<int>(kp.size())));
    BioPtr cb(BIO_new_mem_buf(cp.data(), static_cast<int>(cp.size())));
    ca_key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    ca_cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    // An expired or unreadable CA is replaced.
    if (ca_cert && X509_cmp_current_time(X509_get0_notAfter(ca_cert.get())) <= 0) ca_cert.reset();
  }
  if (!ca_key || !ca_cert) {
    ca_key = NewKey();
    ca_cert = MakeCert(ca_key.get(), "globus-emulator local CA", nullptr, nullptr, true, 3650);
    WriteFile(ca_key_pem, ToPem(ca_key.get()), 0600);
    WriteFile(ca_pem, ToPem(ca_cert.get()), 0644);
  }
  PkeyPtr key = NewKey();
  X509Ptr cert = MakeCert(key.get(), "127.0.0.1", ca_cert.get(), ca_key.get(), false, 825);
  return TlsIdentity{ToPem(cert.get()), ToPem(key.get())};
}

}  // namespace emu
