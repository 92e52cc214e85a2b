#include "common/text.h"

#include <gtest/gtest.h>

#include <string>

namespace doudi {
namespace {

TEST(Text, FirstInvalidUtf8IsStrict) {
  EXPECT_TRUE(IsValidUtf8("张三 abc"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));          // U+1F600
  EXPECT_EQ(FirstInvalidUtf8("ab\xC0\xAF"), 2u);          // overlong '/'
  EXPECT_EQ(FirstInvalidUtf8("\xED\xA0\x80"), 0u);        // a surrogate
  EXPECT_EQ(FirstInvalidUtf8("x\xF4\x90\x80\x80"), 1u);   // above U+10FFFF
  EXPECT_EQ(FirstInvalidUtf8("\xE5\xBC"), 0u);            // cut short
  EXPECT_EQ(FirstInvalidUtf8("a\x80"), 1u);               // a lone continuation byte
}

TEST(Text, ForbiddenCharsAreControlsAndFormatCharacters) {
  for (const char* bad : {"\t", "\n", "\x7F", "\xC2\x85", "\xE2\x80\xAE", "\xE2\x80\xAA", "\xE2\x81\xA6", "\xE2\x81\xA9",
                          "\xE2\x80\x8F", "\xE2\x80\x8B", "\xEF\xBB\xBF", "\xE2\x80\xA8", "\xD8\x9C", "\xC2\xAD",
                          "\xF3\xA0\x80\x81"})
    EXPECT_TRUE(HasForbiddenChar(std::string("张") + bad + "三")) << bad;
  EXPECT_TRUE(HasForbiddenChar(std::string("a\0b", 3)));
  EXPECT_TRUE(HasForbiddenChar("\xC0\xAF"));  // not UTF-8 at all
  for (const char* ok : {"张三", "阿依古丽·买买提", "O'Brien-Smith", "乔南村 12 号", "\xEE\x80\x80" /* private use */, "𠀀"})
    EXPECT_FALSE(HasForbiddenChar(ok)) << ok;
}

}  // namespace
}  // namespace doudi
