// Unit tests for the emulator's Transfer listing pieces: filter and orderby
// parsing, file documents against a real temporary folder (files, dirs,
// symlinks good, broken and escaping, hidden files, fifos), path
// confinement, error texts, and ls/stat handlers driven with hand-built
// requests.
#include "transfer_listing.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "paths.h"

namespace emu {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json Doc(const std::string& name, const std::string& type, int64_t size,
         const std::string& modified = "2021-01-15 01:45:50+00:00") {
  return {{"DATA_TYPE", "file"}, {"name", name},       {"type", type},
          {"size", size},        {"last_modified", modified}, {"permissions", "0644"},
          {"user", "ada"},       {"group", "staff"}};
}

bool Match(const std::vector<std::string>& filters, const json& doc) {
  std::string error;
  auto f = ParseLsFilter(filters, &error);
  EXPECT_TRUE(f.has_value()) << error;
  return f && f->Matches(doc);
}

TEST(SplitFilter, ClausesAcrossParams) {
  std::string error;
  auto c = SplitFilter({"name:file3.txt/size:>5", "type:dir"}, &error);
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[0].field, "name");
  EXPECT_EQ((*c)[0].value, "file3.txt");
  EXPECT_EQ((*c)[1].value, ">5");
  EXPECT_EQ((*c)[2].field, "type");
  // A value keeps any further colons (times).
  c = SplitFilter({"last_modified:2021-01-01 00:00:00,"}, &error);
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)[0].value, "2021-01-01 00:00:00,");
}

TEST(SplitFilter, RejectsMalformedClauses) {
  std::string error;
  EXPECT_FALSE(SplitFilter({"name"}, &error));
  EXPECT_FALSE(SplitFilter({":x"}, &error));
  EXPECT_FALSE(SplitFilter({"name:a//type:dir"}, &error));
  EXPECT_FALSE(error.empty());
}

TEST(LsFilter, NameExactOrAndGlob) {
  json d = Doc("file3.txt", "file", 10);
  EXPECT_TRUE(Match({"name:file3.txt"}, d));
  EXPECT_FALSE(Match({"name:file3"}, d));
  EXPECT_TRUE(Match({"name:a,file3.txt"}, d));
  EXPECT_TRUE(Match({"name:~*.txt"}, d));
  EXPECT_TRUE(Match({"name:~file?.t[xy]t"}, d));
  EXPECT_FALSE(Match({"name:~*.md"}, d));
  EXPECT_TRUE(Match({"name:~*.md,~*.txt"}, d));
}

TEST(LsFilter, Negation) {
  json d = Doc("x", "file", 1);
  EXPECT_FALSE(Match({"name:!=x"}, d));
  EXPECT_TRUE(Match({"name:!=y"}, d));
  EXPECT_FALSE(Match({"name:!=y,x"}, d));  // none of the list
  EXPECT_FALSE(Match({"name:!~?"}, d));
  EXPECT_TRUE(Match({"name:!~??*"}, d));
}

TEST(LsFilter, SizeComparisons) {
  json d = Doc("f", "file", 5);
  EXPECT_FALSE(Match({"size:>5"}, d));
  EXPECT_TRUE(Match({"size:>=5"}, d));
  EXPECT_TRUE(Match({"size:<6"}, d));
  EXPECT_TRUE(Match({"size:<=5"}, d));
  EXPECT_TRUE(Match({"size:=5"}, d));
  EXPECT_TRUE(Match({"size:5"}, d));
  EXPECT_FALSE(Match({"size:!=5"}, d));
  EXPECT_TRUE(Match({"size:>100,<6"}, d));
  std::string error;
  EXPECT_FALSE(ParseLsFilter({"size:>five"}, &error));
}

TEST(LsFilter, TypeAndAnd) {
  json dir = Doc("d", "dir", 4096);
  EXPECT_TRUE(Match({"type:dir"}, dir));
  EXPECT_FALSE(Match({"type:file"}, dir));
  EXPECT_TRUE(Match({"type:file,dir"}, dir));
  EXPECT_FALSE(Match({"type:dir/size:<10"}, dir));
  EXPECT_FALSE(Match({"type:dir", "name:e"}, dir));  // repeated params are ANDed
}

