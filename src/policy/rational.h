// Exact rational numbers for policy arithmetic: multiples and ratios are exact decimals, money
// is integer fen, comparisons never round (docs/policy-rules.md GEN-2).
#pragma once

#include <cstdint>
#include <string>

namespace doudi::policy {

using i128 = __int128;

struct Rational {
  i128 num = 0;
  i128 den = 1;  // always > 0, reduced

  static Rational Int(int64_t v) { return {v, 1}; }
  // A decimal read as double: round(d × 10^6) / 10^6 (packs carry ≤ 6 fractional digits).
  static Rational FromDecimal(double d);
  // Parses "12", "1.05" (no sign, no exponent). Returns false on anything else.
  static bool Parse(const std::string& s, Rational* out);

  Rational operator+(const Rational& o) const;
  Rational operator-(const Rational& o) const;
  Rational operator*(const Rational& o) const;
  // Division by zero yields den == 0, tested with valid().
  Rational operator/(const Rational& o) const;
  bool valid() const { return den != 0; }
  int Compare(const Rational& o) const;  // -1, 0, 1
  bool operator<(const Rational& o) const { return Compare(o) < 0; }
  bool operator<=(const Rational& o) const { return Compare(o) <= 0; }
  bool operator==(const Rational& o) const { return Compare(o) == 0; }

  // Rounding to integers (fen).
  int64_t Ceil() const;
  int64_t Floor() const;
  double ToDouble() const { return static_cast<double>(num) / static_cast<double>(den); }
  std::string ToString() const;  // "1.05", "12", "0.333333…" (6 digits max)
};

}  // namespace doudi::policy
