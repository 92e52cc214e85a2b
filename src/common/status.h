// Status and Result<T>: errors as values (LevelDB style).
//
// A Status carries a small code (what kind of failure), a public reason (the stable
// machine-readable string the API returns, e.g. "version_conflict"), a user-facing
// message in Simplified Chinese, the input field it is about (JSON path, may be empty)
// and an internal detail for logs only (never sent to clients).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace doudi {

enum class Code {
  kOk,
  kInvalidArgument,     // 400
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kNotFound,            // 404
  kConflict,            // 409
  kFailedPrecondition,  // 409
  kTooLarge,            // 413
  kUnsupportedMediaType,  // 415
  kLocked,              // 423
  kInternal,            // 500
  kUnavailable,         // 503: the database cannot be reached
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string reason, std::string message, std::string field = {})
      : code_(code), reason_(std::move(reason)), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string field, std::string message) {
    return {Code::kInvalidArgument, "invalid_argument", std::move(message), std::move(field)};
  }
  static Status NotFound(std::string message = "资源不存在") {
    return {Code::kNotFound, "not_found", std::move(message)};
  }
  static Status PermissionDenied(std::string message = "无权执行此操作") {
    return {Code::kPermissionDenied, "permission_denied", std::move(message)};
  }
  static Status Unauthenticated(std::string message = "请先登录") {
    return {Code::kUnauthenticated, "unauthenticated", std::move(message)};
  }
  static Status Conflict(std::string field, std::string message) {
    return {Code::kConflict, "conflict", std::move(message), std::move(field)};
  }
  static Status VersionConflict() {
    return {Code::kConflict, "version_conflict", "该记录已被他人修改，请刷新后重试", "version"};
  }
  static Status FailedPrecondition(std::string message, std::string field = {}) {
    return {Code::kFailedPrecondition, "failed_precondition", std::move(message), std::move(field)};
  }
  // Internal errors: `detail` goes to the log only; the client sees a generic message.
  static Status Internal(std::string detail) {
    Status s{Code::kInternal, "internal", "服务器内部错误，请稍后重试"};
    s.detail_ = std::move(detail);
    return s;
  }

  // The database is unreachable (down, restarting, the connection lost) or busy: nothing was
  // written, worth a retry.
  static Status Unavailable(std::string detail, std::string message = "数据库暂时无法连接，请稍后重试") {
    Status s{Code::kUnavailable, "unavailable", std::move(message)};
    s.detail_ = std::move(detail);
    return s;
  }

  // The connection was lost after COMMIT was sent and before its answer: the write may or may
  // not have been committed, so "retry" would be the wrong advice (a retry could repeat it).
  static Status OutcomeUnknown(std::string detail) {
    Status s{Code::kInternal, "outcome_unknown", "数据库连接中断，操作结果未知，请刷新后核对再操作"};
    s.detail_ = std::move(detail);
    return s;
  }

  // A write was committed but its result could not be read back for the answer (the database
  // went away, the read log could not be written): saved, and not to be repeated.
  static Status CommittedUnread(std::string detail) {
    Status s{Code::kInternal, "committed_unread", "已保存成功，但读取结果失败，请刷新页面查看，勿重复提交"};
    s.detail_ = std::move(detail);
    return s;
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  const std::string& detail() const { return detail_.empty() ? message_ : detail_; }

  // Returns a copy whose field is prefixed, e.g. "citizen_id" → "members[1].citizen_id".
  Status WithFieldPrefix(const std::string& prefix) const {
    Status s = *this;
    if (!prefix.empty()) s.field_ = s.field_.empty() ? prefix : prefix + "." + s.field_;
    return s;
  }

 private:
  Code code_ = Code::kOk;
  std::string reason_;
  std::string message_;
  std::string field_;
  std::string detail_;
};

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                      // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace doudi

#define DOUDI_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::doudi::Status _st = (expr);          \
    if (!_st.ok()) return _st;             \
  } while (0)

#define DOUDI_CONCAT_INNER(a, b) a##b
#define DOUDI_CONCAT(a, b) DOUDI_CONCAT_INNER(a, b)
#define DOUDI_ASSIGN_OR_RETURN(lhs, expr) DOUDI_ASSIGN_OR_RETURN_IMPL(DOUDI_CONCAT(_res_, __LINE__), lhs, expr)
#define DOUDI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
