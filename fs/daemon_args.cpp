#include "fs/daemon_args.h"

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string_view>

namespace globusfs::fs {

namespace {

constexpr const char* kUsage = R"(usage: globusfs [options] MOUNTPOINT
       globusfs CONFIG.json MOUNTPOINT [-o OPT[,OPT...]]   (as mount -t fuse.globusfs runs it)
       globusfs status|wait|search ...   (see Commands)

Mounts Globus collections as folders under MOUNTPOINT. Log in first with
globusfs-auth login --collection UUID ... ; unmount with fusermount3 -u MOUNTPOINT
(or umount MOUNTPOINT).

  --collection NAME=UUID[:BASEPATH]  show collection UUID as the folder NAME, rooted at
                                     BASEPATH (default: what globus ls UUID shows, the
                                     collection's default directory, else /~/, your
                                     home folder there); repeatable
  --config FILE                      a JSON mount table (also the first of two arguments):
                                     {"collections": [{"name", "id", "path"}], "single": false}
  --single                           one collection as the mount's root
  -f                                 stay in the foreground (log to stderr)
  -d                                 debug: foreground, debug log, FUSE request tracing
  -o OPT[,OPT...]                    mount options: the settings below in their -o form
                                     (cache_size=2G, config=FILE, single, ...), FUSE options
                                     (allow_other, allow_root, ro, default_permissions,
                                     auto_unmount, noexec, ...); fstab's own (_netdev, noauto,
                                     nofail, user, x-systemd.*, rw, defaults, ...) are ignored
  --cache-dir DIR                    metadata cache (default $XDG_CACHE_HOME/globusfs/...)
  --metadata-ttl SECONDS             how long listings and attributes are trusted (default 60)
  --cache-size SIZE                  disk space for cached file blocks (default 1G; 0 = none)
  --memory-limit SIZE                memory for read buffers and readahead is half of this
                                     (default 256M)
  --walk-ahead N                     during a walk (find, du, ls -R) list up to N sibling
                                     folders ahead, in parallel (default 4; 0 = never)
  --copy-mode batch|wait             copies between collections become batched Globus
                                     transfer tasks (default batch: cp returns at once,
                                     fsync/unmount wait); wait: each copy waits for its task
  --drain-timeout SECONDS            at unmount, send pending copies and deletes for at most
                                     this long (default 30; 0 = do not wait); what is left
                                     stays in the journal and the next mount sends it
  --log-file FILE                    log here (default: <cache dir>/globusfs.log when detached)
  -h, --help                         this text
  --version                          the version

Commands:
  globusfs status MOUNTPOINT [--json]
      the mount's pending copies and deletes, and its active, failed and recent Globus tasks
  globusfs status MOUNTPOINT --watch [--interval SECONDS] [--json]
      follows them (redrawn in place on a terminal, a block per change otherwise; --json:
      one document per line) with progress bars: files and bytes done of the total, rate,
      time left; exits 0 when nothing is pending or active, 1 if something failed meanwhile
  globusfs wait MOUNTPOINT [PATH] [--timeout SECONDS] [--json]
      waits until the copies and deletes under PATH (default: the whole mount), including
      those made before it started, have landed at Globus: 0 when they have, 1 listing the
      failures, or when SECONDS pass first (without --timeout it waits as long as they run)
  globusfs search TEXT [--limit N] [--json]
      finds collections by name (Transfer's endpoint_search): id, display name, owner,
      kind, and whether it has an HTTPS server; needs globusfs-auth login, not a mount

Environment: GLOBUSFS_CONFIG_DIR (tokens), GLOBUSFS_CLIENT_ID, GLOBUS_SDK_* (see README).
Files: /etc/globusfs/config.json ({"client_id": ...} for every user). See globusfs(1).
)";

// "512M", "2G", "1048576" -> bytes; false on garbage and on sizes of 2^64
// bytes or more (converting those to uint64_t would be undefined).
bool ParseSize(const std::string& text, uint64_t* out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v >= 0)) return false;  // !(>=): NaN too
  std::string unit(end);
  uint64_t mult = 1;
  if (unit == "K" || unit == "k" || unit == "KiB")
    mult = 1ULL << 10;
  else if (unit == "M" || unit == "m" || unit == "MiB")
    mult = 1ULL << 20;
  else if (unit == "G" || unit == "g" || unit == "GiB")
    mult = 1ULL << 30;
  else if (unit == "T" || unit == "t" || unit == "TiB")
    mult = 1ULL << 40;
  else if (!unit.empty())
    return false;
  const double bytes = v * static_cast<double>(mult);
  if (!(bytes < 0x1p64)) return false;  // inf too
  *out = static_cast<uint64_t>(bytes);
  return true;
}

