#include "fs/search_command.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/auth_client.h"
#include "auth/client_id.h"
#include "auth/guidance.h"
#include "auth/http/config.h"
#include "auth/scopes.h"
#include "auth/token_source.h"
#include "auth/token_store.h"
#include "fs/remote/collection_search.h"

namespace globusfs::fs {

namespace {

using json = nlohmann::json;

constexpr const char* kUsage = "usage: globusfs search TEXT [--limit N] [--json]\n";
constexpr int kDefaultLimit = 25;  // as `globus endpoint search`

int UsageError(const std::string& message) {
  std::cerr << "globusfs search: " << message << "\n" << kUsage;
  return 2;
}

void PrintTable(const std::vector<CollectionHit>& hits) {
  const std::vector<std::string> head = {"ID", "Display Name", "Owner", "Kind", "HTTPS"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& h : hits) {
    rows.push_back({h.id, h.display_name, h.owner, h.entity_type, h.https_server.empty() ? "no" : "yes"});
  }
  std::vector<size_t> width(head.size());
  for (size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(head);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
}

}  // namespace

int RunSearch(int argc, char** argv) {
  std::string text;
  bool as_json = false, have_text = false;
  int limit = kDefaultLimit;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      as_json = true;
    } else if (a == "--limit") {
      const char* v = i + 1 < argc ? argv[++i] : nullptr;
      char* end = nullptr;
      long n = v ? std::strtol(v, &end, 10) : 0;
      if (!v || end == v || *end || n < 1 || n > 1000) return UsageError("--limit wants a number from 1 to 1000");
      limit = static_cast<int>(n);
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a.size() > 1 && a[0] == '-') {
      return UsageError("unknown option " + a);
    } else if (!have_text) {
      text = a;
      have_text = true;
    } else {
      return UsageError("give one TEXT (quote it if it has spaces)");
    }
  }
  if (!have_text || text.empty()) return UsageError("give the TEXT to search for");

  auto cfg = http::HttpConfigFromEnv();
  if (!cfg) {
    std::cerr << "globusfs search: " << cfg.error().message << "\n";
    return 1;
  }
  auto urls = http::ServiceUrlsFromEnv();
  if (!urls) {
    std::cerr << "globusfs search: " << urls.error().message << "\n";
    return 1;
  }
  auto clock = std::make_shared<http::RealClock>();
  http::HttpClient client(*cfg, clock);
  auth::TokenStore store(auth::DefaultConfigDir());
  auth::AuthClient auth(client, urls->auth, auth::FindClientId(auth::DefaultClientIdSources()).client_id);
  auth::TokenSource tokens(store, auth, clock);
  // Not logged in (or the login is no longer good): say which command fixes it.
  if (auto t = tokens.Get(auth::kTransferResourceServer); !t) {
    std::cerr << "globusfs search: cannot use Globus Transfer.\n" << auth::RemedyText(t.error());
    return 4;  // as globusfs-auth and the Globus CLI: authentication requirements not met
  }
  auto authorizer = tokens.AuthorizerFor(auth::kTransferResourceServer);
  auto hits = SearchCollections(client, authorizer.get(), urls->transfer, text, limit);
  if (!hits) {
    const http::Error& e = hits.error();
    if (auth::ClassifyRequirement(e) != auth::Requirement::kNone) {
      std::cerr << "globusfs search: cannot use Globus Transfer.\n" << auth::RemedyText(e);
      return 4;
    } else {
      std::cerr << "globusfs search: " << e.Summary() << "\n";
    }
    return 1;
  }
  if (as_json) {
    json out = json::array();
    for (const auto& h : *hits) {
      out.push_back({{"id", h.id},
                     {"display_name", h.display_name},
                     {"owner_string", h.owner},
                     {"entity_type", h.entity_type},
                     {"https_server", h.https_server.empty() ? json() : json(h.https_server)},
                     {"has_https", !h.https_server.empty()}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (hits->empty()) {
    std::cout << "No collection's name matches '" << text << "'.\n";
    return 0;
  }
  PrintTable(*hits);
  return 0;
}

}  // namespace globusfs::fs
