// globusfs: mounts Globus collections as folders. See README.md and
// docs/SEMANTICS.md.
#include <signal.h>

#include <exception>
#include <iostream>
#include <string>

#include "fs/daemon.h"

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  try {
    if (argc > 1 && std::string(argv[1]) == "status") return globusfs::fs::RunStatus(argc, argv);
    globusfs::fs::DaemonConfig config;
    int rc = globusfs::fs::ParseDaemonArgs(argc, argv, &config);
    if (rc >= 0) return rc;
    return globusfs::fs::RunDaemon(config);
  } catch (const std::exception& e) {
    std::cerr << "globusfs: internal error: " << e.what() << "\n";
    return 1;
  }
}
