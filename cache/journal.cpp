#include "cache/journal.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "cache/file_util.h"
#include "cache/lmdb.h"

namespace globusfs::cache {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kFormatTag = "globusfs-journal/1";
constexpr const char* kLockFile = "owner.lock";
constexpr int kRecordVersion = 1;  // the "v" of every record written now

// The kinds of record, one LMDB database each.
enum class Kind { kUpload, kTask };
constexpr std::array kKinds = {Kind::kUpload, Kind::kTask};

const char* DbName(Kind kind) {
  switch (kind) {
    case Kind::kUpload:
      return "uploads";
    case Kind::kTask:
      return "tasks";
  }
  return "";  // unreachable: the switch names every kind
}

// ---- strings: JSON text must be UTF-8 ---------------------------------------

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t more;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      more = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      more = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      more = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= more) return false;
    for (size_t k = 1; k <= more; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3F);
    }
    constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};  // shortest form
    if (cp < kMin[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += more + 1;
  }
  return true;
}

// A string field: itself when valid UTF-8, else {"hex": "..."}.
json StringField(const std::string& s) {
  if (ValidUtf8(s)) return s;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (char c : s) {
    hex.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    hex.push_back(kDigits[static_cast<uint8_t>(c) & 0xF]);
  }
  return json{{"hex", hex}};
}

bool ReadString(const json& j, const char* key, std::string* out) {
  const auto it = j.find(key);
  if (it == j.end()) return false;
  if (it->is_string()) {
    *out = it->get<std::string>();
    return true;
  }
  if (!it->is_object() || it->size() != 1 || !it->contains("hex") || !(*it)["hex"].is_string()) {
    return false;
  }
  const std::string& hex = (*it)["hex"].get_ref<const std::string&>();
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char c : {hex[i], hex[i + 1]}) {
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v << 4 | d;
    }
    out->push_back(static_cast<char>(v));
  }
  return true;
}

bool ReadU64(const json& j, const char* key, uint64_t* out) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  *out = it->get<uint64_t>();
  return true;
}

bool ReadI64(const json& j, const char* key, int64_t* out) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return false;
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
    return false;
  }
  *out = it->get<int64_t>();
  return true;
}

bool ReadBool(const json& j, const char* key, bool* out) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return false;
  *out = it->get<bool>();
  return true;
}

// ---- the upload record -------------------------------------------------------

std::string EncodeUpload(const StagedUpload& u) {
  const json j = {
      {"v", kRecordVersion},
      {"id", StringField(u.id)},
      {"collection_id", StringField(u.collection_id)},
      {"path", StringField(u.path)},
      {"staged_file", StringField(u.staged_file)},
      {"size", u.size},
      {"base_exists", u.base_exists},
      {"base_size", u.base_size},
      {"base_mtime", u.base_mtime},
      {"staged_at_ms", u.staged_at_ms},
  };
  return j.dump();
}

// False unless `bytes` is a whole version-1 upload record stored under `id`.
bool DecodeUpload(std::string_view bytes, std::string_view id, StagedUpload* u) {
  try {
    const json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
    uint64_t version = 0;
    return j.is_object() && ReadU64(j, "v", &version) && version == kRecordVersion &&
           ReadString(j, "id", &u->id) && u->id == id &&
           ReadString(j, "collection_id", &u->collection_id) && ReadString(j, "path", &u->path) &&
           ReadString(j, "staged_file", &u->staged_file) && ReadU64(j, "size", &u->size) &&
           ReadBool(j, "base_exists", &u->base_exists) && ReadU64(j, "base_size", &u->base_size) &&
           ReadI64(j, "base_mtime", &u->base_mtime) && ReadI64(j, "staged_at_ms", &u->staged_at_ms);
  } catch (...) {
    return false;
  }
}

// ---- the task record ----------------------------------------------------------

bool KnownTaskKind(std::string_view kind) { return kind == "transfer" || kind == "delete"; }

