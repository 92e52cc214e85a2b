#include "common/json_input.h"

#include "common/text.h"

namespace doudi {
namespace {
// Text fields never hold control characters (NUL would be cut by C APIs; others break
// exports and notices) nor invisible format characters (bidirectional controls make a name
// read differently from what it is): common/text.h.
bool HasControlChar(const std::string& s) { return HasForbiddenChar(s); }
constexpr const char* kForbiddenMessage = "不能包含控制字符或不可见的格式字符（如双向文本控制符）";
}  // namespace

FieldReader::FieldReader(const nlohmann::json& obj, std::string path) : obj_(obj), path_(std::move(path)) {
  if (!obj_.is_object()) status_ = Status::InvalidArgument(path_, "应为 JSON 对象");
}

const nlohmann::json* FieldReader::Find(const char* key, bool required) {
  if (!status_.ok()) return nullptr;
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) {
    if (required) Fail(Status::InvalidArgument(PathOf(key), "缺少必填项"));
    return nullptr;
  }
  return &*it;
}

std::string FieldReader::String(const char* key, bool required, std::string def) {
  const auto* v = Find(key, required);
  if (!v) return def;
  if (!v->is_string()) {
    Fail(Status::InvalidArgument(PathOf(key), "应为字符串"));
    return def;
  }
  std::string s = v->get<std::string>();
  if (HasControlChar(s)) Fail(Status::InvalidArgument(PathOf(key), kForbiddenMessage));
  if (required && s.empty()) Fail(Status::InvalidArgument(PathOf(key), "不能为空"));
  return s;
}

std::optional<std::string> FieldReader::OptString(const char* key) {
  const auto* v = Find(key, false);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Fail(Status::InvalidArgument(PathOf(key), "应为字符串"));
    return std::nullopt;
  }
  std::string s = v->get<std::string>();
  if (HasControlChar(s)) Fail(Status::InvalidArgument(PathOf(key), kForbiddenMessage));
  return s;
}

int64_t FieldReader::Int(const char* key, bool required, int64_t def) {
  const auto* v = Find(key, required);
  if (!v) return def;
  if (!v->is_number_integer()) {
    Fail(Status::InvalidArgument(PathOf(key), "应为整数"));
    return def;
  }
  return v->get<int64_t>();
}

std::optional<int64_t> FieldReader::OptInt(const char* key) {
  const auto* v = Find(key, false);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    Fail(Status::InvalidArgument(PathOf(key), "应为整数"));
    return std::nullopt;
  }
  return v->get<int64_t>();
}

int64_t FieldReader::IntIn(const char* key, bool required, int64_t lo, int64_t hi, const std::string& message) {
  const auto* v = Find(key, required);
  if (!v) return lo;
  // Unsigned values above INT64_MAX and floats are out of range as much as wrong in type.
  if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))) {
    Fail(Status::InvalidArgument(PathOf(key), message));
    return lo;
  }
  int64_t n = v->get<int64_t>();
  if (n < lo || n > hi) {
    Fail(Status::InvalidArgument(PathOf(key), message));
    return lo;
  }
  return n;
}

int64_t FieldReader::Fen(const char* key, bool required) {
  const auto* v = Find(key, required);
  if (!v) return 0;
  if (!v->is_number_integer()) {
    Fail(Status::InvalidArgument(PathOf(key), "金额应为以分为单位的整数"));
    return 0;
  }
  int64_t n = v->get<int64_t>();
  if (n < 0) Fail(Status::InvalidArgument(PathOf(key), "金额不能为负数"));
  if (n > 100'000'000'000LL) Fail(Status::InvalidArgument(PathOf(key), "金额超出合理范围"));
  return n;
}

bool FieldReader::Bool(const char* key, bool required, bool def) {
  const auto* v = Find(key, required);
  if (!v) return def;
  if (!v->is_boolean()) {
    Fail(Status::InvalidArgument(PathOf(key), "应为 true 或 false"));
    return def;
  }
  return v->get<bool>();
}

std::optional<bool> FieldReader::OptBool(const char* key) {
  const auto* v = Find(key, false);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(Status::InvalidArgument(PathOf(key), "应为 true 或 false"));
    return std::nullopt;
  }
  return v->get<bool>();
}

const nlohmann::json* FieldReader::Object(const char* key, bool required, bool nullable) {
  if (!status_.ok()) return nullptr;
  auto it = obj_.find(key);
  if (it == obj_.end() || (it->is_null() && nullable)) {
    if (required && it == obj_.end()) Fail(Status::InvalidArgument(PathOf(key), "缺少必填项"));
    return nullptr;
  }
  if (!it->is_object()) {
    Fail(Status::InvalidArgument(PathOf(key), "应为 JSON 对象"));
    return nullptr;
  }
  return &*it;
}

const nlohmann::json* FieldReader::Array(const char* key, bool required) {
  const auto* v = Find(key, required);
  if (!v) return nullptr;
  if (!v->is_array()) {
    Fail(Status::InvalidArgument(PathOf(key), "应为数组"));
    return nullptr;
  }
  return v;
}

Result<nlohmann::json> ParseJsonObject(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(Code::kInvalidArgument, "malformed_json", "请求体不是有效的 JSON");
  if (!j.is_object()) return Status(Code::kInvalidArgument, "malformed_json", "请求体应为 JSON 对象");
  return j;
}

}  // namespace doudi
