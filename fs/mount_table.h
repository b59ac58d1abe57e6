// The mount table: which collections appear under the mount point, under
// which names, rooted where. From --collection NAME=UUID[:BASEPATH]
// (repeatable) or a JSON config file:
//
//   {"collections": [{"name": "tutorial1", "id": "6c54cade-...", "path": "/~/"}],
//    "single": false}
//
// Also the collection-path helpers every layer shares: internally a
// collection path is absolute with no trailing slash ("/", "/data/x",
// "/~" for the default directory, "/~/x"); ToTransferPath() adds the slash
// Transfer wants on "/~". Pure; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "auth/http/result.h"

namespace globusfs::fs {

struct MountEntry {
  std::string name;           // the folder name under the mount point
  std::string collection_id;  // UUID
  std::string base_path;      // collection path shown as the folder; empty = its default directory
};

struct MountTable {
  std::vector<MountEntry> entries;
  bool single = false;  // one collection as the mount's root
};

// "NAME=UUID[:BASEPATH]". Errors (kConfig) say what is wrong with the spec.
http::Result<MountEntry> ParseCollectionSpec(const std::string& spec);
http::Result<MountTable> LoadMountTableFile(const std::filesystem::path& file);
// Names unique and usable as folder names, UUIDs well formed, single => one entry.
http::Result<void> ValidateMountTable(const MountTable& table);

// "/a/b/" -> "/a/b", "~" or "/~/" -> "/~", "" -> "" (invalid). Collapses "//".
std::string NormalizeCollectionPath(const std::string& path);
std::string JoinPath(const std::string& dir, const std::string& name);
std::string ParentOf(const std::string& path);  // of a normalised path; "/" for top-level
std::string NameOf(const std::string& path);
// The form Transfer is sent: "/~" -> "/~/".
std::string ToTransferPath(const std::string& path);
// Whether `path` is `dir` or below it.
bool IsUnder(const std::string& path, const std::string& dir);

}  // namespace globusfs::fs
