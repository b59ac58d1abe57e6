// Close-to-open coherence through a real mount, with the tools that make
// it hard: editors that write a temp file and rename it over, sed -i, git,
// cp -a and rsync, each repeated within one second with same-size edits
// (the case a size+mtime check cannot tell apart); a 4,000-byte path; a
// file open after its unlink; folder times and link counts; times set by
// touch, cp -p and tar. Every check reads back through the mount and reads
// the server's folder, right after the operation (DESIGN.md, "Caching and
// consistency"; coherence_fixture.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "tests/integration/coherence_fixture.h"

namespace globusfs {
namespace {

using testing::Coherence;
using testing::RunResult;
using testing::WriteFile;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto npos = std::string::npos;

TEST_F(Coherence, AnEditorsRenameOverIsReadAtOnce) {
  MountOrDie();
  const std::string save =
      "python3 -c \"import os,sys; p=sys.argv[1]; open(p).read(); open(p+'.swp','w').write('v2 line\\n'); "
      "os.rename(p+'.swp', p)\" alpha/g.txt";
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " (same size, same second)");
    ASSERT_EQ(Sh("printf 'v1 line\\n' > alpha/g.txt").exit_code, 0);
    EXPECT_EQ(Sh("cat alpha/g.txt").out, "v1 line\n");
    EXPECT_EQ(ServerText("alpha/g.txt"), "v1 line\n");
    RunResult r = Sh(save);
    ASSERT_EQ(r.exit_code, 0) << r.all();
    EXPECT_EQ(Sh("cat alpha/g.txt").out, "v2 line\n") << "the mount still serves the file that was renamed over";
    EXPECT_EQ(ServerText("alpha/g.txt"), "v2 line\n");
    EXPECT_FALSE(ServerHas("alpha/g.txt.swp"));
  }
}

// `: > f` (an O_TRUNC open with nothing written) uploads the empty file at
// the last release, which the kernel sends after close has returned. A save
// that renames a new file over f right after must win over that late
// upload, on the server and through the mount, even when the upload is slow.
TEST_F(Coherence, ARenameOverRightAfterATruncatingOpenIsNotUndoneByItsLateUpload) {
  MountOrDie();
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_EQ(Sh("printf 'old text\n' > alpha/t.txt").exit_code, 0);
    emu_->AddFault({{"route", "https.put"}, {"delay_ms", 400}, {"count", 1}});
    RunResult r = Sh(
        "python3 -c \"import os,sys; p=sys.argv[1]; os.close(os.open(p, os.O_WRONLY|os.O_TRUNC)); "
        "fd=os.open(p+'.tmp', os.O_WRONLY|os.O_CREAT|os.O_TRUNC, 0o644); os.write(fd, b'new text\\n'); os.close(fd); "
        "os.rename(p+'.tmp', p); print(open(p).read(), end='')\" alpha/t.txt");
    ASSERT_EQ(r.exit_code, 0) << r.all() << LogTail(2000);
    EXPECT_EQ(r.out, "new text\n") << "read right after the rename over";
    EXPECT_EQ(ServerText("alpha/t.txt"), "new text\n") << "the late upload of the truncated file replaced the save";
    EXPECT_EQ(Sh("cat alpha/t.txt").out, "new text\n");
    EXPECT_FALSE(ServerHas("alpha/t.txt.tmp"));
    emu_->ClearFaults();
  }
  // The same late upload against an rm: the file stays removed.
  ASSERT_EQ(Sh("printf 'doomed\\n' > alpha/r.txt").exit_code, 0);
  emu_->AddFault({{"route", "https.put"}, {"delay_ms", 400}, {"count", 1}});
  RunResult r = Sh(": > alpha/r.txt && rm alpha/r.txt && ls alpha");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "t.txt\n");
  emu_->ClearFaults();
  Remount();
  EXPECT_EQ(Sh("cat alpha/t.txt").out, "new text\n");
  EXPECT_EQ(ServerText("alpha/t.txt"), "new text\n");
  EXPECT_EQ(Sh("ls alpha").out, "t.txt\n");
  EXPECT_FALSE(ServerHas("alpha/r.txt")) << "the late upload of the truncated file brought it back";
}

