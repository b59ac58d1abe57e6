// tools/package.sh's .deb: its name and version, its contents (the three
// programs, man pages, bash completion, the systemd user unit; no test, no
// library) and its Depends (the Debian packages of every library the
// programs link, found as an administrator would: readelf, ldconfig,
// dpkg -S). And the man pages themselves: `man --warnings` is silent, and
// each has the sections a man page is expected to have.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/child_process.h"

namespace globusfs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::RunResult;

RunResult Sh(const std::string& command, std::chrono::seconds timeout = 60s) {
  return testing::Run({"/bin/sh", "-c", command}, {}, "", timeout);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\n"));
  s.erase(s.find_last_not_of(" \t\n") + 1);
  return s;
}

// The Debian package that holds the library `soname` (as the dynamic
// linker finds it), e.g. "libcurl.so.4" -> "libcurl4".
std::string PackageOfLibrary(const std::string& soname) {
  RunResult r = Sh("p=$(/sbin/ldconfig -p | awk -v s='" + soname +
                   "' '$1 == s {print $NF; exit}'); "
                   "for f in \"$p\" \"/usr$p\" \"$(readlink -f \"$p\")\"; do "
                   "dpkg -S \"$f\" 2>/dev/null && exit 0; done; exit 1");
  if (r.exit_code != 0) return "";
  return r.out.substr(0, r.out.find(':'));
}

TEST(DebPackage, HoldsTheProgramsDocsAndUnitAndDependsOnWhatTheyLink) {
  for (const char* tool : {"/usr/bin/dpkg-deb", "/usr/bin/cpack", "/usr/bin/readelf"}) {
    ASSERT_TRUE(fs::exists(tool))
        << tool << " is missing (tools/debian-packages.txt: dpkg, cmake, binutils)";
  }
  const std::string build = GLOBUSFS_BUILD_DIR;
  RunResult arch = Sh("dpkg --print-architecture");
  ASSERT_EQ(arch.exit_code, 0) << arch.all();
  const std::string deb =
      build + "/globusfs_" + GLOBUSFS_TEST_PROJECT_VERSION + "_" + Trim(arch.out) + ".deb";

  RunResult pkg = testing::Run({std::string(GLOBUSFS_SOURCE_DIR) + "/tools/package.sh"},
                               {{"BUILD_DIR", build}}, "", 150s);
  ASSERT_EQ(pkg.exit_code, 0) << pkg.all();
  EXPECT_EQ(Trim(Lines(pkg.out).back()), deb) << "package.sh prints the package it made";
  ASSERT_TRUE(fs::exists(deb)) << pkg.all();

  // The version is the one globusfs --version prints.
  RunResult version = testing::Run({build + "/bin/globusfs", "--version"}, {});
  EXPECT_EQ(version.out, std::string("globusfs ") + GLOBUSFS_TEST_PROJECT_VERSION + "\n");
  EXPECT_EQ(Trim(Sh("dpkg-deb -f '" + deb + "' Version").out), GLOBUSFS_TEST_PROJECT_VERSION);
  EXPECT_EQ(Trim(Sh("dpkg-deb -f '" + deb + "' Package").out), "globusfs");

  // Contents.
  RunResult list = Sh("dpkg-deb -c '" + deb + "' | awk '{print $6}'");
  ASSERT_EQ(list.exit_code, 0) << list.all();
  std::set<std::string> files;
  for (const auto& l : Lines(list.out)) files.insert(l);
  for (const char* f :
       {"./usr/bin/globusfs", "./usr/bin/globusfs-auth", "./usr/bin/globus-emulator",
        "./usr/share/man/man1/globusfs.1", "./usr/share/man/man1/globusfs-auth.1",
        "./usr/share/man/man1/globus-emulator.1",
        "./usr/share/bash-completion/completions/globusfs",
        "./usr/share/bash-completion/completions/globusfs-auth",
        "./usr/share/bash-completion/completions/globus-emulator",
        "./usr/lib/systemd/user/globusfs@.service", "./usr/share/doc/globusfs/SEMANTICS.md"}) {
    EXPECT_TRUE(files.count(f)) << f << " is not in the package:\n" << list.out;
  }
  for (const auto& f : files) {
    EXPECT_EQ(f.find("test"), std::string::npos) << "a test in the package: " << f;
    EXPECT_FALSE(f.ends_with(".a") || f.find(".so") != std::string::npos)
        << "a library in the package: " << f;
    if (f.rfind("./usr/bin/", 0) == 0 && f != "./usr/bin/") {
      EXPECT_TRUE(f == "./usr/bin/globusfs" || f == "./usr/bin/globusfs-auth" ||
                  f == "./usr/bin/globus-emulator")
          << "an unexpected program: " << f;
    }
  }
  RunResult unit = Sh("dpkg-deb --fsys-tarfile '" + deb +
                      "' | tar -xOf - ./usr/lib/systemd/user/globusfs@.service");
  EXPECT_NE(unit.out.find("ExecStart=/usr/bin/globusfs -f "), std::string::npos) << unit.all();
  EXPECT_NE(unit.out.find("Type=notify"), std::string::npos) << unit.all();

  // Depends: every linked library's package, fuse3, and no -dev package.
  const std::string depends = Sh("dpkg-deb -f '" + deb + "' Depends").out;
  std::set<std::string> depended;
  std::istringstream in(depends);
  for (std::string item; std::getline(in, item, ',');) {
    item = Trim(item);
    depended.insert(item.substr(0, item.find_first_of(" (")));
  }
  EXPECT_TRUE(depended.count("fuse3")) << "fusermount3 and mount.fuse3: " << depends;
  for (const auto& d : depended) EXPECT_FALSE(d.ends_with("-dev")) << depends;
  for (const char* program : {"globusfs", "globusfs-auth", "globus-emulator"}) {
    RunResult needed = Sh("readelf -d '" + build + "/bin/" + program +
                          "' | sed -n 's/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p'");
    ASSERT_EQ(needed.exit_code, 0) << needed.all();
    ASSERT_FALSE(Lines(needed.out).empty()) << program;
    for (const auto& soname : Lines(needed.out)) {
      const std::string package = PackageOfLibrary(soname);
      ASSERT_FALSE(package.empty())
          << "no Debian package holds " << soname << " (" << program << ")";
      EXPECT_TRUE(depended.count(package)) << program << " links " << soname << " from " << package
                                           << ", which Depends lacks: " << depends;
    }
  }
}

