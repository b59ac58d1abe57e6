// Contract tests of the emulator's default directory and '~' (globus-api.md
// §2.2, §2.10, §6): collection documents with `default_directory` null
// unless --default-directory sets one; ls without a path lists it; "/~/"
// is the identity's home folder (/home/<user>/ when it exists, else the
// root) and its listing says "path": "/~/", "absolute_path": null, as the
// recorded answers do (--ls-absolute-path: the variant that names it);
// the HTTPS servers do not understand '~'. And TransferClient::HomePath,
// which reads those answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "auth/http/http_client.h"
#include "fs/remote/transfer_client.h"
#include "tests/support/emulator_process.h"
#include "tests/support/static_bearer.h"

namespace globusfs {
namespace {

using json = nlohmann::json;
using testing::EmulatorProcess;

void Write(const std::filesystem::path& p, const std::string& data) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

using testing::StaticBearer;

// alpha: a home folder /home/researcher/ (the default identity's);
// beta: none, and --default-directory /projects/;
// gamma: a home folder, and --ls-absolute-path.
class EmulatorHome : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta", "gamma"};
    opts.extra_args = {"--default-directory", "beta=/projects/", "--ls-absolute-path", "gamma"};
    emu_ = EmulatorProcess::Start(opts);
    for (const char* name : {"alpha", "gamma"}) {
      Write(emu_->root(name) / "top.txt", "top\n");
      Write(emu_->root(name) / "home" / "researcher" / "notes.txt", "notes\n");
      Write(emu_->root(name) / "home" / "someone" / "theirs.txt", "theirs\n");
    }
    Write(emu_->root("beta") / "b.txt", "bee\n");
    Write(emu_->root("beta") / "projects" / "p.txt", "pea\n");
    login_ = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha", "beta", "gamma"}));
    transfer_ = std::make_unique<StaticBearer>(login_.access_tokens.at("transfer.api.globus.org"));
    client_ = std::make_unique<fs::TransferClient>(emu_->http(), transfer_.get(), emu_->base_url() + "/",
                                                   nullptr);
  }

  std::string Id(const std::string& name) { return emu_->collection_id(name); }
  http::Result<json> Get(const std::string& path) {
    return emu_->http().GetJson(emu_->base_url() + path, transfer_.get());
  }
  http::Result<json> Ls(const std::string& name, const std::string& query) {
    return Get("/v0.10/operation/endpoint/" + Id(name) + "/ls" + query);
  }
  std::vector<std::string> Names(const json& listing) {
    std::vector<std::string> out;
    for (const auto& d : listing["DATA"]) out.push_back(d["name"]);
    return out;
  }
  http::Result<http::HttpResponse> Https(const std::string& method, const std::string& name,
                                         const std::string& path, std::string body = "") {
    http::HttpRequest req;
    req.method = method;
    req.url = emu_->base_url() + "/c/" + Id(name) + path;
    req.retry = false;
    req.headers.emplace_back("Authorization", "Bearer " + login_.access_tokens.at(Id(name)));
    if (method == "PUT") req.body = std::move(body);
    return emu_->http().Send(req);
  }

  std::unique_ptr<EmulatorProcess> emu_;
  testing::LoginResult login_;
  std::unique_ptr<StaticBearer> transfer_;
  std::unique_ptr<fs::TransferClient> client_;
};

TEST_F(EmulatorHome, DefaultDirectoryIsNullUnlessACollectionSetsOne) {
  auto alpha = Get("/v0.10/endpoint/" + Id("alpha"));
  ASSERT_TRUE(alpha.ok()) << alpha.error().Summary();
  EXPECT_TRUE((*alpha)["default_directory"].is_null()) << "GCSv5 collections usually have none";
  auto beta = Get("/v0.10/endpoint/" + Id("beta"));
  ASSERT_TRUE(beta.ok()) << beta.error().Summary();
  EXPECT_EQ((*beta)["default_directory"], "/projects/");
}

TEST_F(EmulatorHome, LsWithoutAPathListsTheDefaultDirectory) {
  auto beta = Ls("beta", "");
  ASSERT_TRUE(beta.ok()) << beta.error().Summary();
  EXPECT_EQ((*beta)["path"], "/projects/");
  EXPECT_EQ(Names(*beta), std::vector<std::string>{"p.txt"});
  // No default_directory: Transfer's own default, "/~/".
  auto alpha = Ls("alpha", "");
  ASSERT_TRUE(alpha.ok()) << alpha.error().Summary();
  EXPECT_EQ((*alpha)["path"], "/~/");
  EXPECT_EQ(Names(*alpha), std::vector<std::string>{"notes.txt"});
}

