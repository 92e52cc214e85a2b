// The match engine's public helpers on ids and rows: problem names, one id validated, today,
// and a row split for tools and tests.
#include "common/date.h"
#include "monitoring/match_rows.h"

namespace doudi::monitoring {

using namespace engine;

const char* IdProblemReason(IdProblem problem) {
  switch (problem) {
    case IdProblem::kNone: return "ok";
    case IdProblem::kMissingColumn: return "missing_column";
    case IdProblem::kLength: return "length";
    case IdProblem::kNotDigits: return "not_digits";
    case IdProblem::kCheckSyntax: return "check_syntax";
    case IdProblem::kBadBirthDate: return "bad_birth_date";
    case IdProblem::kFutureBirthDate: return "future_birth_date";
    case IdProblem::kCheckMismatch: return "check_mismatch";
    case IdProblem::kDuplicate: return "duplicate";
  }
  return "unknown";
}

const char* IdProblemMessage(IdProblem problem) {
  switch (problem) {
    case IdProblem::kNone: return "";
    case IdProblem::kMissingColumn: return "缺少身份证号列";
    case IdProblem::kLength: return "身份证号应为18位";
    case IdProblem::kNotDigits: return "身份证号前17位应为数字";
    case IdProblem::kCheckSyntax: return "身份证号校验位应为数字或X";
    case IdProblem::kBadBirthDate: return "身份证号中的出生日期无效";
    case IdProblem::kFutureBirthDate: return "身份证号中的出生日期晚于今天";
    case IdProblem::kCheckMismatch: return "身份证号校验位错误";
    case IdProblem::kDuplicate: return "身份证号重复";
  }
  return "未知错误";
}

IdProblem ValidateAndPackCitizenId(std::string_view id, uint32_t today, uint64_t* packed) {
  if (id.size() != 18) return IdProblem::kLength;
  return ValidatePack18(id.data(), today, packed);
}

uint32_t TodayYyyymmdd() {
  const std::string t = TodayShanghai();  // YYYY-MM-DD
  uint32_t v = 0;
  for (char c : t)
    if (c >= '0' && c <= '9') v = v * 10 + static_cast<uint32_t>(c - '0');
  return v;
}

std::vector<std::string> SplitCsvRow(std::string_view row, char delimiter) {
  std::string arena;
  std::vector<FieldRef> refs;
  SplitInto(row.data(), row.data() + row.size(), delimiter, &arena, &refs);
  std::vector<std::string> out;
  out.reserve(refs.size());
  for (const FieldRef& f : refs) out.emplace_back(arena, f.offset, f.size);
  return out;
}

}  // namespace doudi::monitoring
