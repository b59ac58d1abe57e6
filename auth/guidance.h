// Actionable guidance for authentication and authorisation failures, shared
// by globusfs-auth (printed, with its exit code) and the daemon (one log
// line per failure). Follows the Globus CLI (globus-api.md §7): consent
// requirements first, then session requirements, then missing logins.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/http/error.h"

namespace globusfs::auth {

enum class Requirement { kNone, kConsent, kSession, kLogin };

Requirement ClassifyRequirement(const http::Error& e);

// The exact command that satisfies the requirement, e.g.
//   globusfs-auth session consent 'urn:...:all[*https://.../data_access]'
//   globusfs-auth session update 1c2d...-...
//   globusfs-auth session update --policy 'p1,p2'
//   globusfs-auth session update --mfa        (session_required_mfa alone;
//                                              with others, " --mfa" is added)
//   globusfs-auth login
// nullopt when the error is not an auth requirement.
std::optional<std::string> RemedyCommand(const http::Error& e);

// The multi-line explanation globusfs-auth prints (ends with a newline).
std::string RemedyText(const http::Error& e);

// Exit code per the Globus CLI: 4 for consent/session/missing-login
// requirements; 1 for everything else (including a refused refresh token).
int ExitCodeFor(const http::Error& e);

// Single-quotes a word for a shell command line.
std::string ShellQuote(const std::string& s);

}  // namespace globusfs::auth
