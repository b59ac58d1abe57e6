#include "fs/daemon.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <thread>
#include <chrono>
#include <map>
#include <mutex>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "auth/auth_client.h"
#include "auth/guidance.h"
#include "auth/scopes.h"
#include "auth/token_source.h"
#include "auth/token_store.h"
#include "cache/block_cache.h"
#include "cache/journal.h"
#include "cache/metadata_store.h"
#include "fs/content_versions.h"
#include "fs/file_contents.h"
#include "fs/filesystem.h"
#include "fs/fuse_adapter.h"
#include "fs/log.h"
#include "fs/namespace.h"
#include "fs/remote/data_client.h"
#include "fs/remote/home_paths.h"
#include "fs/remote/remote_error.h"
#include "fs/remote/transfer_client.h"
#include "fs/task_batcher.h"

namespace globusfs::fs {

namespace {

constexpr const char* kUsage = R"(usage: globusfs [options] MOUNTPOINT

Mounts Globus collections as folders under MOUNTPOINT. Log in first with
globusfs-auth login --collection UUID ... ; unmount with fusermount3 -u MOUNTPOINT.

  --collection NAME=UUID[:BASEPATH]  show collection UUID as the folder NAME, rooted at
                                     BASEPATH (default: what globus ls UUID shows, the
                                     collection's default directory, else /~/, your
                                     home folder there); repeatable
  --config FILE                      a JSON mount table:
                                     {"collections": [{"name", "id", "path"}], "single": false}
  --single                           one collection as the mount's root
  -f                                 stay in the foreground (log to stderr)
  -d                                 debug: foreground, debug log, FUSE request tracing
  -o OPT[,OPT...]                    FUSE mount options (allow_other, ro, ...)
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
)";

// After the drain deadline, how long unmount waits for a request in flight.
constexpr auto kStopGrace = std::chrono::seconds(5);

std::string ShortHash(const std::string& s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 8; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string DefaultCacheDir(const std::string& mountpoint) {
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    base = x;
  } else {
    const char* home = std::getenv("HOME");
    base = std::filesystem::path(home && *home ? home : "/tmp") / ".cache";
  }
  std::error_code ec;
  auto real = std::filesystem::weakly_canonical(mountpoint, ec);
  return (base / "globusfs" / ShortHash(ec ? mountpoint : real.string())).string();
}

}  // namespace

std::string ClientIdFromEnvOrConfig() {
  if (const char* id = std::getenv("GLOBUSFS_CLIENT_ID"); id && *id) return id;
  std::ifstream f(auth::DefaultConfigDir() / "config.json");
  if (!f) return "";
  auto j = nlohmann::json::parse(f, nullptr, false);
  return j.is_object() ? j.value("client_id", "") : "";
}

namespace {

// "512M", "2G", "1048576" -> bytes; false on garbage and on sizes of 2^64
// bytes or more (converting those to uint64_t would be undefined).
bool ParseSize(const std::string& text, uint64_t* out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v >= 0)) return false;  // !(>=): NaN too
  std::string unit(end);
  uint64_t mult = 1;
  if (unit == "K" || unit == "k" || unit == "KiB") mult = 1ULL << 10;
  else if (unit == "M" || unit == "m" || unit == "MiB") mult = 1ULL << 20;
  else if (unit == "G" || unit == "g" || unit == "GiB") mult = 1ULL << 30;
  else if (unit == "T" || unit == "t" || unit == "TiB") mult = 1ULL << 40;
  else if (!unit.empty()) return false;
  const double bytes = v * static_cast<double>(mult);
  if (!(bytes < 0x1p64)) return false;  // inf too
  *out = static_cast<uint64_t>(bytes);
  return true;
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The pieces every phase needs: HTTP, tokens, Transfer.
struct Clients {
  std::shared_ptr<http::Clock> clock = std::make_shared<http::RealClock>();
  std::unique_ptr<http::HttpClient> http;
  std::unique_ptr<auth::TokenStore> store;
  std::unique_ptr<auth::AuthClient> auth;
  std::unique_ptr<auth::TokenSource> tokens;
  std::unique_ptr<http::Authorizer> transfer_authorizer;
  std::unique_ptr<TransferClient> transfer;
  // One Authorizer per collection's HTTPS server (its token's resource
  // server is the collection id), made on first use.
  std::mutex data_auth_mu;
  std::map<std::string, std::unique_ptr<http::Authorizer>> data_authorizers;
  std::unique_ptr<DataClient> data;
};

