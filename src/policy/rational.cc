#include "policy/rational.h"

#include <cmath>

namespace doudi::policy {
namespace {
i128 Abs(i128 v) { return v < 0 ? -v : v; }
i128 Gcd(i128 a, i128 b) {
  a = Abs(a);
  b = Abs(b);
  while (b != 0) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a == 0 ? 1 : a;
}
Rational Make(i128 num, i128 den) {
  if (den == 0) return {num, 0};
  if (den < 0) {
    num = -num;
    den = -den;
  }
  i128 g = Gcd(num, den);
  return {num / g, den / g};
}
}  // namespace

Rational Rational::FromDecimal(double d) { return Make(static_cast<i128>(std::llround(d * 1e6)), 1000000); }

bool Rational::Parse(const std::string& s, Rational* out) {
  if (s.empty()) return false;
  i128 num = 0, den = 1;
  bool dot = false, digits = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9') {
      digits = true;
      num = num * 10 + (c - '0');
      if (dot) den *= 10;
      if (den > 1000000000000LL || num > (static_cast<i128>(1) << 100)) return false;
    } else {
      return false;
    }
  }
  if (!digits || s.back() == '.') return false;
  *out = Make(num, den);
  return true;
}

Rational Rational::operator+(const Rational& o) const { return Make(num * o.den + o.num * den, den * o.den); }
Rational Rational::operator-(const Rational& o) const { return Make(num * o.den - o.num * den, den * o.den); }
Rational Rational::operator*(const Rational& o) const { return Make(num * o.num, den * o.den); }
Rational Rational::operator/(const Rational& o) const {
  if (!valid() || !o.valid() || o.num == 0) return {0, 0};
  return Make(num * o.den, den * o.num);
}

int Rational::Compare(const Rational& o) const {
  i128 l = num * o.den, r = o.num * den;
  return l < r ? -1 : (l > r ? 1 : 0);
}

int64_t Rational::Floor() const {
  i128 q = num / den;
  if ((num % den != 0) && (num < 0)) --q;
  return static_cast<int64_t>(q);
}
int64_t Rational::Ceil() const {
  i128 q = num / den;
  if ((num % den != 0) && (num > 0)) ++q;
  return static_cast<int64_t>(q);
}

std::string Rational::ToString() const {
  if (!valid()) return "NaN";
  i128 n = num < 0 ? -num : num;
  std::string out = num < 0 ? "-" : "";
  i128 ip = n / den, rem = n % den;
  std::string ips;
  do {
    ips.insert(ips.begin(), static_cast<char>('0' + static_cast<int>(ip % 10)));
    ip /= 10;
  } while (ip > 0);
  out += ips;
  if (rem != 0) {
    out += '.';
    for (int i = 0; i < 6 && rem != 0; ++i) {
      rem *= 10;
      out += static_cast<char>('0' + static_cast<int>(rem / den));
      rem %= den;
    }
  }
  return out;
}

}  // namespace doudi::policy
