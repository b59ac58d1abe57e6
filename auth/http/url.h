// URL helpers shared by the HTTP clients: percent-encoding of components and
// form bodies, and the redacted URL form used in error messages.
//
// Invariant: RedactUrl output never contains user info, a query string or a
// fragment, so it is safe to log even for OAuth redirects carrying a code.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace globusfs::http {

// Ordered name/value pairs: request headers, form fields, query parameters.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded, as Python's urlencode: A-Z a-z 0-9 and
// "_.-~" kept, space as '+', every other byte as %XX (upper-case hex).
std::string FormEncode(const HeaderList& fields);

// RFC 3986 percent-encoding of one URL component (path segment or query
// value): unreserved characters kept, everything else %XX, space as %20.
std::string UrlEncodeComponent(std::string_view text);

// "scheme://host[:port]/path" of `url`, without user info, query or
// fragment: the only form of a URL that error messages contain.
std::string RedactUrl(std::string_view url);

}  // namespace globusfs::http
