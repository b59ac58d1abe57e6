// delay_proxy --listen PORT --target PORT [--rtt-ms N] [--buffer-mib N]
//
// A TCP proxy on 127.0.0.1 that adds a round-trip time: bytes read from one
// side at time t are written to the other side at t + RTT/2 (default RTT
// 20 ms), in both directions, so every request/answer exchange through it
// takes at least RTT longer. The benchmarks put it in front of the emulator
// and sshd (loopback only, no netem in the kernel).
//
// --listen 0 picks a free port; the listening port is printed on stdout's
// first line either way. The target is connected once per accepted
// connection. Each direction of a connection has one thread and a queue of
// timestamped chunks, bounded by --buffer-mib (default 32 MiB): when it is
// full the proxy stops reading that side, so TCP pushes back on the sender.
// (So throughput is capped at buffer / (RTT/2), 3.2 GB/s with the defaults.)
// End of stream is passed on (shutdown SHUT_WR) once the queue has drained;
// an error on either side resets both.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Chunk {
  Clock::time_point due;
  std::vector<char> bytes;
  size_t sent = 0;
};

// Both sockets of one proxied connection; closed when both directions end.
struct Conn {
  int a = -1;  // the accepted client
  int b = -1;  // the target
  ~Conn() {
    ::close(a);
    ::close(b);
  }
};

Clock::duration g_delay{};
size_t g_buffer = size_t{32} << 20;
constexpr size_t kReadSize = 256 << 10;

// Writes as much of the queue's due chunks as `to` accepts without
// blocking. Returns false on a write error.
bool FlushDue(int to, std::deque<Chunk>& q, size_t& queued) {
  auto now = Clock::now();
  while (!q.empty() && q.front().due <= now) {
    Chunk& c = q.front();
    ssize_t n = ::send(to, c.bytes.data() + c.sent, c.bytes.size() - c.sent,
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.sent += static_cast<size_t>(n);
    if (c.sent < c.bytes.size()) return true;  // the socket is full: wait for POLLOUT
    queued -= c.bytes.size();
    q.pop_front();
  }
  return true;
}

// Copies `from` to `to` with the delay. Runs on its own thread.
void Pump(std::shared_ptr<Conn> conn, int from, int to) {
  std::deque<Chunk> q;
  std::vector<char> buf(kReadSize);
  size_t queued = 0;
  bool eof = false;
  bool ok = true;
  while (ok) {
    if (!FlushDue(to, q, queued)) {
      ok = false;
      break;
    }
    if (eof && q.empty()) break;
    // A negative fd is ignored by poll: watch only what can make progress.
    bool reading = !eof && queued < g_buffer;
    bool blocked = !q.empty() && q.front().due <= Clock::now();  // due but the socket is full
    pollfd fds[2] = {{reading ? from : -1, POLLIN, 0}, {blocked ? to : -1, POLLOUT, 0}};
    timespec ts{};
    timespec* timeout = nullptr;
    if (!q.empty() && !blocked) {
      auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(q.front().due - Clock::now());
      if (wait.count() < 0) wait = std::chrono::nanoseconds(0);
      ts.tv_sec = static_cast<time_t>(wait.count() / 1000000000);
      ts.tv_nsec = static_cast<long>(wait.count() % 1000000000);
      timeout = &ts;
    }
    int r = ::ppoll(fds, 2, timeout, nullptr);
    if (r < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    if (fds[1].revents & (POLLERR | POLLNVAL)) {
      ok = false;
      break;
    }
    if (reading && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::recv(from, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n > 0) {
        // An exact-size copy, so that the queue's memory is what it counts.
        queued += static_cast<size_t>(n);
        q.push_back(Chunk{Clock::now() + g_delay, std::vector<char>(buf.data(), buf.data() + n), 0});
      } else if (n == 0) {
        eof = true;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ok = false;
      }
    }
  }
  if (ok) {
    ::shutdown(to, SHUT_WR);  // pass the end of stream on
  } else {
    // Reset both sides: the other direction's thread wakes up and ends too.
    linger lg{1, 0};
    ::setsockopt(conn->a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::setsockopt(conn->b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::shutdown(conn->a, SHUT_RDWR);
    ::shutdown(conn->b, SHUT_RDWR);
  }
}

int Listen(uint16_t port, uint16_t* bound) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound = ntohs(addr.sin_port);
  return fd;
}

int ConnectTarget(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool ParsePort(const char* s, long max, long* out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > max) return false;
  *out = v;
  return true;
}

int Usage() {
  std::fprintf(stderr, "usage: delay_proxy --listen PORT --target PORT [--rtt-ms N] [--buffer-mib N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long listen_port = -1, target_port = -1, rtt_ms = 20, buffer_mib = 32;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* v = argv[++i];
    bool good = a == "--listen"       ? ParsePort(v, 65535, &listen_port)
                : a == "--target"     ? ParsePort(v, 65535, &target_port) && target_port > 0
                : a == "--rtt-ms"     ? ParsePort(v, 600000, &rtt_ms)
                : a == "--buffer-mib" ? ParsePort(v, 4096, &buffer_mib) && buffer_mib > 0
                                      : false;
    if (!good) return Usage();
  }
  if (listen_port < 0 || target_port < 0) return Usage();
  g_delay = std::chrono::microseconds(rtt_ms * 500);  // half the round trip each way
  g_buffer = static_cast<size_t>(buffer_mib) << 20;
  ::signal(SIGPIPE, SIG_IGN);

  uint16_t bound = 0;
  int lfd = Listen(static_cast<uint16_t>(listen_port), &bound);
  if (lfd < 0) {
    std::fprintf(stderr, "delay_proxy: cannot listen on 127.0.0.1:%ld: %s\n", listen_port,
                 std::strerror(errno));
    return 1;
  }
  std::printf("%u\n", bound);
  std::fflush(stdout);

  for (;;) {
    int cfd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (cfd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE) ::usleep(10000);
        continue;
      }
      std::perror("delay_proxy: accept");
      return 1;
    }
    int tfd = ConnectTarget(static_cast<uint16_t>(target_port));
    if (tfd < 0) {
      std::fprintf(stderr, "delay_proxy: cannot reach 127.0.0.1:%ld: %s\n", target_port,
                   std::strerror(errno));
      ::close(cfd);
      continue;
    }
    int one = 1;
    ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(tfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto conn = std::make_shared<Conn>();
    conn->a = cfd;
    conn->b = tfd;
    std::thread(Pump, conn, cfd, tfd).detach();
    std::thread(Pump, conn, tfd, cfd).detach();
  }
}
