// The pure Transfer JSON helpers (fs/remote/transfer_json.h): tolerant file
// documents, listing pages and paging, task documents and event lists,
// submission answers, the transfer and delete documents, path checks, labels.
// What the emulator cannot be made to send (garbage times, missing fields,
// non-object items) is tested here.
#include "fs/remote/transfer_json.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fs/remote/remote_error.h"

namespace globusfs::fs {
namespace {

using json = nlohmann::json;

TEST(TransferApiJsonTime, ReadsTransferFormats) {
  EXPECT_EQ(ParseTransferTime("2021-01-15 01:45:50+00:00"), 1610675150);
  EXPECT_EQ(ParseTransferTime("2021-01-15T01:45:50+00:00"), 1610675150);
  EXPECT_EQ(ParseTransferTime("2021-01-15 01:45:50"), 1610675150);
  EXPECT_EQ(ParseTransferTime("2021-01-15T01:45:50Z"), 1610675150);
  EXPECT_EQ(ParseTransferTime("2021-01-15T01:45:50.123456+00:00"), 1610675150);
  EXPECT_EQ(ParseTransferTime("2021-01-15T03:45:50+02:00"), 1610675150);
  EXPECT_EQ(ParseTransferTime("2021-01-14T20:45:50-0500"), 1610675150);
  EXPECT_EQ(ParseTransferTime("1970-01-01 00:00:00+00:00"), 0);
  EXPECT_EQ(ParseTransferTime("2024-02-29 12:00:00+00:00"), 1709208000);
  EXPECT_EQ(ParseTransferTime("1969-12-31 23:59:59+00:00"), -1);
  EXPECT_EQ(ParseTransferTime("2021-01-15"), 1610668800);
}

TEST(TransferApiJsonTime, GarbageIsZero) {
  for (const char* bad : {"", "yesterday", "2021-13-01 00:00:00", "2021-02-30 00:00:00",
                          "2021-01-15 25:00:00", "2021-01-15X01:45:50", "2021-01-15 01:45",
                          "2021-01-15 01:45:50+0", "2021-01-15 01:45:50 junk", "２０２１-01-15"}) {
    EXPECT_EQ(ParseTransferTime(bad), 0) << bad;
  }
}

FileEntry Parse(const json& doc) {
  auto r = ParseFileDoc(doc);
  EXPECT_TRUE(r.ok()) << doc.dump();
  EXPECT_TRUE(r.ok() && r->has_value()) << doc.dump();
  return r.ok() && r->has_value() ? **r : FileEntry{};
}

TEST(TransferApiJsonFileDoc, ReadsARealDocument) {
  const json doc = json::parse(R"({
      "DATA_TYPE": "file", "name": "file1.txt", "type": "file", "size": 4,
      "last_modified": "2023-12-18 16:52:50+00:00", "permissions": "0644",
      "user": "tutorial", "group": "tutorial", "link_target": null, "link_group": null,
      "link_last_modified": null, "link_size": null, "link_user": null})");
  EXPECT_EQ(Parse(doc), (FileEntry{"file1.txt", EntryType::kFile, 4, 1702918370, 0644, ""}));
}

TEST(TransferApiJsonFileDoc, Types) {
  EXPECT_EQ(Parse({{"name", "d"}, {"type", "dir"}}).type, EntryType::kDir);
  FileEntry link = Parse({{"name", "l"}, {"type", "dir"}, {"link_target", "/x"}});
  EXPECT_EQ(link.type, EntryType::kSymlinkDir);
  EXPECT_EQ(link.link_target, "/x");
  EXPECT_EQ(link.mode, 0755u);
  link = Parse({{"name", "l"}, {"type", "file"}, {"link_target", "t"}});
  EXPECT_EQ(link.type, EntryType::kSymlink);
  FileEntry broken = Parse({{"name", "b"}, {"type", "invalid_symlink"}, {"link_target", "gone"}});
  EXPECT_EQ(broken.type, EntryType::kInvalidSymlink);
  EXPECT_EQ(broken.link_target, "gone");
  // Special files are listed with their kind (globus-api.md §2.2).
  EXPECT_EQ(Parse({{"name", "c"}, {"type", "chr"}}).type, EntryType::kCharDevice);
  EXPECT_EQ(Parse({{"name", "b"}, {"type", "blk"}}).type, EntryType::kBlockDevice);
  EXPECT_EQ(Parse({{"name", "p"}, {"type", "pipe"}, {"permissions", "0600"}}).mode, 0600u);
  EXPECT_EQ(Parse({{"name", "p"}, {"type", "pipe"}}).type, EntryType::kPipe);
  EXPECT_EQ(Parse({{"name", "o"}, {"type", "other"}}).type, EntryType::kOther);
  // Types nobody has seen ("link" never was) are not shown.
  for (const json& t : {json("link"), json("")}) {
    auto r = ParseFileDoc({{"name", "p"}, {"type", t}});
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << t.dump();
  }
}

void ExpectMalformedDoc(const json& doc) {
  auto r = ParseFileDoc(doc);
  ASSERT_FALSE(r.ok()) << doc.dump();
  EXPECT_EQ(r.error().kind, http::ErrorKind::kMalformed) << doc.dump();
  EXPECT_EQ(Classify(r.error()), RemoteErrc::kProtocol) << doc.dump();
}

TEST(TransferApiJsonFileDoc, WrongTypesAreMalformed) {
  // A type that is not a string, or none: not a file document at all.
  for (const json& t : {json(7), json(), json(true), json::array()}) {
    ExpectMalformedDoc({{"name", "p"}, {"type", t}});
  }
  ExpectMalformedDoc({{"name", "p"}});
  // A name that is not a string, or none.
  for (const json& n : {json(7), json(), json::object()}) {
    ExpectMalformedDoc({{"name", n}, {"type", "file"}});
  }
  ExpectMalformedDoc({{"type", "file"}});
  // Another document type.
  ExpectMalformedDoc({{"DATA_TYPE", "file_list"}, {"name", "f"}, {"type", "file"}});
  ExpectMalformedDoc({{"DATA_TYPE", 7}, {"name", "f"}, {"type", "file"}});
  // Known optional fields of the wrong JSON type.
  const json base = {{"name", "f"}, {"type", "file"}};
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, json>>{{"size", "12"},
                                                 {"size", true},
                                                 {"link_size", "4"},
                                                 {"last_modified", 17},
                                                 {"permissions", 644},
                                                 {"user", 0},
                                                 {"group", 0},
                                                 {"link_target", 7},
                                                 {"link_user", false},
                                                 {"link_group", 1},
                                                 {"link_last_modified", 3}}) {
    json doc = base;
    doc[key] = value;
    ExpectMalformedDoc(doc);
  }
  // The emulator's "wrong_types" body, and the real stat fixture retyped
  // (every string a number, every number a string).
  ExpectMalformedDoc(json::parse(R"({"DATA_TYPE": "file_list", "DATA": [42, {"name": 7}]})"));
  ExpectMalformedDoc(json::parse(R"({
      "DATA_TYPE": 7, "name": 7, "type": 7, "size": "4", "last_modified": 7,
      "permissions": 7, "user": 7, "group": 7, "link_target": null, "link_group": null,
      "link_last_modified": null, "link_size": null, "link_user": null})"));
}

