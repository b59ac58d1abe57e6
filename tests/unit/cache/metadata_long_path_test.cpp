// Paths longer than LMDB's key limit (up to PATH_MAX): the stored key form
// (cache/metadata_keys.h) and every MetadataStore operation on ~4,000-byte
// nested paths.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cache/metadata_codec.h"
#include "cache/metadata_keys.h"
#include "cache/metadata_store.h"
#include "store_test_util.h"

namespace globusfs::cache {
namespace {

using namespace globusfs::cache::testing;  // NOLINT: test helpers
using Lookup = MetadataStore::Lookup;
using Strings = std::vector<std::string>;

// A 199-byte name of `c`s; `depth` of them nested make a path of 200*depth bytes.
std::string Name(char c) { return std::string(199, c); }

std::string Nested(std::string_view base, char c, int depth) {
  std::string path(base == "/" ? "" : base);
  for (int i = 0; i < depth; ++i) path += "/" + Name(c);
  return path;
}

TEST(MetadataKeysTest, ShortKeysAreStoredAsIs) {
  const std::string key = codec::MakeKey(kColl, "/a/b");
  EXPECT_EQ(keys::StoredKey(key), key);
  EXPECT_FALSE(keys::IsHashed(key));
  EXPECT_EQ(keys::Wrap(key, "record"), "record");
  EXPECT_EQ(keys::Unwrap(key, "record", key), "record");
  const std::string at_limit(keys::kInlineMax, 'x');
  EXPECT_EQ(keys::StoredKey(at_limit), at_limit);
}

TEST(MetadataKeysTest, LongKeysAreHashedAndVerified) {
  const std::string a = codec::MakeKey(kColl, Nested("/", 'a', 20));
  const std::string b = a.substr(0, a.size() - 1) + "b";  // same first kInlineMax bytes
  ASSERT_GT(a.size(), 4000u);
  const std::string stored_a = keys::StoredKey(a);
  const std::string stored_b = keys::StoredKey(b);
  EXPECT_EQ(stored_a.size(), keys::kHashedSize);
  EXPECT_TRUE(keys::IsHashed(stored_a));
  EXPECT_NE(stored_a, stored_b);
  EXPECT_EQ(stored_a.substr(0, keys::kInlineMax), a.substr(0, keys::kInlineMax));
  EXPECT_LE(stored_a.size(), 511u);  // LMDB's default key limit

  const std::string value = keys::Wrap(a, "record");
  EXPECT_EQ(keys::WrappedSize(a, 6), value.size());
  EXPECT_EQ(keys::Unwrap(stored_a, value, a), "record");
  // The record of another key under the same stored key (a hash collision)
  // is not returned.
  EXPECT_EQ(keys::Unwrap(stored_a, value, b), std::nullopt);
  std::string_view logical;
  std::string_view record;
  ASSERT_TRUE(keys::Split(stored_a, value, &logical, &record));
  EXPECT_EQ(logical, a);
  EXPECT_EQ(record, "record");
  // Malformed values fail cleanly.
  for (size_t n = 0; n < value.size(); ++n) {
    EXPECT_EQ(keys::Unwrap(stored_a, value.substr(0, n), a), std::nullopt) << n;
  }
  // A logical key that does not start like the stored key is rejected.
  const std::string other = codec::MakeKey(kColl, Nested("/", 'z', 20));
  EXPECT_FALSE(keys::Split(stored_a, keys::Wrap(other, "x"), &logical, &record));
  // A scan prefix longer than the inline part is cut to it.
  const std::string prefix = codec::DescendantPrefix(kColl, Nested("/", 'a', 10));
  EXPECT_EQ(keys::ScanPrefix(prefix), prefix.substr(0, keys::kInlineMax));
  EXPECT_TRUE(stored_a.starts_with(keys::ScanPrefix(prefix)));
}

class LongPathTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(Options(tmp_.path() / "meta", kTtl)); }
  void TearDown() override {
    if (store_) {
      EXPECT_EQ(store_->GetStats().write_failures, 0u);
    }
  }

  Lookup Find(std::string_view path, int64_t now, FileEntry* out = nullptr) {
    FileEntry unused;
    return store_->LookupEntry(kColl, path, now, out != nullptr ? out : &unused);
  }
  bool Listed(std::string_view dir) {
    return store_->GetListing(kColl, dir, 0, /*allow_stale=*/true).has_value();
  }