// Builds the clients; prints the problem and returns false on a bad setting.
bool MakeClients(Clients* c, std::ostream& err) {
  auto cfg = http::HttpConfigFromEnv();
  if (!cfg) {
    err << "globusfs: " << cfg.error().message << "\n";
    return false;
  }
  auto urls = http::ServiceUrlsFromEnv();
  if (!urls) {
    err << "globusfs: " << urls.error().message << "\n";
    return false;
  }
  c->http = std::make_unique<http::HttpClient>(*cfg, c->clock);
  c->store = std::make_unique<auth::TokenStore>(auth::DefaultConfigDir());
  c->auth = std::make_unique<auth::AuthClient>(*c->http, urls->auth, ClientIdFromEnvOrConfig());
  c->tokens = std::make_unique<auth::TokenSource>(*c->store, *c->auth, c->clock);
  c->transfer_authorizer = c->tokens->AuthorizerFor(auth::kTransferResourceServer);
  c->transfer = std::make_unique<TransferClient>(*c->http, c->transfer_authorizer.get(), urls->transfer, c->clock);
  c->data = std::make_unique<DataClient>(*c->http, [c](const std::string& collection_id) {
    std::lock_guard lock(c->data_auth_mu);
    auto& a = c->data_authorizers[collection_id];
    if (!a) a = c->tokens->AuthorizerFor(collection_id);
    return a.get();
  });
  return true;
}