TEST(TransferApiJsonFileDoc, ToleratesMissingAndOddFields) {
  FileEntry f = Parse({{"name", "f"}, {"type", "file"}});
  EXPECT_EQ(f.size, 0u);
  EXPECT_EQ(f.mtime, 0);
  EXPECT_EQ(f.mode, 0644u);
  EXPECT_EQ(Parse({{"name", "d"}, {"type", "dir"}}).mode, 0755u);
  // Values of the right JSON type that make no sense read as defaults.
  f = Parse({{"name", "f"},
             {"type", "file"},
             {"size", -5},
             {"permissions", "rw-r--r--"},
             {"last_modified", "yesterday"}});
  EXPECT_EQ(f.size, 0u);
  EXPECT_EQ(f.mode, 0644u);
  EXPECT_EQ(f.mtime, 0);
  // Null is as good as missing.
  f = Parse({{"DATA_TYPE", "file"},
             {"name", "f"},
             {"type", "file"},
             {"size", nullptr},
             {"permissions", nullptr},
             {"last_modified", nullptr},
             {"user", nullptr},
             {"group", nullptr}});
  EXPECT_EQ(f.size, 0u);
  EXPECT_EQ(f.mode, 0644u);
  EXPECT_EQ(f.mtime, 0);
  EXPECT_EQ(Parse({{"name", "f"}, {"type", "file"}, {"permissions", "104755"}}).mode, 04755u);
  EXPECT_EQ(Parse({{"name", "f"}, {"type", "file"}, {"size", 12.0}}).size, 12u);
  EXPECT_EQ(Parse({{"name", "f"}, {"type", "file"}, {"size", 1ull << 40}}).size, 1ull << 40);
  // An empty name is a string (Stat fills in the last path component).
  EXPECT_EQ(Parse({{"name", ""}, {"type", "dir"}}).name, "");
}

