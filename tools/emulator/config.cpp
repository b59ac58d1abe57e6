#include "config.h"

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "util.h"

namespace emu {
namespace {

constexpr const char* kUsage = R"(usage: globus-emulator --state-dir DIR [options]

A local Globus (Auth, Transfer and collection HTTPS servers) over TLS on
127.0.0.1, for tests, benchmarks and trying globusfs without an account.

  --state-dir DIR              where the CA, the env file and the state live (required)
  --port N                     port on 127.0.0.1 (default: a free one)
  --public-port N              advertise this port instead in every URL (env file,
                               https_server, ...): a proxy on 127.0.0.1:N forwards here
  --collection NAME=UUID:ROOT  serve the local folder ROOT as a collection (repeatable);
                               NAME=ROOT derives a stable UUID from NAME
  --personal NAME=UUID:ROOT    serve ROOT as a Globus Connect Personal collection
                               (GCP_mapped_collection: no HTTPS server, no https or
                               data_access scope); repeatable, same forms as --collection
  --identity USERNAME          the identity Auth logs in as (default researcher@example.org)
  --linked-identity USERNAME   another identity in the same identity set (repeatable)
  --high-assurance UUID        make a collection high assurance (repeatable)
  --auth-timeout SECONDS       authentication timeout of high-assurance collections (default 900)
  --mfa-required UUID          make a collection high assurance and require multi-factor
                               authentication in the session (repeatable)
  --guest UUID                 make a collection a GCSv5 guest collection (no data_access scope)
  --no-https UUID              the collection has no HTTPS server (https_server: null)
  --default-directory NAME=PATH  the collection's default_directory (default: null, so
                               ls without a path lists /~/, the user's home folder:
                               /home/<user>/ when it exists under ROOT, else ROOT)
  --ls-absolute-path UUID      ls answers absolute_path with the folder's real path
                               (default: null, as the recorded answers)
  --max-ls-entries N           ls of a folder with more than N entries fails with 502
                               ExternalError.DirListingFailed.SizeLimit (default: no limit)
  --latency-ms N               delay every request by N ms
  --task-delay-ms N            time a task waits before it runs (default 500)
  --token-lifetime SECONDS     access token lifetime (default 172800)
  --no-client-template         the native client cannot create templated clients, so
                               token introspection is unavailable to it
  --client-id UUID             the native app's client id (default: a stable one)
  --issuer URL                 the OpenID issuer Auth names (openid-configuration,
                               id_token and introspection iss) instead of its base URL
  -h, --help                   this text

When it is listening it writes DIR/env; `. DIR/env` points clients at it.
Test controls live under /_emulator/ (see docs/emulator.md).
)";

bool ParseInt(const char* s, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (errno || end == s || *end != '\0' || v < 0) return false;
  *out = v;
  return true;
}

}  // namespace

std::string Identity::Domain() const {
  auto at = username.find('@');
  return at == std::string::npos ? std::string() : username.substr(at + 1);
}

Identity MakeIdentity(const std::string& username) {
  Identity id;
  id.username = username;
  id.id = NameUuid("identity:" + username);
  std::string local = username.substr(0, username.find('@'));
  id.name = local.empty() ? username : local;
  if (!id.name.empty()) id.name[0] = static_cast<char>(std::toupper(id.name[0]));
  id.email = username.find('@') != std::string::npos ? username : username + "@example.org";
  std::string domain = id.Domain().empty() ? "example.org" : id.Domain();
  id.idp_id = NameUuid("idp:" + domain);
  id.idp_name = domain == "globusid.org" ? "Globus ID" : domain;
  id.organization = domain;
  return id;
}

