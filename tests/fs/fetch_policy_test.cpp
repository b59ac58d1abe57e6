// How much a read fetches: the FetchPolicy (pure logic), the FileReader on
// FakeData (requests counted, no timing), and the BlockWriter that takes
// disk-cache writes off the read path.
#include <gtest/gtest.h>

#include <thread>

#include "fs/block_writer.h"
#include "fs/fetch_policy.h"
#include "fs/file_reader.h"
#include "tests/fakes/fake_data.h"
#include "tests/unit/cache/temp_dir.h"

namespace globusfs::fs {
namespace {

constexpr uint32_t kKiB = 1024;
constexpr uint32_t kMiB = 1024 * kKiB;

FetchPolicy Policy() { return FetchPolicy(FetchPolicyOptions{kMiB, 128 * kKiB, 16}); }

TEST(FetchPolicy, AReadAtTheStartIsSequentialAndTheWindowDoubles) {
  FetchPolicy p = Policy();
  auto d = p.Note({0, 128 * kKiB});
  EXPECT_TRUE(d.sequential);
  EXPECT_EQ(d.window_blocks, 2u);
  uint64_t at = 128 * kKiB;
  uint32_t expected = 2;
  for (int i = 0; i < 6; ++i) {
    d = p.Note({at, at + 128 * kKiB});
    at += 128 * kKiB;
    expected = std::min<uint32_t>(expected * 2, 16);
    EXPECT_TRUE(d.sequential) << i;
    EXPECT_EQ(d.window_blocks, expected) << i;
  }
}

TEST(FetchPolicy, ARandomReadResetsTheWindow) {
  FetchPolicy p = Policy();
  p.Note({0, 4096});
  p.Note({4096, 8192});
  auto d = p.Note({500 * uint64_t{kMiB}, 500 * uint64_t{kMiB} + 4096});
  EXPECT_FALSE(d.sequential);
  EXPECT_EQ(d.window_blocks, 1u);
  // ...and a read that goes on from there is sequential again.
  d = p.Note({500 * uint64_t{kMiB} + 4096, 500 * uint64_t{kMiB} + 8192});
  EXPECT_TRUE(d.sequential);
  EXPECT_EQ(d.window_blocks, 2u);
}

TEST(FetchPolicy, ReadsALittleOutOfOrderStaySequential) {
  FetchPolicy p = Policy();
  p.Note({0, 128 * kKiB});
  // The kernel's readahead may send the next two requests swapped.
  EXPECT_TRUE(p.Note({256 * kKiB, 384 * kKiB}).sequential);
  EXPECT_TRUE(p.Note({128 * kKiB, 256 * kKiB}).sequential);
}

TEST(FetchPolicy, APieceIsTheReadWidenedToPieceBoundaries) {
  FetchPolicy p = Policy();
  const uint64_t size = 10 * uint64_t{kMiB};
  // 4 KiB inside block 3: the 128 KiB around it.
  const uint64_t at = 3 * uint64_t{kMiB} + 300 * kKiB;
  EXPECT_EQ(p.Piece(3, {at, at + 4096}, size), (ByteRange{3 * uint64_t{kMiB} + 256 * kKiB, 3 * uint64_t{kMiB} + 384 * kKiB}));
  // Across a piece boundary: both pieces.
  const uint64_t edge = 3 * uint64_t{kMiB} + 128 * kKiB - 100;
  EXPECT_EQ(p.Piece(3, {edge, edge + 200}, size), (ByteRange{3 * uint64_t{kMiB}, 3 * uint64_t{kMiB} + 256 * kKiB}));
  // Across a block boundary: each block gets its own part.
  const uint64_t cross = 4 * uint64_t{kMiB} - 10;
  EXPECT_EQ(p.Piece(3, {cross, cross + 20}, size), (ByteRange{4 * uint64_t{kMiB} - 128 * kKiB, 4 * uint64_t{kMiB}}));
  EXPECT_EQ(p.Piece(4, {cross, cross + 20}, size), (ByteRange{4 * uint64_t{kMiB}, 4 * uint64_t{kMiB} + 128 * kKiB}));
}

TEST(FetchPolicy, PiecesAndBlocksStopAtTheEndOfTheFile) {
  FetchPolicy p = Policy();
  const uint64_t size = 2 * uint64_t{kMiB} + 5000;
  EXPECT_EQ(p.Block(2, size), (ByteRange{2 * uint64_t{kMiB}, size}));
  EXPECT_EQ(p.Piece(2, {size - 10, size}, size), (ByteRange{2 * uint64_t{kMiB}, size}));
  EXPECT_EQ(p.Block(3, size).size(), 0u);
}

TEST(FetchPolicy, OddOptionsAreMadeSane) {
  FetchPolicy p(FetchPolicyOptions{64 * kKiB, kMiB, 0});  // a piece larger than a block
  EXPECT_EQ(p.options().piece_size, 64 * kKiB);
  EXPECT_EQ(p.options().max_window_blocks, 1u);
}

// The FileReader on FakeData: what it asks the server for.
class ReaderFetches : public ::testing::Test {
 protected:
  void SetUp() override {
    data_.AddCollection("c");
    bytes_.resize(16 * uint64_t{kMiB});
    for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<char>((i * 7 + i / 4096) & 0xff);
    data_.SetFile("c", "/big", bytes_, 100);
    ctx_.data = &data_;
    ctx_.pool = &pool_;
    ctx_.budget = &budget_;
  }
  std::shared_ptr<FileReader> Reader() {
    return FileReader::Make(ctx_, DataTarget{"c", "https://x"}, FileVersion{"c", "/big", bytes_.size(), 100, 7});
  }