TEST(TransferApiJsonFileDoc, NotAnObjectIsMalformed) {
  for (const json& doc : {json(), json(3), json("x"), json::array()}) {
    auto r = ParseFileDoc(doc);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, http::ErrorKind::kMalformed);
  }
}

// An ls answer parsed as the client parses it: StreamedListingPage over
// the body's text.
http::Result<ListingPage> ParsePage(const json& body) {
  StreamedListingPage streamed;
  json rest = json::parse(body.dump(), streamed.Filter(), /*allow_exceptions=*/false);
  auto page = streamed.Finish(rest);
  if (page.ok()) EXPECT_TRUE(rest["DATA"].empty()) << "the items were dropped as they were read";
  return page;
}

TEST(TransferApiJsonListing, ReadsAPageAndSkipsWhatItCannotShow) {
  const json body = {{"DATA_TYPE", "file_list"},
                     {"length", 5},
                     {"total", 5},
                     {"DATA",
                      {{{"name", "a"}, {"type", "file"}},
                       {{"name", "unheard-of"}, {"type", "link"}},
                       {{"name", "."}, {"type", "dir"}},
                       {{"name", "x/y"}, {"type", "file"}},
                       {{"name", ""}, {"type", "file"}}}}};
  auto page = ParsePage(body);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].name, "a");
  EXPECT_EQ(page->items, 5);
  EXPECT_EQ(page->total, 5);
}

TEST(TransferApiJsonListing, MalformedBodies) {
  const json a = {{"name", "a"}, {"type", "file"}};
  for (const json& body : {
           json(),
           json::object(),
           json{{"DATA", "x"}},
           json::array(),
           json{{"DATA", {a, 3}}},
           // An entry without a name string, or without a type string.
           json{{"DATA", {a, {{"type", "file"}}}}},
           json{{"DATA", {a, {{"name", 7}, {"type", "file"}}}}},
           json{{"DATA", {a, {{"name", "b"}}}}},
           json{{"DATA", {a, {{"name", "b"}, {"type", 7}}}}},
           json{{"DATA", {a, {{"name", "b"}, {"type", "file"}, {"size", "4"}}}}},
           // Another document, or counts that are not numbers.
           json{{"DATA_TYPE", "file"}, {"DATA", {a}}},
           json{{"DATA_TYPE", 7}, {"DATA", {a}}},
           json{{"DATA", {a}}, {"total", "many"}},
           json{{"DATA", {a}}, {"length", "1"}},
           json{{"DATA", {a}}, {"path", 7}},
           // The emulator's "wrong_types" and "not_object" bodies.
           json::parse(R"({"DATA_TYPE": "file_list", "DATA": [42, {"name": 7}]})"),
           json::parse(R"([42, "garbage", null])"),
       }) {
    auto page = ParsePage(body);
    ASSERT_FALSE(page.ok()) << body.dump();
    EXPECT_EQ(page.error().kind, http::ErrorKind::kMalformed);
    EXPECT_EQ(Classify(page.error()), RemoteErrc::kProtocol);
  }
  // Null counts, a negative total, a missing DATA_TYPE: tolerated.
  auto no_total = ParsePage({{"DATA", json::array()}, {"total", nullptr}});
  ASSERT_TRUE(no_total.ok());
  EXPECT_FALSE(no_total->total.has_value());
  auto negative = ParsePage({{"DATA", json::array()}, {"total", -1}});
  ASSERT_TRUE(negative.ok());
  EXPECT_FALSE(negative->total.has_value());
}

