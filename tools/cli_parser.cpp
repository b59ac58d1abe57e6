#include "tools/cli_parser.h"

#include <algorithm>
#include <cstdint>

namespace globusfs::tools {

std::string ParsedArgs::Value(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> ParsedArgs::All(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

ParsedArgs ParseArgs(const CommandSpec& spec, const std::vector<std::string>& argv) {
  ParsedArgs out;
  bool options_done = false;
  auto find = [&](const std::string& name) -> const OptionSpec* {
    for (const auto& o : spec.options) {
      if (o.name == name || (!o.short_name.empty() && o.short_name == name)) return &o;
    }
    return nullptr;
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      out.positionals.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    const OptionSpec* o = find(name);
    if (!o) throw UsageError("No such option: " + name);
    if (!o->takes_value) {
      if (inline_value) throw UsageError("Option '" + o->name + "' does not take a value.");
      out.flags.insert(o->name);
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) throw UsageError("Option '" + o->name + "' requires an argument.");
      value = argv[++i];
    }
    if (!o->choices.empty() && std::find(o->choices.begin(), o->choices.end(), value) == o->choices.end()) {
      std::string allowed;
      for (const auto& c : o->choices) allowed += (allowed.empty() ? "'" : ", '") + c + "'";
      throw UsageError("Invalid value for '" + o->name + "': '" + value + "' is not one of " + allowed + ".");
    }
    auto& vals = out.values[o->name];
    if (!o->repeatable && !vals.empty()) vals.clear();
    vals.push_back(value);
  }
  if (out.help) return out;
  if (out.positionals.size() < spec.min_positionals) {
    throw UsageError("Missing argument '" + spec.args + "'.");
  }
  if (out.positionals.size() > spec.max_positionals) {
    throw UsageError("Got unexpected extra argument (" + out.positionals[spec.max_positionals] + ")");
  }
  return out;
}

std::string HelpText(const CommandSpec& spec) {
  std::string out = "Usage: globusfs-auth " + spec.path + " [OPTIONS]" +
                    (spec.args.empty() ? "" : " " + spec.args) + "\n\n";
  // Indent the summary by two spaces, as click does.
  std::string para = spec.summary;
  out += "  ";
  for (char c : para) {
    out += c;
    if (c == '\n') out += "  ";
  }
  out += "\n\nOptions:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& o : spec.options) {
    std::string left = o.short_name.empty() ? o.name : o.short_name + ", " + o.name;
    if (o.takes_value) {
      left += " " + (o.choices.empty() ? o.metavar : "[" + [&] {
        std::string c;
        for (const auto& x : o.choices) c += (c.empty() ? "" : "|") + x;
        return c;
      }() + "]");
    }
    rows.emplace_back(left, o.help);
  }
  rows.emplace_back("-h, --help", "Show this message and exit.");
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  for (const auto& [left, help] : rows) {
    out += "  " + left + std::string(width - left.size() + 2, ' ') + help + "\n";
  }
  return out;
}

std::string UsageErrorText(const CommandSpec& spec, const std::string& message) {
  return "Usage: globusfs-auth " + spec.path + " [OPTIONS]" + (spec.args.empty() ? "" : " " + spec.args) +
         "\nTry 'globusfs-auth " + spec.path + " --help' for help.\n\nError: " + message + "\n";
}

}  // namespace globusfs::tools
