// Checks of text that comes in from outside (request JSON, CSV feeds): well-formed UTF-8, and
// no characters that are invisible or change how the text around them is shown.
#pragma once

#include <cstddef>
#include <string_view>

namespace doudi {

// Byte offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or npos when the whole text is well formed.
size_t FirstInvalidUtf8(std::string_view s);
inline bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == std::string_view::npos; }

// True when well-formed UTF-8 text holds a character that has no place in a name or a line of
// free text: control characters (C0 including tab and line breaks, DEL, C1), the line and
// paragraph separators U+2028/U+2029, and format characters (Unicode category Cf), among them
// the bidirectional controls U+061C, U+200E/U+200F, U+202A–U+202E and U+2066–U+2069, the
// zero-width characters U+200B–U+200D and U+2060–U+2064, the byte-order mark U+FEFF and the
// tag characters U+E0001–U+E007F, which can make a name read differently from what it is.
bool HasForbiddenChar(std::string_view s);

}  // namespace doudi
