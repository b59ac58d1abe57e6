#include "cache/metadata_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace globusfs::cache::codec {
namespace {

FileEntry Entry(std::string name, EntryType type = EntryType::kFile, uint64_t size = 0) {
  FileEntry e;
  e.name = std::move(name);
  e.type = type;
  e.size = size;
  return e;
}

TEST(MetadataCodecTest, PathHelpers) {
  EXPECT_EQ(ParentPath("/a/b"), "/a");
  EXPECT_EQ(ParentPath("/a"), "/");
  EXPECT_EQ(ParentPath("/"), "");
  EXPECT_EQ(BaseName("/a/b"), "b");
  EXPECT_EQ(BaseName("/a"), "a");
  EXPECT_EQ(BaseName("/"), "");
  EXPECT_TRUE(IsBelow("/a/b/c", "/a/b"));
  EXPECT_TRUE(IsBelow("/a/b/c", "/a"));
  EXPECT_TRUE(IsBelow("/a", "/"));
  EXPECT_FALSE(IsBelow("/a/bc", "/a/b"));
  EXPECT_FALSE(IsBelow("/a/b", "/a/b"));
  EXPECT_FALSE(IsBelow("/", "/"));
}

TEST(MetadataCodecTest, KeysSeparateCollectionsAndSubtrees) {
  EXPECT_EQ(MakeKey("c1", "/a"), std::string("c1\0/a", 5));
  EXPECT_EQ(DescendantPrefix("c1", "/a/b"), std::string("c1\0/a/b/", 8));
  EXPECT_EQ(DescendantPrefix("c1", "/"), std::string("c1\0/", 4));
  // "/a/bc" and "/a/b-x" do not share the descendant prefix of "/a/b".
  EXPECT_FALSE(MakeKey("c1", "/a/bc").starts_with(DescendantPrefix("c1", "/a/b")));
  EXPECT_FALSE(MakeKey("c1", "/a/b-x").starts_with(DescendantPrefix("c1", "/a/b")));
  // A collection id that is a prefix of another does not capture its keys.
  EXPECT_FALSE(MakeKey("c10", "/a").starts_with(DescendantPrefix("c1", "/")));
}

TEST(MetadataCodecTest, ListingRoundTripWithOddNames) {
  std::vector<FileEntry> entries = {
      Entry(""),  // not a valid name, but the codec must not care
      Entry("\n newline\n"),
      Entry("100% done"),
      Entry("a b c", EntryType::kDir),
      Entry(std::string(255, 'x'), EntryType::kFile, uint64_t{1} << 60),
      Entry("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"),
  };
  entries[1].mtime = -1234567890;  // before the epoch
  entries[2].mtime = 1700000000;
  entries[2].mode = 07777;
  FileEntry link = Entry("link", EntryType::kSymlink);
  link.link_target = "../target with spaces";
  entries.push_back(link);
  entries.push_back(Entry("zz broken", EntryType::kInvalidSymlink));
  std::sort(entries.begin(), entries.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.name < b.name; });

  const std::string record = EncodeListing(42, entries);
  Listing decoded;
  ASSERT_TRUE(DecodeListing(record, &decoded));
  EXPECT_EQ(decoded.fetched_at_ms, 42);
  EXPECT_EQ(decoded.entries, entries);

  for (const FileEntry& e : entries) {
    FileEntry found;
    ASSERT_EQ(FindInListing(record, e.name, &found), Find::kFound) << e.name;
    EXPECT_EQ(found, e);
  }
  FileEntry unused;
  EXPECT_EQ(FindInListing(record, "a b", &unused), Find::kAbsent);
  EXPECT_EQ(FindInListing(record, "zzz", &unused), Find::kAbsent);
}

TEST(MetadataCodecTest, EmptyListing) {
  const std::string record = EncodeListing(7, {});
  Listing decoded;
  decoded.entries.push_back(Entry("stale"));
  ASSERT_TRUE(DecodeListing(record, &decoded));
  EXPECT_TRUE(decoded.entries.empty());
  FileEntry unused;
  EXPECT_EQ(FindInListing(record, "x", &unused), Find::kAbsent);
}

TEST(MetadataCodecTest, HeaderAndSeq) {
  std::string record = EncodeNegative(-5);
  SetSeq(&record, 0x0102030405060708);
  RecordHeader h;
  ASSERT_TRUE(DecodeHeader(record, &h));
  EXPECT_EQ(h.kind, RecordKind::kNegative);
  EXPECT_EQ(h.seq, 0x0102030405060708u);
  EXPECT_EQ(h.fetched_at_ms, -5);

  FileEntry e = Entry("f", EntryType::kFile, 99);
  std::string attr = EncodeAttr(10, e);
  SetSeq(&attr, 3);
  FileEntry decoded;
  ASSERT_TRUE(DecodeAttr(attr, &decoded));
  EXPECT_EQ(decoded, e);
  Listing unused;
  EXPECT_FALSE(DecodeListing(attr, &unused));  // wrong kind
  EXPECT_FALSE(DecodeAttr(record, &decoded));
}

