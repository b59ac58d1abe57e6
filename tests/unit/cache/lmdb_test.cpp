#include "cache/lmdb.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace globusfs::cache {
namespace {

using testing::TempDir;

std::unique_ptr<Env> OpenEnv(const std::filesystem::path& dir, EnvOptions options = {}) {
  options.max_dbs = 4;
  return Env::Open(dir, options);
}

Dbi CreateDbi(Env& env, const char* name) {
  Dbi dbi;
  env.Write([&](Txn& txn) { dbi = Dbi::Open(txn, name, MDB_CREATE); });
  return dbi;
}

TEST(LmdbTest, OpenCreatesPrivateDirectory) {
  TempDir tmp;
  const auto dir = tmp.path() / "nested" / "env";
  auto env = OpenEnv(dir);
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(std::filesystem::exists(dir / "data.mdb"));
}

TEST(LmdbTest, CommitPersistsAndDestructorAborts) {
  TempDir tmp;
  auto env = OpenEnv(tmp.path());
  Dbi dbi = CreateDbi(*env, "t");
  {
    Txn txn = env->BeginWrite();
    dbi.Put(txn, "kept", "1");
    txn.Commit();
    EXPECT_FALSE(txn);
  }
  {
    Txn txn = env->BeginWrite();
    dbi.Put(txn, "dropped", "2");
  }  // aborted here
  Txn read = env->BeginRead();
  EXPECT_TRUE(read.read_only());
  EXPECT_EQ(dbi.Get(read, "kept"), std::optional<std::string_view>("1"));
  EXPECT_EQ(dbi.Get(read, "dropped"), std::nullopt);
}

TEST(LmdbTest, MovedFromTxnHoldsNothing) {
  TempDir tmp;
  auto env = OpenEnv(tmp.path());
  Dbi dbi = CreateDbi(*env, "t");
  Txn a = env->BeginWrite();
  dbi.Put(a, "k", "v");
  Txn b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(b);
  a.Abort();  // no effect on b
  b.Commit();
  Txn read = env->BeginRead();
  EXPECT_TRUE(dbi.Get(read, "k").has_value());
}

TEST(LmdbTest, ReadTxnMayEndOnAnotherThread) {  // MDB_NOTLS
  TempDir tmp;
  auto env = OpenEnv(tmp.path());
  Dbi dbi = CreateDbi(*env, "t");
  env->Write([&](Txn& txn) { dbi.Put(txn, "k", "v"); });
  Txn read = env->BeginRead();
  std::string seen;
  std::thread other([&] {
    seen = std::string(dbi.Get(read, "k").value_or(""));
    read.Abort();
  });
  other.join();
  EXPECT_EQ(seen, "v");
  // A second read txn on this thread while the first was live is fine too.
  Txn r1 = env->BeginRead();
  Txn r2 = env->BeginRead();
  EXPECT_TRUE(dbi.Get(r2, "k").has_value());
}

TEST(LmdbTest, CursorScansInKeyOrder) {
  TempDir tmp;
  auto env = OpenEnv(tmp.path());
  Dbi dbi = CreateDbi(*env, "t");
  env->Write([&](Txn& txn) {
    for (const char* k : {"b", "a/x", "a", "c", "a/y"}) dbi.Put(txn, k, k);
  });
  Txn txn = env->BeginRead();
  std::string order;
  {
    Cursor c = Cursor::Open(txn, dbi);
    for (bool ok = c.First(); ok; ok = c.Next()) order += std::string(c.key()) + ",";
    EXPECT_TRUE(c.SeekAtLeast("a/"));
    EXPECT_EQ(c.key(), "a/x");
    EXPECT_EQ(c.value(), "a/x");
    EXPECT_TRUE(c.Last());
    EXPECT_EQ(c.key(), "c");
    EXPECT_FALSE(c.SeekAtLeast("d"));
  }
  EXPECT_EQ(order, "a,a/x,a/y,b,c,");
}

TEST(LmdbTest, DelAndClear) {
  TempDir tmp;
  auto env = OpenEnv(tmp.path());
  Dbi dbi = CreateDbi(*env, "t");
  env->Write([&](Txn& txn) {
    dbi.Put(txn, "a", "1");
    dbi.Put(txn, "b", "2");
    EXPECT_TRUE(dbi.Del(txn, "a"));
    EXPECT_FALSE(dbi.Del(txn, "a"));
  });
  {
    Txn txn = env->BeginRead();
    EXPECT_EQ(dbi.Stat(txn).ms_entries, 1u);
  }
  env->Write([&](Txn& txn) { dbi.Clear(txn); });
  Txn txn = env->BeginRead();
  EXPECT_EQ(dbi.Stat(txn).ms_entries, 0u);
}

TEST(LmdbTest, ErrorsCarryCodeAndMessage) {
  TempDir tmp;
  auto env = OpenEnv(tmp.path());
  Txn txn = env->BeginRead();
  try {
    Dbi::Open(txn, "absent");
    FAIL() << "expected LmdbError";
  } catch (const LmdbError& e) {
    EXPECT_EQ(e.code(), MDB_NOTFOUND);
    EXPECT_NE(std::string(e.what()).find("mdb_dbi_open"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(mdb_strerror(MDB_NOTFOUND)), std::string::npos);
  }
}

TEST(LmdbTest, NotAnLmdbFileFailsToOpen) {
  TempDir tmp;
  std::ofstream(tmp.path() / "data.mdb") << std::string(64 * 1024, 'x');
  try {
    OpenEnv(tmp.path());
    FAIL() << "expected LmdbError";
  } catch (const LmdbError& e) {
    EXPECT_EQ(e.code(), MDB_INVALID);
  }
}

TEST(LmdbTest, WriteGrowsTheMapUpToTheMaximum) {
  TempDir tmp;
  EnvOptions options;
  options.map_size = 1 << 20;
  options.max_map_size = 4 << 20;
  auto env = OpenEnv(tmp.path(), options);
  Dbi dbi = CreateDbi(*env, "t");
  EXPECT_EQ(env->map_size(), 1u << 20);
  const std::string value(64 * 1024, 'v');
  int i = 0;
  for (; i < 32; ++i) {  // 2 MiB: more than the initial map
    env->Write([&](Txn& txn) { dbi.Put(txn, "k" + std::to_string(i), value); });
  }
  EXPECT_GT(env->map_size(), 1u << 20);
  EXPECT_LE(env->map_size(), 4u << 20);
  try {
    for (; i < 200; ++i) {  // 12.5 MiB: cannot fit
      env->Write([&](Txn& txn) { dbi.Put(txn, "k" + std::to_string(i), value); });
    }
    FAIL() << "expected MDB_MAP_FULL";
  } catch (const LmdbError& e) {
    EXPECT_EQ(e.code(), MDB_MAP_FULL);
  }
  EXPECT_EQ(env->map_size(), 4u << 20);
  // Still usable, and earlier commits are intact.
  Txn txn = env->BeginRead();
  EXPECT_EQ(dbi.Get(txn, "k0"), std::optional<std::string_view>(value));
}

TEST(LmdbTest, GrowWaitsForReadersOnOtherThreads) {
  TempDir tmp;
  EnvOptions options;
  options.map_size = 1 << 20;
  options.max_map_size = 32 << 20;
  auto env = OpenEnv(tmp.path(), options);
  Dbi dbi = CreateDbi(*env, "t");
  const std::string value(64 * 1024, 'v');
  env->Write([&](Txn& txn) { dbi.Put(txn, "k0", value); });
  std::atomic<bool> done{false};
  std::atomic<int> bad_reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        Txn txn = env->BeginRead();
        if (dbi.Get(txn, "k0") != std::optional<std::string_view>(value)) ++bad_reads;
      }
    });
  }
  for (int i = 1; i < 200; ++i) {  // ~12.5 MiB: several doublings
    env->Write([&](Txn& txn) { dbi.Put(txn, "k" + std::to_string(i), value); });
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_GE(env->map_size(), 16u << 20);
}

}  // namespace
}  // namespace globusfs::cache