TEST(ManPages, ManWarnsAboutNothingAndEachHasTheUsualSections) {
  ASSERT_TRUE(fs::exists("/usr/bin/man"))
      << "needs man-db and groff-base (tools/debian-packages.txt)";
  for (const char* name : {"globusfs.1", "globusfs-auth.1", "globus-emulator.1"}) {
    const std::string page = std::string(GLOBUSFS_SOURCE_DIR) + "/dist/man/" + name;
    RunResult r = testing::Run({"/bin/sh", "-c", "man --warnings -l \"$0\" >/dev/null", page},
                               {{"MANWIDTH", "80"}, {"LANG", "C.UTF-8"}});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.all();
    EXPECT_EQ(r.err, "") << name << " has warnings";
    RunResult text = testing::Run(
        {"/usr/bin/man", "-l", page},
        {{"MANWIDTH", "80"}, {"MANPAGER", "cat"}, {"PAGER", "cat"}, {"LANG", "C.UTF-8"}});
    for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES",
                                "ENVIRONMENT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"}) {
      EXPECT_NE(text.out.find(std::string("\n") + section + "\n"), std::string::npos)
          << name << " lacks " << section;
    }
  }
  // globusfs-auth's exit statuses, as the Globus CLI's.
  RunResult text = testing::Run(
      {"/usr/bin/man", "-l", std::string(GLOBUSFS_SOURCE_DIR) + "/dist/man/globusfs-auth.1"},
      {{"MANWIDTH", "80"}, {"MANPAGER", "cat"}, {"LANG", "C.UTF-8"}});
  const std::string exit_status = text.out.substr(text.out.find("\nEXIT STATUS\n"));
  for (const char* code : {"0", "1", "2", "3", "4"}) {
    EXPECT_NE(exit_status.find(std::string("       ") + code + "      "), std::string::npos)
        << code << exit_status;
  }
}

TEST(BashCompletion, EachScriptLoadsAndCompletes) {
  const std::string dir = std::string(GLOBUSFS_SOURCE_DIR) + "/dist/bash-completion/";
  RunResult r =
      testing::Run({"/bin/bash", "-c",
                    ". \"$0\"globusfs && . \"$0\"globusfs-auth && . \"$0\"globus-emulator && "
                    "COMP_WORDS=(globusfs -o allow_other,cache_s); COMP_CWORD=2; _globusfs; echo "
                    "\"1:${COMPREPLY[*]}\"; "
                    "COMP_WORDS=(globusfs-auth session up); COMP_CWORD=2; _globusfs_auth; echo "
                    "\"2:${COMPREPLY[*]}\"; "
                    "COMP_WORDS=(globus-emulator --task); COMP_CWORD=1; _globus_emulator; echo "
                    "\"3:${COMPREPLY[*]}\"",
                    dir},
                   {});
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_NE(r.out.find("1:allow_other,cache_size=\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2:update\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3:--task-delay-ms\n"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace globusfs
