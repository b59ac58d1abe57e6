#include "auth/login_flow.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace globusfs::auth {

using http::ErrorKind;
using http::MakeError;

namespace {

constexpr const char* kDonePage =
    "<!doctype html><title>globusfs login</title>"
    "<h1>Login complete</h1><p>You may close this window and return to your terminal.</p>\n";
constexpr const char* kReportedPage =
    "<!doctype html><title>globusfs login</title>"
    "<h1>Report received</h1><p>globusfs-auth stopped waiting for this login.</p>\n";
constexpr const char* kFailPage =
    "<!doctype html><title>globusfs login</title>"
    "<h1>Login failed</h1><p>Return to your terminal for details.</p>\n";

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    auto eq = part.find('=');
    if (eq != std::string_view::npos) out[PercentDecode(part.substr(0, eq))] = PercentDecode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

void Reply(int fd, int status, const char* body) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Bad Request") +
                     "\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
                     "Content-Length: " + std::to_string(std::strlen(body)) + "\r\n\r\n" + body;
  size_t off = 0;
  while (off < head.size()) {
    ssize_t w = ::send(fd, head.data() + off, head.size() - off, MSG_NOSIGNAL);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
}

// Reads the request head (bounded, with a short timeout); returns the target.
std::string ReadRequestTarget(int fd) {
  std::string buf;
  char tmp[2048];
  while (buf.find("\r\n") == std::string::npos && buf.size() < 16384) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
  }
  auto line = buf.substr(0, buf.find("\r\n"));
  auto sp1 = line.find(' ');
  auto sp2 = line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return {};
  return line.substr(sp1 + 1, sp2 - sp1 - 1);
}

// The text of a browser's report, made fit for one line of a message: no
// control characters, runs of blanks as one space, at most 400 bytes.
std::string OneLine(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    bool blank = c < 0x20 || c == 0x7f || c == ' ';
    if (blank) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return http::TruncateUtf8(out, 400);
}

}  // namespace

http::Result<std::unique_ptr<LocalRedirectServer>> LocalRedirectServer::Listen() {
  std::unique_ptr<LocalRedirectServer> s(new LocalRedirectServer());
  s->fd4_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s->fd4_ < 0 || ::bind(s->fd4_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(s->fd4_, 16) != 0) {
    return MakeError(ErrorKind::kConfig, std::string("cannot listen on 127.0.0.1 for the login "
                                                     "redirect: ") + std::strerror(errno) +
                                             "; use --no-local-server");
  }
  socklen_t len = sizeof(a);
  ::getsockname(s->fd4_, reinterpret_cast<sockaddr*>(&a), &len);
  s->port_ = ntohs(a.sin_port);
  // "localhost" may resolve to ::1 first; listen there too when we can.
  s->fd6_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->fd6_ >= 0) {
    int one = 1;
    ::setsockopt(s->fd6_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    sockaddr_in6 a6{};
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
    a6.sin6_port = htons(s->port_);
    if (::bind(s->fd6_, reinterpret_cast<sockaddr*>(&a6), sizeof(a6)) != 0 || ::listen(s->fd6_, 16) != 0) {
      ::close(s->fd6_);
      s->fd6_ = -1;
    }
  }
  return s;
}

LocalRedirectServer::~LocalRedirectServer() {
  if (fd4_ >= 0) ::close(fd4_);
  if (fd6_ >= 0) ::close(fd6_);
}

std::string LocalRedirectServer::redirect_uri() const {
  return "http://localhost:" + std::to_string(port_) + "/";
}