// A real listing (globus-api.md §2.2) retyped as the emulator's "retyped"
// variant does it: every string a number, every number or boolean a string.
// Read as it is, it would be an empty listing; it must be malformed.
TEST(TransferApiJsonListing, RetypedRealListingIsMalformed) {
  const json real = json::parse(R"({
    "DATA_TYPE": "file_list", "endpoint": "aa752cea-8222-5bc8-acd9-555b090c0ccb",
    "path": "/share/godata/", "absolute_path": null, "length": 1, "total": 1,
    "rename_supported": true, "symlink_supported": true,
    "DATA": [{"DATA_TYPE": "file", "name": "file1.txt", "type": "file", "size": 4,
              "last_modified": "2020-09-23 18:53:12+00:00", "permissions": "0644",
              "user": "root", "group": "root", "link_target": null, "link_user": null,
              "link_group": null, "link_size": null, "link_last_modified": null}]})");
  auto ok = ParsePage(real);
  ASSERT_TRUE(ok.ok()) << ok.error().Summary();
  ASSERT_EQ(ok->entries.size(), 1u);
  EXPECT_EQ(ok->entries[0], (FileEntry{"file1.txt", EntryType::kFile, 4, 1600887192, 0644, ""}));

  const std::function<json(const json&)> retype = [&](const json& j) -> json {
    if (j.is_object()) {
      json o = json::object();
      for (auto it = j.begin(); it != j.end(); ++it) o[it.key()] = retype(it.value());
      return o;
    }
    if (j.is_array()) {
      json arr = json::array();
      for (const auto& e : j) arr.push_back(retype(e));
      return arr;
    }
    if (j.is_string()) return 7;
    if (j.is_number() || j.is_boolean()) return j.dump();
    return j;
  };
  auto page = ParsePage(retype(real));
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().kind, http::ErrorKind::kMalformed);
  ExpectMalformedDoc(retype(real["DATA"][0]));
  // Only one field of an entry retyped is enough.
  for (const char* key : {"name", "type", "size", "last_modified", "permissions", "user"}) {
    json one = real;
    one["DATA"][0][key] = retype(one["DATA"][0][key]);
    EXPECT_FALSE(ParsePage(one).ok()) << key;
  }
}

TEST(TransferApiJsonListing, OnlyAShortPageEndsAListing) {
  // A full page may be followed by more, even when a `total` says it was
  // the last (whether total counts the whole folder is UNVERIFIED).
  EXPECT_FALSE(ListingComplete(1000, 1000));
  EXPECT_FALSE(ListingComplete(100000, 100000));
  EXPECT_FALSE(ListingComplete(1001, 1000)) << "more than asked is still a full page";
  // A short page is the end, even when a `total` promises more.
  EXPECT_TRUE(ListingComplete(999, 1000));
  EXPECT_TRUE(ListingComplete(10, 1000));
  EXPECT_TRUE(ListingComplete(0, 1000));
  EXPECT_TRUE(ListingComplete(0, 1));
}

TEST(TransferApiJsonTask, ReadsOutcomes) {
  auto t = ParseTaskDoc(json::parse(
      R"({"task_id": "t1", "status": "FAILED", "fatal_error": {"code": "FILE_NOT_FOUND", "description": "file not found"}})"));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->task_id, "t1");
  EXPECT_EQ(t->status, "FAILED");
  EXPECT_EQ(t->fatal_code, "FILE_NOT_FOUND");
  EXPECT_EQ(t->fatal_description, "file not found");
  EXPECT_FALSE(t->succeeded());
  t = ParseTaskDoc({{"status", "SUCCEEDED"}, {"fatal_error", nullptr}});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->succeeded());
  for (const json& bad : {json(), json{{"status", 3}}, json{{"status", ""}}, json::object()}) {
    auto r = ParseTaskDoc(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, http::ErrorKind::kMalformed);
  }
}

