// The DataApi contract: ONE suite, run against FakeData and against
// DataClient talking to a real globus-emulator process over TLS, so the fake
// cannot drift from what a collection's HTTPS server (as emulated) answers:
// the same bytes for every range, the same HTTP status and code for each
// failure. Each test is written once against a DataBackend
// (data_api_backends.h) and runs for both. What only the real client does
// (retries of faults, the 200 path for real, redirects, local read errors,
// throughput) is in data_api_client_test.cpp; the fake's own hooks are
// tested at the end of this file.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "fs/remote/remote_error.h"
#include "tests/fs/data_api_backends.h"

namespace globusfs::fs::contract {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class DataApiContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "fake") {
      backend_ = std::make_unique<FakeDataBackend>();
    } else {
      backend_ = std::make_unique<DataEmulatorBackend>();
    }
    a_ = backend_->Target("alpha");
  }
  static void TearDownTestSuite() { StopSharedDataEmulator(); }

  DataApi& api() { return backend_->Api(); }
  http::Result<std::string> Read(const std::string& path, uint64_t offset, uint64_t length) {
    return ReadBytes(api(), a_, path, offset, length);
  }

  std::unique_ptr<DataBackend> backend_;
  DataTarget a_;  // collection "alpha"
};

TEST_P(DataApiContract, ReadsAWholeSmallFile) {
  backend_->MakeFile("alpha", "/hello.txt", "hello, world\n");
  for (const char* path : {"/hello.txt", "/./x/../hello.txt"}) {
    auto r = Read(path, 0, kMiB);
    ASSERT_TRUE(r.ok()) << path << ": " << r.error().Summary();
    EXPECT_EQ(*r, "hello, world\n") << path;
  }
}

TEST_P(DataApiContract, RangesAtStartMiddleEndAndPastTheEnd) {
  const std::string data = Pattern(10000);
  backend_->MakeFile("alpha", "/d/f.bin", data);
  struct Case {
    uint64_t offset, length;
  };
  const Case cases[] = {{0, 100},     {0, 1},      {4000, 1000},
                        {9900, 100},  {9950, 100}, {9999, 1},
                        {9999, 5000}, {10000, 10}, {20000, 10},
                        {0, 10000},   {0, 10001},  {5, std::numeric_limits<uint64_t>::max()},
                        {1, 9998}};
  for (const Case& c : cases) {
    auto r = Read("/d/f.bin", c.offset, c.length);
    ASSERT_TRUE(r.ok()) << c.offset << "+" << c.length << ": " << r.error().Summary();
    const std::string want = c.offset >= data.size() ? "" : data.substr(c.offset, c.length);
    EXPECT_EQ(r->size(), want.size()) << c.offset << "+" << c.length;
    EXPECT_TRUE(*r == want) << c.offset << "+" << c.length;
  }
}

TEST_P(DataApiContract, EmptyFile) {
  backend_->MakeFile("alpha", "/empty", "");
  for (uint64_t offset : {0, 1, 4096}) {
    auto r = Read("/empty", offset, 4096);
    ASSERT_TRUE(r.ok()) << r.error().Summary();
    EXPECT_TRUE(r->empty());
  }
  auto head = api().Head(a_, "/empty");
  ASSERT_TRUE(head.ok()) << head.error().Summary();
  EXPECT_EQ(head->size, 0u);
}

TEST_P(DataApiContract, ZeroLengthReadSendsNothing) {
  const uint64_t before = backend_->Reads();
  std::string out = "stale";
  auto r = api().ReadRange(a_, "/not/even/there", 0, 0, &out);
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(backend_->Reads(), before);
}

TEST_P(DataApiContract, FilesOfBlockSizePlusMinusOne) {
  for (uint64_t size : {kMiB - 1, kMiB, kMiB + 1}) {
    const std::string data = Pattern(size, size);
    const std::string path = "/blocks/f" + std::to_string(size);
    backend_->MakeFile("alpha", path, data);
    auto first = Read(path, 0, kMiB);
    ASSERT_TRUE(first.ok()) << first.error().Summary();
    EXPECT_EQ(first->size(), std::min(size, kMiB));
    auto second = Read(path, kMiB, kMiB);
    ASSERT_TRUE(second.ok()) << second.error().Summary();
    EXPECT_EQ(second->size(), size > kMiB ? size - kMiB : 0u);
    EXPECT_TRUE(*first + *second == data) << size;
  }
}