std::string EncodeTask(const PendingTask& t) {
  json items = json::array();
  for (const PendingTask::Item& item : t.items) {
    items.push_back({{"source_path", StringField(item.source_path)},
                     {"destination_path", StringField(item.destination_path)},
                     {"recursive", item.recursive}});
  }
  const json j = {
      {"v", kRecordVersion},
      {"submission_id", StringField(t.submission_id)},
      {"kind", StringField(t.kind)},
      {"task_id", StringField(t.task_id)},
      {"source_collection", StringField(t.source_collection)},
      {"destination_collection", StringField(t.destination_collection)},
      {"items", std::move(items)},
      {"created_at_ms", t.created_at_ms},
  };
  return j.dump();
}

bool DecodeTaskItem(const json& j, PendingTask::Item* item) {
  return j.is_object() && ReadString(j, "source_path", &item->source_path) &&
         ReadString(j, "destination_path", &item->destination_path) &&
         ReadBool(j, "recursive", &item->recursive);
}

// False unless `bytes` is a whole version-1 task record stored under `id`.
bool DecodeTask(std::string_view bytes, std::string_view id, PendingTask* t) {
  try {
    const json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
    uint64_t version = 0;
    if (!j.is_object() || !ReadU64(j, "v", &version) || version != kRecordVersion ||
        !ReadString(j, "submission_id", &t->submission_id) || t->submission_id != id ||
        !ReadString(j, "kind", &t->kind) || !KnownTaskKind(t->kind) ||
        !ReadString(j, "task_id", &t->task_id) ||
        !ReadString(j, "source_collection", &t->source_collection) ||
        !ReadString(j, "destination_collection", &t->destination_collection) ||
        !ReadI64(j, "created_at_ms", &t->created_at_ms)) {
      return false;
    }
    const auto items = j.find("items");
    if (items == j.end() || !items->is_array()) return false;
    t->items.clear();
    t->items.reserve(items->size());
    for (const json& item : *items) {
      if (!DecodeTaskItem(item, &t->items.emplace_back())) return false;
    }
    return true;
  } catch (...) {
    return false;
  }
}

bool Decodes(Kind kind, std::string_view id, std::string_view bytes) {
  switch (kind) {
    case Kind::kUpload: {
      StagedUpload u;
      return DecodeUpload(bytes, id, &u);
    }
    case Kind::kTask: {
      PendingTask t;
      return DecodeTask(bytes, id, &t);
    }
  }
  return false;
}

// ---- LmdbJournal ---------------------------------------------------------------

// The calling thread's latest failed write: the journal (by id, never reused
// within the process) and why. Per thread like errno, so a failure is never
// reported to another thread's caller, and nothing grows with the number of
// threads a FUSE loop starts and ends.
struct ThreadError {
  uint64_t journal = 0;
  std::string why;
};
thread_local ThreadError t_last_error;
std::atomic<uint64_t> next_journal_id{1};

}  // namespace

