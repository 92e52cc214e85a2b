// Policy packs: dated, cited parameters per county over a national default pack, plus
// declarative constraints. Format: docs/policy-packs.md.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "policy/rational.h"

namespace doudi::policy {

enum class Unit { kFen, kCount, kMonths, kDays, kWorkingDays, kHours, kAgeYears, kGrade, kMultiple, kRatio,
                  kBool, kEnum, kList, kText };
bool IsNumeric(Unit u);
const char* UnitName(Unit u);

// int64 for integer units, Rational for multiple/ratio, bool, string (enum/text), list.
using Value = std::variant<int64_t, Rational, bool, std::string, std::vector<std::string>>;
std::string ValueToString(const Value& v);

struct Entry {
  std::string from;  // YYYY-MM-DD
  Value value;
  std::string source;  // "national" | "seed" | "local setting"
  std::string cite, basis, note;
  std::string origin;  // "national" | "county" | "overlay"
};

struct Param {
  std::string key, label, doc;
  Unit unit = Unit::kCount;
  std::vector<std::string> allowed;
  bool county_must_set = false;
  std::vector<Entry> national;  // oldest first
  std::vector<Entry> county;    // pack and overlay entries merged, oldest first
};

struct Constraint {
  std::string id, kind, scope, expr, from, until, severity, cite, message, note;
  std::vector<std::string> when;
  std::string origin;  // "national" | county code
};

struct Violation {
  std::string constraint_id, severity, date, message, cite, detail;
};

// A county's merged pack (national + county file + database overlay). Immutable after
// loading except for AddOverlay; not thread-safe while being modified.
class Pack {
 public:
  // Loads dir/national.toml and dir/<county>.toml; validates per docs/policy-packs.md §2.
  // Errors name the file, key and entry.
  static Result<std::shared_ptr<Pack>> Load(const std::string& dir, const std::string& county);

  const std::string& county() const { return county_; }
  const std::string& name() const { return name_; }
  const std::map<std::string, Param>& params() const { return params_; }
  const std::vector<Constraint>& constraints() const { return constraints_; }
  const Param* Find(const std::string& key) const;

  // The entry in force on date (county history first, then national). nullptr if none.
  const Entry* EntryOn(const std::string& key, const std::string& date) const;
  // Typed getters on a date: NotFound-like InvalidArgument naming key and date if absent.
  Result<int64_t> IntOn(const std::string& key, const std::string& date) const;
  Result<Rational> NumberOn(const std::string& key, const std::string& date) const;  // any numeric unit
  Result<bool> BoolOn(const std::string& key, const std::string& date) const;
  Result<std::string> StringOn(const std::string& key, const std::string& date) const;
  Result<std::vector<std::string>> ListOn(const std::string& key, const std::string& date) const;

  // Adds a county entry (admin edit or simulation). Validates the value's type; keeps the
  // history ordered; an entry with the same `from` replaces the previous one.
  Status AddOverlay(const std::string& key, Entry entry);
  // Parses a value given as text (CLI --set, API) for the parameter's unit.
  Result<Value> ParseValue(const std::string& key, const std::string& text) const;

  // Checks every "pack" constraint per docs/policy-packs.md §3.2 (or only on `date` when
  // given). Returns violations; errors only for malformed constraints.
  Result<std::vector<Violation>> Check(const std::optional<std::string>& date) const;
  // True when the entry in force is a local setting or the parameter is county_must_set.
  bool Editable(const std::string& key, const std::string& date) const;

 private:
  std::string county_, name_;
  std::map<std::string, Param> params_;
  std::vector<Constraint> constraints_;
};

// Evaluates one comparison of the constraint grammar on `date`. `lookup` resolves a
// parameter (or metric) on a date to a number, or nullopt when it has no value.
using Lookup = std::function<std::optional<Rational>(const std::string& name, const std::string& date)>;
Result<bool> EvaluateComparison(const std::string& expr, const std::string& date, const Lookup& lookup,
                                std::string* detail);
// Names referenced without @date (for check dates) and all names (for validation).
Result<std::vector<std::string>> ReferencedNames(const std::string& expr, bool only_undated);

}  // namespace doudi::policy
