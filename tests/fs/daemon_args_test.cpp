// ParseDaemonArgs: the sizes and times of globusfs's command line, including
// the ones too large (or not numbers at all) for the integer they end up in.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fs/daemon.h"

namespace globusfs::fs {
namespace {

// Parses `globusfs --collection c=UUID ARGS... /mnt` into a fresh *config;
// returns ParseDaemonArgs's code.
int Parse(std::vector<std::string> args, DaemonConfig* config) {
  args.insert(args.begin(), {"globusfs", "--collection", "c=6c54cade-bde5-45c1-bdea-f4bd71dba2cc"});
  args.push_back("/mnt");
  *config = DaemonConfig{};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseDaemonArgs(static_cast<int>(argv.size()), argv.data(), config);
}

TEST(DaemonArgs, Sizes) {
  DaemonConfig c;
  ASSERT_EQ(Parse({"--cache-size", "512M", "--memory-limit", "1.5G"}, &c), -1);
  EXPECT_EQ(c.cache_size, 512ULL << 20);
  EXPECT_EQ(c.memory_limit, 3ULL << 29);
  ASSERT_EQ(Parse({"--cache-size", "0"}, &c), -1);
  EXPECT_EQ(c.cache_size, 0u);
  ASSERT_EQ(Parse({"--cache-size", "16T"}, &c), -1);
  EXPECT_EQ(c.cache_size, 16ULL << 40);
}

TEST(DaemonArgs, SizesThatFitNoIntegerAreUsageErrors) {
  for (const char* v : {"1e30", "20000000T", "inf", "nan", "-1", "12Q", "M"}) {
    DaemonConfig c;
    EXPECT_EQ(Parse({"--cache-size", v}, &c), 2) << v;
    EXPECT_EQ(Parse({"--memory-limit", v}, &c), 2) << v;
  }
}

TEST(DaemonArgs, MetadataTtl) {
  DaemonConfig c;
  ASSERT_EQ(Parse({"--metadata-ttl", "0.5"}, &c), -1);
  EXPECT_EQ(c.metadata_ttl_s, 0.5);
  ASSERT_EQ(Parse({"--metadata-ttl", "86400"}, &c), -1);
  EXPECT_EQ(c.metadata_ttl_s, 86400);
  for (const char* v : {"1e300", "inf", "nan", "-1", "1x", ""}) {
    EXPECT_EQ(Parse({"--metadata-ttl", v}, &c), 2) << v;
  }
}

TEST(DaemonArgs, DrainTimeout) {
  DaemonConfig c;
  ASSERT_EQ(Parse({}, &c), -1);
  EXPECT_EQ(c.drain_timeout_s, 30) << "the default";
  ASSERT_EQ(Parse({"--drain-timeout", "0"}, &c), -1);
  EXPECT_EQ(c.drain_timeout_s, 0) << "0: do not wait at unmount";
  ASSERT_EQ(Parse({"--drain-timeout", "600"}, &c), -1);
  EXPECT_EQ(c.drain_timeout_s, 600);
  ASSERT_EQ(Parse({"--drain-timeout", "2.5"}, &c), -1);
  EXPECT_EQ(c.drain_timeout_s, 2.5);
  for (const char* v : {"-1", "1e300", "inf", "nan", "10s", ""}) {
    EXPECT_EQ(Parse({"--drain-timeout", v}, &c), 2) << v;
  }
  std::vector<std::string> args = {"globusfs", "--drain-timeout"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  EXPECT_EQ(ParseDaemonArgs(static_cast<int>(argv.size()), argv.data(), &c), 2) << "needs a value";
}

TEST(DaemonArgs, HelpNamesTheDrainTimeout) {
  std::string arg0 = "globusfs", help = "--help";
  char* argv[] = {arg0.data(), help.data()};
  DaemonConfig c;
  testing::internal::CaptureStdout();
  EXPECT_EQ(ParseDaemonArgs(2, argv, &c), 0);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("--drain-timeout SECONDS"), std::string::npos) << out;
}

}  // namespace
}  // namespace globusfs::fs
