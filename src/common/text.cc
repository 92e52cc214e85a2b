#include "common/text.h"

#include <cstdint>

namespace doudi {
namespace {

// Decodes one well-formed UTF-8 sequence at s[i]; returns its length (0 when malformed).
size_t Decode(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) len = 2, *cp = c & 0x1F;
  else if (c == 0xE0) len = 3, lo = 0xA0, *cp = c & 0x0F;
  else if (c >= 0xE1 && c <= 0xEC) len = 3, *cp = c & 0x0F;
  else if (c == 0xED) len = 3, hi = 0x9F, *cp = c & 0x0F;
  else if (c >= 0xEE && c <= 0xEF) len = 3, *cp = c & 0x0F;
  else if (c == 0xF0) len = 4, lo = 0x90, *cp = c & 0x07;
  else if (c >= 0xF1 && c <= 0xF3) len = 4, *cp = c & 0x07;
  else if (c == 0xF4) len = 4, hi = 0x8F, *cp = c & 0x07;
  else return 0;
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    unsigned char ck = static_cast<unsigned char>(s[i + k]);
    if (ck < (k == 1 ? lo : 0x80) || ck > (k == 1 ? hi : 0xBF)) return 0;
    *cp = (*cp << 6) | (ck & 0x3F);
  }
  return len;
}

bool Forbidden(uint32_t c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return true;  // C0, DEL, C1
  switch (c) {
    case 0x00AD: case 0x061C: case 0x06DD: case 0x070F: case 0x08E2: case 0x180E:
    case 0x2028: case 0x2029: case 0xFEFF: case 0x110BD: case 0x110CD: case 0xE0001:
      return true;
    default: break;
  }
  return (c >= 0x0600 && c <= 0x0605) || (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) || (c >= 0xFFF9 && c <= 0xFFFB) ||
         (c >= 0x13430 && c <= 0x1343F) || (c >= 0x1BCA0 && c <= 0x1BCA3) || (c >= 0x1D173 && c <= 0x1D17A) ||
         (c >= 0xE0020 && c <= 0xE007F);
}

}  // namespace

size_t FirstInvalidUtf8(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t len = Decode(s, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool HasForbiddenChar(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t len = Decode(s, i, &cp);
    if (len == 0) return true;  // not text at all
    if (Forbidden(cp)) return true;
    i += len;
  }
  return false;
}

}  // namespace doudi
