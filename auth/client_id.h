// Where globusfs-auth and the daemon find the Globus native app's client id.
// First found wins:
//   1. $GLOBUSFS_CLIENT_ID
//   2. "client_id" in the user's config.json (DefaultConfigDir()/config.json)
//   3. "client_id" in /etc/globusfs/config.json (one app for every user of
//      the machine, as the package's administrator registers it)
// A file that is missing, unreadable, not JSON or without a non-empty
// "client_id" string is skipped. Pure apart from reading the files;
// thread-safe.
#pragma once

#include <filesystem>
#include <string>

namespace globusfs::auth {

inline constexpr const char* kSystemConfigFile = "/etc/globusfs/config.json";

struct ClientIdSources {
  std::string env;  // $GLOBUSFS_CLIENT_ID's value ("" when unset)
  std::filesystem::path user_config;
  std::filesystem::path system_config;
};

struct FoundClientId {
  std::string client_id;  // "" when no source has one
  std::string source;     // "GLOBUSFS_CLIENT_ID" or the file it came from
};

// The real sources: the environment, DefaultConfigDir()/config.json and
// kSystemConfigFile.
ClientIdSources DefaultClientIdSources();

FoundClientId FindClientId(const ClientIdSources& sources);

}  // namespace globusfs::auth
