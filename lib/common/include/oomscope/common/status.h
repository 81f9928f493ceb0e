#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace oomscope {

// Error codes, after leveldb's Status and absl's canonical codes: few, and each one tells the
// caller what it can do about it.
enum class Code {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong; retrying the same call will not help
  kNotFound,            // the thing named does not exist
  kAlreadyExists,       // created before (idempotent writes report this, not an error)
  kConflict,            // lost a race (HTTP 409): re-read and try again
  kGone,                // the version asked for is too old (HTTP 410): start over from a fresh list
  kPermissionDenied,    // authenticated but not allowed (HTTP 403)
  kUnauthenticated,     // no or bad credentials (HTTP 401)
  kUnavailable,         // the peer is down or the connection broke: retry with backoff
  kDeadlineExceeded,    // timed out: retry with backoff
  kCorruption,          // the data is malformed (a truncated or invalid snapshot)
  kResourceExhausted,   // out of a bounded resource: disk, memory budget, a size limit
  kFailedPrecondition,  // the system is not in a state that allows the call
  kCancelled,           // the caller asked to stop
  kInternal,            // a bug: an invariant did not hold
};

std::string_view CodeName(Code code);

// The result of an operation that can fail. Cheap to move; an OK status carries no message.
// Thread-compatible.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Whether the same call may succeed later without a change of input.
  bool retryable() const {
    return code_ == Code::kUnavailable || code_ == Code::kDeadlineExceeded ||
           code_ == Code::kConflict || code_ == Code::kGone;
  }

  // "Corruption: nodes[12] at byte 4711: ..." (or "OK").
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {Code::kFailedPrecondition, std::move(m)}; }

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Preconditions: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace oomscope

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define OOMSCOPE_RETURN_IF_ERROR(expr)          \
  do {                                          \
    ::oomscope::Status _st = (expr);            \
    if (!_st.ok()) return _st;                  \
  } while (0)
