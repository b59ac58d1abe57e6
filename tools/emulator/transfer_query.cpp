// The query helpers of Transfer's list operations (transfer_listing.h):
// filter clauses (§2.1), orderby, limit/offset and JSON bodies, shared by
// ls, task_list and the task worker. Stateless and thread-safe.
#include <fnmatch.h>

#include <algorithm>
#include <charconv>

#include "transfer_listing.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;

namespace {

std::vector<std::string> SplitOn(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(sep, i);
    out.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Splits a leading comparison operator off a size / time alternative.
std::pair<std::string, std::string> SplitOp(const std::string& alt) {
  for (const char* op : {">=", "<=", "!=", ">", "<", "="}) {
    if (alt.rfind(op, 0) == 0) return {op, alt.substr(std::string_view(op).size())};
  }
  return {"=", alt};
}

bool Compare(const std::string& op, int64_t a, int64_t b) {
  if (op == "=") return a == b;
  if (op == "!=") return a != b;
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  return a >= b;  // ">="
}

}  // namespace

// --- filters ---

std::optional<std::vector<FilterClause>> SplitFilter(const std::vector<std::string>& params,
                                                     std::string* error) {
  std::vector<FilterClause> out;
  for (const auto& param : params) {
    for (const auto& clause : SplitOn(param, '/')) {
      auto colon = clause.find(':');
      if (clause.empty() || colon == std::string::npos || colon == 0) {
        *error = "Invalid filter clause '" + clause + "': expected field:value";
        return std::nullopt;
      }
      out.push_back({clause.substr(0, colon), clause.substr(colon + 1)});
    }
  }
  return out;
}

std::optional<LsFilter> ParseLsFilter(const std::vector<std::string>& params, std::string* error) {
  auto clauses = SplitFilter(params, error);
  if (!clauses) return std::nullopt;
  static const std::vector<std::string> kStringFields = {"name", "type", "permissions", "user",
                                                         "group"};
  LsFilter filter;
  for (const auto& cl : *clauses) {
    LsCondition cond;
    cond.field = cl.field;
    std::string v = cl.value;
    if (std::find(kStringFields.begin(), kStringFields.end(), cl.field) != kStringFields.end()) {
      bool all_glob = false;
      if (v.rfind("!=", 0) == 0 || v.rfind("!~", 0) == 0) {
        cond.negate = true;
        all_glob = v[1] == '~';
        v = v.substr(2);
      }
      for (const auto& alt : SplitOn(v, ',')) {
        if (all_glob) {
          cond.any.push_back({"~", alt});
        } else if (!cond.negate && !alt.empty() && alt[0] == '~') {
          cond.any.push_back({"~", alt.substr(1)});
        } else {
          cond.any.push_back({"=", alt});
        }
      }
    } else if (cl.field == "size") {
      for (const auto& alt : SplitOn(v, ',')) {
        auto [op, num] = SplitOp(alt);
        auto n = ParseInt(num);
        if (!n) {
          *error = "Invalid size filter '" + cl.value + "'";
          return std::nullopt;
        }
        cond.any.push_back({op, num, *n});
      }
    } else if (cl.field == "last_modified") {
      auto comma = v.find(',');
      if (comma != std::string::npos) {
        cond.is_range = true;
        std::string a = v.substr(0, comma), b = v.substr(comma + 1);
        for (auto [text, slot] : {std::pair{a, &cond.from}, std::pair{b, &cond.to}}) {
          if (text.empty()) continue;
          int64_t t = ParseTime(text);
          if (t < 0) {
            *error = "Invalid last_modified filter '" + cl.value + "'";
            return std::nullopt;
          }
          *slot = t;
        }
      } else {
        auto [op, text] = SplitOp(v);
        int64_t t = ParseTime(text);
        if (t < 0) {
          *error = "Invalid last_modified filter '" + cl.value + "'";
          return std::nullopt;
        }
        cond.any.push_back({op, text, t});
      }
    } else {
      *error = "Invalid filter field '" + cl.field + "'";
      return std::nullopt;
    }
    filter.all.push_back(std::move(cond));
  }
  return filter;
}

bool LsFilter::Matches(const json& doc) const {
  for (const auto& cond : all) {
    bool hit = false;
    if (cond.field == "size" || cond.field == "last_modified") {
      int64_t value = 0;
      if (cond.field == "size") {
        value = doc.value("size", int64_t{0});
      } else {
        value = ParseTime(doc.value("last_modified", std::string()));
      }
      if (cond.is_range) {
        hit = (!cond.from || value >= *cond.from) && (!cond.to || value <= *cond.to);
      } else {
        for (const auto& alt : cond.any) hit = hit || Compare(alt.op, value, alt.number);
      }
    } else {
      const json& v = doc.contains(cond.field) ? doc.at(cond.field) : json();
      std::string text = v.is_string() ? v.get<std::string>() : "";
      for (const auto& alt : cond.any) {
        hit = hit || (alt.op == "~" ? FullGlobMatch(alt.text, text) : alt.text == text);
      }
      if (cond.negate) hit = !hit;
    }
    if (!hit) return false;
  }
  return true;
}

bool FullGlobMatch(const std::string& pattern, const std::string& text) {
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

// --- orderby ---

std::optional<std::vector<OrderKey>> ParseOrderBy(std::string_view spec,
                                                   const std::vector<std::string>& allowed,
                                                   std::string* error) {
  std::vector<OrderKey> keys;
  for (const auto& part : SplitOn(spec, ',')) {
    std::vector<std::string> words;
    for (const auto& w : SplitOn(Trim(part), ' ')) {
      if (!w.empty()) words.push_back(w);
    }
    if (words.empty() || words.size() > 2) {
      *error = "Invalid orderby '" + std::string(spec) + "'";
      return std::nullopt;
    }
    if (std::find(allowed.begin(), allowed.end(), words[0]) == allowed.end()) {
      *error = "Invalid orderby field '" + words[0] + "'";
      return std::nullopt;
    }
    OrderKey key{words[0], false};
    if (words.size() == 2) {
      std::string dir = words[1];
      for (auto& ch : dir) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (dir != "ASC" && dir != "DESC") {
        *error = "Invalid orderby direction '" + words[1] + "'";
        return std::nullopt;
      }
      key.descending = dir == "DESC";
    }
    keys.push_back(key);
  }
  return keys;
}

int CompareJson(const json& a, const json& b) {
  if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : (a.is_null() ? -1 : 1);
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_boolean() && b.is_boolean()) return static_cast<int>(a.get<bool>()) - b.get<bool>();
  std::string x = a.dump(), y = b.dump();
  return x < y ? -1 : (x > y ? 1 : 0);
}

void SortDocs(std::vector<json>* docs, const std::vector<OrderKey>& keys) {
  static const json kNull;
  std::stable_sort(docs->begin(), docs->end(), [&](const json& a, const json& b) {
    for (const auto& k : keys) {
      const json& x = a.contains(k.field) ? a.at(k.field) : kNull;
      const json& y = b.contains(k.field) ? b.at(k.field) : kNull;
      int c = CompareJson(x, y);
      if (c != 0) return k.descending ? c > 0 : c < 0;
    }
    return false;
  });
}

// --- query and body helpers ---

std::vector<std::string> QueryValues(const Request& req, const std::string& name) {
  std::vector<std::string> out;
  auto [b, e] = req.query.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

std::optional<int64_t> IntParam(const Request& req, const std::string& name, int64_t fallback,
                                int64_t min, int64_t max, std::string* error) {
  auto v = req.QueryParam(name);
  if (!v) return fallback;
  auto n = ParseInt(*v);
  if (!n || *n < min || *n > max) {
    *error = "Invalid " + name + " '" + *v + "': must be an integer from " + std::to_string(min) +
             " to " + std::to_string(max);
    return std::nullopt;
  }
  return n;
}

std::optional<json> ReadJsonObject(Request& req) {
  auto body = req.ReadAllBody();
  if (!body) return std::nullopt;
  json j = json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

}  // namespace emu