// Checks the login and each collection before mounting. Prints what to do.
bool ResolveMounts(Clients& c, const MountTable& table, std::vector<MountedCollection>* out,
                   std::ostream& err) {
  if (auto t = c.tokens->Get(auth::kTransferResourceServer); !t) {
    err << "globusfs: cannot use Globus Transfer.\n" << auth::RemedyText(t.error());
    return false;
  }
  for (const auto& e : table.entries) {
    auto info = c.transfer->GetCollection(e.collection_id);
    if (!info) {
      const http::Error& why = info.error();
      if (Classify(why) == RemoteErrc::kNotFound) {
        err << "globusfs: collection '" << e.name << "' (" << e.collection_id
            << "): Globus has no collection with this UUID. Check the UUID (globus endpoint search, "
               "or the web app's collection page).\n";
      } else if (auth::ClassifyRequirement(why) != auth::Requirement::kNone) {
        err << "globusfs: collection '" << e.name << "' (" << e.collection_id << "):\n"
            << auth::RemedyText(why);
      } else {
        err << "globusfs: collection '" << e.name << "' (" << e.collection_id << "): " << why.Summary() << "\n";
      }
      return false;
    }
    if (!info->IsCollection()) {
      err << "globusfs: '" << e.name << "' (" << e.collection_id << ") is a " << info->entity_type
          << ", not a collection: give the UUID of one of its collections.\n";
      return false;
    }
    MountedCollection m;
    m.entry = e;
    m.info = *info;
    // What `globus ls COLLECTION` lists: its default_directory, else
    // Transfer's own default, "/~/" (the user's home folder there).
    std::string base = !e.base_path.empty() ? e.base_path
                       : !info->default_directory.empty() ? info->default_directory
                                                          : "/~/";
    m.root_path = NormalizeCollectionPath(base);
    if (!info->https_server.empty() && IsUnderHome(m.root_path)) {
      // The HTTPS server knows no '~': learn which folder "/~/" is.
      auto home = c.transfer->HomePath(e.collection_id);
      if (home) {
        m.info.home_path = *home;
        if (home->empty()) err << "globusfs: note: " << HomeUnknownNote(e.name, e.collection_id) << "\n";
      } else {
        err << "globusfs: note: '" << e.name << "': cannot tell yet which folder '/~/' is on "
            << e.collection_id << " (" << home.error().Summary()
            << "); globusfs asks again when a file there is first read or written.\n";
      }
    }
    // The server names link targets by their real paths: the folder's is
    // its path, or, under "/~", the home folder's once Transfer names it.
    if (!IsUnderHome(m.root_path)) {
      m.abs_root = m.root_path;
    } else if (m.info.home_path && !m.info.home_path->empty()) {
      if (auto real = ToHttpsPath(m.root_path, *m.info.home_path)) m.abs_root = NormalizeCollectionPath(*real);
    }
    if (info->https_server.empty()) {
      err << "globusfs: note: '" << e.name << "' "
          << (info->IsPersonal() ? "is a Globus Connect Personal collection, which has no HTTPS server"
                                 : "has no HTTPS server")
          << ": its folders work, and copies to and from other collections; file contents do not.\n";
    } else if (!c.tokens->Has(e.collection_id)) {
      err << "globusfs: note: no token for the data of '" << e.name << "'; to read and write files run:\n"
          << "  globusfs-auth login --collection " << e.collection_id << "\n";
    }
    out->push_back(std::move(m));
  }
  return true;
}

}  // namespace

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
      std::cout << "globusfs 0.1.0\n";
      return 0;
    } else if (a == "-f") {
      config->foreground = true;
    } else if (a == "-d") {
      config->debug = config->foreground = true;
    } else if (a == "--single") {
      config->table.single = true;
    } else if (a == "-o" || a.rfind("-o", 0) == 0) {
      const char* v = a == "-o" ? value() : argv[i] + 2;
      if (!v) return usage_error("-o needs options");
      config->fuse_options.push_back(v);
    } else if (a == "--collection" || a == "--config" || a == "--cache-dir" ||
               a == "--metadata-ttl" || a == "--log-file" || a == "--cache-size" ||
               a == "--memory-limit" || a == "--copy-mode" || a == "--walk-ahead" ||
               a == "--drain-timeout") {
      const char* v = value();
      if (!v) return usage_error(a + " needs a value");
      if (a == "--collection") {
        auto e = ParseCollectionSpec(v);
        if (!e) return usage_error(e.error().message);
        config->table.entries.push_back(*e);
      } else if (a == "--config") {
        config_file = v;
      } else if (a == "--cache-dir") {
        config->cache_dir = v;
      } else if (a == "--log-file") {
        config->log_file = v;
      } else if (a == "--copy-mode") {
        std::string m = v;
        if (m != "batch" && m != "wait") return usage_error("--copy-mode is batch or wait");
        config->copy_wait = m == "wait";
      } else if (a == "--walk-ahead") {
        char* end = nullptr;
        long n = std::strtol(v, &end, 10);
        if (*end || end == v || n < 0 || n > 64) return usage_error("--walk-ahead wants a number from 0 to 64");
        config->walk_ahead = static_cast<int>(n);
      } else if (a == "--drain-timeout") {
        // At most ~31 years: RunDaemon adds it to a steady_clock time point.
        char* end = nullptr;
        config->drain_timeout_s = std::strtod(v, &end);
        if (*end || end == v || !(config->drain_timeout_s >= 0 && config->drain_timeout_s <= 1e9)) {
          return usage_error("--drain-timeout wants seconds (0: do not wait)");
        }
      } else if (a == "--cache-size") {
        if (!ParseSize(v, &config->cache_size)) return usage_error("--cache-size wants a size such as 512M or 2G");
      } else if (a == "--memory-limit") {
        if (!ParseSize(v, &config->memory_limit) || config->memory_limit < (16ULL << 20)) {
          return usage_error("--memory-limit wants a size of at least 16M");
        }
      } else {
        // At most ~31 years: RunDaemon turns it into int64_t milliseconds.
        char* end = nullptr;
        config->metadata_ttl_s = std::strtod(v, &end);
        if (*end || end == v || !(config->metadata_ttl_s >= 0 && config->metadata_ttl_s <= 1e9)) {
          return usage_error("--metadata-ttl wants seconds");
        }
      }
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else {
      positional.push_back(a);
    }
  }
  // As mount.fuse3 runs it: globusfs SOURCE MOUNTPOINT -o ..., with SOURCE a mount table file.
  if (positional.size() == 2) {
    if (config_file.empty() && positional[0] != "none" && positional[0] != "globusfs") config_file = positional[0];
    positional.erase(positional.begin());
  }
  if (positional.size() != 1) return usage_error("give exactly one MOUNTPOINT");
  config->mountpoint = positional[0];
  if (!config_file.empty()) {
    auto t = LoadMountTableFile(config_file);
    if (!t) return usage_error(t.error().message);
    bool single = config->table.single || t->single;
    t->entries.insert(t->entries.begin(), config->table.entries.begin(), config->table.entries.end());
    config->table = *t;
    config->table.single = single;
  }
  if (auto v = ValidateMountTable(config->table); !v) return usage_error(v.error().message);
  return -1;
}

