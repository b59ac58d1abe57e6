// HttpConfigFromEnv / ServiceUrlsFromEnv: the SDK's environment rules (globus-api.md §1.2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "auth/http/config.h"

namespace globusfs::http {
namespace {

using ::testing::HasSubstr;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class TempFile {
 public:
  TempFile() {
    path_ = std::filesystem::temp_directory_path() /
            ("globusfs-ca-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::ofstream(path_) << "-----BEGIN CERTIFICATE-----\n";
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(HttpConfigFromEnvTest, Defaults) {
  const auto config = HttpConfigFromEnv(Env({}));
  ASSERT_TRUE(config.ok()) << config.error().Summary();
  EXPECT_EQ(config->ca_file, "");
  EXPECT_EQ(config->timeout_s, 60.0);
  EXPECT_EQ(config->user_agent, "globusfs/0.1");
  EXPECT_EQ(config->warning, "");
}

TEST(HttpConfigFromEnvTest, VerifySslTrueValues) {
  for (const char* value : {"1", "true", "TRUE", "Yes", "on", "t", "Y"}) {
    const auto config = HttpConfigFromEnv(Env({{"GLOBUS_SDK_VERIFY_SSL", value}}));
    ASSERT_TRUE(config.ok()) << value;
    EXPECT_EQ(config->ca_file, "") << value;
    EXPECT_EQ(config->warning, "") << value;
  }
}

TEST(HttpConfigFromEnvTest, VerifySslFalseIsNotHonouredButWarns) {
  for (const char* value : {"0", "false", "FALSE", "no", "Off", "f", "n"}) {
    const auto config = HttpConfigFromEnv(Env({{"GLOBUS_SDK_VERIFY_SSL", value}}));
    ASSERT_TRUE(config.ok()) << value;
    EXPECT_EQ(config->ca_file, "") << value;
    EXPECT_THAT(config->warning, HasSubstr("GLOBUS_SDK_VERIFY_SSL")) << value;
    EXPECT_THAT(config->warning, HasSubstr("always verifies")) << value;
  }
}

TEST(HttpConfigFromEnvTest, VerifySslCaBundleFile) {
  const TempFile file;
  const auto config = HttpConfigFromEnv(Env({{"GLOBUS_SDK_VERIFY_SSL", file.path().string()}}));
  ASSERT_TRUE(config.ok()) << config.error().Summary();
  EXPECT_EQ(config->ca_file, file.path().string());
  EXPECT_EQ(config->warning, "");
}

TEST(HttpConfigFromEnvTest, RelativeCaBundleBecomesAbsolute) {
  const TempFile file;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(file.path().parent_path());
  const auto config =
      HttpConfigFromEnv(Env({{"GLOBUS_SDK_VERIFY_SSL", file.path().filename().string()}}));
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(config.ok()) << config.error().Summary();
  EXPECT_EQ(config->ca_file, file.path().string());
}

TEST(HttpConfigFromEnvTest, VerifySslGarbageIsAConfigError) {
  for (const char* value : {"maybe", "", "/nonexistent/ca.pem", "/tmp"}) {
    const auto config = HttpConfigFromEnv(Env({{"GLOBUS_SDK_VERIFY_SSL", value}}));
    ASSERT_FALSE(config.ok()) << value;
    EXPECT_EQ(config.error().kind, ErrorKind::kConfig) << value;
    EXPECT_THAT(config.error().message, HasSubstr("GLOBUS_SDK_VERIFY_SSL")) << value;
  }
}

TEST(HttpConfigFromEnvTest, Timeout) {
  const std::map<std::string, std::optional<double>> cases = {
      {"", 60.0},     {"30", 30.0},         {"2.5", 2.5},           {" 7 ", 7.0},   {"+5", 5.0},
      {"1e2", 100.0}, {"-1", std::nullopt}, {"-1.0", std::nullopt}, {"0.01", 0.01},
  };
  for (const auto& [value, expected] : cases) {
    const auto config = HttpConfigFromEnv(Env({{"GLOBUS_SDK_HTTP_TIMEOUT", value}}));
    ASSERT_TRUE(config.ok()) << '"' << value << '"';
    EXPECT_EQ(config->timeout_s, expected) << '"' << value << '"';
  }
}

TEST(HttpConfigFromEnvTest, TimeoutGarbageIsAConfigError) {
  for (const char* value : {"abc", "10s", "0", "-5", "-0.5", "nan", "inf", "1,5", " "}) {
    const auto config = HttpConfigFromEnv(Env({{"GLOBUS_SDK_HTTP_TIMEOUT", value}}));
    ASSERT_FALSE(config.ok()) << '"' << value << '"';
    EXPECT_EQ(config.error().kind, ErrorKind::kConfig);
    EXPECT_THAT(config.error().message, HasSubstr("GLOBUS_SDK_HTTP_TIMEOUT"));
  }
}

TEST(ServiceUrlsFromEnvTest, ProductionByDefault) {
  const auto urls = ServiceUrlsFromEnv(Env({}));
  ASSERT_TRUE(urls.ok());
  EXPECT_EQ(urls->auth, "https://auth.globus.org/");
  EXPECT_EQ(urls->transfer, "https://transfer.api.globus.org/");
  const auto explicit_prod = ServiceUrlsFromEnv(Env({{"GLOBUS_SDK_ENVIRONMENT", "production"}}));
  ASSERT_TRUE(explicit_prod.ok());
  EXPECT_EQ(explicit_prod->transfer, "https://transfer.api.globus.org/");
}

TEST(ServiceUrlsFromEnvTest, Preview) {
  const auto urls = ServiceUrlsFromEnv(Env({{"GLOBUS_SDK_ENVIRONMENT", "preview"}}));
  ASSERT_TRUE(urls.ok());
  EXPECT_EQ(urls->auth, "https://auth.preview.globus.org/");
  EXPECT_EQ(urls->transfer, "https://transfer.api.preview.globus.org/");
}

TEST(ServiceUrlsFromEnvTest, InternalEnvironments) {
  for (const std::string env : {"sandbox", "integration", "test", "staging"}) {
    const auto urls = ServiceUrlsFromEnv(Env({{"GLOBUS_SDK_ENVIRONMENT", env}}));
    ASSERT_TRUE(urls.ok()) << env;
    EXPECT_EQ(urls->auth, "https://auth." + env + ".globuscs.info/");
    EXPECT_EQ(urls->transfer, "https://transfer.api." + env + ".globuscs.info/");
  }
}

TEST(ServiceUrlsFromEnvTest, UnknownEnvironment) {
  for (const char* env : {"prod", "PRODUCTION", "", "qa"}) {
    const auto urls = ServiceUrlsFromEnv(Env({{"GLOBUS_SDK_ENVIRONMENT", env}}));
    ASSERT_FALSE(urls.ok()) << env;
    EXPECT_EQ(urls.error().kind, ErrorKind::kConfig);
    EXPECT_THAT(urls.error().message, HasSubstr("Unrecognized environment"));
  }
}

TEST(ServiceUrlsFromEnvTest, OverridesAddTrailingSlash) {
  const auto urls = ServiceUrlsFromEnv(Env({
      {"GLOBUS_SDK_SERVICE_URL_AUTH", "https://127.0.0.1:8443/auth"},
      {"GLOBUS_SDK_SERVICE_URL_TRANSFER", "https://127.0.0.1:8443/transfer/"},
  }));
  ASSERT_TRUE(urls.ok());
  EXPECT_EQ(urls->auth, "https://127.0.0.1:8443/auth/");
  EXPECT_EQ(urls->transfer, "https://127.0.0.1:8443/transfer/");
}

TEST(ServiceUrlsFromEnvTest, OverrideIsCheckedBeforeEnvironment) {
  const auto both = ServiceUrlsFromEnv(Env({
      {"GLOBUS_SDK_ENVIRONMENT", "bogus"},
      {"GLOBUS_SDK_SERVICE_URL_AUTH", "https://a.example/"},
      {"GLOBUS_SDK_SERVICE_URL_TRANSFER", "https://t.example/"},
  }));
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->auth, "https://a.example/");

  // Only one overridden: the other still needs a known environment.
  const auto one = ServiceUrlsFromEnv(Env({
      {"GLOBUS_SDK_ENVIRONMENT", "bogus"},
      {"GLOBUS_SDK_SERVICE_URL_AUTH", "https://a.example/"},
  }));
  ASSERT_FALSE(one.ok());
  EXPECT_THAT(one.error().message, HasSubstr("Unrecognized environment"));

  const auto mixed = ServiceUrlsFromEnv(Env({
      {"GLOBUS_SDK_ENVIRONMENT", "preview"},
      {"GLOBUS_SDK_SERVICE_URL_TRANSFER", "https://t.example"},
  }));
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->auth, "https://auth.preview.globus.org/");
  EXPECT_EQ(mixed->transfer, "https://t.example/");
}

TEST(ServiceUrlsFromEnvTest, EmptyOverrideIsIgnored) {
  const auto urls = ServiceUrlsFromEnv(Env({{"GLOBUS_SDK_SERVICE_URL_TRANSFER", ""}}));
  ASSERT_TRUE(urls.ok());
  EXPECT_EQ(urls->transfer, "https://transfer.api.globus.org/");
}

TEST(ServiceUrlsFromEnvTest, NonHttpsOverrideIsRejected) {
  for (const char* url : {"http://127.0.0.1:8080/", "transfer.example.org", "https://"}) {
    const auto urls = ServiceUrlsFromEnv(Env({{"GLOBUS_SDK_SERVICE_URL_TRANSFER", url}}));
    ASSERT_FALSE(urls.ok()) << url;
    EXPECT_EQ(urls.error().kind, ErrorKind::kConfig);
    EXPECT_THAT(urls.error().message, HasSubstr("GLOBUS_SDK_SERVICE_URL_TRANSFER"));
  }
}

TEST(ProcessEnvTest, ReadsTheEnvironment) {
  ::setenv("GLOBUSFS_HTTP_TEST_VAR", "v1", 1);
  EXPECT_EQ(ProcessEnv()("GLOBUSFS_HTTP_TEST_VAR"), "v1");
  ::unsetenv("GLOBUSFS_HTTP_TEST_VAR");
  EXPECT_EQ(ProcessEnv()("GLOBUSFS_HTTP_TEST_VAR"), std::nullopt);
}

}  // namespace
}  // namespace globusfs::http
