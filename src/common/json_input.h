// Reading request JSON into typed values with field-level errors.
//
// FieldReader walks one JSON object; each getter records the first error (wrong type or
// missing required field) with its full JSON path, e.g. "members[1].monthly_income_fen.wage",
// and later getters become no-ops. Check status() once at the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace doudi {

class FieldReader {
 public:
  // `obj` must outlive the reader. A non-object records an error for `path`.
  FieldReader(const nlohmann::json& obj, std::string path);

  std::string String(const char* key, bool required, std::string def = {});
  std::optional<std::string> OptString(const char* key);
  int64_t Int(const char* key, bool required, int64_t def = 0);
  std::optional<int64_t> OptInt(const char* key);
  // An integer in [lo, hi]; anything else (another type, a float, a value out of range, however
  // large) records `message` for the field. Returns lo when absent or wrong.
  int64_t IntIn(const char* key, bool required, int64_t lo, int64_t hi, const std::string& message);
  // Non-negative amount in fen (integer); floats and negatives are errors.
  int64_t Fen(const char* key, bool required);
  bool Bool(const char* key, bool required, bool def = false);
  std::optional<bool> OptBool(const char* key);
  // Returns nullptr when absent (or null and !required); records an error for wrong types.
  const nlohmann::json* Object(const char* key, bool required, bool nullable = false);
  const nlohmann::json* Array(const char* key, bool required);

  std::string PathOf(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }
  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  const nlohmann::json* Find(const char* key, bool required);
  const nlohmann::json& obj_;
  std::string path_;
  Status status_;
};

// Parses a request body: 400 malformed_json when it is not a JSON object.
Result<nlohmann::json> ParseJsonObject(const std::string& body);

}  // namespace doudi
