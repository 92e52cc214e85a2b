#include "common/citizen_id.h"

#include "common/date.h"

namespace doudi {
namespace {
constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr char kCheck[12] = "10X98765432";

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
}  // namespace

char CitizenIdCheckChar(std::string_view first17) {
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return kCheck[sum % 11];
}

Result<CitizenIdInfo> ParseCitizenId(std::string_view id) {
  const std::string field = "citizen_id";
  if (id.size() != 18) return Status::InvalidArgument(field, "身份证号应为18位");
  if (!AllDigits(id.substr(0, 17))) return Status::InvalidArgument(field, "身份证号前17位应为数字");
  char last = id[17];
  if (last == 'x') last = 'X';
  if (!((last >= '0' && last <= '9') || last == 'X'))
    return Status::InvalidArgument(field, "身份证号校验位应为数字或X");
  int y = std::stoi(std::string(id.substr(6, 4)));
  int m = std::stoi(std::string(id.substr(10, 2)));
  int d = std::stoi(std::string(id.substr(12, 2)));
  if (!IsValidDate(y, m, d) || y < 1900) return Status::InvalidArgument(field, "身份证号中的出生日期无效");
  CitizenIdInfo info;
  info.birth_date = FormatDate(y, m, d);
  if (info.birth_date > TodayShanghai()) return Status::InvalidArgument(field, "身份证号中的出生日期晚于今天");
  if (CitizenIdCheckChar(id) != last) return Status::InvalidArgument(field, "身份证号校验位错误");
  info.normalized = std::string(id.substr(0, 17)) + last;
  info.male = ((id[16] - '0') % 2) == 1;
  return info;
}

std::string MaskCitizenId(std::string_view id) {
  if (id.size() != 18) return std::string(id.size(), '*');
  return std::string(id.substr(0, 6)) + "********" + std::string(id.substr(14));
}

uint64_t PackCitizenId(std::string_view id) {
  uint64_t v = 0;
  for (int i = 0; i < 17; ++i) v = v * 10 + static_cast<uint64_t>(id[i] - '0');
  uint64_t check = id[17] == 'X' ? 10 : static_cast<uint64_t>(id[17] - '0');
  return v * 11 + check;
}

RegionLevel LevelOfCode(std::string_view code) {
  if (!AllDigits(code)) return RegionLevel::kInvalid;
  switch (code.size()) {
    case 6: return RegionLevel::kCounty;
    case 9: return RegionLevel::kTown;
    case 12: return RegionLevel::kVillage;
    default: return RegionLevel::kInvalid;
  }
}

const char* RegionLevelName(RegionLevel level) {
  switch (level) {
    case RegionLevel::kCounty: return "county";
    case RegionLevel::kTown: return "town";
    case RegionLevel::kVillage: return "village";
    default: return "invalid";
  }
}

const char* ScopeColumn(std::string_view code) {
  switch (LevelOfCode(code)) {
    case RegionLevel::kCounty: return "county_code";
    case RegionLevel::kTown: return "town_code";
    default: return "village_code";
  }
}

bool CodeWithin(std::string_view code, std::string_view scope) {
  return !scope.empty() && code.size() >= scope.size() && code.substr(0, scope.size()) == scope;
}

}  // namespace doudi