TEST(LsFilter, LastModifiedRanges) {
  json d = Doc("f", "file", 1, "2021-01-15 01:45:50+00:00");
  EXPECT_TRUE(Match({"last_modified:,2021-01-16"}, d));
  EXPECT_FALSE(Match({"last_modified:,2021-01-01"}, d));
  EXPECT_TRUE(Match({"last_modified:2021-01-15 01:45:50,"}, d));
  EXPECT_FALSE(Match({"last_modified:2021-01-15 01:45:51,"}, d));
  EXPECT_TRUE(Match({"last_modified:2021-01-01,2021-02-01"}, d));
  EXPECT_TRUE(Match({"last_modified:>2021-01-15"}, d));
  std::string error;
  EXPECT_FALSE(ParseLsFilter({"last_modified:yesterday,"}, &error));
}

TEST(LsFilter, UnknownFieldIsAnError) {
  std::string error;
  EXPECT_FALSE(ParseLsFilter({"colour:red"}, &error));
  EXPECT_NE(error.find("colour"), std::string::npos);
}

TEST(OrderBy, ParsesFieldsAndDirections) {
  std::string error;
  auto k = ParseOrderBy("type ASC,name desc", {"name", "type"}, &error);
  ASSERT_TRUE(k);
  ASSERT_EQ(k->size(), 2u);
  EXPECT_EQ((*k)[0].field, "type");
  EXPECT_FALSE((*k)[0].descending);
  EXPECT_TRUE((*k)[1].descending);
  k = ParseOrderBy("name", {"name"}, &error);
  ASSERT_TRUE(k);
  EXPECT_FALSE((*k)[0].descending);
  EXPECT_FALSE(ParseOrderBy("size", {"name"}, &error));
  EXPECT_FALSE(ParseOrderBy("name UP", {"name"}, &error));
  EXPECT_FALSE(ParseOrderBy("name ASC extra", {"name"}, &error));
}

TEST(OrderBy, SortsByKeysStably) {
  std::vector<json> docs = {Doc("b", "file", 2), Doc("a", "dir", 4096), Doc("c", "file", 2),
                            Doc("d", "file", 1)};
  std::string error;
  SortDocs(&docs, *ParseOrderBy("type ASC,size DESC", {"type", "size"}, &error));
  std::vector<std::string> names;
  for (const auto& d : docs) names.push_back(d["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d"}));
  SortDocs(&docs, *ParseOrderBy("name DESC", {"name"}, &error));
  EXPECT_EQ(docs.front()["name"], "d");
}

TEST(CompareJson, NullFirstNumbersAndStrings) {
  EXPECT_LT(CompareJson(json(), json(1)), 0);
  EXPECT_GT(CompareJson(json(10), json(9)), 0);
  EXPECT_EQ(CompareJson(json("a"), json("a")), 0);
  EXPECT_LT(CompareJson(json("B"), json("a")), 0);  // bytewise
}

TEST(ErrorText, LooksLikeTheRealService) {
  Collection c;
  c.id = "c1";
  c.display_name = "Tutorial";
  EndpointError e{"Path not found", "list", "", "", "No such file or directory",
                  GlobusReply("PATH_NOT_FOUND", ENOENT, "System error in stat",
                              {"Error: '~/foo' not found"})};
  std::string text = FormatEndpointError(e, c, "127.0.0.1:443");
  EXPECT_EQ(text,
            "Path not found, Error (list)\nEndpoint: Tutorial (c1)\nServer: 127.0.0.1:443\n"
            "Message: No such file or directory\n---\nDetails: Error: '~/foo' not found\\r\\n"
            "550-GlobusError: v=1 c=PATH_NOT_FOUND\\r\\n550-GridFTP-Errno: 2\\r\\n"
            "550-GridFTP-Reason: System error in stat\\r\\n"
            "550-GridFTP-Error-String: No such file or directory\\r\\n550 End.\\r\\n\n");
  EXPECT_EQ(GlobusCodeForErrno(EEXIST), "PATH_EXISTS");
  EXPECT_EQ(GlobusCodeForErrno(EACCES), "PERMISSION_DENIED");
}

// A collection folder with one of everything.
class Folder : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/emu-listing-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    top_ = fs::canonical(tmpl);
    root_ = top_ / "root";
    fs::create_directories(root_ / "dir");
    fs::create_directories(top_ / "outside");
    Write(root_ / "file.txt", "hello");
    Write(root_ / ".hidden", "x");
    Write(top_ / "outside" / "secret", "s");
    fs::create_symlink("file.txt", root_ / "link");
    fs::create_symlink("dir", root_ / "dirlink");
    fs::create_symlink("nowhere", root_ / "broken");
    fs::create_symlink(top_ / "outside", root_ / "escape");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
    c_.name = "test";
    c_.id = "11111111-1111-4111-8111-111111111111";
    c_.display_name = "Test Collection";
    c_.root = root_;
  }
  void TearDown() override { fs::remove_all(top_); }
  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  json DocOf(const std::string& name) {
    int err = -1;
    auto d = MakeFileDoc(root_, root_ / name, name, &err);
    EXPECT_TRUE(d.has_value()) << name << " errno " << err;
    return d.value_or(json());
  }

  Request Get(const std::string& path, std::multimap<std::string, std::string> query) {
    Request r;
    r.method = "GET";
    r.path = r.raw_path = path;
    r.query = std::move(query);
    return r;
  }

  fs::path top_, root_;
  Collection c_;
};