http::Result<std::string> LocalRedirectServer::WaitForCode(const std::string& expected_state,
                                                           std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return MakeError(ErrorKind::kTimeout,
                       "timed out after " + std::to_string(timeout.count()) +
                           " s waiting for the browser to finish the login; run "
                           "'globusfs-auth login --no-local-server' to paste the code instead");
    }
    std::vector<pollfd> fds = {{fd4_, POLLIN, 0}};
    if (fd6_ >= 0) fds.push_back({fd6_, POLLIN, 0});
    int r = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) return MakeError(ErrorKind::kNetwork, "poll failed while waiting for the login");
    if (r <= 0) continue;
    for (const auto& p : fds) {
      if (!(p.revents & POLLIN)) continue;
      int c = ::accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string target = ReadRequestTarget(c);
      auto q = target.find('?');
      auto params = q == std::string::npos ? std::map<std::string, std::string>{}
                                           : ParseQuery(std::string_view(target).substr(q + 1));
      if (target.substr(0, q) == "/browser-report") {
        bool ours = params["state"] == expected_state;
        Reply(c, ours ? 200 : 400, ours ? kReportedPage : kFailPage);
        ::close(c);
        if (!ours) continue;  // not this login's browser
        char* end = nullptr;
        long status = std::strtol(params["status"].c_str(), &end, 10);
        bool known = !params["status"].empty() && *end == '\0' && status >= 100 && status <= 599;
        http::Error e = MakeError(
            ErrorKind::kHttp,
            "Globus Auth refused the login request" +
                (known ? " (HTTP " + std::to_string(status) + ")" : std::string()) +
                ": it showed its own page instead of sending the browser back to globusfs-auth:\n  " +
                OneLine(params["page"]));
        e.code = kAuthorizeRefused;
        e.http_status = known ? static_cast<int>(status) : 0;
        return e;
      }
      if (params.count("error")) {
        Reply(c, 400, kFailPage);
        ::close(c);
        std::string desc = params.count("error_description") ? params["error_description"] : "";
        http::Error e = MakeError(ErrorKind::kHttp, "Globus Auth refused the login: " + params["error"] +
                                                        (desc.empty() ? "" : " (" + desc + ")"));
        e.code = params["error"];
        return e;
      }
      if (!params.count("code")) {  // favicon, probes: not ours
        Reply(c, 400, kFailPage);
        ::close(c);
        continue;
      }
      if (params["state"] != expected_state) {
        Reply(c, 400, kFailPage);
        ::close(c);
        return MakeError(ErrorKind::kConfig,
                         "the login redirect carried the wrong state; it may not come from this login. "
                         "Try again");
      }
      Reply(c, 200, kDonePage);
      ::close(c);
      return params["code"];
    }
  }
}

http::Result<void> OpenBrowser(const std::string& url) {
  std::vector<std::string> argv;
  const char* browser = std::getenv("BROWSER");
  if (browser && *browser) {
    // $BROWSER may hold arguments; split on spaces (no shell), "%s" -> URL.
    std::string b = browser;
    bool placed = false;
    size_t i = 0;
    while (i < b.size()) {
      while (i < b.size() && b[i] == ' ') ++i;
      size_t j = b.find(' ', i);
      if (j == std::string::npos) j = b.size();
      if (j > i) {
        std::string word = b.substr(i, j - i);
        if (auto pos = word.find("%s"); pos != std::string::npos) {
          word.replace(pos, 2, url);
          placed = true;
        }
        argv.push_back(word);
      }
      i = j;
    }
    if (!placed) argv.push_back(url);
  } else {
    argv = {"xdg-open", url};
  }
  // Double fork: the browser is not our child, so nothing waits on it.
  pid_t pid = ::fork();
  if (pid < 0) return MakeError(ErrorKind::kConfig, "cannot start a browser (fork failed)");
  if (pid == 0) {
    if (::fork() != 0) std::_Exit(0);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {};
}

http::Result<std::string> ReadPastedCode(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) {
    return MakeError(ErrorKind::kConfig, "no authorization code was entered");
  }
  size_t b = line.find_first_not_of(" \t\r\n");
  size_t e = line.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return MakeError(ErrorKind::kConfig, "no authorization code was entered");
  return line.substr(b, e - b + 1);
}

}  // namespace globusfs::auth