// Seconds from 0 to 1e9 (~31 years: RunDaemon turns them into int64_t
// milliseconds and adds them to a steady_clock time point).
bool ParseSeconds(const std::string& text, double* out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (*end || end == text.c_str() || !(v >= 0 && v <= 1e9)) return false;
  *out = v;
  return true;
}

// The settings that take a value, by their -o name; the long flag is
// "--" + the name with '-' for '_'.
constexpr std::string_view kSettings[] = {
    "collection", "config",       "cache_dir", "metadata_ttl", "log_file",
    "cache_size", "memory_limit", "copy_mode", "walk_ahead",   "drain_timeout"};

bool IsSetting(std::string_view key) {
  for (auto s : kSettings) {
    if (s == key) return true;
  }
  return false;
}

// Applies one setting; `shown` is how the user wrote its name (for the
// message). Returns the problem, if any.
std::optional<std::string> ApplySetting(const std::string& key, const std::string& shown,
                                        const std::string& v, DaemonConfig* config,
                                        std::string* config_file) {
  if (key == "collection") {
    auto e = ParseCollectionSpec(v);
    if (!e) return e.error().message;
    config->table.entries.push_back(*e);
  } else if (key == "config") {
    if (v.empty()) return shown + " wants a file";
    *config_file = v;
  } else if (key == "cache_dir") {
    config->cache_dir = v;
  } else if (key == "log_file") {
    config->log_file = v;
  } else if (key == "copy_mode") {
    if (v != "batch" && v != "wait") return shown + " is batch or wait";
    config->copy_wait = v == "wait";
  } else if (key == "walk_ahead") {
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (*end || end == v.c_str() || n < 0 || n > 64) return shown + " wants a number from 0 to 64";
    config->walk_ahead = static_cast<int>(n);
  } else if (key == "drain_timeout") {
    if (!ParseSeconds(v, &config->drain_timeout_s))
      return shown + " wants seconds (0: do not wait)";
  } else if (key == "cache_size") {
    if (!ParseSize(v, &config->cache_size)) return shown + " wants a size such as 512M or 2G";
  } else if (key == "memory_limit") {
    if (!ParseSize(v, &config->memory_limit) || config->memory_limit < (16ULL << 20)) {
      return shown + " wants a size of at least 16M";
    }
  } else if (key == "metadata_ttl") {
    if (!ParseSeconds(v, &config->metadata_ttl_s)) return shown + " wants seconds";
  } else {
    return "unknown setting " + shown;  // kSettings and this chain disagree
  }
  return std::nullopt;
}

// FUSE and kernel mount options libfuse 3 accepts, passed on as given.
constexpr std::string_view kFuseFlags[] = {
    "allow_other", "allow_root", "auto_unmount", "default_permissions",
    "ro",          "nodev",      "nosuid",       "noexec",
    "noatime",     "sync",       "async",        "dirsync",
    "debug"};
constexpr std::string_view kFuseValued[] = {"fsname",    "subtype",    "max_read",   "context",
                                            "fscontext", "defcontext", "rootcontext"};
// Options for mount(8), fstab, mount.fuse3 or systemd, or the defaults of a
// FUSE mount (rw, dev, suid, exec: a FUSE mount is nodev,nosuid anyway).
constexpr std::string_view kIgnored[] = {"_netdev", "noauto", "auto",  "nofail",   "user", "nouser",
                                         "users",   "owner",  "group", "defaults", "rw",   "dev",
                                         "suid",    "exec",   "atime", "relatime"};