TEST_F(Folder, FileAndDirDocs) {
  json f = DocOf("file.txt");
  EXPECT_EQ(f["DATA_TYPE"], "file");
  EXPECT_EQ(f["type"], "file");
  EXPECT_EQ(f["size"], 5);
  EXPECT_EQ(f["link_target"], nullptr);
  EXPECT_EQ(f["link_size"], nullptr);
  std::string perms = f["permissions"];
  ASSERT_EQ(perms.size(), 4u);
  EXPECT_EQ(perms[0], '0');
  std::string modified = f["last_modified"];
  EXPECT_EQ(modified.size(), 25u);
  EXPECT_EQ(modified[10], ' ');
  EXPECT_EQ(modified.substr(19), "+00:00");
  EXPECT_FALSE(f["user"].get<std::string>().empty());

  json d = DocOf("dir");
  EXPECT_EQ(d["type"], "dir");
  struct stat st;
  ::stat((root_ / "dir").c_str(), &st);
  EXPECT_EQ(d["size"], static_cast<int64_t>(st.st_size));
}

TEST_F(Folder, SymlinksReportTheirTargets) {
  json l = DocOf("link");
  EXPECT_EQ(l["type"], "file");
  EXPECT_EQ(l["size"], 5);
  EXPECT_EQ(l["link_target"], "/file.txt") << "a valid link: its real path (globus-api.md §2.2)";
  EXPECT_EQ(l["link_size"], 8);  // lstat: the length of "file.txt"
  EXPECT_NE(l["link_last_modified"], nullptr);
  EXPECT_NE(l["link_user"], nullptr);

  EXPECT_EQ(DocOf("dirlink")["type"], "dir");
  EXPECT_EQ(DocOf("dirlink")["link_target"], "/dir");

  json b = DocOf("broken");
  EXPECT_EQ(b["type"], "invalid_symlink");
  EXPECT_EQ(b["link_target"], "nowhere");

  json e = DocOf("escape");  // points outside the root: never followed
  EXPECT_EQ(e["type"], "invalid_symlink");
  EXPECT_EQ(e["link_target"], (top_ / "outside").string());
}

TEST_F(Folder, SpecialAndMissingFiles) {
  int err = -1;
  auto fifo = MakeFileDoc(root_, root_ / "fifo", "fifo", &err);
  ASSERT_TRUE(fifo) << "listed with its kind (globus-api.md §2.2)";
  EXPECT_EQ((*fifo)["type"], "pipe");
  EXPECT_EQ(err, 0);
  EXPECT_FALSE(MakeFileDoc(root_, root_ / "missing", "missing", &err));
  EXPECT_EQ(err, ENOENT);
}

TEST_F(Folder, ReadDirectoryHidesDotfilesAndListsFifos) {
  std::vector<json> all, visible;
  ASSERT_EQ(ReadDirectory(root_, root_, true, &all), 0);
  ASSERT_EQ(ReadDirectory(root_, root_, false, &visible), 0);
  auto names = [](const std::vector<json>& docs) {
    std::set<std::string> out;
    for (const auto& d : docs) out.insert(d["name"]);
    return out;
  };
  EXPECT_EQ(names(all), (std::set<std::string>{".hidden", "broken", "dir", "dirlink", "escape", "fifo",
                                               "file.txt", "link"}));
  EXPECT_EQ(names(visible).count(".hidden"), 0u);
  EXPECT_EQ(visible.size(), all.size() - 1);
  std::vector<json> none;
  EXPECT_EQ(ReadDirectory(root_, root_ / "missing", true, &none), ENOENT);
}

TEST_F(Folder, ReadDirectoryPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any directory";
  fs::create_directories(root_ / "locked");
  ::chmod((root_ / "locked").c_str(), 0);
  std::vector<json> docs;
  EXPECT_EQ(ReadDirectory(root_, root_ / "locked", true, &docs), EACCES);
  ::chmod((root_ / "locked").c_str(), 0755);
}

