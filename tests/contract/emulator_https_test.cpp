// Contract tests of the emulator's collection HTTPS servers (globus-api.md
// §6): GET with and without Range, HEAD, PUT, and the answers without a
// valid token.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "auth/http/http_client.h"
#include "tests/support/emulator_process.h"

namespace globusfs {
namespace {

using json = nlohmann::json;
using testing::EmulatorProcess;

class EmulatorHttps : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta", "ha"};
    opts.extra_args = {"--no-https", "beta"};
    emu_ = EmulatorProcess::Start(opts);
    std::ofstream(emu_->root("alpha") / "ten.txt") << "0123456789";
    std::filesystem::create_directories(emu_->root("alpha") / "dir with space");
    std::ofstream(emu_->root("alpha") / "dir with space" / "caf\xc3\xa9 100%.txt") << "unicode";
    login_ = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha", "beta"}));
    info_ = *emu_->http().GetJson(emu_->base_url() + "/_emulator/info");
  }

  std::string HttpsServer(const std::string& name) {
    for (const auto& c : info_["collections"]) {
      if (c["name"] == name) return c["https_server"].is_null() ? "" : c["https_server"].get<std::string>();
    }
    return "";
  }

  http::Result<http::HttpResponse> Request(const std::string& method, const std::string& url,
                                           http::HeaderList headers = {}, std::string body = "",
                                           const std::string& token_rs = "alpha") {
    http::HttpRequest req;
    req.method = method;
    req.url = url;
    req.retry = false;
    req.headers = std::move(headers);
    if (!token_rs.empty()) {
      req.headers.emplace_back("Authorization", "Bearer " + login_.access_tokens.at(emu_->collection_id(token_rs)));
    }
    if (method == "PUT") {
      req.body = std::move(body);
    }
    return emu_->http().Send(req);
  }

  std::unique_ptr<EmulatorProcess> emu_;
  testing::LoginResult login_;
  json info_;
};

TEST_F(EmulatorHttps, CollectionDocumentPointsBackAtTheEmulator) {
  EXPECT_EQ(HttpsServer("alpha"), emu_->base_url() + "/c/" + emu_->collection_id("alpha"));
  EXPECT_EQ(HttpsServer("beta"), "") << "--no-https gives https_server: null";
}

TEST_F(EmulatorHttps, WholeGetAndHead) {
  auto r = Request("GET", HttpsServer("alpha") + "/ten.txt");
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "0123456789");
  EXPECT_EQ(r->Header("accept-ranges"), "bytes");
  auto h = Request("HEAD", HttpsServer("alpha") + "/ten.txt");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->Header("content-length"), "10");
  EXPECT_EQ(h->body, "");
  auto stats = emu_->Stats();
  EXPECT_EQ(stats["https_bytes_sent"], 10);
  EXPECT_EQ(stats["requests"]["https.get"], 1);
  EXPECT_EQ(stats["requests"]["https.head"], 1);
}

TEST_F(EmulatorHttps, RangeRequests) {
  auto r = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"Range", "bytes=2-4"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, "234");
  EXPECT_EQ(r->Header("content-range"), "bytes 2-4/10");
  r = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"Range", "bytes=7-"}});
  EXPECT_EQ(r->body, "789");
  r = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"Range", "bytes=-2"}});
  EXPECT_EQ(r->body, "89");
  r = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"Range", "bytes=5-100"}});
  EXPECT_EQ(r->body, "56789");
  EXPECT_EQ(r->Header("content-range"), "bytes 5-9/10");
  auto past = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"Range", "bytes=10-"}});
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().http_status, 416);
  r = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"Range", "bytes=0-1,4-5"}});
  EXPECT_EQ(r->status, 200) << "several ranges: the whole file";
}

TEST_F(EmulatorHttps, OddNamesArePercentEncodedPaths) {
  auto r = Request("GET", HttpsServer("alpha") + "/dir%20with%20space/caf%C3%A9%20100%25.txt");
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(r->body, "unicode");
}

