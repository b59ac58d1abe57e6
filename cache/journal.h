// Journal: the write-back journal of globusfs, an LMDB environment synced on
// every change (DIR/journal). It holds every change the filesystem has
// accepted but Globus has not yet confirmed, so that after a crash the next
// mount can finish it and nothing the user saved is lost.
//
// Records are typed entries with an id, of two kinds: "upload" (a staged
// file waiting for its HTTPS PUT, keyed by its id) and "task" (a batched
// server-side copy or delete, keyed by its Globus submission_id, recorded
// before the submission is sent so that a replay after a crash reuses the
// id and Transfer answers "Duplicate" instead of running it twice). A
// record is written and synced before the operation that needs it is
// acknowledged, and removed only once Globus has confirmed the change.
//
// Storage: one LMDB database per kind ("uploads", "tasks"), keyed by id (at
// most 511 bytes); each record is a JSON object with a format version "v"
// (strings that are not valid UTF-8 are stored as {"hex": "..."}). A record
// that does not decode is left in place, never returned, and counted by
// CorruptRecords(). Open never wipes a journal: one it cannot read (not
// LMDB, or another format) is an error, since it may hold the user's data.
// One Journal per directory (flock on DIR/owner.lock).
//
// Errors: no method throws; a failed write returns false, and LastError()
// then says why on the calling thread (the LMDB error or strerror text, and
// the journal's folder). A full disk fails the write (the data file grows by
// pwrite as pages are committed, never through a writable map, so it is
// ENOSPC, not SIGBUS) and leaves the journal as it was: a later write
// succeeds once space is freed. Removals fail too on a full disk (LMDB
// copies the pages it changes). A full map (max_map_size) fails a write
// with MDB_MAP_FULL; removals still succeed and make room.
// Thread-safety: all methods are thread-safe. Writers are serialised by
// LMDB (each waits for the previous one's fsync). LastError is per thread
// (like errno), kept in a thread_local slot that names its journal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace globusfs::cache {

struct StagedUpload {
  std::string id;  // unique (e.g. a random hex string)
  std::string collection_id;
  std::string path;         // collection path the file is uploaded to
  std::string staged_file;  // the local file holding the data
  uint64_t size = 0;        // bytes to upload
  // The remote version the user's changes were based on (for conflict
  // detection at replay): absent, or that size and mtime.
  bool base_exists = false;
  uint64_t base_size = 0;
  int64_t base_mtime = 0;
  int64_t staged_at_ms = 0;

  bool operator==(const StagedUpload&) const = default;
};

// A batched transfer or delete, recorded before it is sent. A copy or
// delete accepted but not yet batched has a record of its own, keyed by a
// local id (see TaskBatcher), that the batch's record replaces.
struct PendingTask {
  std::string submission_id;  // the key (from GET /submission_id, or a local id)
  std::string kind;           // "transfer" or "delete"
  std::string task_id;        // empty until Globus accepted it
  std::string source_collection, destination_collection;  // delete: source only
  struct Item {
    std::string source_path, destination_path;
    bool recursive = false;

    bool operator==(const Item&) const = default;
  };
  std::vector<Item> items;  // delete: source_path only
  int64_t created_at_ms = 0;

  bool operator==(const PendingTask&) const = default;
};

// A fresh random id for a record (24 hex digits).
std::string NewRecordId();

struct JournalOptions {
  // The LMDB map: its initial size and the most it grows to. A write that
  // needs more fails (LastError names MDB_MAP_FULL).
  uint64_t map_size = uint64_t{4} << 20;
  uint64_t max_map_size = uint64_t{1} << 30;
};

class Journal {
 public:
  // nullptr (with *error) when it cannot be opened.
  static std::unique_ptr<Journal> Open(const std::filesystem::path& dir, std::string* error);
  static std::unique_ptr<Journal> Open(const std::filesystem::path& dir,
                                       const JournalOptions& options, std::string* error);
  virtual ~Journal() = default;

  // Insert or replace; durable (fsynced) when it returns true.
  virtual bool PutUpload(const StagedUpload& upload) = 0;
  // True when no record with this id remains (removed and synced, or there
  // was none); false when the write failed.
  virtual bool RemoveUpload(const std::string& id) = 0;
  // nullopt when absent, unreadable or undecodable.
  virtual std::optional<StagedUpload> GetUpload(const std::string& id) = 0;
  // Every decodable upload, sorted by staged_at_ms (then id).
  virtual std::vector<StagedUpload> PendingUploads() = 0;

  // Insert or replace (e.g. to add the task_id once Globus accepted the
  // submission); durable (fsynced) when it returns true. False, with
  // nothing written, for an empty or over-long submission_id, a kind other
  // than "transfer" or "delete", or a failed write.
  virtual bool PutTask(const PendingTask& task) = 0;
  // PutTask and the removal of the records `replaced` in one durable
  // write: either all of it happens or none (a batch that takes the place
  // of the records of its queued items).
  virtual bool PutTaskReplacing(const PendingTask& task,
                                const std::vector<std::string>& replaced) = 0;
  // True when no record with this submission_id remains (removed and
  // synced, or there was none); false when the write failed.
  virtual bool RemoveTask(const std::string& submission_id) = 0;
  // nullopt when absent, unreadable or undecodable.
  virtual std::optional<PendingTask> GetTask(const std::string& submission_id) = 0;
  // Every decodable task, sorted by created_at_ms (then submission_id).
  virtual std::vector<PendingTask> PendingTasks() = 0;

  // Records of any kind that do not decode (skipped by the methods above).
  virtual uint64_t CorruptRecords() = 0;

  // Why the latest write of this journal that returned false on the calling
  // thread failed (PutUpload, RemoveUpload, PutTask, PutTaskReplacing,
  // RemoveTask), e.g. "journal in /var/cache/globusfs/journal:
  // mdb_txn_commit: No space left on device"; "" if none has failed on this
  // thread (or another journal failed on it since). A success does not
  // clear it: read it right after the false.
  virtual std::string LastError() = 0;
};

}  // namespace globusfs::cache
