#include "auth/client_id.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "auth/token_store.h"

namespace globusfs::auth {

namespace {

std::string ClientIdInFile(const std::filesystem::path& file) {
  if (file.empty()) return "";
  std::ifstream f(file);
  if (!f) return "";
  auto j = nlohmann::json::parse(f, nullptr, false);
  if (!j.is_object() || !j.contains("client_id") || !j["client_id"].is_string()) return "";
  return j["client_id"].get<std::string>();
}

}  // namespace

ClientIdSources DefaultClientIdSources() {
  ClientIdSources s;
  if (const char* id = std::getenv("GLOBUSFS_CLIENT_ID")) s.env = id;
  s.user_config = DefaultConfigDir() / "config.json";
  s.system_config = kSystemConfigFile;
  return s;
}

FoundClientId FindClientId(const ClientIdSources& sources) {
  if (!sources.env.empty()) return {sources.env, "GLOBUSFS_CLIENT_ID"};
  for (const auto* file : {&sources.user_config, &sources.system_config}) {
    if (auto id = ClientIdInFile(*file); !id.empty()) return {id, file->string()};
  }
  return {};
}

}  // namespace globusfs::auth