TEST_F(EmulatorHttps, PutStoresTheWholeFileAtomically) {
  std::string data(3 * 1024 * 1024 + 7, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  auto r = Request("PUT", HttpsServer("alpha") + "/new.bin", {{"Content-Type", "application/octet-stream"}}, data);
  ASSERT_TRUE(r.ok()) << r.error().Summary();
  EXPECT_EQ(r->status, 200);
  std::ifstream in(emu_->root("alpha") / "new.bin", std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, data);
  EXPECT_EQ(emu_->Stats()["https_bytes_received"], data.size());
  // No temporary files are left behind.
  for (const auto& e : std::filesystem::directory_iterator(emu_->root("alpha"))) {
    EXPECT_EQ(e.path().filename().string().find(".globus-emulator-upload-"), std::string::npos);
  }
  // Overwrite.
  ASSERT_TRUE(Request("PUT", HttpsServer("alpha") + "/new.bin", {}, "short").ok());
  EXPECT_EQ(std::filesystem::file_size(emu_->root("alpha") / "new.bin"), 5u);
}

TEST_F(EmulatorHttps, PutIntoAMissingFolderIs404) {
  auto r = Request("PUT", HttpsServer("alpha") + "/no/such/dir/f", {}, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 404);
}

TEST_F(EmulatorHttps, AFailedUploadLeavesNothing) {
  // The connection breaks mid-body: the old file is untouched.
  ASSERT_TRUE(Request("PUT", HttpsServer("alpha") + "/keep.txt", {}, "original").ok());
  http::HttpRequest req;
  req.method = "PUT";
  req.url = HttpsServer("alpha") + "/keep.txt";
  req.retry = false;
  req.headers = {{"Authorization", "Bearer " + login_.access_tokens.at(emu_->collection_id("alpha"))}};
  int64_t sent = 0;
  req.body_size = 1 << 20;
  req.body_source = [&](char* buf, size_t n) -> size_t {
    if (sent > 100000) return http::HttpRequest::kAbortUpload;
    size_t k = std::min<size_t>(n, 4096);
    std::memset(buf, 'z', k);
    sent += static_cast<int64_t>(k);
    return k;
  };
  auto r = emu_->http().Send(req);
  ASSERT_FALSE(r.ok());
  std::ifstream in(emu_->root("alpha") / "keep.txt");
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "original");
  for (int i = 0; i < 50; ++i) {  // the server notices the broken body asynchronously
    bool leftover = false;
    for (const auto& e : std::filesystem::directory_iterator(emu_->root("alpha"))) {
      leftover |= e.path().filename().string().find(".globus-emulator-upload-") != std::string::npos;
    }
    if (!leftover) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_LT(i, 49) << "a temporary upload file was left behind";
  }
}

TEST_F(EmulatorHttps, WithoutAValidTokenRedirectsOr401) {
  // Browser-style: 302 to Auth with client_id=<collection id>.
  auto r = Request("GET", HttpsServer("alpha") + "/ten.txt", {}, "", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 302);
  EXPECT_NE(r->Header("location")->find("client_id=" + emu_->collection_id("alpha")), std::string::npos);
  // With X-Requested-With: 401 and the required scopes.
  auto x = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"X-Requested-With", "XMLHttpRequest"}}, "", "");
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.error().http_status, 401);
  ASSERT_TRUE(x.error().authorization_parameters.is_object());
  EXPECT_NE(x.error().authorization_parameters.dump().find(emu_->collection_id("alpha") + "/https"),
            std::string::npos);
  // A token for another collection is the wrong scope.
  auto wrong = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"X-Requested-With", "XMLHttpRequest"}}, "", "beta");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().http_status, 401);
  // An expired token too.
  emu_->ExpireTokens();
  auto expired = Request("GET", HttpsServer("alpha") + "/ten.txt", {{"X-Requested-With", "XMLHttpRequest"}});
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().http_status, 401);
}

TEST_F(EmulatorHttps, MissingFileAndFolder) {
  auto r = Request("GET", HttpsServer("alpha") + "/nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 404);
  auto d = Request("GET", HttpsServer("alpha") + "/dir%20with%20space");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().http_status, 400);
}

TEST_F(EmulatorHttps, InjectedFaultsApplyToData) {
  emu_->AddFault({{"route", "https.get"}, {"truncate", true}, {"count", 1}});
  auto r = Request("GET", HttpsServer("alpha") + "/ten.txt");
  ASSERT_FALSE(r.ok()) << "a cut body is a transport error";
  EXPECT_EQ(r.error().kind, http::ErrorKind::kNetwork);
  r = Request("GET", HttpsServer("alpha") + "/ten.txt");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, "0123456789");
  // A drop on a fresh connection (libcurl itself re-sends once when a
  // *reused* keep-alive connection dies before any response byte).
  emu_->AddFault({{"route", "https.*"}, {"drop", true}, {"count", 1}});
  http::HttpConfig cfg;
  cfg.ca_file = emu_->ca_file().string();
  http::HttpClient fresh(cfg, std::make_shared<http::RealClock>());
  http::HttpRequest req;
  req.url = HttpsServer("alpha") + "/ten.txt";
  req.retry = false;
  req.headers = {{"Authorization", "Bearer " + login_.access_tokens.at(emu_->collection_id("alpha"))}};
  auto dropped = fresh.Send(req);
  ASSERT_FALSE(dropped.ok());
  EXPECT_EQ(dropped.error().kind, http::ErrorKind::kNetwork);
  EXPECT_TRUE(fresh.Send(req).ok());
}

TEST_F(EmulatorHttps, HighAssuranceSessionTimeout) {
  ASSERT_TRUE(emu_->http()
                  .PostJson(emu_->base_url() + "/_emulator/high-assurance",
                            {{"collection", "alpha"}, {"enabled", true}, {"auth_timeout", 60}})
                  .ok());
  EXPECT_TRUE(Request("GET", HttpsServer("alpha") + "/ten.txt").ok()) << "fresh session";
  emu_->AgeSession(120);
  auto r = Request("GET", HttpsServer("alpha") + "/ten.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_TRUE(r.error().HasSessionRequirements());
}

}  // namespace
}  // namespace globusfs
