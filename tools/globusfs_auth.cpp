// globusfs-auth: log in to Globus for globusfs, as the Globus CLI's
// `globus login / logout / whoami / session ...` do. See README.md.
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "auth/uuid.h"
#include "tools/auth_commands.h"
#include "tools/cli_parser.h"

namespace globusfs::tools {
namespace {

const OptionSpec kNoLocalServer{"--no-local-server", "", false, false, "",
                                "Do not start a local server for the login redirect: print a URL "
                                "and read the code it shows from standard input."};
const OptionSpec kFormat{"--format", "-F", true, false, "FORMAT", "Output format.", {"text", "json"}};

const CommandSpec kLogin{
    "login", "",
    "Log in to Globus for globusfs (native-app login with PKCE). The tokens are kept in\n"
    "$GLOBUSFS_CONFIG_DIR (default ~/.config/globusfs) and shared with the globusfs daemon.",
    {kNoLocalServer,
     {"--force", "", false, false, "", "Log in again even if already logged in."},
     {"--collection", "", true, true, "UUID",
      "Also get access to this collection's data (its https scope and, where it needs one, its "
      "data_access consent). Repeatable."}},
    0, 0};

const CommandSpec kLogout{
    "logout", "",
    "Log out of globusfs: revoke every token at Globus Auth, then delete the token store.",
    {{"--yes", "", false, false, "", "Do not ask for confirmation."},
     {"--ignore-errors", "", false, false, "",
      "Delete the stored tokens even if they could not be revoked (e.g. offline)."}},
    0, 0};

const CommandSpec kWhoAmI{
    "whoami", "",
    "Show the identity you are logged in as.",
    {{"--linked-identities", "", false, false, "", "Show every identity in your identity set."},
     {"--verbose", "-v", false, false, "", "Show more details."},
     kFormat},
    0, 0};

const CommandSpec kSessionShow{
    "session show", "",
    "List the identities in your current session and when each last authenticated.",
    {kFormat}, 0, 0};

const CommandSpec kSessionUpdate{
    "session update", "[IDENTITY_OR_DOMAIN]...",
    "Re-authenticate to add identities (ids or usernames), domains or policies to your session,\n"
    "or to authenticate with multi-factor authentication (--mfa), as high-assurance\n"
    "collections require.",
    {kNoLocalServer,
     {"--all", "", false, false, "", "Authenticate every identity in your identity set."},
     {"--policy", "", true, false, "P1,P2", "Satisfy these authentication policies."},
     {"--mfa", "", false, false, "",
      "Authenticate with multi-factor authentication (session_required_mfa); alone, or with the "
      "identities, --all or --policy."},
     {"--scope", "", true, true, "SCOPE", "Also request this scope. Repeatable."}},
    0, SIZE_MAX};

const CommandSpec kSessionConsent{
    "session consent", "SCOPE...",
    "Grant globusfs consent to the given scopes (as a collection asking for a data_access\n"
    "consent tells you to).",
    {kNoLocalServer}, 1, SIZE_MAX};

constexpr const char* kTopHelp =
    "Usage: globusfs-auth [OPTIONS] COMMAND [ARGS]...\n"
    "\n"
    "  Log in to Globus for globusfs, and manage the session.\n"
    "\n"
    "Options:\n"
    "  -h, --help  Show this message and exit.\n"
    "  --version   Show the version and exit.\n"
    "\n"
    "Commands:\n"
    "  login    Log in to Globus for globusfs.\n"
    "  logout   Revoke and forget globusfs's tokens.\n"
    "  session  Show or update your Globus Auth session.\n"
    "  whoami   Show the identity you are logged in as.\n";

constexpr const char* kSessionHelp =
    "Usage: globusfs-auth session [OPTIONS] COMMAND [ARGS]...\n"
    "\n"
    "  Show or update your Globus Auth session.\n"
    "\n"
    "Commands:\n"
    "  consent  Grant consent to scopes.\n"
    "  show     List the identities in your session.\n"
    "  update   Re-authenticate identities, domains or policies.\n";

int Run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout) << kTopHelp;
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version") {
    std::cout << "globusfs-auth 0.1.0\n";
    return kExitOk;
  }
  const CommandSpec* spec = nullptr;
  size_t consumed = 1;
  if (args[0] == "login") spec = &kLogin;
  else if (args[0] == "logout") spec = &kLogout;
  else if (args[0] == "whoami") spec = &kWhoAmI;
  else if (args[0] == "session") {
    if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
      (args.size() < 2 ? std::cerr : std::cout) << kSessionHelp;
      return args.size() < 2 ? kExitUsage : kExitOk;
    }
    consumed = 2;
    if (args[1] == "show") spec = &kSessionShow;
    else if (args[1] == "update") spec = &kSessionUpdate;
    else if (args[1] == "consent") spec = &kSessionConsent;
    else {
      std::cerr << "Usage: globusfs-auth session [OPTIONS] COMMAND [ARGS]...\n"
                   "Try 'globusfs-auth session --help' for help.\n\nError: No such command '"
                << args[1] << "'.\n";
      return kExitUsage;
    }
  } else {
    std::cerr << "Usage: globusfs-auth [OPTIONS] COMMAND [ARGS]...\n"
                 "Try 'globusfs-auth --help' for help.\n\nError: No such command '"
              << args[0] << "'.\n";
    return kExitUsage;
  }

  ParsedArgs parsed;
  try {
    parsed = ParseArgs(*spec, std::vector<std::string>(args.begin() + consumed, args.end()));
  } catch (const UsageError& e) {
    std::cerr << UsageErrorText(*spec, e.what());
    return kExitUsage;
  }
  if (parsed.help) {
    std::cout << HelpText(*spec);
    return kExitOk;
  }
  for (const auto& id : parsed.All("--collection")) {
    if (!auth::LooksLikeUuid(id)) {
      std::cerr << UsageErrorText(*spec, "Invalid value for '--collection': '" + id + "' is not a valid UUID.");
      return kExitUsage;
    }
  }

  auto ctx = MakeContext(std::cin, std::cout, std::cerr);
  if (!ctx) return kExitError;
  if (spec == &kLogin) return Login(*ctx, parsed);
  if (spec == &kLogout) return Logout(*ctx, parsed);
  if (spec == &kWhoAmI) return WhoAmI(*ctx, parsed);
  if (spec == &kSessionShow) return SessionShow(*ctx, parsed);
  if (spec == &kSessionUpdate) return SessionUpdate(*ctx, parsed, *spec);
  return SessionConsent(*ctx, parsed);
}

}  // namespace
}  // namespace globusfs::tools

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  try {
    return globusfs::tools::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "globusfs-auth: internal error: " << e.what() << "\n";
    return 1;
  }
}
