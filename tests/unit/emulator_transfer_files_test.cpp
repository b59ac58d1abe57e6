// Unit tests for the task worker's local file helpers: atomic copy with
// timestamp preservation and verification, SHA-256, recursive walks with
// filter_rules and recursive_symlinks, delete_destination_extra, tree
// deletes that never follow symlinks, and delete's glob helpers.
#include "transfer_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace emu {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const AbortFn kNever = [] { return false; };

class Files : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/emu-files-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    top_ = fs::canonical(tmpl);
    src_ = top_ / "src";
    dst_ = top_ / "dst";
    fs::create_directories(src_ / "sub" / "deep");
    fs::create_directories(dst_);
    fs::create_directories(top_ / "outside");
    Write(src_ / "a.txt", "alpha");
    Write(src_ / "b.tgz", "archive");
    Write(src_ / "sub" / "c.txt", "charlie");
    Write(src_ / "sub" / "deep" / "d.txt", "delta");
    Write(top_ / "outside" / "o.txt", "outside");
    fs::create_symlink("a.txt", src_ / "link");
    fs::create_symlink("sub", src_ / "sublink");
    fs::create_symlink(top_ / "outside", src_ / "escape");
  }
  void TearDown() override { fs::remove_all(top_); }
  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  static std::string Read(const fs::path& p) {
    std::stringstream ss;
    ss << std::ifstream(p).rdbuf();
    return ss.str();
  }
  static std::vector<std::string> Rels(const Tree& t) {
    std::vector<std::string> out;
    for (const auto& e : t.entries) out.push_back(std::string(1, e.kind) + ":" + e.rel);
    return out;
  }

  fs::path top_, src_, dst_;
};

TEST_F(Files, CopyIntoPlaceReplacesAndPreserves) {
  Write(dst_ / "a.txt", "old contents");
  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src_ / "a.txt").c_str(), times, 0), 0);
  CopyResult r = CopyIntoPlace(src_ / "a.txt", dst_ / "a.txt", true, true, kNever);
  EXPECT_EQ(r.err, 0);
  EXPECT_FALSE(r.mismatch);
  EXPECT_EQ(r.bytes, 5);
  EXPECT_EQ(r.checksummed, 5);
  EXPECT_EQ(Read(dst_ / "a.txt"), "alpha");
  struct stat st;
  ::stat((dst_ / "a.txt").c_str(), &st);
  EXPECT_EQ(st.st_mtime, 1000000000);
  for (const auto& e : fs::directory_iterator(dst_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos);
  }
}

TEST_F(Files, CopyIntoPlaceReportsWhichSideFailed) {
  CopyResult r = CopyIntoPlace(src_ / "missing", dst_ / "x", false, false, kNever);
  EXPECT_EQ(r.err, ENOENT);
  EXPECT_TRUE(r.source_side);
  r = CopyIntoPlace(src_ / "a.txt", dst_ / "no" / "x", false, false, kNever);
  EXPECT_EQ(r.err, ENOENT);
  EXPECT_FALSE(r.source_side);
}

TEST_F(Files, CopyIntoPlaceStopsWhenAborted) {
  CopyResult r = CopyIntoPlace(src_ / "a.txt", dst_ / "a.txt", false, false, [] { return true; });
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(fs::exists(dst_ / "a.txt"));
  EXPECT_TRUE(fs::is_empty(dst_));  // no temp file left behind
}

TEST_F(Files, Sha256OfAFile) {
  Write(top_ / "abc", "abc");
  EXPECT_EQ(Sha256File(top_ / "abc", kNever),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256File(top_ / "missing", kNever), "");
}

TEST_F(Files, FilterRulesFirstMatchWins) {
  json rules = json::array({{{"method", "include"}, {"name", "keep.tgz"}},
                            {{"method", "exclude"}, {"name", "*.tgz"}, {"type", "file"}},
                            {{"method", "exclude"}, {"name", "tmp*"}, {"type", "dir"}}});
  EXPECT_FALSE(ExcludedByRules(rules, "keep.tgz", false));
  EXPECT_TRUE(ExcludedByRules(rules, "x.tgz", false));
  EXPECT_FALSE(ExcludedByRules(rules, "x.tgz", true));  // the rule is for files only
  EXPECT_TRUE(ExcludedByRules(rules, "tmp1", true));
  EXPECT_FALSE(ExcludedByRules(rules, "tmp1", false));
  EXPECT_FALSE(ExcludedByRules(rules, "other", false));
  EXPECT_FALSE(ExcludedByRules(nullptr, "x.tgz", false));
}

