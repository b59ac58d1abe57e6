// Test support: deterministic file contents and small file helpers for the
// integration tests. Header-only; thread-safe (no shared state).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace globusfs::testing {

// "f000042": names that sort like their numbers (MakeEmptyFiles' names).
inline std::string NumberedName(int i) {
  char name[16];
  std::snprintf(name, sizeof(name), "f%06d", i);
  return name;
}

// `count` empty files NumberedName(0..count-1) in `dir`, made directly on
// the emulator's disk: hard links to a few empty files in `seeds`, outside
// the collection (ext4 allows 65,000 links to one inode), as making 150,000
// inodes can take minutes on a busy disk. Fails the test on an error.
inline void MakeEmptyFiles(const std::filesystem::path& seeds, const std::filesystem::path& dir, int count) {
  constexpr int kLinksPerFile = 50000;
  std::filesystem::create_directories(dir);
  std::filesystem::create_directories(seeds);
  std::filesystem::path seed;
  for (int i = 0; i < count; ++i) {
    if (i % kLinksPerFile == 0) {
      seed = seeds / (dir.filename().string() + "-" + std::to_string(i / kLinksPerFile));
      int fd = ::open(seed.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ASSERT_GE(fd, 0) << seed;
      ::close(fd);
    }
    ASSERT_EQ(::link(seed.c_str(), (dir / NumberedName(i)).c_str()), 0) << dir / NumberedName(i);
  }
}

// `size` pseudo-random bytes; the same seed gives the same bytes.
inline std::string Pattern(uint64_t size, uint32_t seed) {
  std::string s(size, '\0');
  std::mt19937 rng(seed);
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

inline void WriteFile(const std::filesystem::path& p, const std::string& data) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

inline std::string Sha256(const std::string& data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[d[i] >> 4];
    out += kHex[d[i] & 15];
  }
  return out;
}

}  // namespace globusfs::testing
