// Citizen identity numbers (GB 11643-1999) and division codes (GB/T 2260).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace doudi {

struct CitizenIdInfo {
  std::string normalized;  // 18 characters, check character upper-case
  std::string birth_date;  // YYYY-MM-DD
  bool male = false;       // odd sequence number
};

// Validates an 18-character citizen id: 17 digits, a real birth date (1900-01-01 up to
// today), and the MOD 11-2 check character (0-9 or X; lower-case x is accepted and
// normalized). Returns InvalidArgument with field "citizen_id" and a Chinese message.
// Thread-safe.
Result<CitizenIdInfo> ParseCitizenId(std::string_view id);

// Computes the check character for the first 17 digits (must be digits).
char CitizenIdCheckChar(std::string_view first17);

// "370725198001011234" → "370725********1234". Input must be a normalized id.
std::string MaskCitizenId(std::string_view id);

// Packs a normalized id into 64 bits (17 digits + check value 0..10) for batch engines.
uint64_t PackCitizenId(std::string_view normalized);

// Division codes: 6 (county), 9 (town) or 12 (village) digits.
enum class RegionLevel { kCounty, kTown, kVillage, kInvalid };
RegionLevel LevelOfCode(std::string_view code);
const char* RegionLevelName(RegionLevel level);  // "county" | "town" | "village"
// The denormalized region column a scope code filters on: "county_code", "town_code" or
// "village_code" (tables that hold all three: households, persons, applications, …).
const char* ScopeColumn(std::string_view code);
// True when `code` equals `scope` or lies below it in the tree.
bool CodeWithin(std::string_view code, std::string_view scope);

}  // namespace doudi
