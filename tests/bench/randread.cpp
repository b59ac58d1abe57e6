// randread FILE COUNT [BLOCK]: COUNT random BLOCK-byte preads (default 4096)
// at offsets spread over FILE; prints "p50_ms p90_ms p99_ms mean_ms" for the
// benchmark scripts. Offsets come from a fixed seed, so runs compare.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: randread FILE COUNT [BLOCK]\n");
    return 2;
  }
  int fd = ::open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::perror(argv[1]);
    return 1;
  }
  struct stat st {};
  ::fstat(fd, &st);
  int count = std::atoi(argv[2]);
  size_t block = argc > 3 ? static_cast<size_t>(std::atol(argv[3])) : 4096;
  if (st.st_size < static_cast<off_t>(block) || count <= 0) {
    std::fprintf(stderr, "randread: file too small or bad count\n");
    return 2;
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<off_t> pick(0, (st.st_size - static_cast<off_t>(block)) / 4096);
  std::vector<char> buf(block);
  std::vector<double> ms;
  for (int i = 0; i < count; ++i) {
    off_t off = pick(rng) * 4096;
    auto t0 = std::chrono::steady_clock::now();
    ssize_t n = ::pread(fd, buf.data(), block, off);
    auto t1 = std::chrono::steady_clock::now();
    if (n < 0) {
      std::perror("pread");
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))]; };
  std::printf("%.3f %.3f %.3f %.3f\n", pct(0.5), pct(0.9), pct(0.99), sum / ms.size());
  return 0;
}
