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
#include "auth/client_id.h"
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
#include "fs/sd_notify.h"
#include "fs/task_batcher.h"

namespace globusfs::fs {

namespace {

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
    base = auth::HomeDir() / ".cache";
  }
  std::error_code ec;
  auto real = std::filesystem::weakly_canonical(mountpoint, ec);
  return (base / "globusfs" / ShortHash(ec ? mountpoint : real.string())).string();
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
  c->auth = std::make_unique<auth::AuthClient>(*c->http, urls->auth, auth::FindClientId(auth::DefaultClientIdSources()).client_id);
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
  // Fetches ahead (1 MiB blocks): 16 in flight keep a 20 ms round trip
  // filled at several hundred MiB/s.
  WorkPool pool(16);
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
  rc.cache_file_limit = config.cache_size / 4;  // see ReadContext
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
  // Under systemd (Type=notify, globusfs@.service): the mount serves requests.
  if (std::string why; !NotifySystemd("READY=1", &why)) log.Log(LogLevel::kWarning, why);
  int exit_code = session.Run(fs);
  if (std::string why; !NotifySystemd("STOPPING=1", &why)) log.Log(LogLevel::kWarning, why);
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