// The §2.9 fixture (a queued DELETE task), as Transfer sends it.
constexpr const char* kQueuedDelete = R"({
  "task_id": "6b0aed60-575c-11eb-87bb-02187389bd35", "type": "DELETE",
  "status": "ACTIVE", "is_ok": true, "is_paused": false,
  "nice_status": "Queued", "fatal_error": null, "faults": 0,
  "label": null, "command": "API 0.10", "username": "ada",
  "request_time": "2021-01-15T18:13:10+00:00", "completion_time": null,
  "deadline": "2021-01-16T18:13:10+00:00",
  "destination_endpoint": null, "destination_endpoint_id": null,
  "files": 1, "directories": 0, "symlinks": 0,
  "files_transferred": 0, "files_skipped": 0,
  "bytes_transferred": 0, "bytes_checksummed": 0, "effective_bytes_per_second": 0,
  "subtasks_total": 1, "subtasks_pending": 1, "subtasks_succeeded": 0,
  "subtasks_failed": 0, "subtasks_retrying": 0, "subtasks_canceled": 0,
  "sync_level": null, "verify_checksum": false})";

TEST(TransferApiJsonTask, ReadsAQueuedTaskDocument) {
  auto t = ParseTaskStatus(json::parse(kQueuedDelete));
  ASSERT_TRUE(t.ok()) << t.error().Summary();
  EXPECT_EQ(t->task_id, "6b0aed60-575c-11eb-87bb-02187389bd35");
  EXPECT_EQ(t->type, "DELETE");
  EXPECT_EQ(t->status, "ACTIVE");
  EXPECT_FALSE(t->done());
  EXPECT_FALSE(t->inactive());
  EXPECT_EQ(t->nice_status, "Queued");
  EXPECT_EQ(t->label, "");
  EXPECT_EQ(t->fatal_code, "");
  EXPECT_EQ(t->files, 1);
  EXPECT_EQ(t->subtasks_total, 1);
  EXPECT_EQ(t->subtasks_pending, 1);
  EXPECT_EQ(t->subtasks_succeeded, 0);
}

TEST(TransferApiJsonTask, ReadsCountsAndFatalErrorsTolerantly) {
  auto t = ParseTaskStatus(json{{"status", "FAILED"},
                                {"type", "TRANSFER"},
                                {"label", "globusfs cp _a"},
                                {"fatal_error", {{"code", "CANCELED"}, {"description", "canceled"}}},
                                {"faults", 3},
                                {"files", 2.0},
                                {"files_transferred", -4},
                                {"files_skipped", "7"},
                                {"bytes_transferred", uint64_t{1} << 40},
                                {"subtasks_succeeded", nullptr},
                                {"subtasks_failed", 1}});
  ASSERT_TRUE(t.ok()) << t.error().Summary();
  EXPECT_TRUE(t->done());
  EXPECT_EQ(t->task_id, "");  // the caller fills it in
  EXPECT_EQ(t->label, "globusfs cp _a");
  EXPECT_EQ(t->fatal_code, "CANCELED");
  EXPECT_EQ(t->fatal_description, "canceled");
  EXPECT_EQ(t->faults, 3);
  EXPECT_EQ(t->files, 2);
  EXPECT_EQ(t->files_transferred, 0);  // negative: 0
  EXPECT_EQ(t->files_skipped, 0);      // not a number: 0
  EXPECT_EQ(t->bytes_transferred, int64_t{1} << 40);
  EXPECT_EQ(t->subtasks_succeeded, 0);
  EXPECT_EQ(t->subtasks_failed, 1);
  // Only SUCCEEDED and FAILED are final: INACTIVE (suspended) is still in
  // progress, whatever the SDK's task_wait does (globus-api.md §2.9), and so
  // is a status this client does not know.
  auto inactive = ParseTaskStatus(json{{"status", "INACTIVE"},
                                       {"nice_status", "NO_CREDENTIALS"},
                                       {"nice_status_short_description", nullptr}});
  ASSERT_TRUE(inactive.ok());
  EXPECT_FALSE(inactive->done());
  EXPECT_TRUE(inactive->inactive());
  EXPECT_EQ(inactive->nice_status, "NO_CREDENTIALS");
  EXPECT_EQ(inactive->nice_status_short_description, "");
  EXPECT_FALSE(ParseTaskStatus(json{{"status", "SOMETHING_NEW"}})->done());
  EXPECT_TRUE(ParseTaskStatus(json{{"status", "SUCCEEDED"}})->done());
  for (const json& bad : {json(), json::array(), json{{"status", nullptr}}, json{{"type", "X"}}}) {
    auto r = ParseTaskStatus(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, http::ErrorKind::kMalformed);
  }
}

