// DataApi: file contents over a collection's HTTPS server (globus-api.md §6),
// as an interface so the filesystem core runs on an in-process fake in unit
// tests and on the libcurl client (DataClient) in production.
//
// A file's URL is the collection's https_server + the percent-encoded
// collection path. Reads ask for a byte range and accept either a 206 with
// that range or a 200 with the whole body (the reader skips to the offset
// and stops after the length). Uploads PUT the whole file: GCS has no
// partial or append PUT.
//
// Errors: http::Error as the HTTP core gives them (retries of 429/5xx,
// dropped connections and stalls, and the one 401 refresh, happen inside
// the real client). A missing token is kAuthRequired-classified guidance.
//
// Thread-safety: implementations allow concurrent calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "auth/http/result.h"

namespace globusfs::fs {

struct DataTarget {
  std::string collection_id;
  std::string https_server;  // no trailing slash
};

struct DataObjectInfo {
  uint64_t size = 0;
  int64_t mtime = 0;  // from Last-Modified (0 when absent)
};

class DataApi {
 public:
  virtual ~DataApi() = default;

  // Reads [offset, offset + length) of `path` into `*out` (resized to the
  // bytes received: shorter only at the end of the file; empty past it).
  virtual http::Result<void> ReadRange(const DataTarget& target, const std::string& path,
                                       uint64_t offset, uint64_t length, std::string* out) = 0;

  // HEAD: size and mtime.
  virtual http::Result<DataObjectInfo> Head(const DataTarget& target, const std::string& path) = 0;

  // PUTs the whole local file (`size` bytes) as `path`; the parent folder
  // must exist. Streams from disk (constant memory); retried uploads
  // re-read the file from the start.
  virtual http::Result<void> Upload(const DataTarget& target, const std::string& path,
                                    const std::filesystem::path& local_file, uint64_t size) = 0;
};

}  // namespace globusfs::fs
