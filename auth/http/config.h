// HTTP and service-URL configuration read from the Globus SDK's environment
// variables, with the SDK's parsing rules (globus-api.md §1.2):
//
//   GLOBUS_SDK_VERIFY_SSL       boolean-ish or a CA bundle file path. globusfs
//                               ALWAYS verifies TLS: a false value is not
//                               honoured, only reported in HttpConfig::warning.
//   GLOBUS_SDK_HTTP_TIMEOUT     float seconds; default/empty 60; -1 = none.
//   GLOBUS_SDK_ENVIRONMENT      production (default), preview, sandbox,
//                               integration, test, staging.
//   GLOBUS_SDK_SERVICE_URL_AUTH / _TRANSFER   base URL overrides.
//
// Invariants of a returned config: ca_file is empty or an absolute path to an
// existing regular file (absolute so a later chdir, e.g. by a daemon, does
// not change its meaning); timeout_s is nullopt or finite and > 0; every
// ServiceUrls member starts with "https://" and ends with '/'.
//
// Thread-safety: pure functions, except that the default EnvLookup reads the
// process environment (getenv), which must not be modified concurrently.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "auth/http/result.h"

namespace globusfs::http {

struct HttpConfig {
  std::string ca_file;                   // empty = system trust store
  std::optional<double> timeout_s = 60;  // connect timeout and stall timeout; nullopt = none
  std::string user_agent = "globusfs/0.1";
  // Non-empty when a setting was read but not honoured (e.g.
  // GLOBUS_SDK_VERIFY_SSL=false); callers print it once.
  std::string warning;
};

struct ServiceUrls {
  std::string auth;      // e.g. "https://auth.globus.org/"
  std::string transfer;  // e.g. "https://transfer.api.globus.org/"
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

// An EnvLookup over the process environment (getenv).
EnvLookup ProcessEnv();

// Errors: kConfig naming the variable, for a GLOBUS_SDK_VERIFY_SSL value that
// is neither boolean-ish nor an existing file, or an unparsable timeout.
Result<HttpConfig> HttpConfigFromEnv(const EnvLookup& env = ProcessEnv());

// Errors: kConfig "Unrecognized environment ..." for an unknown
// GLOBUS_SDK_ENVIRONMENT; kConfig for an override that is not an https URL.
Result<ServiceUrls> ServiceUrlsFromEnv(const EnvLookup& env = ProcessEnv());

// The base URL of `service` ("auth", "transfer", ...) in environment
// `environment`, following the SDK's naming rule; kConfig if unknown.
Result<std::string> ServiceUrlForEnvironment(std::string_view service,
                                             std::string_view environment);

}  // namespace globusfs::http