TEST(TransferApiJsonEvents, ReadsTheFixtureNewestFirst) {
  auto events = ParseTaskEvents(json::parse(R"({
    "DATA_TYPE": "event_list", "length": 3, "limit": 10, "offset": 0, "total": 3,
    "DATA": [
      {"DATA_TYPE": "event", "code": "CANCELED", "description": "canceled",
       "details": "Canceled by the task owner", "is_error": true, "time": "2021-10-06T16:14:05+00:00"},
      {"DATA_TYPE": "event", "code": "PERMISSION_DENIED", "description": "permission denied",
       "details": "Error (make directories)\nFile: /foo/", "is_error": true, "time": "2021-10-06T16:13:57+00:00"},
      {"DATA_TYPE": "event", "code": "STARTED", "description": "started",
       "details": "{}", "is_error": false, "time": "2021-10-06T16:13:50+00:00"}]})"));
  ASSERT_TRUE(events.ok()) << events.error().Summary();
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].code, "CANCELED");
  EXPECT_TRUE((*events)[0].is_error);
  EXPECT_EQ((*events)[0].details, "Canceled by the task owner");
  EXPECT_EQ((*events)[0].time, "2021-10-06T16:14:05+00:00");
  EXPECT_EQ((*events)[1].code, "PERMISSION_DENIED");
  EXPECT_EQ((*events)[1].description, "permission denied");
  EXPECT_EQ((*events)[2].code, "STARTED");
  EXPECT_FALSE((*events)[2].is_error);
  // Missing fields are empty; an is_error that is not a boolean is false.
  auto odd = ParseTaskEvents(json{{"DATA", {json::object(), {{"is_error", "yes"}}}}});
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ(odd->size(), 2u);
  EXPECT_EQ((*odd)[0].code, "");
  EXPECT_FALSE((*odd)[1].is_error);
  auto empty = ParseTaskEvents(json{{"DATA", json::array()}});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  for (const json& bad : {json(), json{{"DATA", json::object()}}, json{{"DATA", {1}}}}) {
    auto r = ParseTaskEvents(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, http::ErrorKind::kMalformed);
  }
}

TEST(TransferApiJsonSubmission, AcceptedAndDuplicateBothNameTheTask) {
  for (const char* code : {"Accepted", "Duplicate"}) {
    auto id = ParseSubmissionResult(json{{"DATA_TYPE", "transfer_result"},
                                         {"code", code},
                                         {"submission_id", "s"},
                                         {"task_id", "t-1"}});
    ASSERT_TRUE(id.ok()) << code;
    EXPECT_EQ(*id, "t-1");
  }
  for (const json& bad : {json(), json{{"code", "Accepted"}}, json{{"task_id", ""}},
                          json{{"task_id", 5}}}) {
    auto r = ParseSubmissionResult(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, http::ErrorKind::kMalformed);
  }
}

TEST(TransferApiJsonSubmission, TransferDocument) {
  TransferRequest r;
  r.submission_id = "sub-1";
  r.source_collection = "src";
  r.destination_collection = "dst";
  r.items = {{"/a/f.txt", "/b/f.txt", false}, {"/a/dir", "/b/dir", true}};
  r.verify_checksum = false;
  r.preserve_timestamp = true;
  json doc = BuildTransferDocument(r, "globusfs cp");
  EXPECT_EQ(doc["DATA_TYPE"], "transfer");
  EXPECT_EQ(doc["submission_id"], "sub-1");
  EXPECT_EQ(doc["source_endpoint"], "src");
  EXPECT_EQ(doc["destination_endpoint"], "dst");
  EXPECT_EQ(doc["label"], "globusfs cp");
  EXPECT_EQ(doc["verify_checksum"], false);
  EXPECT_EQ(doc["preserve_timestamp"], true);
  for (const char* key : {"notify_on_succeeded", "notify_on_failed", "notify_on_inactive"}) {
    EXPECT_EQ(doc[key], false) << key;  // the service would email the user otherwise
  }
  EXPECT_FALSE(doc.contains("deadline"));
  ASSERT_EQ(doc["DATA"].size(), 2u);
  EXPECT_EQ(doc["DATA"][0], (json{{"DATA_TYPE", "transfer_item"},
                                  {"source_path", "/a/f.txt"},
                                  {"destination_path", "/b/f.txt"},
                                  {"recursive", false}}));
  EXPECT_EQ(doc["DATA"][1]["recursive"], true);
  r.deadline = "2030-01-02 03:04:05+00:00";
  EXPECT_EQ(BuildTransferDocument(r, "x")["deadline"], "2030-01-02 03:04:05+00:00");
}