  // A 64 MiB disk cache, written through a BlockWriter, as the daemon does.
  void UseDiskCache() {
    std::string why;
    blocks_ = cache::BlockCache::Open(cache::BlockCacheOptions{dir_.path() / "blocks", 64 * uint64_t{kMiB}}, &why);
    ASSERT_TRUE(blocks_) << why;
    writer_ = std::make_unique<BlockWriter>(*blocks_, 16 * uint64_t{kMiB});
    ctx_.blocks = blocks_.get();
    ctx_.writer = writer_.get();
  }

  FakeData data_;
  WorkPool pool_{4};
  MemoryBudget budget_{64 * uint64_t{kMiB}};
  ReadContext ctx_;
  std::string bytes_;
  cache::testing::TempDir dir_;
  std::unique_ptr<cache::BlockCache> blocks_;
  std::unique_ptr<BlockWriter> writer_;  // declared last: destroyed first
};

TEST_F(ReaderFetches, ARandomSmallReadMakesOneSmallRequest) {
  auto r = Reader();
  std::string out;
  const uint64_t at = 9 * uint64_t{kMiB} + 777 * 1024 + 5;
  ASSERT_TRUE(r->Read(at, 4096, &out));
  EXPECT_EQ(out, bytes_.substr(at, 4096));
  EXPECT_EQ(data_.calls(FakeData::kOpRead), 1u);
  EXPECT_LE(data_.bytes_served(), 128u * kKiB);
}

TEST_F(ReaderFetches, ReadsGoingOnFromARandomOneTurnSequential) {
  auto r = Reader();
  std::string out, all;
  const uint64_t at = 5 * uint64_t{kMiB} + 4096;
  for (uint64_t off = at; off < at + 4 * uint64_t{kMiB}; off += 128 * kKiB) {
    ASSERT_TRUE(r->Read(off, 128 * kKiB, &out));
    all += out;
  }
  EXPECT_EQ(all, bytes_.substr(at, 4 * uint64_t{kMiB}));
  // Whole blocks once sequential (and some ahead), not one request per read.
  EXPECT_LT(data_.calls(FakeData::kOpRead), 32u);
}

TEST_F(ReaderFetches, AWholeSequentialReadIsRightAndFetchesEachByteOnce) {
  auto r = Reader();
  std::string out, all;
  for (uint64_t off = 0; off < bytes_.size(); off += 128 * kKiB) {
    ASSERT_TRUE(r->Read(off, 128 * kKiB, &out));
    all += out;
  }
  EXPECT_EQ(all, bytes_);
  EXPECT_EQ(data_.calls(FakeData::kOpRead), 16u);
  EXPECT_EQ(data_.bytes_served(), bytes_.size());
}

TEST_F(ReaderFetches, WholeBlocksReachTheDiskCacheAndPiecesDoNot) {
  ASSERT_NO_FATAL_FAILURE(UseDiskCache());
  cache::BlockCache& blocks = *blocks_;
  BlockWriter& writer = *writer_;
  std::string out;
  {
    auto r = Reader();
    ASSERT_TRUE(r->Read(0, 4096, &out));                  // sequential from the start: block 0 (and ahead)
    ASSERT_TRUE(r->Read(12 * uint64_t{kMiB}, 4096, &out));  // random: a piece of block 12
  }
  pool_.Shutdown();
  writer.Drain();
  std::string got;
  EXPECT_TRUE(blocks.Get(cache::BlockKey{"c", "/big", bytes_.size(), 100, 0, 7}, &got));
  EXPECT_EQ(got, bytes_.substr(0, kMiB));
  EXPECT_FALSE(blocks.Get(cache::BlockKey{"c", "/big", bytes_.size(), 100, 12, 7}, &got));
  // Another version of the file never sees them.
  EXPECT_FALSE(blocks.Get(cache::BlockKey{"c", "/big", bytes_.size(), 100, 0, 8}, &got));
}

TEST_F(ReaderFetches, AFileLargerThanTheCacheLimitIsReadWithoutBeingCached) {
  ASSERT_NO_FATAL_FAILURE(UseDiskCache());
  cache::BlockCache& blocks = *blocks_;
  BlockWriter& writer = *writer_;
  ctx_.cache_file_limit = bytes_.size() - 1;  // the 16 MiB file is one byte over
  std::string out, all;
  {
    auto r = Reader();
    for (uint64_t off = 0; off < bytes_.size(); off += 128 * kKiB) {
      ASSERT_TRUE(r->Read(off, 128 * kKiB, &out));
      all += out;
    }
  }
  EXPECT_EQ(all, bytes_) << "read whole and right";
  pool_.Shutdown();
  writer.Drain();
  std::string got;
  for (uint64_t i = 0; i < 16; ++i) {
    EXPECT_FALSE(blocks.Get(cache::BlockKey{"c", "/big", bytes_.size(), 100, i, 7}, &got)) << i;
  }
  EXPECT_EQ(blocks.GetStats().blocks, 0u);
}

TEST(BlockWriter, QueuedBlocksAreSeenBeforeTheyAreWritten) {
  cache::testing::TempDir dir;
  std::string why;
  auto blocks = cache::BlockCache::Open(cache::BlockCacheOptions{dir.path() / "blocks", 64 * uint64_t{kMiB}}, &why);
  ASSERT_TRUE(blocks) << why;
  BlockWriter writer(*blocks, kMiB);
  auto bytes = std::make_shared<std::string>(1000, 'x');
  cache::BlockKey key{"c", "/f", 1000, 5, 0, 1};
  EXPECT_TRUE(writer.Put(key, bytes, *bytes));
  std::string got;
  EXPECT_TRUE(writer.Get(key, &got));
  EXPECT_EQ(got, *bytes);
  writer.Drain();
  EXPECT_TRUE(blocks->Get(key, &got));
  // Beyond the bound: not queued, not cached.
  auto big = std::make_shared<std::string>(kMiB + 1, 'y');
  EXPECT_FALSE(writer.Put(cache::BlockKey{"c", "/g", kMiB + 1, 5, 0, 1}, big, *big));
}

TEST(BlockWriter, AGetOfAPromisedBlockWaitsForIt) {
  cache::testing::TempDir dir;
  std::string why;
  auto blocks = cache::BlockCache::Open(cache::BlockCacheOptions{dir.path() / "blocks", 64 * uint64_t{kMiB}}, &why);
  ASSERT_TRUE(blocks) << why;
  BlockWriter writer(*blocks, kMiB);
  cache::BlockKey key{"c", "/f", 3, 5, 0, 1};
  ASSERT_TRUE(writer.Promise(key));
  EXPECT_FALSE(writer.Promise(key));
  auto bytes = std::make_shared<std::string>("abc");
  std::thread fetcher([&] { writer.Put(key, bytes, *bytes); });
  std::string got;
  EXPECT_TRUE(writer.Get(key, &got));  // returns once the Put ended the promise
  EXPECT_EQ(got, "abc");
  fetcher.join();
  cache::BlockKey other{"c", "/g", 3, 5, 0, 1};
  ASSERT_TRUE(writer.Promise(other));
  writer.Abandon(other);
  EXPECT_FALSE(writer.Get(other, &got));
}

}  // namespace
}  // namespace globusfs::fs
