// A small command-line parser in the style of the Globus CLI (click):
// every command has --help; an unknown option, a missing value or a wrong
// number of arguments is a usage error (exit code 2), reported as
//   Usage: globusfs-auth login [OPTIONS]
//   Try 'globusfs-auth login --help' for help.
//
//   Error: No such option: --frobnicate
// Pure; not thread-safe (plain values).
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace globusfs::tools {

struct OptionSpec {
  std::string name;        // "--no-local-server"
  std::string short_name;  // "-v" or ""
  bool takes_value = false;
  bool repeatable = false;
  std::string metavar;     // "UUID"
  std::string help;
  std::vector<std::string> choices;  // allowed values (e.g. text, json)
};

struct CommandSpec {
  std::string path;     // "session update"
  std::string args;     // "[IDENTITY_OR_DOMAIN]..." (for the usage line)
  std::string summary;  // the help paragraph
  std::vector<OptionSpec> options;
  size_t min_positionals = 0;
  size_t max_positionals = 0;  // SIZE_MAX for "any number"
};

struct ParsedArgs {
  std::set<std::string> flags;                              // options without value
  std::map<std::string, std::vector<std::string>> values;   // options with values
  std::vector<std::string> positionals;
  bool help = false;

  bool Has(const std::string& name) const { return flags.count(name) || values.count(name); }
  std::string Value(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> All(const std::string& name) const;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws UsageError. "--" ends options.
ParsedArgs ParseArgs(const CommandSpec& spec, const std::vector<std::string>& argv);
std::string HelpText(const CommandSpec& spec);
// The three-line usage error block (ends with a newline).
std::string UsageErrorText(const CommandSpec& spec, const std::string& message);

}  // namespace globusfs::tools
