// Contract tests of ls on folders bigger than one page (globus-api.md §2.2,
// §3.2), against a real globus-emulator: limit/offset paging of a
// 150,000-entry folder (and what a page costs), --max-ls-entries (502
// ExternalError.DirListingFailed.SizeLimit in Transfer's error document
// shape, §3.1), and TransferClient::List over both: it reads the whole
// folder, stops only on a short page, and classifies SizeLimit as
// kTooLarge.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "auth/http/http_client.h"
#include "fs/remote/remote_error.h"
#include "fs/remote/transfer_client.h"
#include "tests/support/emulator_process.h"
#include "tests/support/static_bearer.h"
#include "tests/support/test_files.h"

namespace globusfs {
namespace {

using json = nlohmann::json;
using testing::EmulatorProcess;

constexpr int kBig = 150000;

// Under ASan + UBSan (CI's second pass) the emulator needs minutes per
// page of this folder: the tests that list it whole run in the plain
// build only, and say so under the sanitizers.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kBigFolderTooSlowHere = true;
#else
constexpr bool kBigFolderTooSlowHere = false;
#endif
constexpr const char* kBigFolderSkip =
    "a 150,000-entry listing under ASan takes minutes; this test runs in the plain build (tests/run.sh)";

using testing::MakeEmptyFiles;
const auto NameOf = testing::NumberedName;
using testing::StaticBearer;

// One emulator for the suite: the 150,000 files are made once.
class EmulatorListing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha"};
    emu_ = EmulatorProcess::Start(opts).release();
    if (!kBigFolderTooSlowHere) MakeEmptyFiles(emu_->dir() / "seeds", emu_->root("alpha") / "big", kBig);
    MakeEmptyFiles(emu_->dir() / "seeds", emu_->root("alpha") / "two-pages", 2000);
    login_ = new testing::LoginResult(testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha"})));
  }
  static void TearDownTestSuite() {
    delete login_;
    delete emu_;
    login_ = nullptr;
    emu_ = nullptr;
  }

  std::string Token() { return login_->access_tokens.at("transfer.api.globus.org"); }
  std::string LsUrl(const std::string& query) {
    return emu_->base_url() + "/v0.10/operation/endpoint/" + emu_->collection_id("alpha") + "/ls?" + query;
  }
  http::Result<json> Ls(const std::string& query) {
    StaticBearer bearer(Token());
    return emu_->http().GetJson(LsUrl(query), &bearer);
  }
  std::unique_ptr<fs::TransferClient> Client(int64_t page_size) {
    bearer_ = std::make_unique<StaticBearer>(Token());
    fs::TransferClientOptions options;
    options.ls_page_size = page_size;
    return std::make_unique<fs::TransferClient>(emu_->http(), bearer_.get(), emu_->base_url() + "/",
                                                nullptr, options);
  }

  static EmulatorProcess* emu_;
  static testing::LoginResult* login_;
  std::unique_ptr<StaticBearer> bearer_;
};

EmulatorProcess* EmulatorListing::emu_ = nullptr;
testing::LoginResult* EmulatorListing::login_ = nullptr;

TEST_F(EmulatorListing, PagesAFolderOf150000EntriesByLimitAndOffset) {
  if (kBigFolderTooSlowHere) GTEST_SKIP() << kBigFolderSkip;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto first = Ls("path=/big/&limit=100000&offset=0");
  ASSERT_TRUE(first.ok()) << first.error().Summary();
  EXPECT_EQ((*first)["DATA_TYPE"], "file_list");
  EXPECT_EQ((*first)["path"], "/big/");
  EXPECT_EQ((*first)["length"], 100000);
  EXPECT_EQ((*first)["total"], kBig);
  ASSERT_EQ((*first)["DATA"].size(), 100000u);
  EXPECT_EQ((*first)["DATA"][0]["name"], NameOf(0));
  EXPECT_EQ((*first)["DATA"][99999]["name"], NameOf(99999));
  EXPECT_EQ((*first)["DATA"][0]["type"], "file");
  EXPECT_EQ((*first)["DATA"][0]["size"], 0);

  auto second = Ls("path=/big/&limit=100000&offset=100000");
  ASSERT_TRUE(second.ok()) << second.error().Summary();
  EXPECT_EQ((*second)["length"], 50000);
  EXPECT_EQ((*second)["total"], kBig);
  ASSERT_EQ((*second)["DATA"].size(), 50000u);
  EXPECT_EQ((*second)["DATA"][0]["name"], NameOf(100000));
  EXPECT_EQ((*second)["DATA"][49999]["name"], NameOf(kBig - 1));
  const auto both = Clock::now() - start;

  auto past = Ls("path=/big/&limit=100000&offset=150000");
  ASSERT_TRUE(past.ok()) << past.error().Summary();
  EXPECT_EQ((*past)["length"], 0);
  EXPECT_TRUE((*past)["DATA"].empty());

  // A page costs one read of the names and documents for its own entries:
  // a small page deep in the folder is cheap, and the two big pages are
  // seconds, not minutes (measured: about 5 s with the client's parsing,
  // RelWithDebInfo, on a busy 2-core machine).
  const auto small_start = Clock::now();
  auto small = Ls("path=/big/&limit=10&offset=149990&orderby=name%20DESC");
  const auto small_took = Clock::now() - small_start;
  ASSERT_TRUE(small.ok()) << small.error().Summary();
  ASSERT_EQ((*small)["DATA"].size(), 10u);
  EXPECT_EQ((*small)["DATA"][0]["name"], NameOf(9)) << "DESC: the 149,990th from the end";
  EXPECT_LT(both, std::chrono::seconds(30));
  EXPECT_LT(small_took, both) << "a 10-entry page must not cost what 150,000 entries do";
}

TEST_F(EmulatorListing, FiltersAndOtherOrdersStillPageTheWholeFolder) {
  if (kBigFolderTooSlowHere) GTEST_SKIP() << kBigFolderSkip;
  auto r = Ls("path=/big/&limit=5&offset=0&filter=name:~f14999*");
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ((*r)["total"], 10);
  ASSERT_EQ((*r)["DATA"].size(), 5u);
  EXPECT_EQ((*r)["DATA"][0]["name"], NameOf(149990));
}

TEST_F(EmulatorListing, TransferClientListsTheWholeFolderInTwoRequests) {
  if (kBigFolderTooSlowHere) GTEST_SKIP() << kBigFolderSkip;
  const uint64_t before = emu_->RequestCount("transfer.ls");
  auto list = Client(100000)->List(emu_->collection_id("alpha"), "/big");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  ASSERT_EQ(list->size(), static_cast<size_t>(kBig));
  EXPECT_EQ(list->front().name, NameOf(0));
  EXPECT_EQ(list->back().name, NameOf(kBig - 1));
  EXPECT_EQ(emu_->RequestCount("transfer.ls") - before, 2u) << "100,000 then a short page of 50,000";
}

TEST_F(EmulatorListing, AFullLastPageIsFollowedByOneMoreRequest) {
  // 2,000 entries in pages of 1,000: total says 2,000 after the second
  // page, but a full page may be followed by more, so the client asks
  // again and stops on the empty (short) third page.
  const uint64_t before = emu_->RequestCount("transfer.ls");
  auto list = Client(1000)->List(emu_->collection_id("alpha"), "/two-pages");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  EXPECT_EQ(list->size(), 2000u);
  EXPECT_EQ(emu_->RequestCount("transfer.ls") - before, 3u);
}

// --max-ls-entries: Transfer's "directory too large" answer.
class EmulatorListingLimit : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha"};
    opts.extra_args = {"--max-ls-entries", "10"};
    emu_ = EmulatorProcess::Start(opts);
    MakeEmptyFiles(emu_->dir() / "seeds", emu_->root("alpha") / "ten", 10);
    MakeEmptyFiles(emu_->dir() / "seeds", emu_->root("alpha") / "eleven", 11);
    login_ = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha"}));
    bearer_ = std::make_unique<StaticBearer>(login_.access_tokens.at("transfer.api.globus.org"));
  }
  std::string LsUrl(const std::string& query) {
    return emu_->base_url() + "/v0.10/operation/endpoint/" + emu_->collection_id("alpha") + "/ls?" + query;
  }

  std::unique_ptr<EmulatorProcess> emu_;
  testing::LoginResult login_;
  std::unique_ptr<StaticBearer> bearer_;
};

