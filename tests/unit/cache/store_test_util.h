// Helpers shared by the MetadataStore tests: entries, listings, opening a
// store in a TempDir. Not thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cache/metadata_store.h"
#include "temp_dir.h"

namespace globusfs::cache::testing {

inline constexpr char kColl[] = "6fa2b9d4-1f0e-4c8a-9d3b-2f5e8a7c1b90";
inline constexpr char kOtherColl[] = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

inline FileEntry File(std::string name, uint64_t size = 0) {
  FileEntry e;
  e.name = std::move(name);
  e.size = size;
  e.mtime = 1700000000;
  return e;
}

inline FileEntry Dir(std::string name) {
  FileEntry e = File(std::move(name));
  e.type = EntryType::kDir;
  e.mode = 0755;
  return e;
}

inline Listing MakeListing(int64_t fetched_at_ms, std::vector<FileEntry> entries) {
  Listing l;
  l.fetched_at_ms = fetched_at_ms;
  l.entries = std::move(entries);
  return l;
}

inline std::vector<std::string> Names(const std::optional<Listing>& listing) {
  std::vector<std::string> names;
  if (listing) {
    for (const FileEntry& e : listing->entries) names.push_back(e.name);
  }
  return names;
}

inline MetadataStoreOptions Options(const std::filesystem::path& dir, int64_t ttl_ms = 10000) {
  MetadataStoreOptions o;
  o.dir = dir;
  o.ttl_ms = ttl_ms;
  o.boot_id = "boot-1";
  return o;
}

inline std::unique_ptr<MetadataStore> OpenStore(const MetadataStoreOptions& options) {
  std::string error;
  auto store = MetadataStore::Open(options, &error);
  EXPECT_NE(store, nullptr) << error;
  return store;
}

}  // namespace globusfs::cache::testing
