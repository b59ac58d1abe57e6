#include "paths.h"

#include <system_error>
#include <vector>

namespace emu {
namespace {

// Whether `local` (an existing folder, links followed) is inside `root`.
bool InsideRootDir(const std::filesystem::path& root, const std::filesystem::path& local) {
  std::error_code ec;
  auto real = std::filesystem::canonical(local, ec);
  if (ec) return false;
  const auto& r = root.native();
  return real.native() == r || real.native().rfind(r + "/", 0) == 0;
}

// Whether the first component of `path` is "~" ("~", "~/x", "/~/x").
bool LeadingTilde(std::string_view path) {
  const size_t begin = path.find_first_not_of('/');
  if (begin == std::string_view::npos) return false;
  const size_t end = path.find('/', begin);
  return path.substr(begin, end == std::string_view::npos ? end : end - begin) == "~";
}

}  // namespace

std::optional<std::string> NormalisePath(std::string_view path, std::string_view home, Tilde tilde) {
  std::string p(path);
  const bool tilde_is_home = tilde == Tilde::kHome;
  if (tilde_is_home && (p == "~" || p.rfind("~/", 0) == 0)) p = "/" + p;  // "~/x" -> "/~/x"
  if (p.empty() || p[0] != '/') return std::nullopt;
  std::vector<std::string> parts;
  size_t i = 0;
  bool first = true;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string part = p.substr(i, j - i);
    bool was_first = first;
    if (!part.empty()) first = false;
    if (part.empty() || part == ".") {
      // skip
    } else if (part == "~" && was_first && tilde_is_home) {
      parts.clear();  // the home folder (normalised: no "~", "." or ".." in it)
      for (size_t k = 1; k < home.size();) {
        size_t e = home.find('/', k);
        if (e == std::string_view::npos) e = home.size();
        if (e > k) parts.emplace_back(home.substr(k, e - k));
        k = e + 1;
      }
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(std::move(part));
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& part : parts) out += "/" + part;
  return out.empty() ? "/" : out;
}

std::string HomePath(const Collection& c) {
  if (c.local_user.empty()) return "/";
  PathProblem problem;
  const std::string home = "/home/" + c.local_user;
  auto r = ResolvePath(c, home, &problem, Tilde::kLiteral);
  std::error_code ec;
  if (!r || !std::filesystem::is_directory(r->local, ec) || !InsideRootDir(c.root, r->local)) return "/";
  return home;
}

std::optional<ResolvedPath> ResolvePath(const Collection& c, std::string_view path,
                                        PathProblem* problem, Tilde tilde) {
  *problem = PathProblem::kNone;
  if (path.find('\0') != std::string_view::npos) {
    *problem = PathProblem::kBadName;
    return std::nullopt;
  }
  const bool home = tilde == Tilde::kHome && LeadingTilde(path);
  auto norm = NormalisePath(path, home ? HomePath(c) : std::string("/"), tilde);
  if (!norm) {
    *problem = PathProblem::kNotAbsolute;
    return std::nullopt;
  }
  ResolvedPath r;
  r.collection_path = *norm;
  r.local = *norm == "/" ? c.root : c.root / norm->substr(1);

  // Confinement: the deepest existing ancestor (following links, but not the
  // last component itself, so a link can be listed, renamed or deleted) must
  // stay inside the root.
  std::error_code ec;
  std::filesystem::path probe = r.local.parent_path();
  if (*norm == "/") probe = r.local;
  while (!probe.empty() && !std::filesystem::exists(probe, ec)) probe = probe.parent_path();
  auto real = std::filesystem::canonical(probe, ec);
  if (ec) {
    *problem = PathProblem::kOutsideRoot;
    return std::nullopt;
  }
  auto root = c.root.native();
  auto real_s = real.native();
  if (real_s != root && real_s.rfind(root + "/", 0) != 0) {
    *problem = PathProblem::kOutsideRoot;
    return std::nullopt;
  }
  return r;
}

std::string ParentPath(const std::string& normalised) {
  auto slash = normalised.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return normalised.substr(0, slash);
}

std::string BaseName(const std::string& normalised) {
  auto slash = normalised.rfind('/');
  return slash == std::string::npos ? normalised : normalised.substr(slash + 1);
}

}  // namespace emu
