// The token store shared by globusfs-auth and the globusfs daemon.
//
// One file, DIR/tokens.json (0600) in DIR = $GLOBUSFS_CONFIG_DIR or
// $XDG_CONFIG_HOME/globusfs or ~/.config/globusfs (0700). It holds one record
// per resource server (access token, refresh token, expiry, scopes), the
// logged-in identity (sub), the last id_token, and the templated client
// credentials used for token introspection.
//
// Invariants: the file is replaced atomically (temp file, fsync, rename,
// fsync of the folder), so a reader sees the old or the new store, never a
// mix. Every read-modify-write (login, refresh, logout) runs under an
// exclusive flock on DIR/tokens.lock, so the tool and the daemon (and the
// daemon's threads) can refresh at once without losing a token.
//
// Thread-safety: all methods may be called from any thread; Update()
// serialises through the flock (each call opens its own descriptor, so
// threads of one process exclude each other too).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/http/result.h"

namespace globusfs::auth {

struct TokenRecord {
  std::string resource_server;
  std::string access_token;
  std::string refresh_token;  // may be empty (online access)
  int64_t expires_at = 0;     // epoch seconds
  std::string scope;          // space-separated, as Auth returned it
  std::string token_type = "Bearer";
};

struct ClientCredentials {
  std::string client_id;
  std::string client_secret;
};

struct StoredLogin {
  std::string client_id;  // the native app the tokens were issued to
  std::string sub;        // the primary identity id
  std::string username;   // for messages only
  std::string id_token;   // from the last login (session snapshot)
  std::map<std::string, TokenRecord> tokens;  // by resource server
  std::optional<ClientCredentials> templated_client;

  bool empty() const { return tokens.empty(); }
  const TokenRecord* Find(const std::string& resource_server) const;
};

// The config folder: $GLOBUSFS_CONFIG_DIR, else $XDG_CONFIG_HOME/globusfs,
// else HomeDir()/.config/globusfs.
std::filesystem::path DefaultConfigDir();
// $HOME, else the user's home folder from the passwd database (mount.fuse3
// with setuid=USER runs globusfs without HOME), else /tmp.
std::filesystem::path HomeDir();

class TokenStore {
 public:
  explicit TokenStore(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path file() const { return dir_ / "tokens.json"; }

  // The current store (empty when there is none). kConfig error when the
  // file is unreadable or corrupt (the message names the file, never a token).
  http::Result<StoredLogin> Load() const;

  // Read-modify-write under the exclusive lock: `fn` sees the latest store
  // and may return false to leave the file untouched. It may make network
  // calls (a refresh must, so that a rotated refresh token is never lost);
  // other refreshers wait on the lock meanwhile. Creates DIR (0700).
  http::Result<void> Update(const std::function<bool(StoredLogin&)>& fn);

  // Deletes the file (under the lock). Missing file is not an error.
  http::Result<void> Remove();

  // Modification stamp of the file (0 when absent): lets the daemon notice
  // tokens written by the tool without re-parsing on every request.
  int64_t Stamp() const;

 private:
  http::Result<void> WriteLocked(const StoredLogin& login);
  http::Result<StoredLogin> LoadUnlocked() const;
  http::Result<int> LockFile();  // returns the locked fd

  std::filesystem::path dir_;
};

}  // namespace globusfs::auth
