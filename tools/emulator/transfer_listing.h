// Transfer file operations on a collection's local folder (globus-api.md
// §2.2-§2.5): file documents, ls (filter, orderby, show_hidden,
// limit/offset), stat, mkdir and rename; plus the pieces task_list and the
// task worker share: filter clauses, orderby, limit/offset, JSON bodies and
// the multi-line endpoint error text of §3.1.
//
// The Handle* functions get a collection the caller has already authorised
// (token, data_access consent and high assurance are TransferService's
// job). Path confinement is ResolvePath's (paths.h); a last component that
// is a symlink is followed only when its target stays inside the root.
// Everything here is stateless and thread-safe. The filters, orderby and
// query helpers are implemented in transfer_query.cpp, the rest in
// transfer_listing.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "http_server.h"

namespace emu {

// --- filters (§2.1): clauses joined by '/', repeated filter= params ANDed ---

struct FilterClause {
  std::string field;
  std::string value;  // raw text after the first ':' ("a,b", "~*.txt", ">5", "2021-01-01,")
};
// Splits filter params into clauses. Errors (nullopt, *error set): an empty
// clause, a clause without ':' or with an empty field name.
std::optional<std::vector<FilterClause>> SplitFilter(const std::vector<std::string>& params,
                                                     std::string* error);

// One compiled ls condition. String fields (name, type, permissions, user,
// group): a comma list of alternatives, each exact or "~glob"; a leading
// "!=" or "!~" negates the whole list. size: alternatives "N", "=N", "!=N",
// ">N", ">=N", "<N", "<=N". last_modified: "start,end" (inclusive, either
// side empty) or one comparison like size, with times as in ParseTime.
struct LsCondition {
  struct Alternative {
    std::string op;  // "=", "~", "!=", "<", "<=", ">", ">="
    std::string text;
    int64_t number = 0;  // size, or epoch seconds for last_modified
  };
  std::string field;
  bool negate = false;
  std::vector<Alternative> any;  // OR
  bool is_range = false;
  std::optional<int64_t> from, to;  // last_modified range
};

struct LsFilter {
  std::vector<LsCondition> all;  // AND
  bool Matches(const nlohmann::json& file_doc) const;
};

// Compiles ls filters. Unknown fields and unparseable numbers or dates are
// errors (the caller answers 400 ClientError.BadRequest).
std::optional<LsFilter> ParseLsFilter(const std::vector<std::string>& params, std::string* error);

// Glob with '*', '?', '[...]', '[!...]' and backslash escapes (fnmatch,
// no special treatment of '/' or leading dots).
bool FullGlobMatch(const std::string& pattern, const std::string& text);

// --- orderby: "name ASC,size DESC" ---

struct OrderKey {
  std::string field;
  bool descending = false;
};
// Parses an orderby spec; fields must be in `allowed`. Direction is ASC or
// DESC (case-insensitive), ASC when omitted.
std::optional<std::vector<OrderKey>> ParseOrderBy(std::string_view spec,
                                                   const std::vector<std::string>& allowed,
                                                   std::string* error);
// Compares two JSON scalars: null first, numbers numerically, strings bytewise.
int CompareJson(const nlohmann::json& a, const nlohmann::json& b);
// Stable sort of documents by the keys.
void SortDocs(std::vector<nlohmann::json>* docs, const std::vector<OrderKey>& keys);

// --- query and body helpers ---

// All values of a repeatable query parameter, in order.
std::vector<std::string> QueryValues(const Request& req, const std::string& name);
// Parses an integer query parameter within [min, max]; absent -> fallback.
// nullopt (and *error) when present but not an integer in range.
std::optional<int64_t> IntParam(const Request& req, const std::string& name, int64_t fallback,
                                int64_t min, int64_t max, std::string* error);
// Reads the body as a JSON object; nullopt when it is not one.
std::optional<nlohmann::json> ReadJsonObject(Request& req);

// --- Transfer's multi-line endpoint error text (§3.1, §2.3 fixtures) ---

struct EndpointError {
  std::string summary;  // "Path not found" -> "Path not found, Error (list)"; may be empty
  std::string op;       // "list", "mkdir", "rename", "transfer", "delete", "login"
  std::string file;     // optional "File:" line
  std::string command;  // optional "Command:" line ("MLST /foo")
  std::string message;  // "No such file or directory", "Fatal FTP Response"
  std::vector<std::string> reply;  // GridFTP reply lines, joined by a literal "\r\n"
};
std::string FormatEndpointError(const EndpointError& e, const Collection& c,
                                const std::string& server);
// The globus block of a GridFTP 5xx reply: "550-GlobusError: v=1 c=<code>",
// "550-GridFTP-Errno: <n>", "550-GridFTP-Reason: <reason>",
// "550-GridFTP-Error-String: <strerror>", "550 End.", after `first` lines.
std::vector<std::string> GlobusReply(const std::string& globus_code, int err,
                                     const std::string& reason,
                                     std::vector<std::string> first = {}, int status = 550);
// The GlobusError code GridFTP reports for an errno (ENOENT -> PATH_NOT_FOUND ...).
std::string GlobusCodeForErrno(int err);

// --- file documents ---

// Whether `local` (following symlinks) exists inside `root`.
bool InsideRoot(const std::filesystem::path& root, const std::filesystem::path& local);

// The §2.2 file document of `local`, named `name`. A symlink reports its
// target's type and facts with link_* from lstat; a broken one, or one whose
// target leaves `root`, is "invalid_symlink" with its own facts. nullopt
// with *err = errno when lstat fails, or *err = 0 for fifos, sockets and
// devices (which listings skip: the emulator's choice).
std::optional<nlohmann::json> MakeFileDoc(const std::filesystem::path& root,
                                          const std::filesystem::path& local,
                                          const std::string& name, int* err);

// The file documents of a directory's entries (unsorted), skipping special
// files, and names starting with '.' unless show_hidden. Returns 0 or errno.
int ReadDirectory(const std::filesystem::path& root, const std::filesystem::path& dir,
                  bool show_hidden, std::vector<nlohmann::json>* out);

// --- the operations (collection already authorised); `server` is
// "127.0.0.1:PORT", shown in error texts as the real "Server:" line ---

// ls pages the whole folder with limit/offset (`total` counts every entry
// that passes show_hidden and the filters); more than c.max_ls_entries of
// them is 502 ExternalError.DirListingFailed.SizeLimit, whatever the page.
Response HandleLs(const Request& req, const Collection& c, const std::string& server);
Response HandleStat(const Request& req, const Collection& c, const std::string& server);
Response HandleMkdir(Request& req, const Collection& c, const std::string& server);
Response HandleRename(Request& req, const Collection& c, const std::string& server);

}  // namespace emu
