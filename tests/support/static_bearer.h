// StaticBearer: an http::Authorizer that sends "Bearer <token>" and never
// refreshes (contract tests that hold a token from testing::Login).
#pragma once

#include <string>
#include <utility>

#include "auth/http/http_client.h"

namespace globusfs::testing {

class StaticBearer final : public http::Authorizer {
 public:
  explicit StaticBearer(std::string token) : header_("Bearer " + std::move(token)) {}
  http::Result<std::string> AuthorizationHeader() override { return header_; }
  bool HandleUnauthorized() override { return false; }

 private:
  std::string header_;
};

}  // namespace globusfs::testing