TEST_F(EmulatorHome, TildeIsTheHomeFolderAndTheAnswerDoesNotSayWhichFolderThatIs) {
  auto home = Ls("alpha", "?path=/~/");
  ASSERT_TRUE(home.ok()) << home.error().Summary();
  EXPECT_EQ((*home)["path"], "/~/");
  EXPECT_TRUE((*home)["absolute_path"].is_null()) << "as the recorded answers (globus-api.md §2.2)";
  EXPECT_EQ(Names(*home), std::vector<std::string>{"notes.txt"});
  auto same = Ls("alpha", "?path=/home/researcher/");
  ASSERT_TRUE(same.ok()) << same.error().Summary();
  EXPECT_EQ((*same)["path"], "/home/researcher/");
  EXPECT_TRUE((*same)["absolute_path"].is_null());
  EXPECT_EQ(Names(*same), std::vector<std::string>{"notes.txt"});
  // Every Transfer operation reads "~" the same way.
  auto stat = Get("/v0.10/operation/endpoint/" + Id("alpha") + "/stat?path=/~/notes.txt");
  ASSERT_TRUE(stat.ok()) << stat.error().Summary();
  EXPECT_EQ((*stat)["name"], "notes.txt");
  StaticBearer bearer(login_.access_tokens.at("transfer.api.globus.org"));
  auto made = emu_->http().PostJson(emu_->base_url() + "/v0.10/operation/endpoint/" + Id("alpha") + "/mkdir",
                                    {{"DATA_TYPE", "mkdir"}, {"path", "/~/made/"}}, &bearer);
  ASSERT_TRUE(made.ok()) << made.error().Summary();
  EXPECT_TRUE(std::filesystem::is_directory(emu_->root("alpha") / "home" / "researcher" / "made"));
  // Without a home folder, "~" is the collection's root.
  auto root = Ls("beta", "?path=/~/");
  ASSERT_TRUE(root.ok()) << root.error().Summary();
  EXPECT_EQ((*root)["path"], "/~/");
  EXPECT_EQ(Names(*root), (std::vector<std::string>{"b.txt", "projects"}));
}

TEST_F(EmulatorHome, LsAbsolutePathNamesTheListedFolder) {
  auto home = Ls("gamma", "?path=/~/");
  ASSERT_TRUE(home.ok()) << home.error().Summary();
  EXPECT_EQ((*home)["path"], "/~/");
  EXPECT_EQ((*home)["absolute_path"], "/home/researcher/");
  auto root = Ls("gamma", "?path=/");
  ASSERT_TRUE(root.ok()) << root.error().Summary();
  EXPECT_EQ((*root)["absolute_path"], "/");
}

TEST_F(EmulatorHome, HttpsServersDoNotUnderstandTilde) {
  auto real = Https("GET", "alpha", "/home/researcher/notes.txt");
  ASSERT_TRUE(real.ok()) << real.error().Summary();
  EXPECT_EQ(real->status, 200);
  EXPECT_EQ(real->body, "notes\n");
  // Errors come back as http::Error (status >= 400).
  auto tilde = Https("GET", "alpha", "/~/notes.txt");
  ASSERT_FALSE(tilde.ok());
  EXPECT_EQ(tilde.error().http_status, 404) << "'~' is an ordinary name there: no folder has it";
  EXPECT_EQ(tilde.error().code, "not_found");
  auto head = Https("HEAD", "alpha", "/~/notes.txt");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().http_status, 404);
  auto put = Https("PUT", "alpha", "/~/new.txt", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().http_status, 404) << "no parent folder named '~'";
  EXPECT_FALSE(std::filesystem::exists(emu_->root("alpha") / "home" / "researcher" / "new.txt"));
  EXPECT_FALSE(std::filesystem::exists(emu_->root("alpha") / "new.txt"));
}

TEST_F(EmulatorHome, TransferClientHomePathReadsWhatTransferSays) {
  // Named in the answer (--ls-absolute-path).
  auto gamma = client_->HomePath(Id("gamma"));
  ASSERT_TRUE(gamma.ok()) << gamma.error().Summary();
  EXPECT_EQ(*gamma, "/home/researcher");
  // Not named, and not the root: Transfer cannot tell.
  auto alpha = client_->HomePath(Id("alpha"));
  ASSERT_TRUE(alpha.ok()) << alpha.error().Summary();
  EXPECT_EQ(*alpha, "");
  // Not named, but "/~/" and "/" list the same folder: the root.
  auto beta = client_->HomePath(Id("beta"));
  ASSERT_TRUE(beta.ok()) << beta.error().Summary();
  EXPECT_EQ(*beta, "/");
}

}  // namespace
}  // namespace globusfs