std::string NewRecordId() {
  unsigned char b[12];
  if (RAND_bytes(b, sizeof(b)) != 1) throw std::runtime_error("RAND_bytes failed");
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

namespace {

class LmdbJournal final : public Journal {
 public:
  LmdbJournal(fs::path dir, file_util::ExclusiveLock lock, std::unique_ptr<Env> env)
      : dir_(std::move(dir)), dir_lock_(std::move(lock)), env_(std::move(env)) {}

  // Opens (creating) the databases and checks the format tag.
  bool Init(std::string* why) {
    bool ok = true;
    env_->Write([&](Txn& txn) {
      meta_ = Dbi::Open(txn, "meta", MDB_CREATE);
      bool empty = true;
      for (Kind kind : kKinds) {
        Db(kind) = Dbi::Open(txn, DbName(kind), MDB_CREATE);
        empty = empty && Db(kind).Stat(txn).ms_entries == 0;
      }
      if (const std::optional<std::string_view> format = meta_.Get(txn, kFormatKey)) {
        ok = *format == kFormatTag;
        if (!ok)
          *why =
              "journal has format \"" + std::string(*format) + "\", not " + std::string(kFormatTag);
      } else if (empty) {
        meta_.Put(txn, kFormatKey, kFormatTag);
      } else {
        ok = false;
        *why = "journal has records but no format tag";
      }
    });
    return ok;
  }

  bool PutUpload(const StagedUpload& upload) override {
    try {
      if (upload.id.empty()) return Fail("an upload record needs an id");
      return Put(Kind::kUpload, upload.id, EncodeUpload(upload));
    } catch (const std::exception& e) {
      return Fail(e.what());
    } catch (...) {
      return Fail("unknown error");
    }
  }

  bool RemoveUpload(const std::string& id) override { return Remove(Kind::kUpload, id); }

  std::optional<StagedUpload> GetUpload(const std::string& id) override {
    try {
      StagedUpload u;
      if (const std::optional<std::string> bytes = Get(Kind::kUpload, id);
          bytes && DecodeUpload(*bytes, id, &u)) {
        return u;
      }
    } catch (...) {
    }
    return std::nullopt;
  }

  std::vector<StagedUpload> PendingUploads() override {
    std::vector<StagedUpload> out;
    try {
      for (const auto& [id, bytes] : List(Kind::kUpload)) {
        StagedUpload u;
        if (DecodeUpload(bytes, id, &u)) out.push_back(std::move(u));
      }
      std::sort(out.begin(), out.end(), [](const StagedUpload& a, const StagedUpload& b) {
        return std::tie(a.staged_at_ms, a.id) < std::tie(b.staged_at_ms, b.id);
      });
    } catch (...) {
    }
    return out;
  }

  bool PutTask(const PendingTask& task) override {
    try {
      if (!ValidTask(task)) return false;
      return Put(Kind::kTask, task.submission_id, EncodeTask(task));
    } catch (const std::exception& e) {
      return Fail(e.what());
    } catch (...) {
      return Fail("unknown error");
    }
  }

  bool PutTaskReplacing(const PendingTask& task,
                        const std::vector<std::string>& replaced) override {
    try {
      if (!ValidTask(task)) return false;
      const std::string bytes = EncodeTask(task);
      env_->Write([&](Txn& txn) {
        for (const auto& id : replaced) {
          if (ValidKey(id) && id != task.submission_id) Db(Kind::kTask).Del(txn, id);
        }
        Db(Kind::kTask).Put(txn, task.submission_id, bytes);
      });
      return true;
    } catch (const std::exception& e) {
      return Fail(e.what());
    } catch (...) {
      return Fail("unknown error");
    }
  }

  bool RemoveTask(const std::string& submission_id) override {
    return Remove(Kind::kTask, submission_id);
  }

  std::optional<PendingTask> GetTask(const std::string& submission_id) override {
    try {
      PendingTask t;
      if (const std::optional<std::string> bytes = Get(Kind::kTask, submission_id);
          bytes && DecodeTask(*bytes, submission_id, &t)) {
        return t;
      }
    } catch (...) {
    }
    return std::nullopt;
  }

  std::vector<PendingTask> PendingTasks() override {
    std::vector<PendingTask> out;
    try {
      for (const auto& [id, bytes] : List(Kind::kTask)) {
        PendingTask t;
        if (DecodeTask(bytes, id, &t)) out.push_back(std::move(t));
      }
      std::sort(out.begin(), out.end(), [](const PendingTask& a, const PendingTask& b) {
        return std::tie(a.created_at_ms, a.submission_id) <
               std::tie(b.created_at_ms, b.submission_id);
      });
    } catch (...) {
    }
    return out;
  }

  uint64_t CorruptRecords() override {
    uint64_t n = 0;
    try {
      for (Kind kind : kKinds) {
        for (const auto& [id, bytes] : List(kind)) n += Decodes(kind, id, bytes) ? 0 : 1;
      }
    } catch (...) {
    }
    return n;
  }

  std::string LastError() override {
    return t_last_error.journal == id_ ? t_last_error.why : std::string();
  }

 private:
  // Records why a write failed, for LastError on this thread; returns false.
  bool Fail(std::string_view why) noexcept {
    try {
      t_last_error.journal = id_;
      t_last_error.why = "journal in " + dir_.string() + ": " + std::string(why);
    } catch (...) {
      t_last_error.why.clear();  // out of memory: no reason, but no stale one
    }
    return false;
  }

  bool ValidTask(const PendingTask& task) {
    if (task.submission_id.empty()) return Fail("a task record needs a submission_id");
    if (!KnownTaskKind(task.kind)) {
      return Fail("task kind \"" + task.kind + "\" is neither \"transfer\" nor \"delete\"");
    }
    return true;
  }

  // The generic layer every kind uses. Put/Remove return true once the
  // change is committed and synced; they never throw.
  bool Put(Kind kind, std::string_view id, std::string_view bytes) noexcept {
    try {
      env_->Write([&](Txn& txn) { Db(kind).Put(txn, id, bytes); });
      return true;
    } catch (const std::exception& e) {
      return Fail(e.what());
    } catch (...) {
      return Fail("unknown error");
    }
  }

  bool Remove(Kind kind, std::string_view id) noexcept {
    try {
      if (!ValidKey(id)) return true;  // such a record cannot exist
      env_->Write([&](Txn& txn) { Db(kind).Del(txn, id); });
      return true;
    } catch (const std::exception& e) {
      return Fail(e.what());
    } catch (...) {
      return Fail("unknown error");
    }
  }

  // Throw LmdbError (or std::bad_alloc).
  std::optional<std::string> Get(Kind kind, std::string_view id) {
    if (!ValidKey(id)) return std::nullopt;
    Txn txn = env_->BeginRead();
    if (const std::optional<std::string_view> v = Db(kind).Get(txn, id)) return std::string(*v);
    return std::nullopt;
  }

  std::vector<std::pair<std::string, std::string>> List(Kind kind) {
    std::vector<std::pair<std::string, std::string>> out;
    Txn txn = env_->BeginRead();
    Cursor c = Cursor::Open(txn, Db(kind));
    for (bool ok = c.First(); ok; ok = c.Next()) out.emplace_back(c.key(), c.value());
    return out;
  }

  // LMDB keys are 1 to 511 bytes (the default mdb_env_get_maxkeysize).
  bool ValidKey(std::string_view id) const {
    return !id.empty() && id.size() <= static_cast<size_t>(mdb_env_get_maxkeysize(env_->handle()));
  }

  Dbi& Db(Kind kind) { return dbs_[static_cast<size_t>(kind)]; }

  const uint64_t id_ = next_journal_id.fetch_add(1);  // names it in t_last_error
  const fs::path dir_;
  file_util::ExclusiveLock dir_lock_;  // declared before env_: released after it closes
  std::unique_ptr<Env> env_;
  Dbi meta_;                            // "format" → kFormatTag
  std::array<Dbi, kKinds.size()> dbs_;  // by Kind
};

}  // namespace

std::unique_ptr<Journal> Journal::Open(const fs::path& dir, std::string* error) {
  return Open(dir, JournalOptions{}, error);
}

std::unique_ptr<Journal> Journal::Open(const fs::path& dir, const JournalOptions& journal_options,
                                       std::string* error) {
  std::string why;
  try {
    if (dir.empty()) {
      why = "no directory given";
    } else {
      std::error_code ec;
      const bool existed = fs::exists(dir, ec);
      file_util::EnsurePrivateDir(dir);
      file_util::ExclusiveLock lock = file_util::ExclusiveLock::Acquire(dir / kLockFile);
      EnvOptions options;
      options.map_size = journal_options.map_size;
      options.max_map_size = journal_options.max_map_size;
      options.max_dbs = kKinds.size() + 1;
      options.durable = true;
      auto journal = std::make_unique<LmdbJournal>(dir, std::move(lock), Env::Open(dir, options));
      if (journal->Init(&why)) {
        // LMDB syncs its files, not the names of new ones.
        file_util::SyncDir(dir);
        if (!existed) file_util::SyncDir(dir.has_parent_path() ? dir.parent_path() : ".");
        return journal;
      }
    }
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (error != nullptr) *error = "journal in " + dir.string() + ": " + why;
  return nullptr;
}

}  // namespace globusfs::cache
