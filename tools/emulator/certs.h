// TLS for globus-emulator: a private CA and a server certificate for
// 127.0.0.1 / localhost, made with OpenSSL.
//
// The CA (DIR/ca.pem, DIR/ca-key.pem) is made once and kept, so clients
// that trusted it keep working across emulator restarts; the server
// certificate is signed afresh at each start. Not thread-safe (start-up only).
#pragma once

#include <filesystem>

#include "http_server.h"

namespace emu {

// Returns the server certificate and key; writes DIR/ca.pem. Throws
// std::runtime_error on an OpenSSL or file error.
TlsIdentity LoadOrCreateTls(const std::filesystem::path& dir);

}  // namespace emu
