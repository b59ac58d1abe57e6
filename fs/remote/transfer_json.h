// Pure helpers shared by TransferClient and FakeTransfer: reading Transfer's
// JSON documents (file documents, listing pages, task documents, event
// lists, submission answers) into globusfs types, building the transfer and
// delete documents, and the checks every path passes before it goes into a
// request.
//
// Parsing is tolerant where globus-api.md §2 leaves room (missing or null
// optional fields, a missing DATA_TYPE, timestamps with 'T' or without an
// offset, permissions that are not octal, unknown file types) and strict
// about the shape: a field of the wrong JSON type (a number where a string
// belongs, or the reverse), a DATA_TYPE naming another document, a file
// document without a name or type string, a DATA item that is not an
// object, a listing without a DATA array: those give a kMalformed
// http::Error, so a garbled answer is never read as an empty or different
// one. Nothing here throws.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/http/error.h"
#include "auth/http/result.h"
#include "fs/remote/transfer_api.h"

namespace globusfs::fs {

// Code of the kConfig error for a path Transfer cannot carry (not valid
// UTF-8, or holding a NUL byte). Classify() maps it to kInvalid.
inline constexpr std::string_view kInvalidNameCode = "InvalidName";
// Code of the kMalformed error for a stat answer of a type globusfs does not
// show (a device, a pipe): List skips such entries, so Stat reports them as
// missing. Classify() maps it to kNotFound.
inline constexpr std::string_view kUnsupportedTypeCode = "UnsupportedFileType";

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF
// (the same rules nlohmann::json applies when it serialises a string).
bool IsValidUtf8(std::string_view text);

// nullopt when `path` can be sent to Transfer; otherwise the kConfig
// "InvalidName" error. The message shows invalid bytes as \xNN, so it is
// itself valid UTF-8.
std::optional<http::Error> CheckPath(std::string_view path);

// "YYYY-MM-DD HH:MM:SS+00:00" (also 'T' as the separator, fractional
// seconds, 'Z', any +HH:MM/-HH:MM offset, or no offset = UTC) to seconds
// since the epoch. Anything unreadable gives 0.
int64_t ParseTransferTime(std::string_view text);

// One file document (an ls DATA item or a stat answer). nullopt for an
// entry of a type globusfs does not show (a "type" string other than file,
// dir, invalid_symlink); kMalformed if `doc` is not an object, its
// DATA_TYPE is present and not "file", "name" or "type" is missing or not a
// string, or a known optional field (size, link_size: numbers;
// last_modified, permissions, user, group, link_*: strings) is present,
// not null, and of another JSON type.
http::Result<std::optional<FileEntry>> ParseFileDoc(const nlohmann::json& doc);

struct ListingPage {
  std::vector<FileEntry> entries;  // the shown entries of this page, server order
  int64_t items = 0;               // DATA items in the page (shown or not)
  std::optional<int64_t> total;    // "total", when the server gave a number
};

// One ls answer, parsed as it arrives: `Filter()` is given to
// nlohmann::json::parse and turns each DATA item into a FileEntry as soon as
// it is read, dropping its JSON, so a page of 100,000 entries never exists
// as one document (a DOM of it is ~1 KiB per entry). `Finish` then checks
// what is left of the body (its DATA now empty): kMalformed without a DATA
// array, with a DATA_TYPE other than "file_list", with
// total/length/offset/limit that are not numbers (or null), or with any
// item ParseFileDoc finds malformed: one bad item makes the whole page
// malformed.
class StreamedListingPage {
 public:
  nlohmann::json::parser_callback_t Filter();
  http::Result<ListingPage> Finish(const nlohmann::json& body);

 private:
  bool OnEvent(int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed);
  void Item(const nlohmann::json& item);

  ListingPage page_;
  std::optional<http::Error> error_;  // the first malformed item
  std::string key_;                   // the last key of the top-level object
  bool in_data_ = false;              // within the top-level "DATA" array
  bool data_seen_ = false;
};

// Whether a listing is complete after a page of `items` DATA items asked
// for with `limit`: a short (or empty) page ends it; a full one means there
// may be more, whatever `total` says. Transfer pages with limit/offset
// without has_next_page, and whether its `total` counts the whole folder is
// UNVERIFIED (globus-api.md §2.2), so `total` is never trusted to end a
// listing early, nor to extend one past a short page.
bool ListingComplete(int64_t items, int64_t limit);

// What an ls answer says the listed folder is, as an absolute path without
// '~' ("/home/ada"; "/" for the root): its "absolute_path" when that is
// such a path, else its "path" when that is. nullopt when neither is, as in
// every recorded answer for "/~/" ("path": "/~/", "absolute_path": null,
// globus-api.md 2.2), or when either holds "." or "..".
std::optional<std::string> StatedAbsolutePath(const nlohmann::json& listing);

// Whether two ls answers list the same entries: both objects with the same
// "total" and the same DATA, item for item (pages asked with the same
// limit, offset and order). HomePath's test that "/~/" is "/".
bool SameListing(const nlohmann::json& a, const nlohmann::json& b);

// nullopt when a task id can go into a URL (non-empty, valid UTF-8);
// otherwise the kConfig "InvalidName" error.
std::optional<http::Error> CheckTaskId(std::string_view task_id);

// Code of the kConfig error for a task submission without a submission_id
// (a bug in the caller: the id must be recorded before the request is sent).
// Classify() maps it to kOther.
inline constexpr std::string_view kMissingSubmissionIdCode = "MissingSubmissionId";

// nullopt when the submission id can be sent; otherwise the kConfig error
// (kMissingSubmissionIdCode when empty, InvalidName when not UTF-8).
std::optional<http::Error> CheckSubmissionId(std::string_view submission_id);

// A task document (GET /task/{id}, globus-api.md §2.9): status is required
// (a non-empty string); every other field is optional (a missing or null
// number reads 0, a null string ""). kMalformed if `doc` is not an object
// or has no status.
http::Result<TaskStatus> ParseTaskStatus(const nlohmann::json& doc);

// The same document reduced to its outcome (status and fatal_error).
http::Result<TaskOutcome> ParseTaskDoc(const nlohmann::json& doc);

// An event_list page, in the server's order (newest first). kMalformed
// without a DATA array or with an item that is not an object.
http::Result<std::vector<TaskEvent>> ParseTaskEvents(const nlohmann::json& body);

// The answer to POST /transfer or /delete ("Accepted" or "Duplicate"): the
// task id. kMalformed when it names no task.
http::Result<std::string> ParseSubmissionResult(const nlohmann::json& body);

// The documents of §2.7 and §2.8, with every notify_on_* flag false and
// `label` as given (the caller sanitises it). Paths are not checked here.
nlohmann::json BuildTransferDocument(const TransferRequest& request, const std::string& label);
nlohmann::json BuildDeleteDocument(const DeleteRequest& request, const std::string& label);

// A task label Transfer accepts whatever the paths hold. Transfer's label
// rules are UNVERIFIED, so this is conservative: letters, digits, space and
// "-_," are kept, every other byte becomes '_', and the result is cut to
// 128 bytes.
std::string SanitizeLabel(std::string_view label);

}  // namespace globusfs::fs
