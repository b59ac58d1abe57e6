#include "fs/remote/transfer_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace globusfs::fs {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxLabel = 128;

// Length of the valid UTF-8 sequence starting at s[i], or 0 if none does.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

// `text` with every byte that is not part of a valid sequence as \xNN.
std::string EscapeInvalidUtf8(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0 || text[i] == '\0') {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02X", static_cast<unsigned char>(text[i]));
      out += hex;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

http::Error Malformed(std::string message) {
  return http::MakeError(http::ErrorKind::kMalformed, std::move(message));
}

// Reads exactly `n` decimal digits at `pos`; false if they are not there.
bool Digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t k = 0; k < n; ++k) {
    const char c = s[pos + k];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

uint64_t ReadSize(const json& doc) {
  const auto it = doc.find("size");
  if (it == doc.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer()) return std::max<int64_t>(0, it->get<int64_t>());
  if (it->is_number_float()) {
    const double v = it->get<double>();
    return std::isfinite(v) && v >= 0 && v < 1.8e19 ? static_cast<uint64_t>(v) : 0;
  }
  return 0;
}

uint32_t ReadMode(const json& doc, uint32_t fallback) {
  const auto it = doc.find("permissions");
  if (it == doc.end() || !it->is_string()) return fallback;
  const auto& text = it->get_ref<const std::string&>();
  if (text.empty() || text.size() > 6) return fallback;
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return fallback;
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  return mode & 07777;
}

// A count of a task document: a non-negative integer (a float is
// truncated); anything else, null included, reads 0.
int64_t ReadCount(const json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end()) return 0;
  if (it->is_number_unsigned()) {
    return static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX));
  }
  if (it->is_number_integer()) return std::max<int64_t>(0, it->get<int64_t>());
  if (it->is_number_float()) {
    const double v = it->get<double>();
    return std::isfinite(v) && v >= 0 && v < 9.2e18 ? static_cast<int64_t>(v) : 0;
  }
  return 0;
}

