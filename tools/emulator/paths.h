// Collection paths -> local paths, for the Transfer and HTTPS services.
//
// A collection path is absolute ("/a/b"). For Transfer, a leading "~"
// ("/~/x", "~/x") is the user's home folder on the collection: /home/<local
// user>/ when that folder exists under the root (the identity's username
// before '@' is its local account, as a GCS identity mapping commonly
// makes it), else the root itself (GridFTP's fallback for a missing home).
// The HTTPS servers do not understand '~' (Tilde::kLiteral: an ordinary
// name). "." and ".." are resolved lexically and never climb above the
// root; a symlink whose target leaves the root is refused (the real
// storage gateways confine users to the collection's root the same way).
// Stateless (HomePath looks at the disk each time), thread-safe.
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

// How a leading "~" reads: the user's home folder (Transfer), or an
// ordinary name (the collection HTTPS servers).
enum class Tilde { kHome, kLiteral };

// The collection path of the user's home folder on `c`: "/home/<local
// user>" when that folder exists inside the root, else "/".
std::string HomePath(const Collection& c);

// Normalises and maps a collection path. On failure returns nullopt and sets
// *problem. The target need not exist; an existing prefix that resolves
// (through symlinks) outside the root gives kOutsideRoot.
std::optional<ResolvedPath> ResolvePath(const Collection& c, std::string_view path,
                                        PathProblem* problem, Tilde tilde = Tilde::kHome);

// Normalises without touching the disk ("/~/x/../y/" -> home + "/y", home
// being a normalised collection path); nullopt if the path is not absolute.
std::optional<std::string> NormalisePath(std::string_view path, std::string_view home = "/",
                                         Tilde tilde = Tilde::kHome);

// Parent and last component of a normalised path ("/a/b" -> "/a", "b").
std::string ParentPath(const std::string& normalised);
std::string BaseName(const std::string& normalised);

}  // namespace emu