TEST_F(EmulatorListingLimit, AFolderOverTheLimitIsSizeLimitInTransfersErrorShape) {
  auto r = emu_->http().GetJson(LsUrl("path=/eleven/&limit=5&offset=0"), bearer_.get());
  ASSERT_FALSE(r.ok());
  const http::Error& e = r.error();
  EXPECT_EQ(e.http_status, 502);
  EXPECT_EQ(e.code, "ExternalError.DirListingFailed.SizeLimit");
  EXPECT_FALSE(e.request_id.empty());
  EXPECT_NE(e.message.find("Directory too large to list (11 entries, more than 10), Error (list)\n"),
            std::string::npos)
      << e.message;
  EXPECT_NE(e.message.find("Endpoint: alpha (" + emu_->collection_id("alpha") + ")\n"), std::string::npos);
  EXPECT_NE(e.message.find("Command: MLSD /eleven/\n"), std::string::npos);
  EXPECT_EQ(emu_->RequestCount("transfer.ls"), 1u) << "an ExternalError 502 is not retried";

  // The limit is on the folder, not the page; a filter that leaves few
  // enough entries lists (the emulator's choice, docs/emulator.md).
  auto ten = emu_->http().GetJson(LsUrl("path=/ten/"), bearer_.get());
  ASSERT_TRUE(ten.ok()) << ten.error().Summary();
  EXPECT_EQ((*ten)["total"], 10);
  auto filtered = emu_->http().GetJson(LsUrl("path=/eleven/&filter=name:~f00000*"), bearer_.get());
  ASSERT_TRUE(filtered.ok()) << filtered.error().Summary();
  EXPECT_EQ((*filtered)["total"], 10);
}

TEST_F(EmulatorListingLimit, AHomeFolderTooLargeToListIsNotNamedRatherThanAnError) {
  // "/~/" is the root here (no home folder); 11 entries there.
  MakeEmptyFiles(emu_->dir() / "seeds", emu_->root("alpha"), 9);
  fs::TransferClient client(emu_->http(), bearer_.get(), emu_->base_url() + "/", nullptr);
  auto home = client.HomePath(emu_->collection_id("alpha"));
  ASSERT_TRUE(home.ok()) << home.error().Summary();
  EXPECT_EQ(*home, "") << "Transfer cannot tell: the mount says what to do";
}

TEST_F(EmulatorListingLimit, TransferClientReportsSizeLimitAsTooLarge) {
  fs::TransferClient client(emu_->http(), bearer_.get(), emu_->base_url() + "/", nullptr);
  auto list = client.List(emu_->collection_id("alpha"), "/eleven");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().http_status, 502);
  EXPECT_EQ(list.error().code, "ExternalError.DirListingFailed.SizeLimit");
  EXPECT_EQ(fs::Classify(list.error()), fs::RemoteErrc::kTooLarge);
  auto ok = client.List(emu_->collection_id("alpha"), "/ten");
  ASSERT_TRUE(ok.ok()) << ok.error().Summary();
  EXPECT_EQ(ok->size(), 10u);
}

}  // namespace
}  // namespace globusfs
