#include "cache/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

namespace globusfs::cache {
namespace {

constexpr uint32_t kPoly = 0x82F63B78;  // reflected Castagnoli polynomial

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

uint32_t Portable(const unsigned char* p, size_t n, uint32_t c) {
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    w ^= c;
    c = kTables[7][w & 0xFF] ^ kTables[6][(w >> 8) & 0xFF] ^ kTables[5][(w >> 16) & 0xFF] ^
        kTables[4][(w >> 24) & 0xFF] ^ kTables[3][(w >> 32) & 0xFF] ^ kTables[2][(w >> 40) & 0xFF] ^
        kTables[1][(w >> 48) & 0xFF] ^ kTables[0][w >> 56];
  }
  for (; n > 0; --n, ++p) c = (c >> 8) ^ kTables[0][(c ^ *p) & 0xFF];
  return c;
}

// a(x) * b(x) modulo the polynomial, in the reflected representation (bit
// 31 is x^0), as zlib's multmodp. `a` must not be 0.
uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31;
  uint32_t p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// x^(8 * n) modulo the polynomial: the operator that appends n zero bytes to
// a raw (not inverted) CRC register.
uint32_t ShiftOperator(size_t n) {
  static constexpr unsigned char kZeros[256] = {};
  uint32_t r = 1u << 31;  // x^0
  for (; n >= sizeof kZeros; n -= sizeof kZeros) r = Portable(kZeros, sizeof kZeros, r);
  return Portable(kZeros, n, r);
}

#if defined(__x86_64__)
// Three independent streams of kStripe bytes keep the crc32 unit busy (its
// latency is 3 cycles, its throughput 1 per cycle); their registers are then
// combined: crc(A B C) = shift(crc(A), 2 stripes) ^ shift(crc0(B), 1) ^ crc0(C).
constexpr size_t kStripe = 4096;
const uint32_t kShift1 = ShiftOperator(kStripe);
const uint32_t kShift2 = ShiftOperator(2 * kStripe);

__attribute__((target("sse4.2"))) uint32_t Hardware(const unsigned char* p, size_t n, uint32_t c) {
  uint64_t c64 = c;
  for (; n >= 3 * kStripe; n -= 3 * kStripe, p += 3 * kStripe) {
    uint64_t c1 = 0;
    uint64_t c2 = 0;
    for (size_t i = 0; i < kStripe; i += 8) {
      uint64_t w0, w1, w2;
      std::memcpy(&w0, p + i, 8);
      std::memcpy(&w1, p + kStripe + i, 8);
      std::memcpy(&w2, p + 2 * kStripe + i, 8);
      c64 = __builtin_ia32_crc32di(c64, w0);
      c1 = __builtin_ia32_crc32di(c1, w1);
      c2 = __builtin_ia32_crc32di(c2, w2);
    }
    c64 = MultModP(kShift2, static_cast<uint32_t>(c64)) ^
          MultModP(kShift1, static_cast<uint32_t>(c1)) ^ static_cast<uint32_t>(c2);
  }
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c64 = __builtin_ia32_crc32di(c64, w);
  }
  c = static_cast<uint32_t>(c64);
  for (; n > 0; --n, ++p) c = __builtin_ia32_crc32qi(c, *p);
  return c;
}

bool DetectHardware() {
  __builtin_cpu_init();  // needed when this runs in a static initializer
  return __builtin_cpu_supports("sse4.2");
}

// Before its initializer runs (another file's static init) this is false:
// the portable code, which gives the same result. Defined after kShift1 and
// kShift2, so Hardware never runs before they are set.
const bool kHaveHardware = DetectHardware();
#endif

}  // namespace

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
#if defined(__x86_64__)
  if (kHaveHardware) return ~Hardware(p, data.size(), ~crc);
#endif
  return ~Portable(p, data.size(), ~crc);
}

uint32_t Crc32cPortable(std::string_view data, uint32_t crc) {
  return ~Portable(reinterpret_cast<const unsigned char*>(data.data()), data.size(), ~crc);
}

}  // namespace globusfs::cache