TEST_F(Folder, PathConfinement) {
  PathProblem problem;
  auto r = ResolvePath(c_, "/~/dir/../../..", &problem);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->collection_path, "/");
  EXPECT_EQ(r->local, root_);
  EXPECT_FALSE(ResolvePath(c_, "relative", &problem));
  EXPECT_EQ(problem, PathProblem::kNotAbsolute);
  EXPECT_FALSE(ResolvePath(c_, "/escape/secret", &problem));
  EXPECT_EQ(problem, PathProblem::kOutsideRoot);
  // The link itself resolves (it can be listed, renamed, deleted)...
  ASSERT_TRUE(ResolvePath(c_, "/escape", &problem));
  // ...but following it leaves the root.
  EXPECT_FALSE(InsideRoot(root_, root_ / "escape"));
  EXPECT_TRUE(InsideRoot(root_, root_ / "dirlink"));
  EXPECT_FALSE(InsideRoot(root_, root_ / "missing"));
}

TEST(Paths, TildeIsTheHomeFolderForTransferAndANameForHttps) {
  EXPECT_EQ(NormalisePath("/~/x/../y/"), "/y") << "home defaults to the root";
  EXPECT_EQ(NormalisePath("/~/x/../y/", "/home/ada"), "/home/ada/y");
  EXPECT_EQ(NormalisePath("~/x", "/home/ada"), "/home/ada/x");
  EXPECT_EQ(NormalisePath("/~", "/home/ada"), "/home/ada");
  EXPECT_EQ(NormalisePath("/~/../..", "/home/ada"), "/") << "never above the root";
  EXPECT_EQ(NormalisePath("/a/~/b", "/home/ada"), "/a/~/b") << "only a leading ~";
  EXPECT_EQ(NormalisePath("/./~/b", "/home/ada"), "/~/b");
  EXPECT_EQ(NormalisePath("/~/x", "/home/ada", Tilde::kLiteral), "/~/x");
  EXPECT_EQ(NormalisePath("~/x", "/home/ada", Tilde::kLiteral), std::nullopt) << "not absolute";
}

TEST_F(Folder, TheHomeFolderIsHomeUserWhenItExistsElseTheRoot) {
  c_.local_user = "ada";
  EXPECT_EQ(HomePath(c_), "/");
  PathProblem problem;
  auto r = ResolvePath(c_, "/~/file.txt", &problem);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->local, root_ / "file.txt");
  fs::create_directories(root_ / "home" / "ada");
  EXPECT_EQ(HomePath(c_), "/home/ada");
  r = ResolvePath(c_, "/~/file.txt", &problem);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->collection_path, "/home/ada/file.txt");
  r = ResolvePath(c_, "/~/file.txt", &problem, Tilde::kLiteral);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->local, root_ / "~" / "file.txt");
  // A home that is a link out of the root is not one.
  fs::remove_all(root_ / "home" / "ada");
  fs::create_directory_symlink(top_ / "outside", root_ / "home" / "ada");
  EXPECT_EQ(HomePath(c_), "/");
}

TEST_F(Folder, LsAnswersTheFileList) {
  Request req = Get("/v0.10/operation/endpoint/x/ls",
                    {{"show_hidden", "0"}, {"orderby", "name DESC"}, {"filter", "type:file"}});
  Response r = HandleLs(req, c_, "127.0.0.1:1");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["DATA_TYPE"], "file_list");
  EXPECT_EQ(j["endpoint"], c_.id);
  EXPECT_EQ(j["path"], "/~/");
  EXPECT_EQ(j["absolute_path"], nullptr);
  EXPECT_EQ(j["total"], 2);  // file.txt and link
  EXPECT_EQ(j["length"], 2);
  EXPECT_EQ(j["DATA"][0]["name"], "link");
  EXPECT_EQ(j["rename_supported"], true);

  req = Get("/v0.10/operation/endpoint/x/ls", {{"path", "/dir"}, {"limit", "0"}});
  r = HandleLs(req, c_, "127.0.0.1:1");
  j = json::parse(r.body);
  EXPECT_EQ(j["path"], "/dir/");  // echoed as asked, with a trailing slash
  EXPECT_EQ(j["length"], 0);
}

