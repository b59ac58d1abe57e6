// globusfs: mounts Globus collections as folders (see README.md and
// docs/SEMANTICS.md); `globusfs status|wait|search ...` are commands that
// do not mount (fs/status_command.h, fs/search_command.h).
#include <signal.h>

#include <exception>
#include <iostream>
#include <string>

#include "fs/daemon.h"
#include "fs/search_command.h"
#include "fs/status_command.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "status") return globusfs::fs::RunStatus(argc, argv);
    if (command == "wait") return globusfs::fs::RunWait(argc, argv);
    if (command == "search") return globusfs::fs::RunSearch(argc, argv);
    globusfs::fs::DaemonConfig config;
    int rc = globusfs::fs::ParseDaemonArgs(argc, argv, &config);
    if (rc >= 0) return rc;
    return globusfs::fs::RunDaemon(config);
  } catch (const std::exception& e) {
    std::cerr << "globusfs: internal error: " << e.what() << "\n";
    return 1;
  }
}
