// globus-emulator's configuration: collections, identities, timings.
// Built once from the command line, then read-only (the one mutable part,
// a collection's high-assurance switch, lives in Emulator behind a lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace emu {

struct Identity {
  std::string id;        // stable: a name-based UUID of the username
  std::string username;  // e.g. "ada@example.org"
  std::string name;
  std::string email;
  std::string idp_id;    // one identity provider per domain
  std::string idp_name;
  std::string organization;
  std::string Domain() const;  // the part after '@'
};

Identity MakeIdentity(const std::string& username);

struct Collection {
  std::string name;
  std::string id;
  std::filesystem::path root;  // a local folder; the collection path "/" is this folder
  std::string entity_type = "GCSv5_mapped_collection";
  bool high_assurance = false;
  int64_t auth_timeout_s = 0;  // high assurance only
  bool mfa_required = false;   // high assurance only: the session must have used MFA
  bool https = true;           // false: https_server is null
  // ls of a folder with more entries than this answers 502
  // ExternalError.DirListingFailed.SizeLimit (--max-ls-entries; 0: no limit).
  int64_t max_ls_entries = 0;
  // The document's default_directory (--default-directory); empty: null,
  // as GCSv5 collections usually have it. ls without a path lists it (or
  // "/~/" when null).
  std::string default_directory;
  // ls answers absolute_path with the listed folder's real path, e.g.
  // "/home/ada/" for "/~/" (--ls-absolute-path); false: null, as every
  // answer globus-api.md §2.2 records.
  bool ls_absolute_path = false;
  // The local account the identity maps to (its username before '@'); its
  // home folder is /home/<local_user>/ when that exists (paths.h HomePath).
  std::string local_user;
  std::string display_name;
  // Whether Transfer needs a data_access consent for this collection (§5).
  bool NeedsDataAccess() const {
    return entity_type == "GCSv5_mapped_collection" && !high_assurance;
  }
  // Globus Connect Personal (--personal): no HTTPS server, no https scope.
  bool IsPersonal() const { return entity_type.rfind("GCP_", 0) == 0; }
  // Whether Auth knows the scope https://auth.globus.org/scopes/<id>/https:
  // every GCSv5 collection has one (even with HTTPS off), GCP and GCSv4
  // collections do not (globus-api.md §5).
  bool HasHttpsScope() const { return entity_type.rfind("GCSv5_", 0) == 0; }
};

struct Config {
  std::filesystem::path state_dir;
  uint16_t port = 0;
  uint16_t public_port = 0;         // nonzero: the port in every URL handed out (a proxy in front)
  std::vector<Collection> collections;
  Identity identity;
  std::vector<Identity> linked;
  int64_t latency_ms = 0;
  int64_t task_delay_ms = 500;      // how long a task waits in the queue before it runs
  int64_t token_lifetime_s = 172800;
  bool client_template = true;      // the native client may create templated confidential clients
  std::string client_id;            // the native app id written to DIR/env
  // The OpenID issuer Auth names (openid-configuration, id_token "iss",
  // introspection "iss"); empty: the base URL, as real Auth's issuer
  // https://auth.globus.org is its own base URL.
  std::string issuer;
};

// Parses argv. On a usage error prints to stderr and returns nullopt with
// *exit_code = 2; for --help prints usage and returns nullopt with 0.
std::optional<Config> ParseCommandLine(int argc, char** argv, int* exit_code);

}  // namespace emu
