// Result<T>: either a value or an Error. Expected failures (network, HTTP,
// config) travel as Results, never as exceptions.
//
// Invariant: exactly one of value/error is held. Calling value() on an error
// (or error() on a value) is a programming bug; it throws
// std::bad_variant_access so a noexcept FUSE callback turns it into EIO.
//
// Thread-safety: a plain value type; no internal synchronisation.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "auth/http/error.h"

namespace globusfs::http {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  // Lets `return "text";` work for Result<std::string> and similar.
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
           !std::is_same_v<std::remove_cvref_t<U>, Error> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result>) Result(U&& value)  // NOLINT: implicit
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  void value() const {
    if (error_) throw std::bad_variant_access();
  }
  const Error& error() const& {
    if (!error_) throw std::bad_variant_access();
    return *error_;
  }
  Error&& error() && {
    if (!error_) throw std::bad_variant_access();
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

}  // namespace globusfs::http
