// The session requirements a high-assurance collection enforces on Transfer
// and HTTPS requests (globus-api.md §3.4): the primary identity must have
// authenticated within the collection's authentication timeout and, where
// the collection requires it (--mfa-required), with multi-factor
// authentication. Pure apart from reading the Auth session; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "config.h"

namespace emu {

class Emulator;

// nullopt when the session satisfies `c` (or `c` is not high assurance);
// else the authorization_parameters of the error to answer with:
// session_message and prompt "login", plus session_required_identities
// [primary] when the authentication is too old (or missing) and
// session_required_mfa true when MFA is required but was not used.
std::optional<nlohmann::json> SessionShortfall(Emulator& emu, const Collection& c);

}  // namespace emu