TEST_F(Coherence, SedInPlaceThenAppend) {
  MountOrDie();
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_EQ(Sh("printf 'a\\nb\\n' > alpha/f").exit_code, 0);
    RunResult r = Sh("sed -i s/a/A/ alpha/f && cat alpha/f");
    ASSERT_EQ(r.exit_code, 0) << r.all();
    EXPECT_EQ(r.out, "A\nb\n") << "cat right after sed -i";
    EXPECT_EQ(ServerText("alpha/f"), "A\nb\n");
    ASSERT_EQ(Sh("echo more >> alpha/f").exit_code, 0);
    EXPECT_EQ(Sh("cat alpha/f").out, "A\nb\nmore\n");
    EXPECT_EQ(ServerText("alpha/f"), "A\nb\nmore\n") << "the append went to the file sed wrote";
  }
}

TEST_F(Coherence, AVimStyleSaveWithABackup) {
  MountOrDie();
  // As vim with 'backup' and 'writebackup': a backup copy, the new text in a
  // temp file (fsync'd), rename over, the backup removed.
  const std::string save = R"(python3 - alpha/v.txt "$NEW" <<'EOF'
import os, sys
p, new = sys.argv[1], sys.argv[2]
old = open(p, 'rb').read()
with open(p + '~', 'wb') as b:
    b.write(old); b.flush(); os.fsync(b.fileno())
with open(p + '.tmp', 'wb') as t:
    t.write(new.encode()); t.flush(); os.fsync(t.fileno())
os.rename(p + '.tmp', p)
os.unlink(p + '~')
EOF)";
  ASSERT_EQ(Sh("printf 'line 0\\n' > alpha/v.txt").exit_code, 0);
  for (char letter : std::string("abcde")) {
    std::string text = std::string("line ") + letter + "\n";
    SCOPED_TRACE("saving " + text);
    RunResult r = Sh("NEW='" + text + "'; " + save);
    ASSERT_EQ(r.exit_code, 0) << r.all();
    EXPECT_EQ(Sh("cat alpha/v.txt").out, text);
    EXPECT_EQ(ServerText("alpha/v.txt"), text);
    EXPECT_EQ(Sh("ls alpha").out, "v.txt\n") << "no backup or temp file left in the listing";
    EXPECT_FALSE(ServerHas("alpha/v.txt.tmp"));
  }
  EXPECT_TRUE(WaitForServerGone("alpha/v.txt~")) << "the backup's delete reached the server";
  EXPECT_EQ(ServerText("alpha/v.txt"), "line e\n");
}

TEST_F(Coherence, AGitRepositoryInTheMount) {
  MountOrDie();
  const std::string git =
      "git -C alpha/repo -c user.name=Tester -c user.email=tester@example.org -c 'safe.directory=*' ";
  RunResult init = Sh("git init -q alpha/repo");
  ASSERT_EQ(init.exit_code, 0) << init.all();
  // Each round stages two same-size edits within the second: git rewrites
  // its index (index.lock renamed over index, same size) each time.
  for (int round = 1; round <= 5; ++round) {
    const std::string n = std::to_string(round);
    SCOPED_TRACE("commit " + n);
    RunResult r = Sh("printf 'round " + n + "a\\n' > alpha/repo/file.txt && " + git + "add file.txt && printf 'round " +
                     n + "b\\n' > alpha/repo/file.txt && " + git + "add file.txt && " + git + "commit -q -m 'round " +
                     n + "'");
    ASSERT_EQ(r.exit_code, 0) << r.all();
    r = Sh(git + "show HEAD:file.txt");
    EXPECT_EQ(r.out, "round " + n + "b\n") << "the commit holds the second edit; " << r.err;
  }
  RunResult r = Sh(git + "log --oneline | wc -l");
  EXPECT_EQ(r.out, "5\n") << r.all();
  r = Sh(git + "status --porcelain");
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "") << "a clean tree after the last commit";
  r = Sh(git + "fsck --strict");
  EXPECT_EQ(r.exit_code, 0) << r.all();
  // The server's copy of the repository is whole too (read-only commands).
  std::string server_git = "git --git-dir=" + Q((emu_->root("alpha") / "repo" / ".git").string()) +
                           " -c 'safe.directory=*' ";
  r = testing::Run({"/bin/sh", "-c", server_git + "log --oneline | wc -l"}, {});
  EXPECT_EQ(r.out, "5\n") << r.all();
  r = testing::Run({"/bin/sh", "-c", server_git + "fsck --strict"}, {});
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(ServerText("alpha/repo/file.txt"), "round 5b\n");
}

