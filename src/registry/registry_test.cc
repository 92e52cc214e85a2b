// The registry service's household update on both databases: what it answers and what the
// household cache then serves are the household as the database holds it, whether the update
// started from the cache or from the database, and a change committed by someone else before
// the update arrived is never lost or hidden.
#include "registry/registry.h"

#include <gtest/gtest.h>

#include "common/citizen_id.h"
#include "storage/test_db.h"

namespace doudi::registry {
namespace {

std::string CitizenId(const std::string& first17) { return first17 + CitizenIdCheckChar(first17); }

class RegistryServiceTest : public storage::testing::MigratedDbTest {
 protected:
  void SetUp() override {
    MigratedDbTest::SetUp();
    if (HasFatalFailure()) return;
    for (const char* sql :
         {"INSERT INTO regions (code, parent_code, level, name) VALUES ('370725', NULL, 'county', '昌乐县')",
          "INSERT INTO regions (code, parent_code, level, name) VALUES ('370725107', '370725', 'town', '鄌郚镇')",
          "INSERT INTO regions (code, parent_code, level, name) VALUES ('370725107201', '370725107', 'village', "
          "'甲村')",
          "INSERT INTO regions (code, parent_code, level, name) VALUES ('370725107202', '370725107', 'village', "
          "'乙村')",
          "INSERT INTO users (username, display_name, password_hash, role, region_code, created_at) "
          "VALUES ('clerk', '镇办事员', 'x', 'town_clerk', '370725107', 'x')"}) {
      auto r = conn().Execute(sql);
      ASSERT_TRUE(r.ok()) << r.status().detail();
    }
    auto id = conn().Query("SELECT id FROM users WHERE username = 'clerk'");
    ASSERT_TRUE(id.ok() && !id->empty());
    clerk_.id = id->rows[0].Int(0);
    clerk_.username = "clerk";
    clerk_.role = auth::Role::kTownClerk;
    clerk_.region_code = "370725107";
    service_ = std::make_unique<RegistryService>(*db_);

    HouseholdInput in;
    in.village_code = "370725107201";
    in.area = "rural";
    in.residence_address = "甲村1号";
    PersonInput head;
    head.citizen_id = CitizenId("37072519800101001");
    head.name = "王大";
    head.relation = "head";
    PersonInput child = head;
    child.citizen_id = CitizenId("37072520100101002");
    child.name = "王小";
    child.relation = "child";
    in.members = {head, child};
    auto h = service_->CreateHousehold(clerk_, in);
    ASSERT_TRUE(h.ok()) << h.status().detail();
    household_ = *h;
  }

  HouseholdFields Fields(const std::string& address) {
    HouseholdFields f = household_;
    f.residence_address = address;
    return f;
  }
  // The household's document as loaded from the database now (no cache).
  std::string Stored() {
    auto h = service_->GetHousehold(clerk_, household_.id);
    EXPECT_TRUE(h.ok()) << h.status().detail();
    return h.ok() ? DumpJson(*h) : "";
  }
  std::string Served() {
    auto doc = service_->GetHouseholdJson(clerk_, household_.id);
    EXPECT_TRUE(doc.ok()) << doc.status().detail();
    return doc.ok() ? *doc : "";
  }

