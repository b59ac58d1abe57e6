#include "session_check.h"

#include <algorithm>

#include "emulator.h"
#include "util.h"

namespace emu {

std::optional<nlohmann::json> SessionShortfall(Emulator& emu, const Collection& c) {
  if (!c.high_assurance) return std::nullopt;
  const std::string& primary = emu.config().identity.id;
  struct Seen {
    std::optional<int64_t> when;
    bool mfa = false;
  };
  Seen seen = emu.state().With([&](StateData& d) {
    Seen s;
    if (auto t = d.session.auth_times.find(primary); t != d.session.auth_times.end()) s.when = t->second;
    if (auto a = d.session.amr.find(primary); a != d.session.amr.end()) {
      s.mfa = std::find(a->second.begin(), a->second.end(), "mfa") != a->second.end();
    }
    return s;
  });
  const bool stale = !seen.when || NowEpoch() - *seen.when > c.auth_timeout_s;
  const bool no_mfa = c.mfa_required && !seen.mfa;
  if (!stale && !no_mfa) return std::nullopt;
  nlohmann::json params = {{"session_message", "Session reauthentication required (Globus Transfer)"},
                           {"prompt", "login"}};
  if (stale) params["session_required_identities"] = nlohmann::json::array({primary});
  if (no_mfa) params["session_required_mfa"] = true;
  return params;
}

}  // namespace emu
