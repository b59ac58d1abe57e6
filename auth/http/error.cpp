#include "auth/http/error.h"

#include <algorithm>
#include <string>
#include <utility>

namespace globusfs::http {
namespace {

constexpr size_t kMaxCode = 256;
constexpr size_t kMaxRequestId = 128;
constexpr size_t kMaxSummaryMessage = 300;
// Error bodies larger than this are not parsed (Globus errors are small).
constexpr size_t kMaxParsedBody = 1 << 20;

// Keys of authorization_parameters whose value is a list of strings; the
// services sometimes send them as one comma-separated string.
constexpr std::string_view kListKeys[] = {
    "session_required_identities",
    "session_required_single_domain",
    "session_required_policies",
};

std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

nlohmann::json SplitCommaList(std::string_view s) {
  nlohmann::json list = nlohmann::json::array();
  while (true) {
    const size_t comma = s.find(',');
    const std::string_view item = Trim(s.substr(0, comma));
    if (!item.empty()) list.push_back(std::string(item));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return list;
}

// A string member of `obj`, or nullptr.
const std::string* StringAt(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

// The first non-empty string among `keys` in `obj`, or "".
std::string FirstString(const nlohmann::json& obj, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    const std::string* s = StringAt(obj, key);
    if (s != nullptr && !s->empty()) return *s;
  }
  return "";
}

void AddScopes(const nlohmann::json& value, std::vector<std::string>& out) {
  const auto add = [&out](const std::string& scope) {
    if (!scope.empty() && std::find(out.begin(), out.end(), scope) == out.end()) {
      out.push_back(scope);
    }
  };
  if (value.is_string()) {
    add(value.get_ref<const std::string&>());
  } else if (value.is_array()) {
    for (const auto& item : value) {
      if (item.is_string()) add(item.get_ref<const std::string&>());
    }
  }
}

nlohmann::json NormaliseAuthorizationParameters(const nlohmann::json& params) {
  nlohmann::json out = params;
  for (std::string_view key : kListKeys) {
    const auto it = out.find(key);
    if (it != out.end() && it->is_string()) {
      *it = SplitCommaList(it->get_ref<const std::string&>());
    }
  }
  const auto scopes = out.find("required_scopes");
  if (scopes != out.end() && scopes->is_string()) {
    *scopes = nlohmann::json::array({scopes->get<std::string>()});
  }
  return out;
}

bool NonEmptyRequirement(const nlohmann::json& value) {
  if (value.is_array() || value.is_object()) return !value.empty();
  if (value.is_string()) return !Trim(value.get_ref<const std::string&>()).empty();
  if (value.is_boolean()) return value.get<bool>();
  return false;
}

std::string OpaqueBodyMessage(int http_status, std::string_view body, const char* what) {
  std::string msg = "HTTP " + std::to_string(http_status);
  if (body.empty()) return msg + " (empty body)";
  return msg + " (" + what + ", " + std::to_string(body.size()) + " bytes)";
}

}  // namespace

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  constexpr std::string_view kMark = "...";
  if (max_bytes < kMark.size()) return std::string(max_bytes, '.');
  size_t cut = max_bytes - kMark.size();
  // Step back over UTF-8 continuation bytes so no sequence is split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  out += kMark;
  return out;
}

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNetwork:
      return "network";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kTls:
      return "tls";
    case ErrorKind::kHttp:
      return "http";
    case ErrorKind::kMalformed:
      return "malformed";
    case ErrorKind::kConfig:
      return "config";
    case ErrorKind::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

Error MakeError(ErrorKind kind, std::string message) {
  Error error;
  error.kind = kind;
  error.message = TruncateUtf8(message, kMaxErrorMessage);
  return error;
}

bool Error::IsConsentRequired() const {
  return code == "ConsentRequired" && !required_scopes.empty();
}

bool Error::HasSessionRequirements() const {
  if (!authorization_parameters.is_object()) return false;
  for (const auto& [key, value] : authorization_parameters.items()) {
    if (key.starts_with("session_required_") && NonEmptyRequirement(value)) return true;
  }
  return false;
}

std::string Error::Summary() const {
  std::string out;
  if (kind == ErrorKind::kHttp) {
    out = "HTTP " + std::to_string(http_status);
    if (!code.empty()) out += " " + code;
  } else {
    out = ErrorKindName(kind);
  }
  std::string_view first_line = message;
  first_line = first_line.substr(0, first_line.find_first_of("\r\n"));
  if (!first_line.empty()) {
    out += ": ";
    out += TruncateUtf8(first_line, kMaxSummaryMessage);
  }
  if (!request_id.empty()) out += " (request_id " + request_id + ")";
  return out;
}

Error ParseErrorDocument(int http_status, std::string_view body) {
  Error error;
  error.kind = ErrorKind::kHttp;
  error.http_status = http_status;

  nlohmann::json doc;
  if (body.size() <= kMaxParsedBody) {
    doc = nlohmann::json::parse(body.begin(), body.end(), /*cb=*/nullptr,
                                /*allow_exceptions=*/false);
  }
  if (!doc.is_object()) {
    error.message = OpaqueBodyMessage(
        http_status, body, doc.is_discarded() || doc.is_null() ? "non-JSON body" : "JSON body");
    return error;
  }

  // Auth's JSON:API-like format keeps the details in errors[0].
  nlohmann::json first_sub = nlohmann::json::object();
  if (const auto errors = doc.find("errors"); errors != doc.end() && errors->is_array() &&
                                              !errors->empty() && errors->front().is_object()) {
    first_sub = errors->front();
  }

  // Transfer "type zero" and GARE: top-level code; Auth: errors[0].code;
  // OAuth2: "error" (e.g. invalid_grant).
  error.code = TruncateUtf8(
      [&] {
        std::string code = FirstString(doc, {"code"});
        if (code.empty()) code = FirstString(first_sub, {"code"});
        if (code.empty()) code = FirstString(doc, {"error"});
        return code;
      }(),
      kMaxCode);

  std::string message = FirstString(doc, {"message"});
  if (message.empty()) message = FirstString(first_sub, {"detail", "title"});
  if (message.empty()) message = FirstString(doc, {"error_description", "detail", "title"});
  error.message = TruncateUtf8(message, kMaxErrorMessage);

  std::string request_id = FirstString(doc, {"request_id"});
  if (request_id.empty()) request_id = FirstString(first_sub, {"id"});
  error.request_id = TruncateUtf8(request_id, kMaxRequestId);

  const nlohmann::json* params = nullptr;
  if (const auto it = doc.find("authorization_parameters"); it != doc.end() && it->is_object()) {
    params = &*it;
  } else if (const auto sub = first_sub.find("authorization_parameters");
             sub != first_sub.end() && sub->is_object()) {
    params = &*sub;
  }
  if (params != nullptr) error.authorization_parameters = NormaliseAuthorizationParameters(*params);

  if (const auto it = doc.find("required_scopes"); it != doc.end()) {
    AddScopes(*it, error.required_scopes);
  }
  if (const auto it = doc.find("required_scope"); it != doc.end()) {
    AddScopes(*it, error.required_scopes);
  }
  if (error.authorization_parameters.is_object()) {
    if (const auto it = error.authorization_parameters.find("required_scopes");
        it != error.authorization_parameters.end()) {
      AddScopes(*it, error.required_scopes);
    }
  }

  if (error.code.empty() && error.message.empty()) {
    error.message = OpaqueBodyMessage(http_status, body, "JSON body without an error message");
  }
  return error;
}

}  // namespace globusfs::http
