#include "auth/guidance.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "auth/uuid.h"

namespace globusfs::auth {

using json = nlohmann::json;

namespace {

std::vector<std::string> StringList(const json& params, const char* key) {
  std::vector<std::string> out;
  auto it = params.find(key);
  if (it == params.end()) return out;
  auto add_csv = [&](const std::string& s) {
    size_t i = 0;
    while (i <= s.size()) {
      size_t j = s.find(',', i);
      if (j == std::string::npos) j = s.size();
      if (j > i) out.push_back(s.substr(i, j - i));
      i = j + 1;
    }
  };
  if (it->is_string()) add_csv(it->get<std::string>());
  if (it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) add_csv(v.get<std::string>());
    }
  }
  return out;
}

std::vector<std::string> RequiredScopes(const http::Error& e) {
  std::vector<std::string> scopes = e.required_scopes;
  if (scopes.empty() && e.authorization_parameters.is_object()) {
    scopes = StringList(e.authorization_parameters, "required_scopes");
  }
  return scopes;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// session_required_mfa: a boolean, or (tolerated) its spelling as a string.
bool RequiresMfa(const json& params) {
  auto it = params.find("session_required_mfa");
  if (it == params.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    std::string v = it->get<std::string>();
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v == "true" || v == "1" || v == "yes";
  }
  return false;
}

bool IsLoginCode(const http::Error& e) {
  return e.code == "MissingLogin" || e.code == "invalid_grant" ||
         e.code == "ClientError.AuthenticationFailed" || e.code == "UNAUTHORIZED" ||
         e.code == "AuthenticationRequired";
}

}  // namespace

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Requirement ClassifyRequirement(const http::Error& e) {
  if (e.IsConsentRequired() || (e.code == "ConsentRequired" && !RequiredScopes(e).empty())) {
    return Requirement::kConsent;
  }
  if (e.HasSessionRequirements()) return Requirement::kSession;
  if (e.authorization_parameters.is_object() && !RequiredScopes(e).empty()) return Requirement::kConsent;
  if (IsLoginCode(e)) return Requirement::kLogin;
  return Requirement::kNone;
}

std::optional<std::string> RemedyCommand(const http::Error& e) {
  switch (ClassifyRequirement(e)) {
    case Requirement::kConsent: {
      std::string cmd = "globusfs-auth session consent";
      for (const auto& s : RequiredScopes(e)) cmd += " " + ShellQuote(s);
      return cmd;
    }
    case Requirement::kSession: {
      const json& p = e.authorization_parameters;
      std::string cmd = "globusfs-auth session update";
      auto ids = StringList(p, "session_required_identities");
      auto domains = StringList(p, "session_required_single_domain");
      auto policies = StringList(p, "session_required_policies");
      bool mfa = RequiresMfa(p);
      if (!ids.empty()) {
        cmd += " " + Join(ids, " ");
      } else if (!domains.empty()) {
        cmd += " " + Join(domains, " ");
      } else if (!policies.empty()) {
        cmd += " --policy " + ShellQuote(Join(policies, ","));
      } else if (!mfa) {
        cmd += " --all";
      }
      // MFA alone needs no identity named: the login that --mfa asks for
      // authenticates again, with multi-factor authentication.
      if (mfa) cmd += " --mfa";
      for (const auto& s : StringList(p, "required_scopes")) cmd += " --scope " + ShellQuote(s);
      return cmd;
    }
    case Requirement::kLogin: {
      // A missing token for a collection's data: log in with that collection.
      static const std::string kCollection = "Missing login for collection ";
      auto at = e.message.find(kCollection);
      if (e.code == "MissingLogin" && at != std::string::npos) {
        std::string id = e.message.substr(at + kCollection.size(), 36);
        if (LooksLikeUuid(id)) return "globusfs-auth login --collection " + id;
      }
      return std::string("globusfs-auth login");
    }
    case Requirement::kNone:
      return std::nullopt;
  }
  return std::nullopt;
}

std::string RemedyText(const http::Error& e) {
  auto cmd = RemedyCommand(e);
  std::string out;
  switch (ClassifyRequirement(e)) {
    case Requirement::kConsent:
      if (e.message == "Missing required data_access consent") {
        out = "The collection you are trying to access requires you to grant consent for globusfs "
              "to access it.\n";
      } else {
        out = "The resource you are trying to access requires you to consent to additional access "
              "for globusfs.\n";
        if (!e.message.empty()) out += "message: " + e.message + "\n";
      }
      out += "\nPlease run:\n\n  " + *cmd + "\n\nto login with the required scopes.\n";
      return out;
    case Requirement::kSession: {
      out = "The resource you are trying to access requires you to re-authenticate.\n";
      std::string msg = e.authorization_parameters.value("session_message", std::string());
      if (!msg.empty()) out += "message: " + msg + "\n";
      out += "\nPlease run:\n\n  " + *cmd + "\n\n";
      const bool mfa = RequiresMfa(e.authorization_parameters);
      if (cmd->find("session update --mfa") != std::string::npos) {
        out += "to re-authenticate with multi-factor authentication (MFA).\n";
      } else {
        out += cmd->find("--policy") != std::string::npos
                   ? "to re-authenticate in a way that satisfies the required policies"
                   : "to re-authenticate with the required identities";
        out += mfa ? ", with multi-factor authentication (MFA).\n" : ".\n";
      }
      return out;
    }
    case Requirement::kLogin:
      out = e.code == "MissingLogin" ? "MissingLoginError: " + e.message + "\n"
                                     : "MissingLoginError: " + e.message +
                                           "\nNo valid authentication was provided.\n";
      out += "Please run:\n\n  " + *cmd + "\n\nto ensure that you are logged in.\n";
      return out;
    case Requirement::kNone:
      break;
  }
  return e.Summary() + "\n";
}

int ExitCodeFor(const http::Error& e) {
  switch (ClassifyRequirement(e)) {
    case Requirement::kConsent:
    case Requirement::kSession:
      return 4;
    case Requirement::kLogin:
      return e.code == "MissingLogin" ? 4 : 1;
    case Requirement::kNone:
      return 1;
  }
  return 1;
}

}  // namespace globusfs::auth
