// What reads cost on the wire, through a real mount against globus-emulator
// (its request counters; no timing): a random small read of a cold large
// file is one small GET, and a folder of small files read one after another
// (tar) is fetched ahead, each file once, with the right bytes.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/emulator_process.h"
#include "tests/support/mount_fixture.h"
#include "tests/support/mounted_fs.h"
#include "tests/support/test_files.h"

namespace globusfs {
namespace {

using testing::EmulatorProcess;
using testing::Pattern;
using testing::RunResult;
using testing::WriteFile;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

class ReadAhead : public testing::MountFixture {
 protected:
  void SetUp() override {
    MountFixture::SetUp();
    if (IsSkipped()) return;
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta"};
    emu_ = EmulatorProcess::Start(opts);
    a_ = emu_->root("alpha");
  }

  // Waits (bounded) until the emulator has answered `n` GETs; the count.
  uint64_t AwaitGets(uint64_t n) {
    for (int i = 0; i < 200 && emu_->RequestCount("https.get") < n; ++i) std::this_thread::sleep_for(50ms);
    return emu_->RequestCount("https.get");
  }

  fs::path a_;
};

TEST_F(ReadAhead, ARandomSmallReadOfAColdLargeFileIsOneSmallGet) {
  std::string data = Pattern(64 * kMiB, 21);
  WriteFile(a_ / "big.bin", data);
  MountOrDie();
  ASSERT_EQ(Sh("stat -c %s alpha/big.bin").out, std::to_string(64 * kMiB) + "\n");
  // At the start of a 128 KiB piece, so whatever the kernel asks around the
  // 4 KiB stays in one piece.
  const uint64_t at = 37 * kMiB + 256 * kKiB;
  emu_->ResetStats();
  RunResult r = Sh("dd if=alpha/big.bin bs=4096 skip=" + std::to_string(at / 4096) + " count=1 status=none | od -An -tx1 | tr -d ' \\n'");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  std::string expected;
  char hex[3];
  for (unsigned char c : data.substr(at, 4096)) {
    std::snprintf(hex, sizeof hex, "%02x", c);
    expected += hex;
  }
  EXPECT_EQ(r.out, expected);
  EXPECT_EQ(emu_->RequestCount("https.get"), 1u) << "one round trip";
  EXPECT_LE(emu_->Stats()["https_bytes_sent"].get<uint64_t>(), 128 * kKiB) << "a piece, not a whole block";
}

TEST_F(ReadAhead, TarOfAFolderOfSmallFilesReadsTheRightBytesEachFileOnce) {
  constexpr int kFiles = 120;
  for (int i = 0; i < kFiles; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "f%04d", i);
    WriteFile(a_ / "small" / name, Pattern(4096 + static_cast<uint64_t>(i), 300 + static_cast<uint32_t>(i)));
  }
  WriteFile(a_ / "small" / "zz-big.bin", Pattern(3 * kMiB, 9));  // not a small file: read as usual
  MountOrDie();
  ASSERT_EQ(Sh("ls alpha/small | wc -l").out, std::to_string(kFiles + 1) + "\n");
  emu_->ResetStats();
  const fs::path out = fs::temp_directory_path() / ("globusfs-tar-" + std::to_string(::getpid()));
  fs::remove_all(out);
  fs::create_directories(out);
  RunResult r = Sh("tar cf - -C alpha small | tar xf - -C '" + out.string() + "' && diff -r '" +
                   (a_ / "small").string() + "' '" + (out / "small").string() + "' && echo same");
  fs::remove_all(out);
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "same\n");
  // Every small file came over once (fetched ahead or by its own read),
  // never twice; the big one in whole blocks.
  EXPECT_EQ(AwaitGets(kFiles + 3), kFiles + 3u);
}

TEST_F(ReadAhead, SmallFilesReadInTurnAreFetchedBeforeTheyAreOpened) {
  constexpr int kFiles = 40;
  std::string expected;
  for (int i = 0; i < kFiles; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "f%04d", i);
    std::string bytes = "file " + std::to_string(i) + "\n";
    WriteFile(a_ / "turn" / name, bytes);
    if (i < 3) expected += bytes;
  }
  MountOrDie();
  ASSERT_EQ(Sh("ls alpha/turn | wc -l").out, std::to_string(kFiles) + "\n");
  emu_->ResetStats();
  // Three files in listing order: the run is seen, the next ones go ahead.
  RunResult r = Sh("cat alpha/turn/f0000 && cat alpha/turn/f0001 && cat alpha/turn/f0002");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, expected);
  EXPECT_GT(AwaitGets(4), 3u) << "files not yet opened were fetched ahead";
  // Reading them all now costs each file at most once.
  r = Sh("cat alpha/turn/* | wc -l");
  EXPECT_EQ(r.out, std::to_string(kFiles) + "\n");
  EXPECT_EQ(AwaitGets(kFiles), static_cast<uint64_t>(kFiles));
}

}  // namespace
}  // namespace globusfs