TEST_F(Files, WalkIgnoresSymlinksByDefault) {
  Tree t;
  std::string bad;
  json rules = json::array({{{"method", "exclude"}, {"name", "*.tgz"}}});
  ASSERT_EQ(WalkTree(src_, src_, rules, "ignore", &t, &bad), 0);
  // Pre-order, names sorted: a directory comes before its contents.
  EXPECT_EQ(Rels(t), (std::vector<std::string>{"f:a.txt", "d:sub", "f:sub/c.txt", "d:sub/deep",
                                               "f:sub/deep/d.txt"}));
  EXPECT_EQ(t.files, 3);
  EXPECT_EQ(t.dirs, 2);
  EXPECT_EQ(t.symlinks, 3);
}

TEST_F(Files, WalkKeepsOrCopiesSymlinks) {
  Tree keep;
  std::string bad;
  ASSERT_EQ(WalkTree(src_, src_, nullptr, "keep", &keep, &bad), 0);
  int links = 0;
  for (const auto& e : keep.entries) {
    if (e.kind == 'l') ++links;
    if (e.rel == "link") {
      EXPECT_EQ(e.link, "a.txt");
    }
  }
  EXPECT_EQ(links, 3);

  Tree copy;
  ASSERT_EQ(WalkTree(src_, src_, nullptr, "copy", &copy, &bad), 0);
  auto rels = Rels(copy);
  auto has = [&](const std::string& r) { return std::find(rels.begin(), rels.end(), r) != rels.end(); };
  EXPECT_TRUE(has("f:link"));
  EXPECT_TRUE(has("d:sublink"));
  EXPECT_TRUE(has("f:sublink/c.txt"));
  EXPECT_FALSE(has("d:escape"));  // a link leaving the root is never followed
  EXPECT_EQ(copy.symlinks, 1);
}

TEST_F(Files, WalkReportsUnreadableDirectories) {
  Tree t;
  std::string bad;
  EXPECT_EQ(WalkTree(src_, src_ / "missing", nullptr, "ignore", &t, &bad), ENOENT);
  if (::geteuid() == 0) return;  // root reads anything
  ::chmod((src_ / "sub" / "deep").c_str(), 0);
  EXPECT_EQ(WalkTree(src_, src_, nullptr, "ignore", &t, &bad), EACCES);
  EXPECT_EQ(bad, "sub/deep");
  ::chmod((src_ / "sub" / "deep").c_str(), 0755);
}

TEST_F(Files, DeleteExtraKeepsSourceAndExcludedEntries) {
  fs::create_directories(dst_ / "sub" / "old");
  Write(dst_ / "a.txt", "a");
  Write(dst_ / "extra.txt", "e");
  Write(dst_ / "keep.tgz", "k");
  Write(dst_ / "sub" / "c.txt", "c");
  Write(dst_ / "sub" / "gone.txt", "g");
  json rules = json::array({{{"method", "exclude"}, {"name", "*.tgz"}}});
  DeleteExtra(dst_, {"a.txt", "sub", "sub/c.txt"}, rules);
  EXPECT_TRUE(fs::exists(dst_ / "a.txt"));
  EXPECT_TRUE(fs::exists(dst_ / "keep.tgz"));
  EXPECT_TRUE(fs::exists(dst_ / "sub" / "c.txt"));
  EXPECT_FALSE(fs::exists(dst_ / "extra.txt"));
  EXPECT_FALSE(fs::exists(dst_ / "sub" / "gone.txt"));
  EXPECT_FALSE(fs::exists(dst_ / "sub" / "old"));
}

TEST_F(Files, DeleteTreeNeverFollowsSymlinks) {
  DeleteCounts n;
  fs::path bad;
  ASSERT_EQ(DeleteTree(src_, &n, kNever, &bad), 0);
  EXPECT_FALSE(fs::exists(src_));
  EXPECT_EQ(n.files, 4);
  EXPECT_EQ(n.dirs, 3);  // src, sub, sub/deep
  EXPECT_EQ(n.symlinks, 3);
  EXPECT_EQ(Read(top_ / "outside" / "o.txt"), "outside");
}

TEST_F(Files, DeleteTreeStopsWhenAborted) {
  DeleteCounts n;
  fs::path bad;
  EXPECT_EQ(DeleteTree(src_, &n, [] { return true; }, &bad), -1);
  EXPECT_TRUE(fs::exists(src_));
}

TEST(Globs, DetectAndUnescape) {
  EXPECT_TRUE(HasGlob("*.txt"));
  EXPECT_TRUE(HasGlob("file?"));
  EXPECT_TRUE(HasGlob("[ab]"));
  EXPECT_FALSE(HasGlob("plain.txt"));
  EXPECT_FALSE(HasGlob("\\*literal\\[x\\]"));
  EXPECT_EQ(UnescapeGlob("\\*literal\\[x\\]"), "*literal[x]");
  EXPECT_EQ(UnescapeGlob("plain"), "plain");
}

}  // namespace
}  // namespace emu
