// The pure Transfer JSON helpers (fs/remote/transfer_json.h): tolerant file
// documents, listing pages and paging, task documents, path checks, labels.
// What the emulator cannot be made to send (garbage times, missing fields,
// non-object items) is tested here.
#include "fs/remote/transfer_json.h"

#include <gtest/gtest.h>

#include <string>

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
  EXPECT_EQ(link.type, EntryType::kSymlink);
  EXPECT_EQ(link.link_target, "/x");
  EXPECT_EQ(link.mode, 0755u);
  link = Parse({{"name", "l"}, {"type", "file"}, {"link_target", "t"}});
  EXPECT_EQ(link.type, EntryType::kSymlink);
  FileEntry broken = Parse({{"name", "b"}, {"type", "invalid_symlink"}, {"link_target", "gone"}});
  EXPECT_EQ(broken.type, EntryType::kInvalidSymlink);
  EXPECT_EQ(broken.link_target, "gone");
  // Other types (devices, pipes, "link") are not shown.
  for (const json& t : {json("pipe"), json("link"), json(7), json()}) {
    auto r = ParseFileDoc({{"name", "p"}, {"type", t}});
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << t.dump();
  }
}

TEST(TransferApiJsonFileDoc, ToleratesMissingAndOddFields) {
  FileEntry f = Parse({{"name", "f"}, {"type", "file"}});
  EXPECT_EQ(f.size, 0u);
  EXPECT_EQ(f.mtime, 0);
  EXPECT_EQ(f.mode, 0644u);
  EXPECT_EQ(Parse({{"name", "d"}, {"type", "dir"}}).mode, 0755u);
  f = Parse({{"name", "f"},
             {"type", "file"},
             {"size", -5},
             {"permissions", "rw-r--r--"},
             {"last_modified", 17}});
  EXPECT_EQ(f.size, 0u);
  EXPECT_EQ(f.mode, 0644u);
  EXPECT_EQ(f.mtime, 0);
  EXPECT_EQ(Parse({{"name", "f"}, {"type", "file"}, {"permissions", "104755"}}).mode, 04755u);
  EXPECT_EQ(Parse({{"name", "f"}, {"type", "file"}, {"size", 12.0}}).size, 12u);
  EXPECT_EQ(Parse({{"name", "f"}, {"type", "file"}, {"size", "12"}}).size, 0u);
  EXPECT_EQ(Parse({{"name", "f"}, {"type", "file"}, {"size", 1ull << 40}}).size, 1ull << 40);
}

TEST(TransferApiJsonFileDoc, NotAnObjectIsMalformed) {
  for (const json& doc : {json(), json(3), json("x"), json::array()}) {
    auto r = ParseFileDoc(doc);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, http::ErrorKind::kMalformed);
  }
}

TEST(TransferApiJsonListing, ReadsAPageAndSkipsWhatItCannotShow) {
  const json body = {{"DATA_TYPE", "file_list"},
                     {"length", 5},
                     {"total", 5},
                     {"DATA",
                      {{{"name", "a"}, {"type", "file"}},
                       {{"name", "fifo"}, {"type", "pipe"}},
                       {{"name", "."}, {"type", "dir"}},
                       {{"name", "x/y"}, {"type", "file"}},
                       {{"type", "file"}}}}};
  auto page = ParseListingPage(body);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].name, "a");
  EXPECT_EQ(page->items, 5);
  EXPECT_EQ(page->total, 5);
}

TEST(TransferApiJsonListing, MalformedBodies) {
  for (const json& body : {json(), json::object(), json{{"DATA", "x"}}, json::array(),
                           json{{"DATA", {{{"name", "a"}, {"type", "file"}}, 3}}}}) {
    auto page = ParseListingPage(body);
    ASSERT_FALSE(page.ok()) << body.dump();
    EXPECT_EQ(page.error().kind, http::ErrorKind::kMalformed);
    EXPECT_EQ(Classify(page.error()), RemoteErrc::kProtocol);
  }
  auto no_total = ParseListingPage({{"DATA", json::array()}, {"total", "many"}});
  ASSERT_TRUE(no_total.ok());
  EXPECT_FALSE(no_total->total.has_value());
}

TEST(TransferApiJsonListing, PagingStops) {
  EXPECT_FALSE(ListingComplete(0, 1000, 2500, 1000));
  EXPECT_FALSE(ListingComplete(1000, 1000, 2500, 1000));
  EXPECT_TRUE(ListingComplete(2000, 500, 2500, 1000));
  EXPECT_TRUE(ListingComplete(0, 10, 10, 1000));
  // Without a total: a short page ends it, a full one does not.
  EXPECT_FALSE(ListingComplete(0, 1000, std::nullopt, 1000));
  EXPECT_TRUE(ListingComplete(1000, 999, std::nullopt, 1000));
  // An empty page always ends it (a total that is never reached).
  EXPECT_TRUE(ListingComplete(1000, 0, 5000, 1000));
  EXPECT_TRUE(ListingComplete(0, 0, std::nullopt, 1000));
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
