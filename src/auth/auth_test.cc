#include "auth/auth.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/date.h"
#include "storage/test_db.h"

namespace doudi::auth {
namespace {

// RFC 6238 appendix B (SHA-1, the 20-byte ASCII key "12345678901234567890"), last 6 digits.
TEST(Totp, MatchesRfc6238Vectors) {
  std::string secret = Base32Encode("12345678901234567890");
  EXPECT_EQ(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(Base32Decode(secret), "12345678901234567890");
  EXPECT_EQ(TotpCode(secret, 59 / 30), "287082");
  EXPECT_EQ(TotpCode(secret, 1111111109 / 30), "081804");
  EXPECT_EQ(TotpCode(secret, 1111111111 / 30), "050471");
  EXPECT_EQ(TotpCode(secret, 1234567890 / 30), "005924");
  EXPECT_EQ(TotpCode(secret, 2000000000 / 30), "279037");
  EXPECT_EQ(Base32Decode("not base32!"), "");
}

TEST(PasswordRules, LengthClassesUsernameAndCommonPasswords) {
  EXPECT_TRUE(CheckPasswordStrength("Abcdefgh12").ok());
  EXPECT_TRUE(CheckPasswordStrength("abcdefgh1!").ok());
  EXPECT_FALSE(CheckPasswordStrength("Abcdefg12").ok());     // 9
  EXPECT_FALSE(CheckPasswordStrength("abcdefghi1").ok());    // two classes
  EXPECT_FALSE(CheckPasswordStrength("Password@123").ok());  // common
  EXPECT_FALSE(CheckPasswordStrength("qwerty123456").ok());
  EXPECT_FALSE(CheckPasswordStrength("Zhangsan2026!", "zhangsan").ok());
  EXPECT_TRUE(CheckPasswordStrength("Lisi-2026-pw", "zhangsan").ok());
  auto s = CheckPasswordStrength("short", "", "new_password");
  EXPECT_EQ(s.field(), "new_password");
}

TEST(DisplayNames, RefuseControlAndBidiCharacters) {
  EXPECT_TRUE(CheckDisplayName("王五").ok());
  EXPECT_FALSE(CheckDisplayName("").ok());
  EXPECT_FALSE(CheckDisplayName("王\xE2\x80\xAE五").ok());      // U+202E
  EXPECT_FALSE(CheckDisplayName("\xE2\x81\xA6李四\xE2\x81\xA9").ok());  // U+2066 … U+2069
  EXPECT_FALSE(CheckDisplayName("张\xE2\x80\x8F三").ok());      // U+200F
  EXPECT_FALSE(CheckDisplayName(std::string("赵\x07六")).ok());
}

class AuthDbTest : public storage::testing::MigratedDbTest {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    MigratedDbTest::SetUp();
    Exec("INSERT INTO regions (code, level, name) VALUES ('370725', 'county', '昌乐县')");
    auth_ = std::make_unique<AuthService>(*db_);
    NewUser u{"clerk", "Keeper-Pw-2026", "经办员", "county_reviewer", "370725", "", false};
    auto created = auth_->CreateUserUnchecked(conn(), u);
    ASSERT_TRUE(created.ok()) << created.status().message();
    conn_.reset();  // every connection for the logins
  }
  std::unique_ptr<AuthService> auth_;
};

// #4: tries are counted before the password is verified, atomically: a parallel burst gets at
// most kMaxFailedLogins passwords verified, then even the right password is refused.
TEST_P(AuthDbTest, ParallelBurstVerifiesAtMostFivePasswords) {
  std::atomic<int> verified{0}, locked{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto r = auth_->Login("clerk", "Wrong-Password-1");
        if (r.ok()) ++other;
        else if (r.status().reason() == "invalid_credentials") ++verified;
        else if (r.status().reason() == "account_locked") ++locked;
        else ++other;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(verified.load(), AuthService::kMaxFailedLogins);
  EXPECT_EQ(verified + locked, 20);
  EXPECT_EQ(other.load(), 0);
  auto right = auth_->Login("clerk", "Keeper-Pw-2026");
  ASSERT_FALSE(right.ok());
  EXPECT_EQ(right.status().reason(), "account_locked");
}

TEST_P(AuthDbTest, UnknownNamesLockLikeKnownOnes) {
  for (int i = 0; i < AuthService::kMaxFailedLogins; ++i)
    EXPECT_EQ(auth_->Login("nobody", "Wrong-Password-1").status().reason(), "invalid_credentials");
  EXPECT_EQ(auth_->Login("nobody", "Wrong-Password-1").status().reason(), "account_locked");
}

TEST_P(AuthDbTest, SessionsEndAfterTheirAbsoluteLifetime) {
  auto login = auth_->Login("clerk", "Keeper-Pw-2026");
  ASSERT_TRUE(login.ok()) << login.status().message();
  ASSERT_TRUE(auth_->Authenticate(login->session_token).ok());
  auto other = auth_->Login("clerk", "Keeper-Pw-2026");  // never used again: left to the purge
  ASSERT_TRUE(other.ok());
  auto conn = db_->Acquire();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Execute("UPDATE sessions SET created_at = created_at - ?",
                               {AuthService::kAbsoluteSeconds + 1}).ok());
  AuthService fresh(*db_);  // no cached session
  EXPECT_FALSE(fresh.Authenticate(login->session_token).ok());  // (deletes that row itself)
  auto purged = fresh.PurgeExpiredSessions(**conn);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthDbTest, ::testing::ValuesIn(storage::testing::Backends()));

}  // namespace
}  // namespace doudi::auth