TEST_F(Coherence, CpAFromOutsideOverAnExistingFile) {
  MountOrDie();
  fs::path src = emu_->dir() / "outside.txt";
  ASSERT_EQ(Sh("printf 'copy 0\\n' > alpha/dst.txt").exit_code, 0);
  for (char letter : std::string("ABCD")) {
    std::string text = std::string("copy ") + letter + "\n";
    SCOPED_TRACE(text);
    WriteFile(src, text);
    RunResult r = Sh("cp -a " + Q(src.string()) + " alpha/dst.txt");
    ASSERT_EQ(r.exit_code, 0) << r.all();
    EXPECT_EQ(Sh("cat alpha/dst.txt").out, text);
    EXPECT_EQ(ServerText("alpha/dst.txt"), text);
  }
}

TEST_F(Coherence, CpAWithinTheMountOverAnExistingFile) {
  MountOrDie();
  ASSERT_EQ(Sh("printf 'copy 0\\n' > alpha/dst.txt").exit_code, 0);
  for (char letter : std::string("ABCD")) {
    std::string text = std::string("copy ") + letter + "\n";
    SCOPED_TRACE(text);
    ASSERT_EQ(Sh("printf '" + text.substr(0, 6) + "\\n' > alpha/src.txt").exit_code, 0);
    RunResult r = Sh("cp -a alpha/src.txt alpha/dst.txt");  // a server-side copy (copy_file_range)
    ASSERT_EQ(r.exit_code, 0) << r.all();
    EXPECT_EQ(Sh("cat alpha/dst.txt").out, text) << "a read of the copy's destination waits for the copy";
    // The copy is a batched Globus task: the server follows within a bound.
    EXPECT_TRUE(WaitForServer("alpha/dst.txt", [&](const auto& s) { return s == text; }))
        << "server holds " << ServerText("alpha/dst.txt");
  }
}

