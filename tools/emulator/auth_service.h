// The emulator's Globus Auth (/v2/...): authorize (auto-approves as the
// configured identity, honouring PKCE and the session parameters), the
// copy-and-paste code page, token (authorization_code, refresh_token),
// revoke, introspect (session_info), validate, userinfo, identities,
// templated clients, the OIDC configuration and JWKS. globus-api.md §4, §5.
//
// Thread-safety: Handle() is called concurrently; all state is in State.
#pragma once

#include <string>

#include "http_server.h"

namespace emu {

class Emulator;

class AuthService {
 public:
  explicit AuthService(Emulator& emu) : emu_(emu) {}
  Response Handle(Request& req, const std::string& route);

 private:
  Response Authorize(Request& req);
  Response AuthCodePage(Request& req);
  Response Token(Request& req);
  Response Revoke(Request& req);
  Response Introspect(Request& req, bool validate_only);
  Response UserInfo(Request& req);
  Response Identities(Request& req);
  Response CreateClient(Request& req);
  Response OpenIdConfiguration();
  Response Jwks();

  Emulator& emu_;
};

}  // namespace emu
