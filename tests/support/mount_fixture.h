// MountFixture: the base of gtest fixtures that mount globusfs for real on
// a globus-emulator. SetUp skips the test, saying why, when FUSE is
// unavailable (a derived SetUp calls it first and returns if IsSkipped());
// TearDown unmounts, and an unclean unmount fails the test with the tail of
// the daemon's log.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/emulator_process.h"
#include "tests/support/mounted_fs.h"

namespace globusfs::testing {

class MountFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = FuseUnavailableReason(); !why.empty()) GTEST_SKIP() << "needs FUSE: " << why;
  }

  void TearDown() override {
    if (mount_) {
      bool clean = mount_->Unmount();
      EXPECT_TRUE(clean) << "unmount was not clean (exit " << mount_->exit_code() << "); log tail:\n"
                         << LogTail(6000);
    }
  }

  // Mounts on emu_ (replacing any previous mount object); a failure fails
  // the test, with the reason.
  MountedFs& MountOrDie(MountOptions o = {}) {
    mount_ = std::make_unique<MountedFs>(*emu_, o);
    std::string why;
    EXPECT_TRUE(mount_->Mount(&why)) << why;
    return *mount_;
  }

  RunResult Sh(const std::string& cmd, std::chrono::seconds t = std::chrono::seconds(120)) {
    return mount_->Sh(cmd, t);
  }

  // Globus tasks of `type` ("transfer", "delete") the emulator has run.
  uint64_t Tasks(const char* type) { return emu_->Stats()["tasks"][type].get<uint64_t>(); }

  // The last `n` bytes of the daemon's log ("" before a mount).
  std::string LogTail(size_t n) const {
    if (!mount_) return "";
    std::string log = mount_->Log();
    return log.size() > n ? log.substr(log.size() - n) : log;
  }

  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<MountedFs> mount_;
};

}  // namespace globusfs::testing