TEST_F(Coherence, AFourThousandBytePath) {
  MountOrDie();
  std::string dir = "alpha";
  for (int i = 0; i < 19; ++i) dir += "/" + std::string(1, static_cast<char>('a' + i)) + std::string(198, 'd');
  const std::string name(180, 'f'), moved_name(180, 'm');
  const std::string file = dir + "/" + name, moved = dir + "/" + moved_name;
  ASSERT_GE(moved.size(), 3950u);
  ASSERT_LT(moved.size(), 4096u);
  RunResult r = Sh("mkdir -p " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.all();
  r = Sh("printf 'deep\\n' > " + file);
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(Sh("ls " + dir).out, name + "\n");
  EXPECT_EQ(Sh("cat " + file).out, "deep\n");
  EXPECT_EQ(ServerText(file), "deep\n");
  r = Sh("mv " + file + " " + moved);
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(Sh("ls " + dir).out, moved_name + "\n");
  EXPECT_EQ(Sh("cat " + moved).out, "deep\n");
  EXPECT_EQ(ServerText(moved), "deep\n");
  EXPECT_FALSE(ServerHas(file));
  r = Sh("rm " + moved);
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(Sh("ls -A " + dir).out, "") << "the removal is visible at once";
  r = Sh("rm " + moved);
  EXPECT_NE(r.exit_code, 0) << "a second rm of the same file";
  EXPECT_NE(r.err.find("No such file or directory"), npos) << r.all();
  for (std::string d = dir; d != "alpha"; d = d.substr(0, d.rfind('/'))) {
    r = Sh("rmdir " + d);
    if (r.exit_code != 0) {  // the message without the 4,000-byte path
      ADD_FAILURE() << "rmdir of the folder at depth " << std::count(d.begin(), d.end(), '/') << " failed: "
                    << r.err.substr(r.err.rfind("': ") == npos ? 0 : r.err.rfind("': ") + 3);
      break;
    }
  }
  EXPECT_EQ(Sh("ls -A alpha").out, "");
  EXPECT_TRUE(WaitForServerGone(dir.substr(0, dir.find('/', 6)))) << "the folders' delete reached the server";
  std::string log = mount_->Log();
  std::stringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    std::string l = line;
    for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool bad = l.find("disabl") != npos ||
               (l.find("cache") != npos && (l.find("fail") != npos || l.find("cannot") != npos));
    EXPECT_FALSE(bad) << "the daemon's cache gave up on the long path: " << line;
  }
}

// Python, so every step is checked in one process with the descriptor open.
const char* kOpenUnlinked = R"(python3 - "$P" "$RECREATE" <<'EOF'
import os, sys
p, recreate = sys.argv[1], sys.argv[2] == '1'
step = ''
def check(ok, what):
    if not ok:
        print('FAILED: ' + what, file=sys.stderr); sys.exit(1)
try:
    step = 'write the file'
    with open(p, 'w') as f:
        f.write('first contents\n')
    step = 'open'
    fd = os.open(p, os.O_RDWR)
    step = 'unlink'
    os.unlink(p)
    check(not os.path.exists(p), 'the name is gone after unlink')
    step = 'fstat after unlink'
    st = os.fstat(fd)
    check(st.st_nlink == 0, 'fstat st_nlink is %d, expected 0' % st.st_nlink)
    check(st.st_size == 15, 'fstat st_size is %d, expected 15' % st.st_size)
    step = 'read after unlink'
    data = os.pread(fd, 1000, 0)
    check(data == b'first contents\n', 'read through the descriptor: %r' % data)
    if recreate:
        step = 'create a new file under the same name'
        with open(p, 'w') as g:
            g.write('second file\n')
    step = 'write after unlink'
    check(os.pwrite(fd, b'more\n', 15) == 5, 'write through the descriptor')
    step = 'read back after the write'
    data = os.pread(fd, 1000, 0)
    check(data == b'first contents\nmore\n', 'read back after the write: %r' % data)
    check(os.fstat(fd).st_size == 20, 'fstat size after the write is %d' % os.fstat(fd).st_size)
    if recreate:
        step = 'read the new file'
        got = open(p).read()
        check(got == 'second file\n', 'the new file under the same name reads %r' % got)
    step = 'close'
    os.close(fd)
except OSError as e:
    print('FAILED: %s: %s' % (step, e.strerror), file=sys.stderr); sys.exit(1)
print('ok')
EOF)";

