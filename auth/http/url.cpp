#include "auth/http/url.h"

namespace globusfs::http {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void AppendEncoded(std::string_view text, bool space_as_plus, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else if (c == ' ' && space_as_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
}

}  // namespace

std::string FormEncode(const HeaderList& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    AppendEncoded(name, /*space_as_plus=*/true, out);
    out.push_back('=');
    AppendEncoded(value, /*space_as_plus=*/true, out);
  }
  return out;
}

std::string UrlEncodeComponent(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEncoded(text, /*space_as_plus=*/false, out);
  return out;
}

std::string RedactUrl(std::string_view url) {
  // Nothing after '?' or '#' is ever kept.
  url = url.substr(0, url.find_first_of("?#"));
  std::string out;
  const size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    out.append(url.substr(0, scheme_end + 3));
    url.remove_prefix(scheme_end + 3);
    const size_t authority_end = url.find('/');
    std::string_view authority = url.substr(0, authority_end);
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
      authority.remove_prefix(at + 1);
    }
    out.append(authority);
    url = authority_end == std::string_view::npos ? std::string_view() : url.substr(authority_end);
  }
  out.append(url);
  return out;
}

}  // namespace globusfs::http