std::optional<Config> ParseCommandLine(int argc, char** argv, int* exit_code) {
  Config cfg;
  std::vector<std::string> ha, guests, no_https, mfa, absolute_paths;
  std::vector<std::pair<std::string, std::string>> default_dirs;  // collection, path
  int64_t auth_timeout = 900;
  int64_t max_ls_entries = 0;
  bool have_timeout = false;
  std::string identity = "researcher@example.org";
  auto usage_error = [&](const std::string& msg) -> std::optional<Config> {
    std::cerr << "globus-emulator: " << msg << "\n(see globus-emulator --help)\n";
    *exit_code = 2;
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      *exit_code = 0;
      return std::nullopt;
    }
    const char* v = nullptr;
    if (a == "--state-dir" || a == "--port" || a == "--public-port" || a == "--collection" ||
        a == "--personal" ||
        a == "--identity" || a == "--linked-identity" || a == "--high-assurance" || a == "--mfa-required" ||
        a == "--auth-timeout" || a == "--guest" || a == "--no-https" || a == "--latency-ms" ||
        a == "--task-delay-ms" || a == "--token-lifetime" || a == "--client-id" || a == "--issuer" ||
        a == "--max-ls-entries" || a == "--default-directory" || a == "--ls-absolute-path") {
      v = value(a.c_str());
      if (!v) return usage_error(a + " needs a value");
    }
    int64_t n = 0;
    if (a == "--state-dir") {
      cfg.state_dir = std::filesystem::absolute(v);
    } else if (a == "--port") {
      if (!ParseInt(v, &n) || n > 65535) return usage_error("--port: not a port: " + std::string(v));
      cfg.port = static_cast<uint16_t>(n);
    } else if (a == "--public-port") {
      if (!ParseInt(v, &n) || n == 0 || n > 65535) {
        return usage_error("--public-port: not a port: " + std::string(v));
      }
      cfg.public_port = static_cast<uint16_t>(n);
    } else if (a == "--collection" || a == "--personal") {
      std::string spec = v;
      auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) {
        return usage_error(a + " wants NAME=UUID:ROOTDIR, got " + spec);
      }
      Collection c;
      c.name = spec.substr(0, eq);
      std::string rest = spec.substr(eq + 1);
      if (rest.size() > 37 && rest[36] == ':' && LooksLikeUuid(rest.substr(0, 36))) {
        c.id = rest.substr(0, 36);
        c.root = rest.substr(37);
      } else if (!rest.empty() && rest[0] == '/') {
        c.id = NameUuid("collection:" + c.name);
        c.root = rest;
      } else {
        return usage_error(a + " wants NAME=UUID:ROOTDIR, got " + spec);
      }
      if (c.name.find('/') != std::string::npos) return usage_error("collection names cannot hold '/'");
      std::error_code ec;
      if (!std::filesystem::is_directory(c.root, ec)) {
        return usage_error(a + " " + c.name + ": " + c.root.string() + " is not a folder");
      }
      c.root = std::filesystem::canonical(c.root);
      c.display_name = c.name;
      if (a == "--personal") {
        // Globus Connect Personal: Transfer only, no HTTPS server.
        c.entity_type = "GCP_mapped_collection";
        c.https = false;
      }
      for (const auto& other : cfg.collections) {
        if (other.id == c.id || other.name == c.name) {
          return usage_error(a + " " + c.name + ": name or UUID used twice");
        }
      }
      cfg.collections.push_back(std::move(c));
    } else if (a == "--identity") {
      identity = v;
    } else if (a == "--linked-identity") {
      cfg.linked.push_back(MakeIdentity(v));
    } else if (a == "--high-assurance") {
      ha.push_back(v);
    } else if (a == "--mfa-required") {
      mfa.push_back(v);
    } else if (a == "--guest") {
      guests.push_back(v);
    } else if (a == "--no-https") {
      no_https.push_back(v);
    } else if (a == "--auth-timeout") {
      if (!ParseInt(v, &auth_timeout) || auth_timeout == 0) return usage_error("--auth-timeout: bad value");
      have_timeout = true;
    } else if (a == "--default-directory") {
      std::string spec = v;
      auto eq = spec.find('=');
      std::string path = eq == std::string::npos ? "" : spec.substr(eq + 1);
      if (eq == std::string::npos || eq == 0 || path.empty() || (path[0] != '/' && path[0] != '~')) {
        return usage_error("--default-directory wants NAME=/path/, got " + spec);
      }
      default_dirs.emplace_back(spec.substr(0, eq), path);
    } else if (a == "--ls-absolute-path") {
      absolute_paths.push_back(v);
    } else if (a == "--max-ls-entries") {
      if (!ParseInt(v, &max_ls_entries) || max_ls_entries == 0) {
        return usage_error("--max-ls-entries wants a number of entries, at least 1");
      }
    } else if (a == "--latency-ms") {
      if (!ParseInt(v, &cfg.latency_ms)) return usage_error("--latency-ms: bad value");
    } else if (a == "--task-delay-ms") {
      if (!ParseInt(v, &cfg.task_delay_ms)) return usage_error("--task-delay-ms: bad value");
    } else if (a == "--token-lifetime") {
      if (!ParseInt(v, &cfg.token_lifetime_s) || cfg.token_lifetime_s == 0) {
        return usage_error("--token-lifetime: bad value");
      }
    } else if (a == "--client-id") {
      if (!LooksLikeUuid(v)) return usage_error("--client-id must be a UUID");
      cfg.client_id = v;
    } else if (a == "--issuer") {
      std::string url = v;
      if (url.rfind("https://", 0) != 0 || url.size() <= 8) return usage_error("--issuer must be an https URL");
      cfg.issuer = url;
    } else if (a == "--no-client-template") {
      cfg.client_template = false;
    } else {
      return usage_error("unknown option " + a);
    }
  }
  if (cfg.state_dir.empty()) return usage_error("--state-dir is required");
  if (have_timeout && ha.empty() && mfa.empty()) {
    return usage_error("--auth-timeout needs --high-assurance or --mfa-required");
  }
  cfg.identity = MakeIdentity(identity);
  for (const auto& l : cfg.linked) {
    if (l.username == cfg.identity.username) return usage_error("a linked identity repeats --identity");
  }
  auto find = [&](const std::string& id) -> Collection* {
    for (auto& c : cfg.collections) {
      if (c.id == id || c.name == id) return &c;
    }
    return nullptr;
  };
  const std::string local_user = cfg.identity.username.substr(0, cfg.identity.username.find('@'));
  for (auto& c : cfg.collections) {
    c.max_ls_entries = max_ls_entries;
    c.local_user = local_user.find('/') == std::string::npos && local_user != "." && local_user != ".."
                       ? local_user
                       : "";
  }
  for (const auto& id : ha) {
    Collection* c = find(id);
    if (!c) return usage_error("--high-assurance " + id + ": no such --collection");
    if (c->IsPersonal()) return usage_error("--high-assurance " + id + ": a --personal collection cannot be high assurance");
    c->high_assurance = true;
    c->auth_timeout_s = auth_timeout;
  }
  for (const auto& id : mfa) {
    Collection* c = find(id);
    if (!c) return usage_error("--mfa-required " + id + ": no such --collection");
    if (c->IsPersonal()) return usage_error("--mfa-required " + id + ": a --personal collection cannot require MFA");
    c->high_assurance = true;
    c->auth_timeout_s = auth_timeout;
    c->mfa_required = true;
  }
  for (const auto& id : guests) {
    Collection* c = find(id);
    if (!c) return usage_error("--guest " + id + ": no such --collection");
    if (c->IsPersonal()) return usage_error("--guest " + id + ": give a --collection, not a --personal one");
    c->entity_type = "GCSv5_guest_collection";
  }
  for (const auto& id : no_https) {
    Collection* c = find(id);
    if (!c) return usage_error("--no-https " + id + ": no such --collection");
    c->https = false;
  }
  for (const auto& [id, path] : default_dirs) {
    Collection* c = find(id);
    if (!c) return usage_error("--default-directory " + id + ": no such --collection");
    c->default_directory = path;
  }
  for (const auto& id : absolute_paths) {
    Collection* c = find(id);
    if (!c) return usage_error("--ls-absolute-path " + id + ": no such --collection");
    c->ls_absolute_path = true;
  }
  if (cfg.client_id.empty()) cfg.client_id = NameUuid("client:globusfs-native-app");
  *exit_code = 0;
  return cfg;
}

}  // namespace emu