TEST_P(DataApiContract, TwentyMiBReadInOneMiBRangesEqualsTheSource) {
  const std::string data = Pattern(20 * kMiB, 3);
  backend_->MakeFile("alpha", "/big.bin", data);
  std::string joined;
  for (uint64_t offset = 0; offset < data.size(); offset += kMiB) {
    auto r = Read("/big.bin", offset, kMiB);
    ASSERT_TRUE(r.ok()) << offset << ": " << r.error().Summary();
    ASSERT_EQ(r->size(), kMiB) << offset;
    joined += *r;
  }
  EXPECT_EQ(Sha256Hex(joined), Sha256Hex(data));
  auto past = Read("/big.bin", data.size(), kMiB);
  ASSERT_TRUE(past.ok()) << past.error().Summary();
  EXPECT_TRUE(past->empty());
}

TEST_P(DataApiContract, HeadGivesSizeAndMtime) {
  backend_->MakeFile("alpha", "/d/f.bin", std::string(12345, 'z'), 1600000000);
  for (const char* path : {"/d/f.bin", "/x/../d/f.bin"}) {
    auto head = api().Head(a_, path);
    ASSERT_TRUE(head.ok()) << head.error().Summary();
    EXPECT_EQ(head->size, 12345u);
    EXPECT_EQ(head->mtime, 1600000000);
  }
}

TEST_P(DataApiContract, UploadsThenReadsBack) {
  backend_->MakeDir("alpha", "/up");
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, 5 * kMiB}) {
    const std::string data = Pattern(size, 11);
    TempFile local(data);
    const std::string path = "/up/f" + std::to_string(size);
    auto up = api().Upload(a_, path, local.path(), size);
    ASSERT_TRUE(up.ok()) << size << ": " << up.error().Summary();
    EXPECT_TRUE(backend_->Contents("alpha", path) == data) << size;
    auto head = api().Head(a_, path);
    ASSERT_TRUE(head.ok()) << head.error().Summary();
    EXPECT_EQ(head->size, size);
    EXPECT_GT(head->mtime, 1600000000);
    auto back = Read(path, 0, size + 1);
    ASSERT_TRUE(back.ok()) << back.error().Summary();
    EXPECT_TRUE(*back == data) << size;
  }
}

TEST_P(DataApiContract, UploadSendsOnlyTheGivenSize) {
  backend_->MakeDir("alpha", "/up");
  TempFile local("0123456789");
  auto up = api().Upload(a_, "/up/head", local.path(), 4);
  ASSERT_TRUE(up.ok()) << up.error().Summary();
  EXPECT_EQ(backend_->Contents("alpha", "/up/head"), "0123");
}

TEST_P(DataApiContract, UploadOverwrites) {
  backend_->MakeFile("alpha", "/f", "the old content, longer than the new one");
  TempFile local("new");
  auto up = api().Upload(a_, "/f", local.path(), 3);
  ASSERT_TRUE(up.ok()) << up.error().Summary();
  EXPECT_EQ(backend_->Contents("alpha", "/f"), "new");
  auto back = Read("/f", 0, 100);
  ASSERT_TRUE(back.ok()) << back.error().Summary();
  EXPECT_EQ(*back, "new");
}

TEST_P(DataApiContract, TildeIsAnOrdinaryNameToTheHttpsServer) {
  // Only Transfer understands "~" (the home folder): HomeMappedData maps it
  // before a DataApi sees it (fs/remote/home_paths.h).
  backend_->MakeFile("alpha", "/hello.txt", "hello, world\n");
  EXPECT_TRUE(Fails(Read("/~/hello.txt", 0, 10), RemoteErrc::kNotFound, 404));
  EXPECT_TRUE(Fails(api().Head(a_, "/~/hello.txt"), RemoteErrc::kNotFound, 404));
  TempFile local("x");
  EXPECT_TRUE(Fails(api().Upload(a_, "/~/new.txt", local.path(), 1), RemoteErrc::kNotFound, 404))
      << "no folder named '~'";
  backend_->MakeFile("alpha", "/~/literal.txt", "a folder named ~");
  auto r = Read("/~/literal.txt", 0, 100);
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(*r, "a folder named ~");
}

TEST_P(DataApiContract, UploadIntoAMissingFolderIsNotFound) {
  TempFile local("x");
  auto up = api().Upload(a_, "/no/such/folder/f", local.path(), 1);
  EXPECT_TRUE(Fails(up, RemoteErrc::kNotFound, 404));
  EXPECT_FALSE(backend_->Contents("alpha", "/no/such/folder/f").has_value());
}

