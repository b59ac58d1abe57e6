// '~' for the HTTPS servers (fs/remote/home_paths.h): the path mapping,
// what an ls answer says the listed folder is (transfer_json.h
// StatedAbsolutePath, SameListing), HomePaths' asking once, and
// HomeMappedData over FakeData.
#include "fs/remote/home_paths.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "fs/errno_map.h"
#include "tests/fakes/fake_data.h"
#include "tests/fakes/fake_transfer.h"
#include "fs/remote/remote_error.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {
namespace {

using json = nlohmann::json;

constexpr const char* kC = "cccccccc-0000-4000-8000-000000000003";

TEST(HomePathsMapping, PathsUnderTildeGoToTheHomeFolder) {
  EXPECT_EQ(ToHttpsPath("/~/a/b.txt", "/home/ada"), "/home/ada/a/b.txt");
  EXPECT_EQ(ToHttpsPath("/~", "/home/ada"), "/home/ada");
  EXPECT_EQ(ToHttpsPath("/~/", "/home/ada"), "/home/ada/");
  EXPECT_EQ(ToHttpsPath("~/x", "/home/ada"), "/home/ada/x");
  EXPECT_EQ(ToHttpsPath("/~/x", "/home/ada/"), "/home/ada/x") << "a trailing slash on home";
  // Home is the root.
  EXPECT_EQ(ToHttpsPath("/~/x", "/"), "/x");
  EXPECT_EQ(ToHttpsPath("/~", "/"), "/");
  EXPECT_EQ(ToHttpsPath("/~/", "/"), "/");
  // Unknown home: no path to send.
  EXPECT_EQ(ToHttpsPath("/~/x", ""), std::nullopt);
  EXPECT_EQ(ToHttpsPath("/~", ""), std::nullopt);
}

TEST(HomePathsMapping, OtherPathsAreSentAsTheyAre) {
  for (const char* path : {"/", "/data/x", "/~x/y", "/a/~/b", "/home/ada/f"}) {
    EXPECT_EQ(ToHttpsPath(path, "/home/ada"), path) << path;
    EXPECT_EQ(ToHttpsPath(path, ""), path) << path;
  }
  EXPECT_TRUE(IsUnderHome("/~"));
  EXPECT_TRUE(IsUnderHome("/~/"));
  EXPECT_TRUE(IsUnderHome("~/a"));
  EXPECT_FALSE(IsUnderHome("/~a"));
  EXPECT_FALSE(IsUnderHome("/a/~"));
}

TEST(HomePathsMapping, TheUnknownHomeErrorIsEopnotsuppAndNamesTheFix) {
  http::Error e = HomeUnknownError("read", "/~/notes.txt", kC);
  EXPECT_EQ(e.code, kHomeUnknownCode);
  EXPECT_EQ(Classify(e), RemoteErrc::kNotSupported);
  EXPECT_EQ(ToErrno(Classify(e)), EOPNOTSUPP);
  EXPECT_FALSE(RetryLater(Classify(e)));
  EXPECT_EQ(e.message.rfind(std::string("read /~/notes.txt: collection ") + kC +
                                ": its HTTPS server does not understand '~'",
                            0),
            0u)
      << e.message;
  EXPECT_NE(e.message.find(std::string("--collection NAME=") + kC + ":/path/of/your/home/"),
            std::string::npos);
  // Said once at start-up, with the mount's own name in the fix.
  const std::string note = HomeUnknownNote("mine", kC);
  EXPECT_EQ(note.find('\n'), std::string::npos) << "one line";
  EXPECT_NE(note.find(std::string("--collection mine=") + kC + ":/path/of/your/home/"), std::string::npos)
      << note;
}

TEST(HomePathsListing, WhatAnLsAnswerSaysTheFolderIs) {
  // The recorded answer for "/~/" (globus-api.md §2.2): nothing.
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "/~/"}, {"absolute_path", nullptr}}), std::nullopt);
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "/~/Globus/"}, {"absolute_path", nullptr}}), std::nullopt);
  // absolute_path first, then path.
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "/~/"}, {"absolute_path", "/home/ada/"}}), "/home/ada");
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "/home/ada/"}, {"absolute_path", nullptr}}), "/home/ada");
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "/share/godata/"}}), "/share/godata");
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "/"}, {"absolute_path", nullptr}}), "/");
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "//home//ada/"}}), "/home/ada");
  // Not absolute, or not a plain path.
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "~/"}}), std::nullopt);
  EXPECT_EQ(StatedAbsolutePath(json{{"path", "/home/../etc/"}}), std::nullopt);
  EXPECT_EQ(StatedAbsolutePath(json{{"absolute_path", 7}, {"path", "/~/"}}), std::nullopt);
  EXPECT_EQ(StatedAbsolutePath(json::array()), std::nullopt);
}