const std::string* StringAt(const json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

// Whether `key` of the object `doc` is missing, null, or of the given kind.
// (Optional fields may be absent or null; one of another JSON type means the
// document is not what Transfer sends.)
bool IsStringOrAbsent(const json& doc, const char* key) {
  const auto it = doc.find(key);
  return it == doc.end() || it->is_null() || it->is_string();
}

bool IsNumberOrAbsent(const json& doc, const char* key) {
  const auto it = doc.find(key);
  return it == doc.end() || it->is_null() || it->is_number();
}

// DATA_TYPE is absent or the string `want` (globus-api.md §2.1: every
// document names its type; a missing one is tolerated).
bool DataTypeIs(const json& doc, std::string_view want) {
  const auto it = doc.find("DATA_TYPE");
  return it == doc.end() || (it->is_string() && it->get_ref<const std::string&>() == want);
}

// Why the object `doc` is not a file document (§2.2, §2.3), or nullptr. The
// name and type are required strings (an unknown type is not an error: the
// caller skips the entry); every other field globusfs knows is optional but,
// when present and not null, must be of its documented JSON type.
const char* FileDocProblem(const json& doc) {
  if (!DataTypeIs(doc, "file")) return "a DATA_TYPE other than \"file\"";
  const auto name = doc.find("name");
  if (name == doc.end() || !name->is_string()) return "no name string";
  const auto type = doc.find("type");
  if (type == doc.end() || !type->is_string()) return "no type string";
  for (const char* key : {"last_modified", "permissions", "user", "group", "link_target",
                          "link_user", "link_group", "link_last_modified"}) {
    if (!IsStringOrAbsent(doc, key)) return "a field that should be a string";
  }
  for (const char* key : {"size", "link_size"}) {
    if (!IsNumberOrAbsent(doc, key)) return "a size that is not a number";
  }
  return nullptr;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::optional<http::Error> CheckPath(std::string_view path) {
  const bool has_nul = path.find('\0') != std::string_view::npos;
  if (!has_nul && IsValidUtf8(path)) return std::nullopt;
  http::Error e =
      http::MakeError(http::ErrorKind::kConfig,
                      std::string(has_nul ? "path holds a NUL byte" : "path is not valid UTF-8") +
                          " (Globus paths are UTF-8 strings): '" + EscapeInvalidUtf8(path) + "'");
  e.code = std::string(kInvalidNameCode);
  return e;
}

int64_t ParseTransferTime(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  size_t pos = 0;
  int year, month, day, hour = 0, minute = 0, second = 0;
  if (!Digits(s, pos, 4, year) || !Expect(s, pos, '-') || !Digits(s, pos, 2, month) ||
      !Expect(s, pos, '-') || !Digits(s, pos, 2, day)) {
    return 0;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return 0;
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if (s[pos] != ' ' && s[pos] != 'T') return 0;
    ++pos;
    if (!Digits(s, pos, 2, hour) || !Expect(s, pos, ':') || !Digits(s, pos, 2, minute) ||
        !Expect(s, pos, ':') || !Digits(s, pos, 2, second)) {
      return 0;
    }
    if (hour > 23 || minute > 59 || second > 60) return 0;
    if (pos < s.size() && s[pos] == '.') {  // fractional seconds: ignored
      ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    }
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
      ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
      const int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      int oh, om;
      if (!Digits(s, pos, 2, oh)) return 0;
      Expect(s, pos, ':');
      if (!Digits(s, pos, 2, om) || oh > 23 || om > 59) return 0;
      offset_s = sign * (oh * 3600 + om * 60);
    }
    if (pos != s.size()) return 0;
  }
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
}

http::Result<std::optional<FileEntry>> ParseFileDoc(const json& doc) {
  if (!doc.is_object()) return Malformed("Transfer sent a file document that is not an object");
  if (const char* bad = FileDocProblem(doc)) {
    return Malformed(std::string("Transfer sent a file document with ") + bad);
  }
  const std::string& type = doc.at("type").get_ref<const std::string&>();
  const std::string* target = StringAt(doc, "link_target");
  FileEntry entry;
  entry.name = doc.at("name").get<std::string>();
  if (type == "dir" || type == "file") {
    const bool dir = type == "dir";
    entry.type = target != nullptr ? (dir ? EntryType::kSymlinkDir : EntryType::kSymlink)
                 : dir             ? EntryType::kDir
                                   : EntryType::kFile;
    entry.mode = ReadMode(doc, dir ? 0755 : 0644);
  } else if (type == "invalid_symlink") {
    entry.type = EntryType::kInvalidSymlink;
    entry.mode = ReadMode(doc, 0644);
  } else if (type == "chr" || type == "blk" || type == "pipe" || type == "other") {
    // Listed, with their kind; their contents cannot be read over HTTPS.
    entry.type = type == "chr"    ? EntryType::kCharDevice
                 : type == "blk"  ? EntryType::kBlockDevice
                 : type == "pipe" ? EntryType::kPipe
                                  : EntryType::kOther;
    entry.mode = ReadMode(doc, 0644);
  } else {
    return std::optional<FileEntry>();  // a kind nobody has seen: skipped
  }
  if (target != nullptr) entry.link_target = *target;
  entry.size = ReadSize(doc);
  if (const std::string* when = StringAt(doc, "last_modified")) {
    entry.mtime = ParseTransferTime(*when);
  }
  return std::optional<FileEntry>(std::move(entry));
}

namespace {

// Whether `name` can be a child of a folder: one path component.
bool IsChildName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// The checks of an ls answer's own fields (not its DATA items).
std::optional<http::Error> ListingProblem(const json& body, bool has_data) {
  if (!has_data) return Malformed("Transfer sent a directory listing without a DATA list");
  if (!DataTypeIs(body, "file_list")) {
    return Malformed("Transfer sent a directory listing whose DATA_TYPE is not \"file_list\"");
  }
  for (const char* key : {"total", "length", "offset", "limit"}) {
    if (!IsNumberOrAbsent(body, key)) {
      return Malformed(std::string("Transfer sent a directory listing whose \"") + key +
                       "\" is not a number");
    }
  }
  if (!IsStringOrAbsent(body, "path")) {
    return Malformed("Transfer sent a directory listing whose \"path\" is not a string");
  }
  return std::nullopt;
}

std::optional<int64_t> ListingTotal(const json& body) {
  const auto total = body.find("total");
  if (total != body.end() && total->is_number_integer() && total->get<int64_t>() >= 0) {
    return total->get<int64_t>();
  }
  return std::nullopt;
}

}  // namespace

json::parser_callback_t StreamedListingPage::Filter() {
  return [this](int depth, json::parse_event_t event, json& parsed) { return OnEvent(depth, event, parsed); };
}

bool StreamedListingPage::OnEvent(int depth, json::parse_event_t event, json& parsed) {
  using E = json::parse_event_t;
  if (depth == 1 && event == E::key) {
    key_ = parsed.is_string() ? parsed.get<std::string>() : std::string();
  } else if (depth == 1 && event == E::array_start) {
    in_data_ = key_ == "DATA";
  } else if (depth == 1 && event == E::array_end && in_data_) {
    in_data_ = false;
    data_seen_ = true;  // kept: an empty array, every item taken out
  } else if (depth == 2 && in_data_ && (event == E::object_end || event == E::array_end || event == E::value)) {
    Item(parsed);  // one whole item: made an entry, its JSON dropped
    return false;
  }
  return true;
}

void StreamedListingPage::Item(const json& item) {
  ++page_.items;
  if (error_) return;
  auto parsed = ParseFileDoc(item);
  if (!parsed) {
    error_ = std::move(parsed).error();
    return;
  }
  if (!parsed->has_value() || !IsChildName((*parsed)->name)) return;
  page_.entries.push_back(std::move(**parsed));
}

http::Result<ListingPage> StreamedListingPage::Finish(const json& body) {
  bool has_data = false;
  if (body.is_object()) {
    const auto it = body.find("DATA");
    has_data = it != body.end() && it->is_array() && data_seen_;
  }
  if (auto bad = ListingProblem(body, has_data)) return *bad;
  if (error_) return *error_;
  page_.total = ListingTotal(body);
  return std::move(page_);
}

bool ListingComplete(int64_t items, int64_t limit) { return items < limit; }

std::optional<std::string> StatedAbsolutePath(const json& listing) {
  if (!listing.is_object()) return std::nullopt;
  for (const char* key : {"absolute_path", "path"}) {
    const std::string* text = StringAt(listing, key);
    if (text == nullptr || !text->starts_with('/') || !IsValidUtf8(*text) ||
        text->find('\0') != std::string::npos) {
      continue;
    }
    std::string out;
    bool usable = true;
    for (size_t i = 1; i <= text->size() && usable;) {
      size_t end = text->find('/', i);
      if (end == std::string::npos) end = text->size();
      const std::string_view part = std::string_view(*text).substr(i, end - i);
      usable = part != "~" && part != "." && part != "..";
      if (!part.empty()) out += "/" + std::string(part);
      i = end + 1;
    }
    if (usable) return out.empty() ? std::string("/") : out;
  }
  return std::nullopt;
}

bool SameListing(const json& a, const json& b) {
  if (!a.is_object() || !b.is_object()) return false;
  const auto ad = a.find("DATA"), bd = b.find("DATA");
  if (ad == a.end() || bd == b.end() || !ad->is_array() || *ad != *bd) return false;
  const auto at = a.find("total"), bt = b.find("total");
  return (at == a.end()) == (bt == b.end()) && (at == a.end() || *at == *bt);
}

std::optional<http::Error> CheckTaskId(std::string_view task_id) {
  if (task_id.empty()) {
    http::Error e = http::MakeError(http::ErrorKind::kConfig, "empty task id");
    e.code = std::string(kInvalidNameCode);
    return e;
  }
  return CheckPath(task_id);
}

std::optional<http::Error> CheckSubmissionId(std::string_view submission_id) {
  if (submission_id.empty()) {
    http::Error e = http::MakeError(
        http::ErrorKind::kConfig,
        "a task submission needs a submission_id (GET /submission_id, recorded before sending)");
    e.code = std::string(kMissingSubmissionIdCode);
    return e;
  }
  return CheckPath(submission_id);
}

http::Result<TaskStatus> ParseTaskStatus(const json& doc) {
  const std::string* status = doc.is_object() ? StringAt(doc, "status") : nullptr;
  if (status == nullptr || status->empty()) {
    return Malformed("Transfer sent a task document without a status");
  }
  TaskStatus t;
  t.status = *status;
  const auto text = [&](const char* key, std::string& out) {
    if (const std::string* v = StringAt(doc, key)) out = *v;
  };
  text("task_id", t.task_id);
  text("type", t.type);
  text("label", t.label);
  text("nice_status", t.nice_status);
  text("nice_status_short_description", t.nice_status_short_description);
  const auto fatal = doc.find("fatal_error");
  if (fatal != doc.end() && fatal->is_object()) {
    if (const std::string* code = StringAt(*fatal, "code")) t.fatal_code = *code;
    if (const std::string* desc = StringAt(*fatal, "description")) t.fatal_description = *desc;
  }
  t.faults = ReadCount(doc, "faults");
  t.files = ReadCount(doc, "files");
  t.files_transferred = ReadCount(doc, "files_transferred");
  t.files_skipped = ReadCount(doc, "files_skipped");
  t.bytes_transferred = ReadCount(doc, "bytes_transferred");
  if (auto rate = doc.find("effective_bytes_per_second"); rate != doc.end() && rate->is_number()) {
    const double v = rate->get<double>();
    if (std::isfinite(v) && v > 0) t.effective_bytes_per_second = v;
  }
  t.subtasks_total = ReadCount(doc, "subtasks_total");
  t.subtasks_succeeded = ReadCount(doc, "subtasks_succeeded");
  t.subtasks_pending = ReadCount(doc, "subtasks_pending");
  t.subtasks_failed = ReadCount(doc, "subtasks_failed");
  return t;
}

http::Result<TaskOutcome> ParseTaskDoc(const json& doc) {
  auto t = ParseTaskStatus(doc);
  if (!t) return std::move(t).error();
  return TaskOutcome{std::move(t->task_id), std::move(t->status), std::move(t->fatal_code),
                     std::move(t->fatal_description)};
}

http::Result<std::vector<TaskEvent>> ParseTaskEvents(const json& body) {
  const json* data = nullptr;
  if (body.is_object()) {
    const auto it = body.find("DATA");
    if (it != body.end() && it->is_array()) data = &*it;
  }
  if (data == nullptr) return Malformed("Transfer sent an event list without a DATA list");
  std::vector<TaskEvent> events;
  events.reserve(data->size());
  for (const json& item : *data) {
    if (!item.is_object()) return Malformed("Transfer sent a task event that is not an object");
    TaskEvent e;
    if (const std::string* v = StringAt(item, "code")) e.code = *v;
    if (const std::string* v = StringAt(item, "description")) e.description = *v;
    if (const std::string* v = StringAt(item, "details")) e.details = *v;
    if (const std::string* v = StringAt(item, "time")) e.time = *v;
    const auto err = item.find("is_error");
    e.is_error = err != item.end() && err->is_boolean() && err->get<bool>();
    events.push_back(std::move(e));
  }
  return events;
}

http::Result<std::string> ParseSubmissionResult(const json& body) {
  const std::string* id = body.is_object() ? StringAt(body, "task_id") : nullptr;
  if (id == nullptr || id->empty()) {
    return Malformed("Transfer accepted a submission without naming its task");
  }
  return *id;
}

json BuildTransferDocument(const TransferRequest& request, const std::string& label) {
  json items = json::array();
  for (const TransferItem& item : request.items) {
    items.push_back({{"DATA_TYPE", "transfer_item"},
                     {"source_path", item.source_path},
                     {"destination_path", item.destination_path},
                     {"recursive", item.recursive}});
  }
  json doc = {
      {"DATA_TYPE", "transfer"},
      {"submission_id", request.submission_id},
      {"source_endpoint", request.source_collection},
      {"destination_endpoint", request.destination_collection},
      {"label", label},
      {"verify_checksum", request.verify_checksum},
      {"preserve_timestamp", request.preserve_timestamp},
      {"notify_on_succeeded", false},
      {"notify_on_failed", false},
      {"notify_on_inactive", false},
      {"DATA", std::move(items)},
  };
  if (!request.deadline.empty()) doc["deadline"] = request.deadline;
  return doc;
}

json BuildDeleteDocument(const DeleteRequest& request, const std::string& label) {
  json items = json::array();
  for (const std::string& path : request.paths) {
    items.push_back({{"DATA_TYPE", "delete_item"}, {"path", path}});
  }
  return {
      {"DATA_TYPE", "delete"},
      {"submission_id", request.submission_id},
      {"endpoint", request.collection_id},
      {"recursive", request.recursive},
      {"ignore_missing", request.ignore_missing},
      {"interpret_globs", false},
      {"notify_on_succeeded", false},
      {"notify_on_failed", false},
      {"notify_on_inactive", false},
      {"label", label},
      {"DATA", std::move(items)},
  };
}

std::string SanitizeLabel(std::string_view label) {
  std::string out;
  out.reserve(std::min(label.size(), kMaxLabel));
  for (char c : label) {
    if (out.size() == kMaxLabel) break;
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == ' ' || c == '-' || c == '_' || c == ',';
    out.push_back(keep ? c : '_');
  }
  return out;
}

}  // namespace globusfs::fs
