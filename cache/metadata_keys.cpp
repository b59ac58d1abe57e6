#include "cache/metadata_keys.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace globusfs::cache::keys {
namespace {

constexpr size_t kLengthSize = 4;

void AppendSha256(std::string_view data, std::string* out) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1 ||
      size != kHashedSize - kInlineMax - 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  out->append(reinterpret_cast<const char*>(digest), size);
}

}  // namespace

std::string StoredKey(std::string_view logical_key) {
  if (logical_key.size() <= kInlineMax) return std::string(logical_key);
  std::string key;
  key.reserve(kHashedSize);
  key.append(logical_key.substr(0, kInlineMax));
  key.push_back(kHashMarker);
  AppendSha256(logical_key, &key);
  return key;
}

bool IsHashed(std::string_view stored_key) {
  return stored_key.size() == kHashedSize && stored_key[kInlineMax] == kHashMarker;
}

std::string_view ScanPrefix(std::string_view logical_prefix) {
  return logical_prefix.substr(0, kInlineMax);
}

std::string Wrap(std::string_view logical_key, std::string record) {
  if (logical_key.size() <= kInlineMax) return record;
  record.reserve(record.size() + logical_key.size() + kLengthSize);
  record.append(logical_key);
  for (size_t i = 0; i < kLengthSize; ++i) {
    record.push_back(static_cast<char>(logical_key.size() >> (8 * i)));
  }
  return record;
}

size_t WrappedSize(std::string_view logical_key, size_t record_size) {
  return logical_key.size() <= kInlineMax ? record_size
                                          : record_size + logical_key.size() + kLengthSize;
}

bool Split(std::string_view stored_key, std::string_view value, std::string_view* logical_key,
           std::string_view* record) {
  if (!IsHashed(stored_key)) {
    *logical_key = stored_key;
    *record = value;
    return true;
  }
  if (value.size() < kLengthSize) return false;
  uint64_t size = 0;
  const std::string_view trailer = value.substr(value.size() - kLengthSize);
  for (size_t i = 0; i < kLengthSize; ++i) {
    size |= uint64_t{static_cast<uint8_t>(trailer[i])} << (8 * i);
  }
  if (size > value.size() - kLengthSize) return false;
  const size_t record_size = value.size() - kLengthSize - size;
  *logical_key = value.substr(record_size, size);
  *record = value.substr(0, record_size);
  // A hashed key is only ever made from a logical key longer than kInlineMax
  // that starts with the key's own prefix.
  return logical_key->size() > kInlineMax &&
         logical_key->starts_with(stored_key.substr(0, kInlineMax));
}

std::optional<std::string_view> Unwrap(std::string_view stored_key, std::string_view value,
                                       std::string_view logical_key) {
  std::string_view found_key;
  std::string_view record;
  if (!Split(stored_key, value, &found_key, &record) || found_key != logical_key) {
    return std::nullopt;
  }
  return record;
}

std::optional<std::string_view> Get(Txn& txn, const Dbi& dbi, std::string_view logical_key) {
  const std::string stored = StoredKey(logical_key);
  const std::optional<std::string_view> value = dbi.Get(txn, stored);
  if (!value) return std::nullopt;
  return Unwrap(stored, *value, logical_key);
}

}  // namespace globusfs::cache::keys