  static constexpr int64_t kTtl = 1000;
  TempDir tmp_;
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(LongPathTest, ListingsAndLookups) {
  const std::string dir = Nested("/", 'd', 20);  // 4,000 bytes
  const std::string sibling = Nested("/", 'd', 19) + "/" + Name('e');
  ASSERT_EQ(dir.size(), 4000u);
  store_->PutListing(kColl, dir, MakeListing(0, {File(Name('f'), 7), Dir("sub")}));
  store_->PutListing(kColl, sibling, MakeListing(0, {File("other")}));
  EXPECT_EQ(Names(store_->GetListing(kColl, dir, 10)), (Strings{Name('f'), "sub"}));
  EXPECT_EQ(Names(store_->GetListing(kColl, sibling, 10)), (Strings{"other"}));
  EXPECT_FALSE(store_->GetListing(kOtherColl, dir, 10).has_value());

  FileEntry e;
  EXPECT_EQ(Find(dir + "/" + Name('f'), 10, &e), Lookup::kFound);  // 4,200 bytes
  EXPECT_EQ(e.size, 7u);
  EXPECT_EQ(Find(dir + "/nope", 10), Lookup::kMissing);

  // Attribute and negative records of long paths, without a parent listing.
  const std::string file = Nested("/", 'p', 20) + "/file";
  store_->PutEntry(kColl, file, File("file", 3), 10);
  EXPECT_EQ(Find(file, 10, &e), Lookup::kFound);
  EXPECT_EQ(e.size, 3u);
  store_->PutNegative(kColl, file, 20);
  EXPECT_EQ(Find(file, 20), Lookup::kMissing);
  store_->PutEntry(kColl, file + "2", File("file2"), 20);
  EXPECT_EQ(Find(file + "2", 20), Lookup::kFound);
  EXPECT_EQ(Find(file, 20), Lookup::kMissing);  // a neighbour did not replace it
}

TEST_F(LongPathTest, ApplyCreateAndRemovePatchTheLongParent) {
  const std::string dir = Nested("/", 'd', 20);
  store_->PutListing(kColl, dir, MakeListing(0, {File("a")}));
  store_->ApplyCreate(kColl, dir + "/b", Dir("b"), 5);
  store_->PutListing(kColl, dir + "/b", MakeListing(5, {File("inner")}));
  store_->PutListing(kColl, dir + "/b/" + Name('x'), MakeListing(5, {}));
  EXPECT_EQ(Names(store_->GetListing(kColl, dir, 5)), (Strings{"a", "b"}));

  store_->ApplyRemove(kColl, dir + "/b", 6);
  EXPECT_EQ(Names(store_->GetListing(kColl, dir, 6)), (Strings{"a"}));
  EXPECT_FALSE(Listed(dir + "/b"));
  EXPECT_FALSE(Listed(dir + "/b/" + Name('x')));
  EXPECT_EQ(Find(dir + "/b", 6), Lookup::kMissing);
  EXPECT_TRUE(Listed(dir));

  // A non-directory created over a long directory forgets the listings below.
  store_->PutListing(kColl, dir + "/a", MakeListing(6, {}));
  store_->PutListing(kColl, dir + "/a/" + Name('y'), MakeListing(6, {}));
  store_->ApplyCreate(kColl, dir + "/a", File("a", 1), 7);
  EXPECT_FALSE(Listed(dir + "/a"));
  EXPECT_FALSE(Listed(dir + "/a/" + Name('y')));
}

TEST_F(LongPathTest, RenameReKeysASubtreeOfLongPaths) {
  // "/top" holds a chain of 20 nested 199-byte folders, each listed.
  std::vector<std::string> chain;
  std::string path = "/top";
  store_->PutListing(kColl, "/", MakeListing(0, {Dir("top"), Dir("top-x")}));
  for (int i = 0; i < 20; ++i) {
    store_->PutListing(kColl, path, MakeListing(0, {Dir(Name('c'))}));
    chain.push_back(path);
    path += "/" + Name('c');
  }
  store_->PutEntry(kColl, path, File(Name('c'), 42), 0);  // the deepest, ~4,000 bytes
  store_->PutListing(kColl, "/top-x", MakeListing(0, {}));

  store_->ApplyRename(kColl, "/top", "/moved", 10);
  for (const std::string& old_dir : chain) {
    EXPECT_FALSE(Listed(old_dir)) << old_dir.size();
    const std::string new_dir = "/moved" + old_dir.substr(4);
    EXPECT_EQ(Names(store_->GetListing(kColl, new_dir, 10)), (Strings{Name('c')}))
        << new_dir.size();
  }
  FileEntry e;
  EXPECT_EQ(Find("/moved" + path.substr(4), 10, &e), Lookup::kFound);
  EXPECT_EQ(e.size, 42u);
  EXPECT_EQ(Find(path, 10), Lookup::kUnknown);
  EXPECT_TRUE(Listed("/top-x"));
  EXPECT_EQ(Names(store_->GetListing(kColl, "/", 10)), (Strings{"moved", "top-x"}));
}

TEST_F(LongPathTest, RenameOfALongPath) {
  const std::string a = Nested("/", 'a', 19);
  const std::string b = Nested("/", 'b', 19);
  store_->PutListing(kColl, a, MakeListing(0, {Dir(Name('s')), File("f", 9)}));
  store_->PutListing(kColl, a + "/" + Name('s'), MakeListing(0, {File("deep", 1)}));
  store_->PutListing(kColl, b, MakeListing(0, {}));

  // A long folder into another long folder: re-keyed from hashed to hashed.
  store_->ApplyRename(kColl, a + "/" + Name('s'), b + "/" + Name('t'), 10);
  EXPECT_EQ(Names(store_->GetListing(kColl, a, 10)), (Strings{"f"}));
  EXPECT_EQ(Names(store_->GetListing(kColl, b, 10)), (Strings{Name('t')}));
  EXPECT_EQ(Names(store_->GetListing(kColl, b + "/" + Name('t'), 10)), (Strings{"deep"}));
  EXPECT_FALSE(Listed(a + "/" + Name('s')));
  EXPECT_EQ(Find(a + "/" + Name('s'), 10), Lookup::kMissing);

  // A long file to a short name and back.
  store_->PutListing(kColl, "/short", MakeListing(0, {}));
  store_->ApplyRename(kColl, a + "/f", "/short/f", 20);
  FileEntry e;
  EXPECT_EQ(Find("/short/f", 20, &e), Lookup::kFound);
  EXPECT_EQ(e.size, 9u);
  EXPECT_EQ(Find(a + "/f", 20), Lookup::kMissing);
  store_->ApplyRename(kColl, "/short/f", a + "/g", 30);
  EXPECT_EQ(Find(a + "/g", 30, &e), Lookup::kFound);
  EXPECT_EQ(e.size, 9u);
}

TEST_F(LongPathTest, InvalidateAndPrefixSafeSubtrees) {
  const std::string base = Nested("/", 'q', 10);  // 2,000 bytes: scans use a cut prefix
  for (const char* leaf : {"/d", "/d/x", "/d/x/y", "/dx", "/d-x", "/e"}) {
    store_->PutListing(kColl, base + leaf, MakeListing(0, {}));
  }
  store_->PutEntry(kColl, base + "/dx/f", File("f"), 0);
  store_->InvalidateSubtree(kColl, base + "/d");
  EXPECT_FALSE(Listed(base + "/d"));
  EXPECT_FALSE(Listed(base + "/d/x"));
  EXPECT_FALSE(Listed(base + "/d/x/y"));
  EXPECT_TRUE(Listed(base + "/dx"));
  EXPECT_TRUE(Listed(base + "/d-x"));
  EXPECT_TRUE(Listed(base + "/e"));
  EXPECT_EQ(Find(base + "/dx/f", 0), Lookup::kFound);

  store_->Invalidate(kColl, base + "/dx");
  EXPECT_FALSE(Listed(base + "/dx"));
  EXPECT_EQ(Find(base + "/dx/f", 0), Lookup::kFound);  // only the path itself

  // The subtree of a short ancestor takes its long descendants with it.
  store_->InvalidateSubtree(kColl, "/" + Name('q'));
  EXPECT_FALSE(Listed(base + "/e"));
  EXPECT_EQ(Find(base + "/dx/f", 0), Lookup::kUnknown);
  EXPECT_EQ(store_->GetStats().listings, 0u);
  EXPECT_EQ(store_->GetStats().entries, 0u);
}

TEST_F(LongPathTest, FilesystemRecordsOnLongPaths) {
  const std::string a = Nested("/", 'a', 19);
  const std::string file = a + "/" + Name('s') + "/f";  // ~4,000 bytes
  store_->PutListing(kColl, a, MakeListing(0, {Dir(Name('s'))}));
  store_->PutListing(kColl, a + "/" + Name('s'), MakeListing(0, {}));
  store_->ApplyCreate(kColl, file, File("f", 5), 10);
  store_->PutVersion(kColl, file, ContentVersion{9, 5, 0, true, 0});
  store_->PutTimes(kColl, file, UserTimes{1, 0, 2, 0, 5, 0});
  EXPECT_EQ(store_->SubdirCount(kColl, a, 10), 1u);
  EXPECT_EQ(store_->DirChangedAtMs(kColl, a + "/" + Name('s'), 10), 10);
  EXPECT_EQ(store_->GetVersion(kColl, file), (ContentVersion{9, 5, 0, true, 0}));
  EXPECT_EQ(store_->GetTimes(kColl, file), (UserTimes{1, 0, 2, 0, 5, 0}));

  // Renaming the long folder: times and change records move, versions go.
  const std::string b = Nested("/", 'b', 19);
  const std::string moved = b + "/" + Name('t') + "/f";
  store_->ApplyRename(kColl, a + "/" + Name('s'), b + "/" + Name('t'), 20);
  EXPECT_EQ(store_->GetTimes(kColl, moved), (UserTimes{1, 0, 2, 0, 5, 0}));
  EXPECT_EQ(store_->GetTimes(kColl, file), std::nullopt);
  EXPECT_EQ(store_->GetVersion(kColl, moved), std::nullopt);
  EXPECT_EQ(store_->GetVersion(kColl, file), std::nullopt);
  EXPECT_EQ(store_->DirChangedAtMs(kColl, b + "/" + Name('t'), 20), 10);
  EXPECT_EQ(store_->DirChangedAtMs(kColl, a, 20), 20);
  EXPECT_EQ(store_->DirChangedAtMs(kColl, b, 20), 20);
  EXPECT_EQ(store_->SubdirCount(kColl, a, 20), 0u);

  store_->ApplyRemove(kColl, b + "/" + Name('t'), 30);
  EXPECT_EQ(store_->GetTimes(kColl, moved), std::nullopt);
  EXPECT_EQ(store_->DirChangedAtMs(kColl, b + "/" + Name('t'), 30), std::nullopt);
  EXPECT_EQ(store_->GetStats().times, 0u);
}

TEST_F(LongPathTest, EvictionAndReopen) {
  auto options = Options(tmp_.path() / "small", kTtl);
  options.max_bytes = 256 * 1024;
  auto store = OpenStore(options);
  const std::string base = Nested("/", 'v', 19);
  for (int i = 0; i < 400; ++i) {
    store->PutListing(kColl, base + "/" + std::to_string(i), MakeListing(0, {File("f")}));
    store->PutEntry(kColl, base + "/e" + std::to_string(i), File("x"), 0);
  }
  auto stats = store->GetStats();
  EXPECT_LE(stats.bytes, options.max_bytes);
  EXPECT_LT(stats.listings, 400u);  // the oldest went
  EXPECT_FALSE(store->GetListing(kColl, base + "/0", 0).has_value());
  EXPECT_TRUE(store->GetListing(kColl, base + "/399", 0).has_value());
  EXPECT_EQ(stats.write_failures, 0u);

  store.reset();
  store = OpenStore(options);
  EXPECT_TRUE(store->GetListing(kColl, base + "/399", 0).has_value());
  FileEntry e;
  EXPECT_EQ(store->LookupEntry(kColl, base + "/e399", 0, &e), Lookup::kFound);
  EXPECT_EQ(store->GetStats().bytes, stats.bytes);
  // A subtree wipe of the long base empties the store and its byte count.
  store->InvalidateSubtree(kColl, base);
  EXPECT_EQ(store->GetStats().bytes, 0u);
}

}  // namespace
}  // namespace globusfs::cache