TEST_P(DataApiContract, MissingFileIsNotFound) {
  backend_->MakeDir("alpha", "/d");
  for (const char* path : {"/d/missing", "/no/such/dir/file"}) {
    EXPECT_TRUE(Fails(Read(path, 0, 10), RemoteErrc::kNotFound, 404)) << path;
    EXPECT_TRUE(Fails(api().Head(a_, path), RemoteErrc::kNotFound, 404)) << path;
  }
  // The message names the collection path.
  auto r = Read("/d/missing", 0, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/d/missing"), std::string::npos) << r.error().message;
}

TEST_P(DataApiContract, FoldersAreNotFiles) {
  backend_->MakeDir("alpha", "/d");
  EXPECT_TRUE(Fails(Read("/d", 0, 10), RemoteErrc::kIsDirectory, 400));
  TempFile local("x");
  EXPECT_TRUE(Fails(api().Upload(a_, "/d", local.path(), 1), RemoteErrc::kIsDirectory, 409));
  auto head = api().Head(a_, "/d");  // no body: only the status tells
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().http_status, 400);
}

TEST_P(DataApiContract, OddNamesRoundTrip) {
  const std::vector<std::string> names = {"with space", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
                                          "100%",       "%2F",
                                          "%20",        "a#b",
                                          "what?",      "plus+and&eq=",
                                          "semi;colon", "~tilde",
                                          "quote\"s",   "line\nbreak",
                                          "back\\slash"};
  const std::string dir = "/odd dir #?%&+";
  backend_->MakeDir("alpha", dir);
  for (const auto& n : names) {
    const std::string path = dir + "/" + n;
    backend_->MakeFile("alpha", path, "content of " + n);
    auto r = Read(path, 0, 1000);
    ASSERT_TRUE(r.ok()) << n << ": " << r.error().Summary();
    EXPECT_EQ(*r, "content of " + n);
    auto part = Read(path, 11, 1000);
    ASSERT_TRUE(part.ok()) << n << ": " << part.error().Summary();
    EXPECT_EQ(*part, n);
    auto head = api().Head(a_, path);
    ASSERT_TRUE(head.ok()) << n << ": " << head.error().Summary();
    EXPECT_EQ(head->size, 11 + n.size());
    TempFile local("uploaded " + n);
    auto up = api().Upload(a_, dir + "/up " + n, local.path(), 9 + n.size());
    ASSERT_TRUE(up.ok()) << n << ": " << up.error().Summary();
    EXPECT_EQ(backend_->Contents("alpha", dir + "/up " + n), "uploaded " + n);
  }
}

TEST_P(DataApiContract, InvalidUtf8PathIsRefusedBeforeSending) {
  const uint64_t before = backend_->Reads();
  EXPECT_TRUE(Fails(Read("/a\xff", 0, 10), RemoteErrc::kInvalid));
  EXPECT_TRUE(Fails(api().Head(a_, std::string("/a\0b", 4)), RemoteErrc::kInvalid));
  TempFile local("x");
  EXPECT_TRUE(Fails(api().Upload(a_, "/\xc0\xaf", local.path(), 1), RemoteErrc::kInvalid));
  EXPECT_EQ(backend_->Reads(), before);
}

TEST_P(DataApiContract, WithoutAValidTokenIsAuthRequired) {
  backend_->MakeFile("alpha", "/f", "secret");
  backend_->MakeFile("beta", "/f", "other");
  backend_->DenyAccess("alpha");
  auto r = Read("/f", 0, 10);
  EXPECT_TRUE(Fails(r, RemoteErrc::kAuthRequired, 401));
  EXPECT_TRUE(Fails(api().Head(a_, "/f"), RemoteErrc::kAuthRequired, 401));
  TempFile local("overwrite");
  EXPECT_TRUE(Fails(api().Upload(a_, "/f", local.path(), 9), RemoteErrc::kAuthRequired, 401));
  EXPECT_EQ(backend_->Contents("alpha", "/f"), "secret");
  // The GET answer says which scope to consent to; no token in the message.
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "AuthenticationRequired");
  ASSERT_TRUE(r.error().authorization_parameters.is_object());
  EXPECT_TRUE(r.error().authorization_parameters.contains("required_scopes"));
  EXPECT_EQ(r.error().Summary().find(DataEmulatorBackend::kGarbageToken), std::string::npos);
  // Other collections are not affected.
  auto beta = ReadBytes(api(), backend_->Target("beta"), "/f", 0, 10);
  ASSERT_TRUE(beta.ok()) << beta.error().Summary();
  EXPECT_EQ(*beta, "other");
}