TEST(HomePathsListing, SameListingComparesTotalAndEveryItem) {
  json a = {{"total", 2}, {"DATA", {{{"name", "a"}, {"size", 1}}, {{"name", "b"}, {"size", 2}}}}};
  json b = a;
  b["path"] = "/";  // other fields do not matter
  EXPECT_TRUE(SameListing(a, b));
  b["DATA"][1]["size"] = 3;
  EXPECT_FALSE(SameListing(a, b));
  b = a;
  b["total"] = 3;
  EXPECT_FALSE(SameListing(a, b));
  b.erase("total");
  EXPECT_FALSE(SameListing(a, b));
  json empty = {{"total", 0}, {"DATA", json::array()}};
  EXPECT_TRUE(SameListing(empty, empty));
  EXPECT_FALSE(SameListing(empty, json{{"total", 0}}));
}

TEST(HomePathsAsking, TransferIsAskedOnceAndAFailureAgain) {
  FakeTransfer fake;
  fake.AddCollection(kC);
  HomePaths homes(fake);
  fake.FailNext(FakeTransfer::kOpList, http::MakeError(http::ErrorKind::kNetwork, "down"));
  EXPECT_FALSE(homes.Get(kC).ok()) << "the failure is returned...";
  auto home = homes.Get(kC);
  ASSERT_TRUE(home.ok()) << "...and not kept: " << home.error().Summary();
  EXPECT_EQ(*home, "/");
  const uint64_t calls = fake.calls(FakeTransfer::kOpList);
  EXPECT_EQ(*homes.Get(kC), "/");
  EXPECT_EQ(fake.calls(FakeTransfer::kOpList), calls) << "asked once";
  homes.Set(kC, "");
  EXPECT_EQ(*homes.Get(kC), "") << "what start-up learnt";
}

class HomeMapped : public ::testing::Test {
 protected:
  void SetUp() override {
    transfer_.AddCollection(kC);
    data_.AddCollection(kC);
    data_.SetFile(kC, "/home/ada/notes.txt", "my notes");
    data_.SetFile(kC, "/top.txt", "top");
    data_.MakeDir(kC, "/home/ada/up");
    local_ = std::filesystem::temp_directory_path() / ("home-mapped-" + std::to_string(::getpid()));
    std::ofstream(local_) << "uploaded";
  }
  void TearDown() override { std::filesystem::remove(local_); }

  FakeTransfer transfer_;
  FakeData data_;
  HomePaths homes_{transfer_};
  HomeMappedData mapped_{data_, homes_};
  DataTarget target_{kC, "https://h.example.org"};
  std::filesystem::path local_;
};

TEST_F(HomeMapped, FilesUnderTildeAreReadAndWrittenInTheHomeFolder) {
  homes_.Set(kC, "/home/ada");
  std::string out;
  ASSERT_TRUE(mapped_.ReadRange(target_, "/~/notes.txt", 0, 100, &out).ok());
  EXPECT_EQ(out, "my notes");
  auto head = mapped_.Head(target_, "/~/notes.txt");
  ASSERT_TRUE(head.ok()) << head.error().Summary();
  EXPECT_EQ(head->size, 8u);
  ASSERT_TRUE(mapped_.Upload(target_, "/~/up/new.txt", local_, 8).ok());
  EXPECT_EQ(data_.GetFile(kC, "/home/ada/up/new.txt")->bytes, "uploaded");
  // Paths outside "~" pass unchanged.
  ASSERT_TRUE(mapped_.ReadRange(target_, "/top.txt", 0, 100, &out).ok());
  EXPECT_EQ(out, "top");
  EXPECT_EQ(transfer_.calls(FakeTransfer::kOpList), 0u) << "the home was known: no Transfer call";
}

TEST_F(HomeMapped, AnUnknownHomeFailsWithoutSendingAnything) {
  homes_.Set(kC, "");
  std::string out;
  auto r = mapped_.ReadRange(target_, "/~/notes.txt", 0, 100, &out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kHomeUnknownCode);
  EXPECT_FALSE(mapped_.Upload(target_, "/~/up/x", local_, 8).ok());
  EXPECT_EQ(data_.calls(FakeData::kOpRead) + data_.calls(FakeData::kOpUpload), 0u);
  ASSERT_TRUE(mapped_.ReadRange(target_, "/top.txt", 0, 100, &out).ok()) << "the rest works";
}

TEST_F(HomeMapped, AHomeNotYetKnownIsAskedOfTransfer) {
  data_.SetFile(kC, "/notes.txt", "at the root");
  std::string out;
  ASSERT_TRUE(mapped_.ReadRange(target_, "/~/notes.txt", 0, 100, &out).ok());
  EXPECT_EQ(out, "at the root") << "FakeTransfer's '~' is its root";
}

}  // namespace
}  // namespace globusfs::fs