  std::unique_ptr<RegistryService> service_;
  auth::User clerk_;
  Household household_;
};

TEST_P(RegistryServiceTest, UpdatesAnswerAndServeTheStoredHousehold) {
  // Each update starts from the cached household: the first read puts it there, and each
  // update's own document replaces it once the feed confirms it. (The next test evicts it, so
  // that an update starts from the database.)
  EXPECT_EQ(Served(), Stored());
  int64_t version = household_.version;
  for (int i = 1; i <= 4; ++i) {
    std::string answered;
    auto h = service_->UpdateHousehold(clerk_, household_.id, Fields("甲村" + std::to_string(i) + "号"), version,
                                       &answered);
    ASSERT_TRUE(h.ok()) << h.status().detail();
    EXPECT_EQ(h->version, ++version);
    EXPECT_EQ(answered, Stored()) << "update " << i;
    EXPECT_EQ(Served(), answered) << "read after update " << i;
    EXPECT_NE(answered.find("甲村" + std::to_string(i) + "号"), std::string::npos);
    EXPECT_EQ(h->members.size(), 2u);
  }
  // A stale version is refused and changes nothing, wherever the household came from.
  std::string before = Stored();
  auto stale = service_->UpdateHousehold(clerk_, household_.id, Fields("旧版本"), version - 1);
  EXPECT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  EXPECT_EQ(Stored(), before);
  EXPECT_EQ(Served(), before);
}

// Someone else (another server, the CLI) changes a member and then the household itself between
// two updates of this server: the next update starts from the changed household and its answer
// carries both changes; its version check sees the other household change.
TEST_P(RegistryServiceTest, AnUpdateStartsFromChangesCommittedElsewhere) {
  EXPECT_EQ(Served(), Stored());
  Exec("UPDATE persons SET name = '王小二' WHERE household_id = ? AND relation = 'child'", {household_.id});
  std::string answered;
  auto h = service_->UpdateHousehold(clerk_, household_.id, Fields("甲村9号"), household_.version, &answered);
  ASSERT_TRUE(h.ok()) << h.status().detail();
  EXPECT_NE(answered.find("王小二"), std::string::npos);
  EXPECT_EQ(answered, Stored());
  EXPECT_EQ(Served(), answered);

  Exec("UPDATE households SET phone = '13900000000', version = version + 1 WHERE id = ?", {household_.id});
  auto stale = service_->UpdateHousehold(clerk_, household_.id, Fields("甲村10号"), h->version);
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  auto fresh = service_->UpdateHousehold(clerk_, household_.id, Fields("甲村10号"), h->version + 1, &answered);
  ASSERT_TRUE(fresh.ok()) << fresh.status().detail();
  EXPECT_EQ(answered, Stored());
  EXPECT_EQ(Served(), answered);
}

// Moving a household to another village moves its members (two statements, no cached
// document from the write); a village outside the clerk's town is refused.
TEST_P(RegistryServiceTest, AMoveIsServedFromTheDatabaseAfterwards) {
  EXPECT_EQ(Served(), Stored());
  HouseholdFields moved = Fields("乙村1号");
  moved.village_code = "370725107202";
  std::string answered;
  auto h = service_->UpdateHousehold(clerk_, household_.id, moved, household_.version, &answered);
  ASSERT_TRUE(h.ok()) << h.status().detail();
  EXPECT_EQ(answered, Stored());
  EXPECT_EQ(Served(), answered);
  EXPECT_NE(answered.find("乙村"), std::string::npos);
  moved.village_code = "370725108201";
  auto outside = service_->UpdateHousehold(clerk_, household_.id, moved, h->version);
  EXPECT_FALSE(outside.ok());
  EXPECT_EQ(Served(), answered);
}

// The roster lists every household of the region asked for, a line each with its head and its
// members, and refuses a region with more households than the limit.
TEST_P(RegistryServiceTest, TheRosterListsTheRegionOrAsksForASmallerOne) {
  HouseholdInput other;
  other.village_code = "370725107202";
  other.area = "urban";
  other.residence_address = "乙村2号";
  PersonInput head;
  head.citizen_id = CitizenId("37072519700101003");
  head.name = "李二";
  head.relation = "head";
  other.members = {head};
  ASSERT_TRUE(service_->CreateHousehold(clerk_, other).ok());

  auto too_many = service_->RosterOf(clerk_, {}, 1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().field(), "region");
  EXPECT_NE(too_many.status().message().find("2 户"), std::string::npos) << too_many.status().message();

  auto town = service_->RosterOf(clerk_, {}, 2);
  ASSERT_TRUE(town.ok()) << town.status().detail();
  EXPECT_EQ(town->region_name, "鄌郚镇");
  ASSERT_EQ(town->lines.size(), 2u);
  const RosterLine& first = town->lines[0];  // by village: 甲村 first
  EXPECT_EQ(first.village_name, "甲村");
  EXPECT_EQ(first.town_name, "鄌郚镇");
  EXPECT_EQ(first.head_name, "王大");
  EXPECT_EQ(first.head_citizen_id, household_.members[0].citizen_id);
  EXPECT_EQ(first.member_count, 2);
  EXPECT_EQ(first.members, "王大（户主）、王小（子女）");
  EXPECT_EQ(first.residence_address, "甲村1号");
  EXPECT_EQ(town->lines[1].village_name, "乙村");
  EXPECT_EQ(town->lines[1].area, "urban");

  auto village = service_->RosterOf(clerk_, {"", "370725107202"}, 1);
  ASSERT_TRUE(village.ok()) << village.status().detail();
  EXPECT_EQ(village->region_name, "乙村");
  ASSERT_EQ(village->lines.size(), 1u);
  EXPECT_EQ(village->lines[0].head_name, "李二");

  auto found = service_->RosterOf(clerk_, {"王小", ""}, 1);  // a member's name finds the household
  ASSERT_TRUE(found.ok()) << found.status().detail();
  ASSERT_EQ(found->lines.size(), 1u);
  EXPECT_EQ(found->lines[0].head_name, "王大");
  EXPECT_EQ(found->search, "检索：王小");
  auto by_id = service_->RosterOf(clerk_, {household_.members[0].citizen_id, ""}, 1);
  ASSERT_TRUE(by_id.ok()) << by_id.status().detail();
  ASSERT_EQ(by_id->lines.size(), 1u);
  EXPECT_EQ(by_id->search, "按身份证号检索");  // a title never shows the id

  auto outside = service_->RosterOf(clerk_, {"", "370725108"});
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.status().code(), Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryServiceTest, ::testing::ValuesIn(storage::testing::Backends()));

}  // namespace
}  // namespace doudi::registry
