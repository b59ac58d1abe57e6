// A collection's HTTPS server (GCS v5 style, globus-api.md §6), mounted at
// /c/<collection id>/<path>: GET (whole or one byte Range), HEAD, PUT (whole
// file, written to a temporary file and renamed into place when complete).
// Each request needs a token for the collection's https scope; without one
// the answer is 401 + JSON when X-Requested-With: XMLHttpRequest is sent,
// else a 302 to Auth, as the real servers do.
//
// Thread-safety: stateless apart from Emulator; Handle() is reentrant.
#pragma once

#include <string>

#include "http_server.h"

namespace emu {

class Emulator;

class HttpsService {
 public:
  explicit HttpsService(Emulator& emu) : emu_(emu) {}
  Response Handle(Request& req, const std::string& route);

 private:
  Emulator& emu_;
};

}  // namespace emu
