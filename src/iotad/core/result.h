#pragma once
// Result<T>: expected failures as values (Arrow's style). Third-party exceptions are caught in
// the one adapter that calls the library and turned into a Status here.
#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace iotad {

/// The one error-code enum of the project. Messages carry the detail; codes drive exit codes.
enum class Errc {
  kOk = 0,
  kInvalidArgument,  // bad flag, bad config key or value
  kNotFound,         // missing lake, file, object
  kIo,               // the OS refused a read or write
  kParse,            // a whole input could not be parsed (rows go to quarantine, not here)
  kConflict,         // another writer holds the lake, or state disagrees
  kCorrupt,          // lake state is damaged
  kInternal,         // a bug or a library failure
};

const char* ErrcName(Errc code);

/// Status: Ok, or an error code with one sentence saying what was expected and where.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  bool ok() const { return code_ == Errc::kOk; }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }
  /// Prefixes the message with context, e.g. "silver: ".
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, fmt::format("{}{}", context, message_));
  }

 private:
  Errc code_ = Errc::kOk;
  std::string message_;
};

template <typename... Args>
Status Error(Errc code, fmt::format_string<Args...> format, Args&&... args) {
  return Status(code, fmt::format(format, std::forward<Args>(args)...));
}

/// Result<T>: a value or a non-Ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace iotad

#define IOTAD_CONCAT_INNER(a, b) a##b
#define IOTAD_CONCAT(a, b) IOTAD_CONCAT_INNER(a, b)

/// Returns the Status from the enclosing function when `expr` is not Ok.
#define IOTAD_TRY(expr)                              \
  do {                                               \
    ::iotad::Status iotad_try_status_ = (expr);      \
    if (!iotad_try_status_.ok()) return iotad_try_status_; \
  } while (0)

#define IOTAD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

/// `IOTAD_ASSIGN_OR_RETURN(auto x, Compute());` binds the value or returns the error.
#define IOTAD_ASSIGN_OR_RETURN(lhs, expr) \
  IOTAD_ASSIGN_OR_RETURN_IMPL(IOTAD_CONCAT(iotad_result_, __LINE__), lhs, expr)