TEST_F(Coherence, AnOpenUnlinkedFileLivesUntilClosed) {
  MountOrDie();
  RunResult r = Sh(std::string("P=alpha/u1.txt RECREATE=0; ") + kOpenUnlinked);
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "ok\n") << r.all();
  EXPECT_EQ(Sh("ls -A alpha").out, "") << "gone from the mount after close";
  EXPECT_EQ(Sh("cat alpha/u1.txt").exit_code, 1);
  Sh("sync alpha");
  EXPECT_TRUE(WaitForServerGone("alpha/u1.txt")) << "server holds " << ServerText("alpha/u1.txt");
  EXPECT_EQ(ServerList("alpha"), "") << "nothing of the unlinked file is left on the server";

  // A new file under the name while the first is open and unlinked.
  r = Sh(std::string("P=alpha/u2.txt RECREATE=1; ") + kOpenUnlinked);
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "ok\n") << r.all();
  EXPECT_EQ(Sh("cat alpha/u2.txt").out, "second file\n");
  EXPECT_EQ(ServerText("alpha/u2.txt"), "second file\n");
  Sh("sync alpha");
  std::this_thread::sleep_for(2s);  // a late delete of the first u2.txt would land by now
  EXPECT_EQ(ServerText("alpha/u2.txt"), "second file\n") << "the first file's delete took the second";
  EXPECT_EQ(ServerList("alpha"), "u2.txt\n") << "nothing of the unlinked file is left on the server";
  EXPECT_EQ(Sh("cat alpha/u2.txt").out, "second file\n");
}

TEST_F(Coherence, AFoldersTimeGrowsWithEachChangeInside) {
  WriteFile(emu_->root("alpha") / "pre" / "t1" / "x", "x");
  WriteFile(emu_->root("alpha") / "pre" / "t2" / "x", "x");
  WriteFile(emu_->root("alpha") / "pre" / "file", "x");
  MountOrDie();
  ASSERT_EQ(Sh("mkdir alpha/d").exit_code, 0);
  auto mtime_ns = [&]() -> long long {
    RunResult r = Sh("python3 -c 'import os; print(os.stat(\"alpha/d\").st_mtime_ns)'");
    EXPECT_EQ(r.exit_code, 0) << r.all();
    return r.exit_code == 0 ? std::stoll(r.out) : 0;
  };
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"create", "printf x > alpha/d/f"}, {"mkdir", "mkdir alpha/d/sub"}, {"rename", "mv alpha/d/f alpha/d/g"},
      {"unlink", "rm alpha/d/g"},         {"rmdir", "rmdir alpha/d/sub"}};
  long long before = mtime_ns();
  for (const auto& [what, cmd] : steps) {
    std::this_thread::sleep_for(1100ms);
    RunResult r = Sh(cmd);
    ASSERT_EQ(r.exit_code, 0) << what << ": " << r.all();
    long long after = mtime_ns();  // at once: no TTL wait
    EXPECT_GT(after, before) << "the folder's mtime after " << what << " (was " << before << ", now " << after << ")";
    before = after;
  }

  // st_nlink: 2 + subfolders, for a folder made here and one found on the server.
  ASSERT_EQ(Sh("mkdir -p alpha/n/s1 alpha/n/s2 alpha/n/s3 && printf x > alpha/n/file").exit_code, 0);
  RunResult r = Sh("ls alpha/n alpha/pre >/dev/null && stat -c '%n %h' alpha/n alpha/pre");
  EXPECT_EQ(r.out, "alpha/n 5\nalpha/pre 4\n") << r.all();
}

