// Test helper: the databases a unit test runs on. Always a fresh SQLite file; PostgreSQL too
// when DOUDI_TEST_PG_URL is set (tests/run.sh sets it), each test in its own schema.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/migrations.h"

namespace doudi::storage::testing {

inline std::vector<std::string> Backends() {
  std::vector<std::string> b{"sqlite"};
  const char* pg = std::getenv("DOUDI_TEST_PG_URL");
  if (pg && *pg) b.push_back("postgresql");
  return b;
}

inline std::string UniqueName() {
  std::random_device rd;
  std::string name = "t";
  name += std::to_string(rd());
  name += std::to_string(rd() % 100000);
  return name;
}

// Opens a fresh, empty database of the given backend.
inline std::unique_ptr<Database> OpenFresh(const std::string& backend) {
  std::string url;
  if (backend == "sqlite") {
    auto path = std::filesystem::temp_directory_path() / (UniqueName() + ".db");
    url = "sqlite:" + path.string();
  } else {
    std::string base = std::getenv("DOUDI_TEST_PG_URL");
    auto admin = Database::Open(base, 1);
    EXPECT_TRUE(admin.ok()) << admin.status().detail();
    if (!admin.ok()) return nullptr;
    std::string schema = UniqueName();
    auto conn = (*admin)->Acquire();
    EXPECT_TRUE((*conn)->ExecScript("CREATE SCHEMA " + schema).ok());
    url = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
  }
  auto db = Database::Open(url, 4);
  EXPECT_TRUE(db.ok()) << db.status().detail();
  return db.ok() ? std::move(db).value() : nullptr;
}

// A test on each backend (TEST_P over Backends()) with a fresh, migrated database and one
// connection borrowed from it. Subclasses call MigratedDbTest::SetUp() first.
class MigratedDbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = OpenFresh(GetParam());
    ASSERT_TRUE(db_);
    auto lease = db_->Acquire();
    ASSERT_TRUE(lease.ok());
    conn_.emplace(std::move(lease).value());
    int applied = 0;
    ASSERT_TRUE(Migrate(conn(), &applied).ok());
  }
  Connection& conn() { return **conn_; }
  void Exec(const std::string& sql, const Params& p = {}) {
    auto r = conn().Execute(sql, p);
    ASSERT_TRUE(r.ok()) << r.status().detail();
  }

  std::unique_ptr<Database> db_;
  std::optional<Lease> conn_;
};

}  // namespace doudi::storage::testing