TEST_P(DataApiContract, ConcurrentRangeReadsAndUploads) {
  const std::string data = Pattern(4 * kMiB, 5);
  backend_->MakeFile("alpha", "/c/big", data);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t offset = t * 256 * 1024; offset < data.size(); offset += 8 * 256 * 1024) {
        auto r = ReadBytes(api(), a_, "/c/big", offset, 256 * 1024);
        if (!r.ok() || *r != data.substr(offset, 256 * 1024)) ++failures;
      }
      TempFile local("thread " + std::to_string(t));
      if (!api().Upload(a_, "/c/t" + std::to_string(t), local.path(), local.size()).ok()) {
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < 8; ++t) {
    EXPECT_EQ(backend_->Contents("alpha", "/c/t" + std::to_string(t)),
              "thread " + std::to_string(t));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, DataApiContract, ::testing::Values("fake", "emulator"),
                         [](const auto& info) { return info.param; });

// --- the fake's own hooks ----------------------------------------------------

TEST(DataApiFake, CountsCallsInjectsFaultsAndSleepsOnTheClock) {
  auto clock = std::make_shared<http::FakeClock>();
  FakeData fake(clock);
  const DataTarget t{"c", "https://fake.invalid/c"};
  fake.SetFile("c", "/f", "0123456789", 42);
  fake.FailNext(FakeData::kOpRead,
                http::ParseErrorDocument(503, R"({"code": "ServiceUnavailable", "message": "m"})"),
                2);
  EXPECT_TRUE(Fails(ReadBytes(fake, t, "/f", 0, 4), RemoteErrc::kUnavailable, 503));
  EXPECT_TRUE(Fails(ReadBytes(fake, t, "/f", 0, 4), RemoteErrc::kUnavailable, 503));
  auto ok = ReadBytes(fake, t, "/f", 0, 4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "0123");
  EXPECT_EQ(fake.calls(FakeData::kOpRead), 3u);
  EXPECT_EQ(fake.calls(FakeData::kOpHead), 0u);
  EXPECT_EQ(fake.bytes_served(), 4u);

  fake.SetLatency(std::chrono::milliseconds(7));
  auto head = fake.Head(t, "/f");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 10u);
  EXPECT_EQ(head->mtime, 42);
  EXPECT_EQ(clock->Sleeps(), std::vector<std::chrono::nanoseconds>{std::chrono::milliseconds(7)});

  TempFile local("abc");
  ASSERT_TRUE(fake.Upload(t, "/g", local.path(), 3).ok());
  auto g = fake.GetFile("c", "/g");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->bytes, "abc");
  EXPECT_EQ(g->mtime,
            std::chrono::duration_cast<std::chrono::seconds>(clock->SystemNow().time_since_epoch())
                .count());
  EXPECT_TRUE(fake.RemoveFile("c", "/g"));
  EXPECT_FALSE(fake.GetFile("c", "/g").has_value());
  fake.ResetCalls();
  EXPECT_EQ(fake.calls(FakeData::kOpRead), 0u);
  EXPECT_EQ(fake.bytes_served(), 0u);
}

TEST(DataApiFake, IgnoringRangeServesThePrefixButReadsTheRightBytes) {
  FakeData fake;
  const DataTarget t{"c", "https://fake.invalid/c"};
  const std::string data = Pattern(1000);
  fake.SetFile("c", "/f", data);
  fake.SetIgnoreRange(true);
  auto r = ReadBytes(fake, t, "/f", 600, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, data.substr(600, 100));
  EXPECT_EQ(fake.bytes_served(), 700u);  // the reader cut the 200 after the range
  auto tail = ReadBytes(fake, t, "/f", 900, 500);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, data.substr(900));
  EXPECT_EQ(fake.bytes_served(), 1700u);
  fake.SetIgnoreRange(false);
  ASSERT_TRUE(ReadBytes(fake, t, "/f", 600, 100).ok());
  EXPECT_EQ(fake.bytes_served(), 1800u);
}

TEST(DataApiFake, UnknownCollectionAndAuthorization) {
  FakeData fake;
  EXPECT_TRUE(Fails(ReadBytes(fake, {"nope", ""}, "/f", 0, 1), RemoteErrc::kNotFound, 404));
  fake.SetFile("c", "/f", "x");
  fake.SetAuthorized("c", false);
  EXPECT_TRUE(Fails(ReadBytes(fake, {"c", ""}, "/f", 0, 1), RemoteErrc::kAuthRequired, 401));
  fake.SetAuthorized("c", true);
  EXPECT_TRUE(ReadBytes(fake, {"c", ""}, "/f", 0, 1).ok());
}

}  // namespace
}  // namespace globusfs::fs::contract