TEST_F(Coherence, TimesSetByTouchCpAndTarAreKept) {
  MountOrDie();
  const std::string utc = "TZ=UTC ";
  ASSERT_EQ(Sh("printf t > alpha/t.txt && printf o > alpha/old.txt && printf f > alpha/future.txt").exit_code, 0);
  RunResult r = Sh(utc + "touch -d '2001-02-03 04:05:06.123456789' alpha/t.txt && " + utc +
                   "touch -a -d '1999-01-01' alpha/t.txt && " + utc + "touch -d '1960-05-06 07:08:09' alpha/old.txt && " +
                   utc + "touch -d '2100-01-02 03:04:05' alpha/future.txt");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  const std::string stat = utc + "stat -c '%n|%x|%y' alpha/t.txt alpha/old.txt alpha/future.txt";
  const std::string want =
      "alpha/t.txt|1999-01-01 00:00:00.000000000 +0000|2001-02-03 04:05:06.123456789 +0000\n"
      "alpha/old.txt|*|1960-05-06 07:08:09.000000000 +0000\n"
      "alpha/future.txt|*|2100-01-02 03:04:05.000000000 +0000\n";
  auto check = [&](const char* when) {
    RunResult s = Sh(stat);
    // The atime of the two other files is whatever touch -d set it to (the same as mtime).
    std::string got = s.out, expect = want;
    for (auto name : {"alpha/old.txt|", "alpha/future.txt|"}) {
      auto at = got.find(name);
      if (at == npos) continue;
      at += std::strlen(name);
      got.replace(at, got.find('|', at) - at, "*");
    }
    EXPECT_EQ(got, expect) << when << "\n" << s.all();
  };
  check("right after touch");
  EXPECT_EQ(ServerText("alpha/t.txt"), "t") << "touch does not change the bytes";
  // cp -p and tar x from outside the mount keep the sources' mtimes.
  fs::path src = emu_->dir() / "timed";
  WriteFile(src / "a.txt", "a");
  WriteFile(src / "sub" / "b.txt", "b");
  r = testing::Run({"/bin/sh", "-c",
                    "cd " + Q(src.string()) + " && TZ=UTC touch -d '2005-06-07 08:09:10' a.txt && TZ=UTC touch -d "
                    "'1990-01-02 03:04:05' sub/b.txt && tar cf ../timed.tar a.txt sub"},
                   {});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  r = Sh("cp -p " + Q((src / "a.txt").string()) + " alpha/cp.txt && mkdir alpha/untar && tar xf " +
         Q((emu_->dir() / "timed.tar").string()) + " -C alpha/untar");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  const std::string times = "stat -c '%n %Y' alpha/cp.txt alpha/untar/a.txt alpha/untar/sub/b.txt";
  const std::string want_times = "alpha/cp.txt 1118131750\nalpha/untar/a.txt 1118131750\nalpha/untar/sub/b.txt 631249445\n";
  EXPECT_EQ(Sh(times).out, want_times) << "right after cp -p and tar x";
  EXPECT_EQ(ServerText("alpha/untar/sub/b.txt"), "b");
  Remount();
  check("after a remount");
  EXPECT_EQ(Sh(times).out, want_times) << "after a remount";
}

TEST_F(Coherence, RsyncASecondTimeSendsNothing) {
  fs::path src = emu_->dir() / "rsync-src";
  std::vector<std::string> files;
  for (int i = 0; i < 20; ++i) {
    std::string rel = (i % 4 ? "d" + std::to_string(i % 4) + "/" : std::string()) + (i % 8 == 3 ? "e/" : "") +
                      "f" + std::to_string(i) + ".txt";
    WriteFile(src / rel, "file " + std::to_string(i) + "\n");
    files.push_back(rel);
  }
  // Times in the past (one day apart), so that rsync's quick check (size
  // and mtime) finds nothing to send only if the mount kept them.
  std::string touch = "cd " + Q(src.string());
  for (size_t i = 0; i < files.size(); ++i) {
    touch += " && touch -d @" + std::to_string(1300000000 + 86400 * i) + " " + files[i];
  }
  RunResult t = testing::Run({"/bin/sh", "-c", touch}, {});
  ASSERT_EQ(t.exit_code, 0) << t.all();
  MountOrDie();
  const std::string rsync = "rsync -a " + Q(src.string() + "/") + " alpha/x/";
  RunResult r = Sh(rsync);
  ASSERT_EQ(r.exit_code, 0) << r.all();
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(ServerText("alpha/x/" + files[i]), "file " + std::to_string(i) + "\n") << files[i];
  }
  r = Sh(rsync + " --stats");
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("Number of regular files transferred: 0\n"), npos) << "a second rsync -a:\n" << r.out;
  Remount();
  r = Sh(rsync + " --stats");
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("Number of regular files transferred: 0\n"), npos) << "after a remount:\n" << r.out;
  EXPECT_EQ(Sh("cat alpha/x/d1/f1.txt").out, "file 1\n");
}

}  // namespace
}  // namespace globusfs
