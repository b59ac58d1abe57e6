// Collection paths -> local paths, for the Transfer and HTTPS services.
//
// A collection path is absolute ("/a/b"); "/~/" (and "~") is the default
// directory, which in the emulator is the collection's root. "." and ".."
// are resolved lexically and never climb above the root; a symlink whose
// target leaves the root is refused (the real storage gateways confine
// users to the collection's root the same way). Stateless, thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config.h"

namespace emu {

struct ResolvedPath {
  std::string collection_path;  // normalised: "/" or "/a/b" (no trailing slash)
  std::filesystem::path local;  // root / relative part
};

enum class PathProblem { kNone, kNotAbsolute, kOutsideRoot, kBadName };

// Normalises and maps a collection path. On failure returns nullopt and sets
// *problem. The target need not exist; an existing prefix that resolves
// (through symlinks) outside the root gives kOutsideRoot.
std::optional<ResolvedPath> ResolvePath(const Collection& c, std::string_view path,
                                        PathProblem* problem);

// Normalises without touching the disk ("/~/x/../y/" -> "/y"); nullopt if
// the path is not absolute.
std::optional<std::string> NormalisePath(std::string_view path);

// Parent and last component of a normalised path ("/a/b" -> "/a", "b").
std::string ParentPath(const std::string& normalised);
std::string BaseName(const std::string& normalised);

}  // namespace emu
