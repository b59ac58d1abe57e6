// Local file work for the Transfer task worker: a streamed copy that lands
// atomically (temp file + rename) with optional checksum verification, file
// SHA-256, recursive walks that honour filter_rules and recursive_symlinks
// (§2.7), post-order tree deletes that never follow symlinks,
// delete_destination_extra, and the glob helpers of delete's
// interpret_globs (§2.8).
//
// Stateless and thread-safe. Long operations poll `aborted` between 1 MiB
// chunks and between directory entries, and leave no temp file behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace emu {

using AbortFn = std::function<bool()>;

// SHA-256 (hex) of a file, streamed; "" on error or abort.
std::string Sha256File(const std::filesystem::path& p, const AbortFn& aborted);

struct CopyResult {
  int err = 0;               // errno, 0 on success
  bool source_side = false;  // err came from reading the source
  bool stopped = false;      // aborted: nothing left behind
  bool mismatch = false;     // verify: the copy's checksum differs
  int64_t bytes = 0;
  int64_t checksummed = 0;
};

// Copies src to "<dst>.tmp-<random>" and renames it onto dst (replacing a
// file there). preserve: copy the source's mtime. verify: compare the
// SHA-256 of the source stream with a re-read of the copy.
CopyResult CopyIntoPlace(const std::filesystem::path& src, const std::filesystem::path& dst,
                         bool preserve, bool verify, const AbortFn& aborted);

// filter_rules: the first rule whose name glob and type (file/dir, or any)
// match decides; an unmatched entry is included.
bool ExcludedByRules(const nlohmann::json& rules, const std::string& name, bool is_dir);

// A directory's entry names, sorted, without "." and "..". *err = errno.
std::vector<std::string> SortedNames(const std::filesystem::path& dir, int* err);

struct TreeEntry {
  std::string rel;  // "a/b" under the walked directory
  char kind;        // 'd' directory, 'f' file, 'l' symlink to recreate as a link
  std::filesystem::path local;
  std::string link;  // 'l': the link text
};

struct Tree {
  std::vector<TreeEntry> entries;  // pre-order: a directory before its contents
  int64_t files = 0, dirs = 0, symlinks = 0;
};

// Walks `dir` (inside `root`) for a recursive transfer item. links is
// recursive_symlinks: "ignore" (skip, count), "keep" ('l' entries) or
// "copy" (follow links whose target stays inside root; at most 8 linked
// directories deep). Fifos, sockets and devices are skipped. Returns 0, or
// errno with *bad = the relative path that could not be read.
int WalkTree(const std::filesystem::path& root, const std::filesystem::path& dir,
             const nlohmann::json& rules, const std::string& links, Tree* out, std::string* bad);

// delete_destination_extra: removes entries under dir whose relative path
// is not in keep, leaving those a filter rule excludes.
void DeleteExtra(const std::filesystem::path& dir, const std::set<std::string>& keep,
                 const nlohmann::json& rules);

struct DeleteCounts {
  int64_t files = 0, dirs = 0, symlinks = 0;
};

// Deletes a directory tree bottom-up without following symlinks. Returns 0,
// errno (with *bad = the local path that failed), or -1 when aborted.
int DeleteTree(const std::filesystem::path& dir, DeleteCounts* n, const AbortFn& aborted,
               std::filesystem::path* bad);

// interpret_globs: whether a path component has an unescaped * ? or [, and
// the literal text of one that has none (backslashes removed).
bool HasGlob(const std::string& component);
std::string UnescapeGlob(const std::string& component);

}  // namespace emu
