// TempDir: a fresh directory for one test, removed with everything in it
// when the object goes out of scope. Not thread-safe (one per test).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace globusfs::cache::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "globusfs_cache_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace globusfs::cache::testing
