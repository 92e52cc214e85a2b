#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "storage/migrations.h"
#include "storage/test_db.h"

namespace doudi::audit {
namespace {

class AuditTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    db_ = storage::testing::OpenFresh(GetParam());
    ASSERT_TRUE(db_);
    auto lease = db_->Acquire();
    ASSERT_TRUE(lease.ok());
    conn_.emplace(std::move(lease).value());
    int applied = 0;
    ASSERT_TRUE(storage::Migrate(conn(), &applied).ok());
    for (int i = 1; i <= 4; ++i) {
      storage::Transaction tx(conn(), true);
      ASSERT_TRUE(RecordWrite(conn(), {7, "clerk"},
                              {"household.update", "household", std::to_string(i), "370725107202",
                               R"({"area":"rural"})", R"({"area":"urban"})"})
                      .ok());
      ASSERT_TRUE(tx.Commit().ok());
    }
  }
  storage::Connection& conn() { return **conn_; }
  VerifyReport Check() {
    auto r = Verify(conn());
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : VerifyReport{};
  }
  std::unique_ptr<storage::Database> db_;
  std::optional<storage::Lease> conn_;
};

TEST_P(AuditTest, IntactChainVerifies) {
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.entries, 4);
}

TEST_P(AuditTest, EditedRowIsNamed) {
  ASSERT_TRUE(conn().Execute("UPDATE audit_log SET after_json = '{\"area\":\"rural\"}' WHERE id = 3").ok());
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 3);
}

TEST_P(AuditTest, EditedRowAndItsHashIsNamed) {
  ASSERT_TRUE(conn().Execute("UPDATE audit_log SET actor = 'someone', hash = 'ff' WHERE id = 2").ok());
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 2);
}

TEST_P(AuditTest, DeletedRowIsNamed) {
  ASSERT_TRUE(conn().Execute("DELETE FROM audit_log WHERE id = 2").ok());
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 2);
}

TEST_P(AuditTest, TruncatedTailIsDetected) {
  ASSERT_TRUE(conn().Execute("DELETE FROM audit_log WHERE id = 4").ok());
  auto rep = Check();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.first_broken_id, 4);
}

TEST_P(AuditTest, RolledBackWriteLeavesChainIntact) {
  {
    storage::Transaction tx(conn(), true);
    ASSERT_TRUE(RecordWrite(conn(), {7, "clerk"}, {"x", "household", "9", "370725", "null", "null"}).ok());
  }  // rolled back
  auto rep = Check();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.entries, 4);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest, ::testing::ValuesIn(storage::testing::Backends()));

TEST(Sha256, KnownVector) {
  ASSERT_GE(sodium_init(), 0);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace doudi::audit