TEST_F(Folder, LsPagesAlikeWhetherItReadsNamesOrDocuments) {
  // The default order without filters sorts names and makes documents for
  // the page only; a filter makes every document first. Same pages (the
  // fifo skipped by both).
  for (const char* order : {"name ASC", "name DESC"}) {
    for (int offset = 0; offset <= 8; ++offset) {
      std::multimap<std::string, std::string> q = {
          {"orderby", order}, {"limit", "2"}, {"offset", std::to_string(offset)}};
      json fast = json::parse(HandleLs(Get("/v0.10/operation/endpoint/x/ls", q), c_, "s").body);
      q.emplace("filter", "name:~*");
      json slow = json::parse(HandleLs(Get("/v0.10/operation/endpoint/x/ls", q), c_, "s").body);
      EXPECT_EQ(fast["DATA"], slow["DATA"]) << order << " offset " << offset;
      EXPECT_EQ(fast["total"], slow["total"]);
      EXPECT_EQ(fast["length"], fast["DATA"].size());
    }
  }
}

TEST_F(Folder, LsOfAFolderOverMaxLsEntriesIsSizeLimit) {
  c_.max_ls_entries = 3;
  Response r = HandleLs(Get("/v0.10/operation/endpoint/x/ls", {{"path", "/"}, {"limit", "1"}}), c_,
                        "127.0.0.1:1");
  EXPECT_EQ(r.status, 502);
  json j = json::parse(r.body);
  EXPECT_EQ(j["code"], "ExternalError.DirListingFailed.SizeLimit");
  EXPECT_EQ(j["resource"], "/v0.10/operation/endpoint/x/ls");
  EXPECT_TRUE(j["request_id"].is_string());
  std::string message = j["message"];
  EXPECT_EQ(message.rfind("Directory too large to list (8 entries, more than 3), Error (list)\n"
                          "Endpoint: Test Collection (" + c_.id + ")\n",
                          0),
            0u)
      << message;
  c_.max_ls_entries = 8;
  EXPECT_EQ(HandleLs(Get("/v0.10/operation/endpoint/x/ls", {{"path", "/"}}), c_, "s").status, 200);
}

TEST_F(Folder, LsErrors) {
  auto code = [&](std::multimap<std::string, std::string> q, int* status) {
    Request req = Get("/v0.10/operation/endpoint/x/ls", std::move(q));
    Response r = HandleLs(req, c_, "127.0.0.1:1");
    *status = r.status;
    return json::parse(r.body)["code"].get<std::string>();
  };
  int status = 0;
  EXPECT_EQ(code({{"path", "/missing"}}, &status), "ClientError.NotFound");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(code({{"path", "/file.txt"}}, &status), "ExternalError.DirListingFailed.NotDirectory");
  EXPECT_EQ(status, 502);
  EXPECT_EQ(code({{"path", "/escape"}}, &status), "EndpointPermissionDenied");
  EXPECT_EQ(status, 403);
  EXPECT_EQ(code({{"path", "/escape/secret"}}, &status), "EndpointPermissionDenied");
  EXPECT_EQ(code({{"path", "dir"}}, &status), "ClientError.BadRequest");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(code({{"filter", "size:big"}}, &status), "ClientError.BadRequest");
  EXPECT_EQ(code({{"show_hidden", "maybe"}}, &status), "ClientError.BadRequest");

  Request req = Get("/v0.10/operation/endpoint/x/ls", {{"path", "/missing"}});
  std::string message = json::parse(HandleLs(req, c_, "127.0.0.1:1").body)["message"];
  EXPECT_NE(message.find("550-GlobusError: v=1 c=PATH_NOT_FOUND"), std::string::npos);
  EXPECT_NE(message.find("Endpoint: Test Collection (" + c_.id + ")"), std::string::npos);
}

TEST_F(Folder, StatNamesAndErrors) {
  Request req = Get("/v0.10/operation/endpoint/x/stat", {{"path", "/~/"}});
  json j = json::parse(HandleStat(req, c_, "s").body);
  EXPECT_EQ(j["name"], "/");
  EXPECT_EQ(j["type"], "dir");
  req = Get("/v0.10/operation/endpoint/x/stat", {{"path", "/dir/../file.txt"}});
  j = json::parse(HandleStat(req, c_, "s").body);
  EXPECT_EQ(j["name"], "file.txt");
  req = Get("/v0.10/operation/endpoint/x/stat", {{"path", "/missing"}});
  Response r = HandleStat(req, c_, "s");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(json::parse(r.body)["code"], "NotFound");  // bare NotFound for stat (§3.2)
  req = Get("/v0.10/operation/endpoint/x/stat", {{"path", "/fifo"}});
  r = HandleStat(req, c_, "s");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["type"], "pipe");
}

}  // namespace
}  // namespace emu
