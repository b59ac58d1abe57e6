// What only the real TransferClient does, against globus-emulator: the
// Duplicate answer after a lost submission response, retries in the HTTP
// core, auth failures without the token in the error, and task polling with
// backoff and a timeout on the injected clock. (The shared contract with the
// fake is transfer_api_contract_test.cpp.)
#include "fs/remote/transfer_client.h"

#include <gtest/gtest.h>

#include <fstream>

#include "auth/http/clock.h"
#include "fs/remote/remote_error.h"
#include "tests/fs/transfer_api_backends.h"

namespace globusfs::fs::contract {
namespace {

using http::ErrorKind;

// --- the real client only ----------------------------------------------------

class TransferApiClient : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { StopSharedEmulator(); }
  EmulatorBackend backend_;
};

TEST_F(TransferApiClient, ALostSubmissionAnswerIsRetriedAndTheDuplicateIsSuccess) {
  backend_.MakeFile("alpha", "/f", "x", std::nullopt, 0644);
  // The emulator accepts the delete but cuts the answer short: the HTTP core
  // resends the same document, and Transfer answers "Duplicate".
  backend_.emu().AddFault({{"route", "transfer.delete"}, {"truncate", true}, {"count", 1}});
  auto out = backend_.Api().DeleteAndWait(
      DeleteRequest{backend_.CollectionId("alpha"), {"/f"}, false, false, ""});
  ASSERT_TRUE(out.ok()) << out.error().Summary();
  EXPECT_TRUE(out->succeeded()) << out->fatal_code;
  EXPECT_EQ(backend_.emu().RequestCount("transfer.delete"), 2u);
  EXPECT_EQ(backend_.emu().Stats()["tasks"]["delete"], 1) << "one task, not two";
  EXPECT_FALSE(backend_.Exists("alpha", "/f"));
}

TEST_F(TransferApiClient, TransientFailuresAreRetriedByTheHttpCore) {
  backend_.MakeFile("alpha", "/d/f", "x", std::nullopt, 0644);
  backend_.emu().AddFault({{"route", "transfer.ls"}, {"status", 503}, {"count", 2}});
  auto list = backend_.Api().List(backend_.CollectionId("alpha"), "/d");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  EXPECT_EQ(list->size(), 1u);
  backend_.emu().AddFault({{"route", "transfer.stat"}, {"status", 503}});
  EXPECT_TRUE(Fails(backend_.Api().Stat(backend_.CollectionId("alpha"), "/d/f"),
                    RemoteErrc::kUnavailable, 503));
}

TEST_F(TransferApiClient, GarbledStatAndListAnswersAreMalformed) {
  backend_.MakeFile("alpha", "/g/f", "x", std::nullopt, 0644);
  const std::string alpha = backend_.CollectionId("alpha");
  for (const char* variant : {"cut", "wrong_types", "unterminated", "retyped", "not_object"}) {
    backend_.emu().AddFault({{"route", "transfer.stat"}, {"malformed", variant}, {"count", 1}});
    EXPECT_TRUE(Fails(backend_.Api().Stat(alpha, "/g/f"), RemoteErrc::kProtocol)) << variant;
    backend_.emu().AddFault({{"route", "transfer.ls"}, {"malformed", variant}, {"count", 1}});
    EXPECT_TRUE(Fails(backend_.Api().List(alpha, "/g"), RemoteErrc::kProtocol)) << variant;
  }
  // The faults are used up: the same calls read the real answers.
  auto stat = backend_.Api().Stat(alpha, "/g/f");
  ASSERT_TRUE(stat.ok()) << stat.error().Summary();
  EXPECT_EQ(stat->type, EntryType::kFile);
  auto list = backend_.Api().List(alpha, "/g");
  ASSERT_TRUE(list.ok()) << list.error().Summary();
  EXPECT_EQ(Names(*list), std::vector<std::string>{"f"});
}

TEST_F(TransferApiClient, AMkdirWhoseAnswerWasCutIsSuccess) {
  const std::string alpha = backend_.CollectionId("alpha");
  backend_.MakeDir("alpha", "/mk");
  // The folder is made, the answer cut; the resend answers Exists.
  backend_.emu().AddFault({{"route", "transfer.mkdir"}, {"truncate", true}, {"count", 1}});
  auto made = backend_.Api().Mkdir(alpha, "/mk/new");
  ASSERT_TRUE(made.ok()) << made.error().Summary();
  EXPECT_EQ(backend_.emu().RequestCount("transfer.mkdir"), 2u);
  EXPECT_TRUE(backend_.Exists("alpha", "/mk/new"));
  // Without a lost answer, Exists stays Exists.
  EXPECT_TRUE(Fails(backend_.Api().Mkdir(alpha, "/mk/new"), RemoteErrc::kExists));
  // A lost answer, and a file where the folder should be: still Exists.
  backend_.MakeFile("alpha", "/mk/file", "x", std::nullopt, 0644);
  backend_.emu().AddFault({{"route", "transfer.mkdir"}, {"truncate", true}, {"count", 1}});
  EXPECT_TRUE(Fails(backend_.Api().Mkdir(alpha, "/mk/file"), RemoteErrc::kExists));
}

TEST_F(TransferApiClient, ARenameWhoseAnswerWasCutIsSuccess) {
  const std::string alpha = backend_.CollectionId("alpha");
  backend_.MakeFile("alpha", "/mv/a", "x", std::nullopt, 0644);
  // The file is moved, the answer cut; the resend answers NotFound.
  backend_.emu().AddFault({{"route", "transfer.rename"}, {"truncate", true}, {"count", 1}});
  auto moved = backend_.Api().Rename(alpha, "/mv/a", "/mv/b");
  ASSERT_TRUE(moved.ok()) << moved.error().Summary();
  EXPECT_EQ(backend_.emu().RequestCount("transfer.rename"), 2u);
  EXPECT_FALSE(backend_.Exists("alpha", "/mv/a"));
  EXPECT_TRUE(backend_.Exists("alpha", "/mv/b"));
  // Without a lost answer, a missing source stays NotFound.
  EXPECT_TRUE(Fails(backend_.Api().Rename(alpha, "/mv/a", "/mv/c"), RemoteErrc::kNotFound));
  // A lost answer to a rename of a missing source: the destination is not
  // there either, so NotFound.
  backend_.emu().AddFault({{"route", "transfer.rename"}, {"truncate", true}, {"count", 1}});
  EXPECT_TRUE(Fails(backend_.Api().Rename(alpha, "/mv/a", "/mv/c"), RemoteErrc::kNotFound));
}

TEST_F(TransferApiClient, AnInvalidTokenIsAuthRequiredAndNeverInTheError) {
  const std::string token = "not-a-real-token-1234567890";
  StaticAuthorizer bad(token);
  TransferClient client(backend_.http(), &bad, backend_.emu().base_url() + "/", nullptr);
  auto r = client.List(backend_.CollectionId("alpha"), "/");
  ASSERT_TRUE(Fails(r, RemoteErrc::kAuthRequired, 401, "ClientError.AuthenticationFailed"));
  EXPECT_EQ(r.error().message.find(token), std::string::npos);
  EXPECT_EQ(r.error().Summary().find(token), std::string::npos);
}

TEST(TransferApiClientPolling, BacksOffThenTimesOutOnTheInjectedClock) {
  testing::EmulatorOptions options;
  options.task_delay_ms = 600000;  // the task never starts during the test
  auto emu = testing::EmulatorProcess::Start(options);
  auto login = testing::Login(*emu, testing::FullScopes(*emu, {"alpha"}));
  auto http = EmulatorHttp(*emu);
  StaticAuthorizer authorizer(login.access_tokens.at(kTransferRs));
  auto clock = std::make_shared<http::FakeClock>();
  TransferClientOptions o;
  o.task_poll_initial = std::chrono::milliseconds(200);
  o.task_poll_max = std::chrono::milliseconds(1000);
  o.task_wait_timeout = std::chrono::milliseconds(3000);
  TransferClient client(*http, &authorizer, emu->base_url() + "/", clock, o);
  std::ofstream(emu->root("alpha") / "f") << "x";
  auto out = client.DeleteAndWait(DeleteRequest{emu->collection_id("alpha"), {"/f"}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::kTimeout);
  EXPECT_EQ(Classify(out.error()), RemoteErrc::kUnavailable);
  using std::chrono::milliseconds;
  const std::vector<std::chrono::nanoseconds> want = {milliseconds(200), milliseconds(400),
                                                      milliseconds(800), milliseconds(1000),
                                                      milliseconds(600)};
  EXPECT_EQ(clock->Sleeps(), want);
  EXPECT_EQ(emu->RequestCount("transfer.task"), 5u);
}

}  // namespace
}  // namespace globusfs::fs::contract
