// Small helpers shared by the emulator's services: identifiers, time
// formats, hashing, base64url. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emu {

// Random version-4 UUID (OpenSSL RAND_bytes).
std::string NewUuid();
// Name-based version-5 UUID: the same name always gives the same id, so
// identities and the demo client keep their ids across restarts.
std::string NameUuid(std::string_view name);
bool LooksLikeUuid(std::string_view s);
// Random URL-safe token with a readable prefix, e.g. "emu-at-3f9c...".
std::string NewToken(std::string_view prefix, size_t random_bytes = 24);
// Short random request id, like Transfer's ("ShbIUzrWT").
std::string NewRequestId();

int64_t NowEpoch();       // seconds since the epoch (system clock)
int64_t NowEpochMs();
// Transfer file times: "2020-09-23 18:53:12+00:00" (a space, UTC).
std::string FileTime(int64_t epoch);
// Task and event times: "2021-01-15T18:13:11+00:00".
std::string IsoTime(int64_t epoch);
// Parses either of the above (and a bare date "2021-01-15"); -1 if invalid.
int64_t ParseTime(std::string_view s);

std::string Sha256Hex(std::string_view data);
std::string Sha256(std::string_view data);  // raw 32 bytes
std::string Sha512(std::string_view data);  // raw 64 bytes
std::string Base64Url(std::string_view data);   // no padding
std::string Base64UrlDecode(std::string_view s);  // empty on error
std::string Base64(std::string_view data);
std::string Base64Decode(std::string_view s);

// "a, b,,c" -> {"a", "b", "c"}: comma-separated values, trimmed, empties dropped.
std::vector<std::string> SplitComma(std::string_view s);

}  // namespace emu