TEST(MetadataCodecTest, MalformedRecordsAreRejectedNotOverread) {
  std::vector<FileEntry> entries;
  for (int i = 0; i < 20; ++i) entries.push_back(Entry("name" + std::to_string(100 + i)));
  const std::string record = EncodeListing(1, entries);
  // Every truncation fails cleanly (ASan checks there is no over-read); a
  // lookup may still find an entry whose bytes are intact, never a wrong one.
  for (size_t n = 0; n < record.size(); ++n) {
    const std::string cut = record.substr(0, n);
    Listing l;
    EXPECT_FALSE(DecodeListing(cut, &l)) << n;
    FileEntry e;
    if (FindInListing(cut, "name110", &e) == Find::kFound) {
      EXPECT_EQ(e, entries[10]) << n;
    }
  }
  // Every single-byte corruption either fails or decodes to something.
  for (size_t i = 0; i < record.size(); ++i) {
    std::string bad = record;
    bad[i] = static_cast<char>(bad[i] ^ 0xff);
    Listing l;
    DecodeListing(bad, &l);
    FileEntry e;
    FindInListing(bad, "name110", &e);
  }
  std::string wrong_version = record;
  wrong_version[0] = 99;
  Listing l;
  EXPECT_FALSE(DecodeListing(wrong_version, &l));
  RecordHeader h;
  EXPECT_FALSE(DecodeHeader(wrong_version, &h));
  const std::string huge_count =
      std::string(record.substr(0, kHeaderSize)) + "\xff\xff\xff\xff" + std::string(4, '\0');
  EXPECT_FALSE(DecodeListing(huge_count, &l));
  uint32_t count = 0;
  uint32_t subdirs = 0;
  EXPECT_FALSE(ListingCounts(huge_count, &count, &subdirs));
}

TEST(MetadataCodecTest, ListingHeaderCountsSubdirectories) {
  const std::vector<FileEntry> entries = {
      Entry("a", EntryType::kDir), Entry("b"), Entry("c", EntryType::kSymlink),
      Entry("d", EntryType::kDir), Entry("e", EntryType::kInvalidSymlink)};
  std::string record = EncodeListing(1, entries);
  uint32_t count = 0;
  uint32_t subdirs = 0;
  ASSERT_TRUE(ListingCounts(record, &count, &subdirs));
  EXPECT_EQ(count, 5u);
  EXPECT_EQ(subdirs, 2u);
  ASSERT_TRUE(ListingCounts(EncodeListing(1, {}), &count, &subdirs));
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(subdirs, 0u);

  // A header that disagrees with the entries is corrupt.
  record[kHeaderSize + 4] = 3;
  Listing l;
  EXPECT_FALSE(DecodeListing(record, &l));
  record[kHeaderSize + 4] = 6;  // more subdirectories than entries
  EXPECT_FALSE(ListingCounts(record, &count, &subdirs));
  EXPECT_FALSE(ListingCounts(EncodeAttr(1, Entry("x")), &count, &subdirs));  // not a listing
}

TEST(MetadataCodecTest, VersionTimesAndDirChangeRecords) {
  const ContentVersion version{~uint64_t{0}, 12, -3, false, 99};
  const UserTimes times{INT64_MIN, 999999999, INT64_MAX, 0, 5, -1};
  const std::string v = EncodeVersion(version);
  const std::string t = EncodeTimes(times);
  const std::string c = EncodeDirChange(-7);
  ContentVersion got_version;
  UserTimes got_times;
  int64_t changed = 0;
  ASSERT_TRUE(DecodeVersion(v, &got_version));
  EXPECT_EQ(got_version, version);
  ASSERT_TRUE(DecodeTimes(t, &got_times));
  EXPECT_EQ(got_times, times);
  ASSERT_TRUE(DecodeDirChange(c, &changed));
  EXPECT_EQ(changed, -7);
  RecordHeader h;
  ASSERT_TRUE(DecodeHeader(t, &h));
  EXPECT_EQ(h.kind, RecordKind::kTimes);
  // Wrong kinds, truncations and trailing bytes are rejected.
  EXPECT_FALSE(DecodeVersion(t, &got_version));
  EXPECT_FALSE(DecodeTimes(v, &got_times));
  EXPECT_FALSE(DecodeDirChange(EncodeNegative(1), &changed));
  for (size_t n = 0; n < v.size(); ++n) EXPECT_FALSE(DecodeVersion(v.substr(0, n), &got_version));
  for (size_t n = 0; n < t.size(); ++n) EXPECT_FALSE(DecodeTimes(t.substr(0, n), &got_times));
  EXPECT_FALSE(DecodeVersion(v + "x", &got_version));
  EXPECT_FALSE(DecodeTimes(t + "x", &got_times));
  EXPECT_FALSE(DecodeDirChange(c + "x", &changed));
  std::string bad_flag = v;
  bad_flag[kHeaderSize + 24] = 2;  // settled is 0 or 1
  EXPECT_FALSE(DecodeVersion(bad_flag, &got_version));
}

}  // namespace
}  // namespace globusfs::cache::codec
