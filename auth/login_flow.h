// The interactive part of a native-app login: getting the authorization
// code back from the user's browser.
//
//  - LocalRedirectServer: listens on 127.0.0.1 (and ::1 when available) on a
//    free port, redirect_uri "http://localhost:PORT/", and waits for the
//    browser's redirect carrying ?code=...&state=... (the Globus CLI's
//    default). The page it answers tells the user to return to the terminal.
//    Auth does not always redirect: a request it refuses outright (one
//    unknown scope) ends on Auth's own error page. A browser command that
//    can see this (tools/emulator-browser does) reports it at
//    "http://localhost:PORT/browser-report?state=S&status=N&page=TEXT", and
//    the wait ends at once with that page's text instead of timing out.
//  - OpenBrowser: runs $BROWSER (a "%s" in it is replaced by the URL, else
//    the URL is appended) or xdg-open, detached, never through a shell.
//  - ReadPastedCode: the --no-local-server path, reading the code from a stream.
//
// Not thread-safe; one login at a time.
#pragma once

#include <chrono>
#include <istream>
#include <memory>
#include <string>

#include "auth/http/result.h"

namespace globusfs::auth {

// The Error::code of a login that Auth refused with its own page.
inline constexpr const char* kAuthorizeRefused = "AuthorizeRefused";

class LocalRedirectServer {
 public:
  static http::Result<std::unique_ptr<LocalRedirectServer>> Listen();
  ~LocalRedirectServer();
  LocalRedirectServer(const LocalRedirectServer&) = delete;
  LocalRedirectServer& operator=(const LocalRedirectServer&) = delete;

  std::string redirect_uri() const;
  // Waits for the redirect. Errors: the state does not match (kConfig), the
  // user or Auth refused (kHttp with the OAuth error code), the browser
  // reported that Auth answered with a page of its own (kHttp, code
  // kAuthorizeRefused, the page's status and bounded one-line text), or the
  // timeout passed (kTimeout, with a message suggesting --no-local-server).
  // A report whose state is not this login's is ignored.
  http::Result<std::string> WaitForCode(const std::string& expected_state,
                                        std::chrono::seconds timeout);

 private:
  LocalRedirectServer() = default;
  int fd4_ = -1;
  int fd6_ = -1;
  uint16_t port_ = 0;
};

// Starts the browser on `url`. Errors (kConfig) when no browser can be run;
// the caller has printed the URL anyway.
http::Result<void> OpenBrowser(const std::string& url);

// Reads one code from `in` (whitespace trimmed). kConfig on EOF/empty.
http::Result<std::string> ReadPastedCode(std::istream& in);

}  // namespace globusfs::auth
