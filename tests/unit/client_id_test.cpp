// FindClientId: $GLOBUSFS_CLIENT_ID, then the user's config.json, then
// /etc/globusfs/config.json (here: files in a temporary folder).
#include "auth/client_id.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "auth/token_store.h"

namespace globusfs::auth {
namespace {

class ClientIdTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("globusfs-client-id-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    sources_.user_config = dir_ / "user.json";
    sources_.system_config = dir_ / "etc.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::filesystem::path& file, const std::string& text) {
    std::ofstream(file) << text;
  }

  std::filesystem::path dir_;
  ClientIdSources sources_;
};

TEST_F(ClientIdTest, NoneAnywhere) {
  auto found = FindClientId(sources_);
  EXPECT_EQ(found.client_id, "");
}

TEST_F(ClientIdTest, TheSystemFileServesEveryUser) {
  Write(sources_.system_config, R"({"client_id": "site-app"})");
  auto found = FindClientId(sources_);
  EXPECT_EQ(found.client_id, "site-app");
  EXPECT_EQ(found.source, sources_.system_config.string());
}

TEST_F(ClientIdTest, TheUsersFileWinsOverTheSystemFile) {
  Write(sources_.system_config, R"({"client_id": "site-app"})");
  Write(sources_.user_config, R"({"client_id": "my-app"})");
  EXPECT_EQ(FindClientId(sources_).client_id, "my-app");
}

TEST_F(ClientIdTest, TheEnvironmentWinsOverBothFiles) {
  Write(sources_.system_config, R"({"client_id": "site-app"})");
  Write(sources_.user_config, R"({"client_id": "my-app"})");
  sources_.env = "env-app";
  auto found = FindClientId(sources_);
  EXPECT_EQ(found.client_id, "env-app");
  EXPECT_EQ(found.source, "GLOBUSFS_CLIENT_ID");
}

TEST_F(ClientIdTest, AUserFileWithoutAClientIdFallsThrough) {
  Write(sources_.system_config, R"({"client_id": "site-app"})");
  for (const char* text :
       {"{}", "not json", R"({"client_id": ""})", R"({"client_id": 42})", "[1]"}) {
    Write(sources_.user_config, text);
    EXPECT_EQ(FindClientId(sources_).client_id, "site-app") << text;
  }
}

TEST(ClientIdDefaults, ReadTheEnvironmentTheConfigDirAndEtc) {
  ::setenv("GLOBUSFS_CONFIG_DIR", "/tmp/globusfs-client-id-cfg", 1);
  ::setenv("GLOBUSFS_CLIENT_ID", "from-env", 1);
  auto s = DefaultClientIdSources();
  ::unsetenv("GLOBUSFS_CONFIG_DIR");
  ::unsetenv("GLOBUSFS_CLIENT_ID");
  EXPECT_EQ(s.env, "from-env");
  EXPECT_EQ(s.user_config, std::filesystem::path("/tmp/globusfs-client-id-cfg/config.json"));
  EXPECT_EQ(s.system_config, std::filesystem::path("/etc/globusfs/config.json"));
}

}  // namespace
}  // namespace globusfs::auth

namespace globusfs::auth {
namespace {

// mount.fuse3 with setuid=USER starts globusfs as USER with no HOME: the
// tokens are still found in USER's home folder.
TEST(HomeDirWithoutHome, IsThePasswdEntrysHome) {
  const char* saved = std::getenv("HOME");
  const std::string home = saved ? saved : "";
  ::unsetenv("HOME");
  ::unsetenv("XDG_CONFIG_HOME");
  ::unsetenv("GLOBUSFS_CONFIG_DIR");
  struct passwd* pw = ::getpwuid(::getuid());
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(HomeDir(), std::filesystem::path(pw->pw_dir));
  EXPECT_EQ(DefaultConfigDir(), std::filesystem::path(pw->pw_dir) / ".config" / "globusfs");
  ::setenv("HOME", "/home/somebody", 1);
  EXPECT_EQ(HomeDir(), std::filesystem::path("/home/somebody"));
  if (saved) ::setenv("HOME", home.c_str(), 1);
}

}  // namespace
}  // namespace globusfs::auth