TEST(TransferApiJsonSubmission, DeleteDocument) {
  DeleteRequest r;
  r.collection_id = "c";
  r.paths = {"/x", "/y dir"};
  r.recursive = true;
  r.ignore_missing = false;
  r.submission_id = "sub-2";
  json doc = BuildDeleteDocument(r, "globusfs rm _x");
  EXPECT_EQ(doc["DATA_TYPE"], "delete");
  EXPECT_EQ(doc["submission_id"], "sub-2");
  EXPECT_EQ(doc["endpoint"], "c");
  EXPECT_EQ(doc["recursive"], true);
  EXPECT_EQ(doc["ignore_missing"], false);
  EXPECT_EQ(doc["interpret_globs"], false);
  EXPECT_EQ(doc["label"], "globusfs rm _x");
  for (const char* key : {"notify_on_succeeded", "notify_on_failed", "notify_on_inactive"}) {
    EXPECT_EQ(doc[key], false) << key;
  }
  EXPECT_EQ(doc["DATA"], (json{{{"DATA_TYPE", "delete_item"}, {"path", "/x"}},
                               {{"DATA_TYPE", "delete_item"}, {"path", "/y dir"}}}));
}

TEST(TransferApiJsonSubmission, IdChecks) {
  EXPECT_FALSE(CheckSubmissionId("2b5b6a1c-8c1e-4a52-9c6d-0f7f3c1e2a4b").has_value());
  auto missing = CheckSubmissionId("");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->kind, http::ErrorKind::kConfig);
  EXPECT_EQ(missing->code, kMissingSubmissionIdCode);
  EXPECT_EQ(CheckSubmissionId("\xff")->code, "InvalidName");
  EXPECT_FALSE(CheckTaskId("t-1").has_value());
  EXPECT_EQ(CheckTaskId("")->code, "InvalidName");
  EXPECT_EQ(CheckTaskId("\xc0\xaf")->code, "InvalidName");
  EXPECT_EQ(Classify(*CheckTaskId("")), RemoteErrc::kInvalid);
}

TEST(TransferApiJsonPaths, Utf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("/plain/ascii"));
  EXPECT_TRUE(IsValidUtf8("/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // cut short
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a lone continuation byte
}

TEST(TransferApiJsonPaths, CheckPathGivesInvalidName) {
  EXPECT_FALSE(CheckPath("/ok/caf\xc3\xa9").has_value());
  auto bad = CheckPath("/bad/\xff\xfe.txt");
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->kind, http::ErrorKind::kConfig);
  EXPECT_EQ(bad->code, "InvalidName");
  EXPECT_NE(bad->message.find("/bad/\\xFF\\xFE.txt"), std::string::npos) << bad->message;
  EXPECT_TRUE(IsValidUtf8(bad->message));
  // Serialising the error's message must not throw.
  EXPECT_NO_THROW((void)json(bad->message).dump());
  auto nul = CheckPath(std::string("/a\0b", 4));
  ASSERT_TRUE(nul.has_value());
  EXPECT_EQ(nul->code, "InvalidName");
}

TEST(TransferApiJsonLabel, KeepsOnlySafeCharacters) {
  EXPECT_EQ(SanitizeLabel("globusfs rm /a/b c.txt"), "globusfs rm _a_b c_txt");
  EXPECT_EQ(SanitizeLabel("x-y_z,1"), "x-y_z,1");
  EXPECT_EQ(SanitizeLabel("caf\xc3\xa9"), "caf__");
  EXPECT_EQ(SanitizeLabel(std::string(300, 'a')).size(), 128u);
}

}  // namespace
}  // namespace globusfs::fs
