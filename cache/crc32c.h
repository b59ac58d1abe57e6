// CRC-32C (Castagnoli), the checksum BlockCache keeps for each block. Uses
// the SSE4.2 crc32 instruction on three interleaved streams when the CPU has
// it (tens of GB/s, so reading through the cache is not CPU-bound on the
// checksum), else a portable slicing-by-8 table. Both give the same result (the standard CRC-32C:
// Crc32c("123456789") == 0xE3069283). Internal to cache/.
//
// Thread-safety: stateless (the tables are constant); safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace globusfs::cache {

// CRC-32C of `data`, continuing from `crc` (the CRC of the bytes before it;
// 0 to start), so Crc32c(b, Crc32c(a)) == Crc32c(a + b).
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);
// The same, always with the portable code (for tests).
uint32_t Crc32cPortable(std::string_view data, uint32_t crc = 0);

}  // namespace globusfs::cache
