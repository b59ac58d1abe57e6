// globus-emulator: a local Globus over TLS on 127.0.0.1. See docs/emulator.md.
#include <signal.h>

#include <cstring>
#include <iostream>

#include "emulator.h"

int main(int argc, char** argv) {
  int exit_code = 0;
  auto cfg = emu::ParseCommandLine(argc, argv, &exit_code);
  if (!cfg) return exit_code;

  // Signals are taken synchronously by this thread; every other thread
  // inherits the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  emu::Emulator emulator(*cfg);
  try {
    emulator.Start();
  } catch (const std::exception& e) {
    std::cerr << "globus-emulator: " << e.what() << "\n";
    return 1;
  }
  std::cout << "globus-emulator listening on https://127.0.0.1:" << emulator.port() << "\n"
            << "  collections:";
  for (const auto& c : cfg->collections) std::cout << " " << c.name << "=" << c.id;
  std::cout << "\n  identity: " << cfg->identity.username << "\n"
            << "  clients: . " << (cfg->state_dir / "env").string() << "\n"
            << std::flush;

  int sig = 0;
  sigwait(&set, &sig);
  std::cout << "globus-emulator: " << strsignal(sig) << ", stopping\n" << std::flush;
  emulator.Stop();
  return 0;
}