int RunDaemon(const DaemonConfig& config) {
  struct stat st {};
  if (::stat(config.mountpoint.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::cerr << "globusfs: the mount point " << config.mountpoint << " is not a folder\n";
    return 1;
  }
  std::string cache_dir = config.cache_dir.empty() ? DefaultCacheDir(config.mountpoint) : config.cache_dir;

  // 1. Before mounting: the login, each collection, the cache folder.
  std::vector<MountedCollection> mounts;
  {
    Clients pre;
    if (!MakeClients(&pre, std::cerr)) return 1;
    if (!ResolveMounts(pre, config.table, &mounts, std::cerr)) return 1;
    std::string why;
    cache::MetadataStoreOptions probe{cache_dir + "/metadata"};
    if (!cache::MetadataStore::Open(probe, &why)) {
      std::cerr << "globusfs: cannot use the cache folder " << cache_dir << ": " << why << "\n";
      return 1;
    }
  }  // nothing network- or LMDB-related survives into the fork

  Logger log(config.foreground && config.log_file.empty() ? stderr : nullptr,
             config.debug ? LogLevel::kDebug : LogLevel::kInfo);
  std::string log_file = !config.log_file.empty() ? config.log_file
                         : config.foreground      ? ""
                                                  : cache_dir + "/globusfs.log";
  if (!log_file.empty() && !log.OpenFile(log_file)) {
    std::cerr << "globusfs: cannot write the log file " << log_file << "\n";
    return 1;
  }

  FuseOptions fo;
  fo.mountpoint = config.mountpoint;
  fo.foreground = config.foreground;
  fo.debug = config.debug;
  fo.fuse_args = {"-o", "default_permissions,fsname=globusfs,subtype=globusfs"};
  for (const auto& o : config.fuse_options) {
    fo.fuse_args.push_back("-o");
    fo.fuse_args.push_back(o);
  }
  FuseSession session(fo, log);
  if (!session.Mount()) {
    std::cerr << "globusfs: cannot mount on " << config.mountpoint << "\n";
    return 1;
  }
  session.Daemonize();

  // 2. After detaching: the object graph.
  Clients c;
  if (!MakeClients(&c, std::cerr)) return 1;
  std::string why;
  cache::MetadataStoreOptions mo{cache_dir + "/metadata"};
  mo.ttl_ms = static_cast<int64_t>(config.metadata_ttl_s * 1000);
  // A failed cache write is logged with its cause; the cache forgets what it
  // could not update and keeps working.
  mo.on_error = [&log](const std::string& message) { log.Log(LogLevel::kError, message); };
  auto store = cache::MetadataStore::Open(mo, &why);
  if (!store) {
    log.Log(LogLevel::kError, "cannot open the metadata cache in " + cache_dir + ": " + why);
    return 1;
  }
  Namespace ns(*c.transfer, *store, c.clock, static_cast<size_t>(config.walk_ahead));

  // File contents: disk block cache, journal, readers, uploads.
  std::unique_ptr<cache::BlockCache> blocks;
  if (config.cache_size > 0) {
    cache::BlockCacheOptions bo{cache_dir + "/blocks", config.cache_size};
    blocks = cache::BlockCache::Open(bo, &why);
    if (!blocks) log.Log(LogLevel::kWarning, "no block cache (" + why + "): every read goes to Globus");
  }
  auto journal = cache::Journal::Open(cache_dir + "/journal", &why);
  if (!journal) {
    log.Log(LogLevel::kError, "cannot open the write journal in " + cache_dir + ": " + why);
    return 1;
  }
  ContentVersions versions(store.get());
  WorkPool pool(8);
  MemoryBudget budget(config.memory_limit / 2);
  // Disk-cache writes happen here, off the readers' path; blocks waiting
  // hold their memory budget, at most an eighth of it.
  std::unique_ptr<BlockWriter> writer;
  if (blocks) writer = std::make_unique<BlockWriter>(*blocks, budget.limit() / 8);
  // File paths under "/~/" go to the HTTPS server as the folder Transfer
  // names for it (learnt at start-up, else on first use).
  HomePaths homes(*c.transfer);
  for (const auto& m : mounts) {
    if (m.info.home_path) homes.Set(m.info.id, *m.info.home_path);
    if (m.info.home_path && m.info.home_path->empty()) {
      log.Log(LogLevel::kWarning, HomeUnknownNote(m.entry.name, m.entry.collection_id));
    }
  }
  HomeMappedData home_data(*c.data, homes);
  ReadContext rc;
  rc.data = &home_data;
  rc.blocks = blocks.get();
  rc.writer = writer.get();
  rc.pool = &pool;
  rc.budget = &budget;
  rc.block_size = blocks ? blocks->block_size() : (1u << 20);
  FileContents::Options co;
  co.staging_dir = cache_dir + "/staging";
  FileContents contents(co, rc, *journal, ns, versions, log, c.clock,
                        [&mounts](const std::string& coll) -> std::optional<std::pair<int, DataTarget>> {
                          for (size_t i = 0; i < mounts.size(); ++i) {
                            const auto& info = mounts[i].info;
                            if (info.id == coll && !info.https_server.empty()) {
                              return std::make_pair(static_cast<int>(i), DataTarget{info.id, info.https_server});
                            }
                          }
                          return std::nullopt;
                        });
  contents.StartUploader();
  BatcherOptions bo;
  bo.wait_each = config.copy_wait;
  TaskBatcher batcher(*c.transfer, *journal, ns, log, c.clock, bo);
  batcher.Start();

  FsOptions fso;
  fso.uid = ::getuid();
  fso.gid = ::getgid();
  fso.ttl_s = config.metadata_ttl_s;
  fso.single = config.table.single;
  fso.start_time = Now();
  Filesystem fs(fso, mounts, ns, log, &contents, &batcher);
  fs.set_notifier(&session.notifier());
  std::string names;
  for (const auto& m : mounts) names += " " + m.entry.name + "=" + m.info.id + ":" + m.root_path;
  log.Log(LogLevel::kInfo, "mounted on " + config.mountpoint + ":" + names + " (cache " + cache_dir + ")");
  int exit_code = session.Run(fs);
  // Unmounted: what was accepted still goes to Globus, for a bounded time;
  // what is left stays in the journal and the next mount resumes it.
  const auto deadline =
      c.clock->Now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(config.drain_timeout_s));
  if (auto st = batcher.Status();
      config.drain_timeout_s > 0 && (!st["pending"].empty() || !st["active"].empty())) {
    std::ostringstream secs;
    secs << config.drain_timeout_s;
    log.Log(LogLevel::kInfo,
            "unmounted; sending the pending copies and deletes to Globus (for at most " +
                secs.str() + " s)");
  }
  // Uploads that had failed go too, at the same time; at the deadline every
  // request still in flight is cancelled, so nothing outlives the drain.
  std::mutex drain_mu;
  std::condition_variable drain_cv;
  bool drained = false;
  std::thread watchdog([&] {
    std::unique_lock lock(drain_mu);
    if (!drain_cv.wait_until(lock, deadline, [&] { return drained; })) c.http->CancelAll();
  });
  size_t uploads_left = 0;
  std::thread uploads([&] { uploads_left = contents.Drain(deadline); });
  DrainReport left = batcher.Drain(deadline);
  uploads.join();
  {
    std::lock_guard lock(drain_mu);
    drained = true;
  }
  drain_cv.notify_all();
  watchdog.join();
  c.http->CancelAll();  // the worker's next request (a poll) must not start now
  // The worker may be inside a Transfer request: cancelled, it returns at
  // once; a short grace, no more.
  const bool stopped = batcher.Stop(c.clock->Now() + kStopGrace);
  if (uploads_left > 0) {
    log.Log(LogLevel::kWarning, "left " + std::to_string(uploads_left) +
                                    " upload(s) in the journal for the next mount (Globus could not be reached "
                                    "within the drain time)");
  }
  if (left.left()) {
    log.Log(LogLevel::kWarning, "left " + left.Describe());
  }
  if (left.failed > 0) {
    // Failed, not merely unsent: the user has to know.
    log.Log(LogLevel::kError,
            std::to_string(left.failed) + " copies or deletes failed (see above)");
    exit_code = 1;
  }
  if (!stopped) {
    // Exit without the destructors, which would wait for that request: as
    // after a crash, the journal holds the work and the next mount resumes
    // it (the kernel mount is already gone; every log line is flushed).
    log.Log(LogLevel::kWarning,
            "a request to Globus is still in flight; exiting without waiting for it");
    std::_Exit(exit_code);
  }
  pool.Shutdown();
  writer.reset();  // the blocks it still holds go to the disk cache
  log.Log(LogLevel::kInfo, "unmounted from " + config.mountpoint);
  return exit_code;
}

}  // namespace globusfs::fs
