#include "auth/http/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace globusfs::http {
namespace {

constexpr const char kVerifySslVar[] = "GLOBUS_SDK_VERIFY_SSL";
constexpr const char kTimeoutVar[] = "GLOBUS_SDK_HTTP_TIMEOUT";
constexpr const char kEnvironmentVar[] = "GLOBUS_SDK_ENVIRONMENT";
constexpr double kDefaultTimeoutS = 60;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The SDK's boolean-ish values; nullopt for anything else.
std::optional<bool> ParseBoolish(std::string_view value) {
  const std::string v = Lower(value);
  if (v == "1" || v == "true" || v == "yes" || v == "on" || v == "t" || v == "y") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off" || v == "f" || v == "n") return false;
  return std::nullopt;
}

// Like Python's float(): surrounding whitespace and a leading '+' allowed.
std::optional<double> ParseDouble(std::string_view value) {
  value = TrimSpace(value);
  if (!value.empty() && value.front() == '+') value.remove_prefix(1);
  if (value.empty()) return std::nullopt;
  double out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return out;
}

Error ConfigError(std::string message) { return MakeError(ErrorKind::kConfig, std::move(message)); }

std::string WithTrailingSlash(std::string url) {
  if (url.empty() || url.back() != '/') url.push_back('/');
  return url;
}

Result<std::string> ServiceUrl(const EnvLookup& env, std::string_view service,
                               const char* override_var, std::string_view environment) {
  // The SDK checks the override first and ignores an empty one.
  if (const auto override_url = env(override_var); override_url && !override_url->empty()) {
    const std::string url(TrimSpace(*override_url));
    if (!Lower(url).starts_with("https://") || url.size() <= 8) {
      return ConfigError(std::string(override_var) +
                         " must be an https:// URL (globusfs only talks TLS)");
    }
    return WithTrailingSlash(url);
  }
  return ServiceUrlForEnvironment(service, environment);
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<HttpConfig> HttpConfigFromEnv(const EnvLookup& env) {
  HttpConfig config;

  if (const auto verify = env(kVerifySslVar)) {
    if (const auto boolish = ParseBoolish(*verify)) {
      if (!*boolish) {
        config.warning = std::string(kVerifySslVar) + "=" + *verify +
                         " is ignored: globusfs always verifies TLS certificates (set " +
                         kVerifySslVar + " to a CA bundle file to trust a private CA)";
      }
    } else {
      std::error_code ec;
      const std::filesystem::path path(*verify);
      if (verify->empty() || !std::filesystem::is_regular_file(path, ec)) {
        return ConfigError(std::string(kVerifySslVar) +
                           " must be a boolean (1/0, true/false, yes/no, on/off) or the path "
                           "of an existing CA bundle file; got \"" +
                           *verify + "\"");
      }
      const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
      config.ca_file = ec ? path.string() : absolute.lexically_normal().string();
    }
  }

  if (const auto timeout = env(kTimeoutVar); timeout && !timeout->empty()) {
    const auto seconds = ParseDouble(*timeout);
    if (!seconds || !std::isfinite(*seconds) || (*seconds <= 0 && *seconds != -1)) {
      return ConfigError(std::string(kTimeoutVar) +
                         " must be a number of seconds > 0, or -1 for no timeout; got \"" +
                         *timeout + "\"");
    }
    config.timeout_s = *seconds == -1 ? std::nullopt : std::optional<double>(*seconds);
  } else {
    config.timeout_s = kDefaultTimeoutS;
  }
  return config;
}

Result<std::string> ServiceUrlForEnvironment(std::string_view service,
                                             std::string_view environment) {
  std::string domain;
  if (environment == "production") {
    domain = "globus.org";
  } else if (environment == "preview") {
    domain = "preview.globus.org";
  } else if (environment == "sandbox" || environment == "integration" || environment == "test" ||
             environment == "staging") {
    domain = std::string(environment) + ".globuscs.info";
  } else {
    return ConfigError("Unrecognized environment \"" + std::string(environment) + "\" in " +
                       kEnvironmentVar +
                       " (known: production, preview, sandbox, integration, test, staging)");
  }
  if (service == "auth" || service == "app") {
    return "https://" + std::string(service) + "." + domain + "/";
  }
  return "https://" + std::string(service) + ".api." + domain + "/";
}

Result<ServiceUrls> ServiceUrlsFromEnv(const EnvLookup& env) {
  const std::string environment = env(kEnvironmentVar).value_or("production");
  auto auth = ServiceUrl(env, "auth", "GLOBUS_SDK_SERVICE_URL_AUTH", environment);
  if (!auth) return std::move(auth).error();
  auto transfer = ServiceUrl(env, "transfer", "GLOBUS_SDK_SERVICE_URL_TRANSFER", environment);
  if (!transfer) return std::move(transfer).error();
  return ServiceUrls{std::move(auth).value(), std::move(transfer).value()};
}

}  // namespace globusfs::http