template <size_t N>
bool In(const std::string_view (&set)[N], std::string_view s) {
  for (auto x : set) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

const char* Version() { return GLOBUSFS_VERSION; }

http::Result<MountOptionKind> ApplyMountOption(const std::string& option, DaemonConfig* config,
                                               std::string* config_file) {
  const size_t eq = option.find('=');
  const std::string key = option.substr(0, eq);
  if (option.empty() || In(kIgnored, option) || key.rfind("x-", 0) == 0 || key == "comment") {
    return MountOptionKind::kIgnored;
  }
  if (option == "single") {
    config->table.single = true;
    return MountOptionKind::kGlobusfs;
  }
  if (IsSetting(key)) {
    if (eq == std::string::npos) {
      return http::MakeError(http::ErrorKind::kConfig,
                             "mount option " + key + " needs a value (" + key + "=...)");
    }
    if (auto problem =
            ApplySetting(key, "mount option " + key, option.substr(eq + 1), config, config_file)) {
      return http::MakeError(http::ErrorKind::kConfig, *problem);
    }
    return MountOptionKind::kGlobusfs;
  }
  if ((eq == std::string::npos && In(kFuseFlags, option)) ||
      (eq != std::string::npos && In(kFuseValued, key))) {
    config->fuse_options.push_back(option);
    return MountOptionKind::kFuse;
  }
  return http::MakeError(http::ErrorKind::kConfig, "unknown mount option " + option);
}

int ParseDaemonArgs(int argc, char** argv, DaemonConfig* config) {
  std::vector<std::string> positional;
  std::string config_file;
  auto usage_error = [](const std::string& msg) {
    std::cerr << "globusfs: " << msg << "\n(see globusfs --help)\n";
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--version") {
      std::cout << "globusfs " << Version() << "\n";
      return 0;
    } else if (a == "-f") {
      config->foreground = true;
    } else if (a == "-d") {
      config->debug = config->foreground = true;
    } else if (a == "--single") {
      config->table.single = true;
    } else if (a.rfind("-o", 0) == 0) {
      const char* v = a == "-o" ? value() : argv[i] + 2;
      if (!v) return usage_error("-o needs options");
      std::string_view rest = v;
      while (true) {
        const size_t comma = rest.find(',');
        auto kind = ApplyMountOption(std::string(rest.substr(0, comma)), config, &config_file);
        if (!kind) return usage_error(kind.error().message);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (a.rfind("--", 0) == 0 && a.find('_') == std::string::npos) {
      std::string key = a.substr(2);
      for (char& ch : key) {
        if (ch == '-') ch = '_';
      }
      if (!IsSetting(key)) return usage_error("unknown option " + a);
      const char* v = value();
      if (!v) return usage_error(a + " needs a value");
      if (auto problem = ApplySetting(key, a, v, config, &config_file))
        return usage_error(*problem);
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  // As mount.fuse3 runs it: globusfs SOURCE MOUNTPOINT -o ..., with SOURCE a
  // mount table file ("none" or "globusfs": the table comes from options).
  if (positional.size() == 2) {
    if (positional[0] != "none" && positional[0] != "globusfs") {
      if (!config_file.empty() && config_file != positional[0]) {
        return usage_error("two mount tables: " + positional[0] + " and " + config_file);
      }
      config_file = positional[0];
    }
    positional.erase(positional.begin());
  }
  if (positional.size() != 1) return usage_error("give exactly one MOUNTPOINT");
  config->mountpoint = positional[0];
  if (!config_file.empty()) {
    auto t = LoadMountTableFile(config_file);
    if (!t) return usage_error(t.error().message);
    bool single = config->table.single || t->single;
    t->entries.insert(t->entries.begin(), config->table.entries.begin(),
                      config->table.entries.end());
    config->table = *t;
    config->table.single = single;
  }
  if (auto v = ValidateMountTable(config->table); !v) return usage_error(v.error().message);
  return -1;
}

}  // namespace globusfs::fs
