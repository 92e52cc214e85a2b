// The household cache and the change feed behind it (migration 9), on both databases: every
// change to a household or its members committed before Sync() evicts the household; a
// document loaded before a change is refused; a feed pruned past the cache empties it.
#include "registry/household_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "audit/audit_log.h"
#include "registry/registry.h"
#include "storage/test_db.h"

namespace doudi::registry {
namespace {

using Kind = HouseholdCache::Kind;

class HouseholdCacheTest : public storage::testing::MigratedDbTest {
 protected:
  void SetUp() override {
    MigratedDbTest::SetUp();
    if (HasFatalFailure()) return;
    Exec("INSERT INTO regions (code, parent_code, level, name) VALUES ('370725107201', '370725107', 'village', '甲村')");
    h1_ = Household();
    h2_ = Household();
  }
  int64_t Household() {
    auto rs = conn().Query(
        "INSERT INTO households (county_code, town_code, village_code, area, created_at, updated_at) "
        "VALUES ('370725', '370725107', '370725107201', 'rural', 'x', 'x') RETURNING id");
    EXPECT_TRUE(rs.ok()) << rs.status().detail();
    return rs.ok() ? rs->rows[0].Int(0) : 0;
  }
  void Person(int64_t household, const std::string& citizen_id) {
    Exec("INSERT INTO persons (household_id, county_code, town_code, village_code, citizen_id, name, relation, "
         "birth_date, sex, self_care, created_at, updated_at) VALUES (?, '370725', '370725107', '370725107201', ?, "
         "'张三', 'head', '1980-01-01', 'male', 'full', 'x', 'x')",
         {household, citizen_id});
  }
  HouseholdCache::SyncPoint Sync(HouseholdCache& cache) {
    auto sp = cache.Sync();
    EXPECT_TRUE(sp.ok()) << sp.status().detail();
    return sp.ok() ? *sp : HouseholdCache::SyncPoint{};
  }
  bool Cached(HouseholdCache& cache, int64_t id, Kind kind = Kind::kDetail) { return cache.Get(kind, id).has_value(); }
  // A committed change to the household; returns its number in the feed.
  int64_t Change(int64_t id, const std::string& phone) {
    Exec("UPDATE households SET phone = ? WHERE id = ?", {phone, id});
    auto rs = conn().Query("SELECT MAX(rev) FROM registry_changes");
    EXPECT_TRUE(rs.ok());
    return rs.ok() ? rs->rows[0].Int(0) : 0;
  }
  static std::shared_ptr<const registry::Household> Parsed(int64_t version) {
    auto h = std::make_shared<registry::Household>();
    h->version = version;
    return h;
  }

  int64_t h1_ = 0, h2_ = 0;
};

TEST_P(HouseholdCacheTest, CommittedChangesEvictTheirHouseholdAtTheNextSync) {
  HouseholdCache cache(*db_);
  auto sp = Sync(cache);
  ASSERT_TRUE(cache.Fill(Kind::kDetail, h1_, sp, "370725107201", "{\"v\":1}"));
  ASSERT_TRUE(cache.Fill(Kind::kSummary, h2_, sp, "370725107201", "{\"s\":2}"));
  auto doc = cache.Get(Kind::kDetail, h1_);
  ASSERT_TRUE(doc);
  EXPECT_EQ(*doc->json, "{\"v\":1}");
  EXPECT_EQ(doc->village_code, "370725107201");
  EXPECT_FALSE(Cached(cache, h1_, Kind::kSummary));  // only the document that was filled
  std::vector<std::shared_ptr<const std::string>> page;
  const int64_t ids[] = {h2_, h1_, h2_};
  cache.GetSummaries(ids, 3, &page);  // a list page's summaries, in its order
  ASSERT_EQ(page.size(), 3u);
  ASSERT_TRUE(page[0] && page[2]);
  EXPECT_EQ(*page[0], "{\"s\":2}");
  EXPECT_EQ(page[1], nullptr);

  // A household update, seen only once synced; the other household stays.
  Exec("UPDATE households SET phone = '1' WHERE id = ?", {h1_});
  EXPECT_TRUE(Cached(cache, h1_));
  sp = Sync(cache);
  EXPECT_FALSE(Cached(cache, h1_));
  EXPECT_TRUE(Cached(cache, h2_, Kind::kSummary));

  // A member added, changed, moved to another household (both evicted), removed.
  ASSERT_TRUE(cache.Fill(Kind::kDetail, h1_, sp, "370725107201", "{}"));
  Person(h1_, "370725198001010011");
  sp = Sync(cache);
  EXPECT_FALSE(Cached(cache, h1_));
  ASSERT_TRUE(cache.Fill(Kind::kDetail, h1_, sp, "370725107201", "{}"));
  Exec("UPDATE persons SET name = '李四' WHERE household_id = ?", {h1_});
  sp = Sync(cache);
  EXPECT_FALSE(Cached(cache, h1_));
  ASSERT_TRUE(cache.Fill(Kind::kDetail, h1_, sp, "370725107201", "{}"));
  Exec("UPDATE persons SET household_id = ? WHERE household_id = ?", {h2_, h1_});
  sp = Sync(cache);
  EXPECT_FALSE(Cached(cache, h1_));
  EXPECT_FALSE(Cached(cache, h2_, Kind::kSummary));
  ASSERT_TRUE(cache.Fill(Kind::kDetail, h2_, sp, "370725107201", "{}"));
  Exec("DELETE FROM persons WHERE household_id = ?", {h2_});
  Sync(cache);
  EXPECT_FALSE(Cached(cache, h2_));

  // A statement that changes nothing evicts nothing.
  sp = Sync(cache);
  ASSERT_TRUE(cache.Fill(Kind::kDetail, h1_, sp, "370725107201", "{}"));
  Exec("UPDATE households SET phone = '2' WHERE id = -1");
  Sync(cache);
  EXPECT_TRUE(Cached(cache, h1_));

  // A rolled-back change is not a change.
  {
    storage::Transaction tx(conn(), true);
    ASSERT_TRUE(tx.status().ok());
    Exec("UPDATE households SET phone = '3' WHERE id = ?", {h1_});
  }
  Sync(cache);
  EXPECT_TRUE(Cached(cache, h1_));
}

TEST_P(HouseholdCacheTest, ADocumentLoadedBeforeAChangeIsRefused) {
  HouseholdCache cache(*db_);
  auto before = Sync(cache);
  Exec("UPDATE households SET phone = '1' WHERE id = ?", {h1_});
  auto after = Sync(cache);
  EXPECT_GT(after.rev, before.rev);
  EXPECT_FALSE(cache.Fill(Kind::kDetail, h1_, before, "370725107201", "{\"stale\":true}"));
  EXPECT_FALSE(Cached(cache, h1_));
  EXPECT_TRUE(cache.Fill(Kind::kDetail, h2_, before, "370725107201", "{}"));  // h2 did not change
  EXPECT_TRUE(cache.Fill(Kind::kDetail, h1_, after, "370725107201", "{}"));
  EXPECT_EQ(cache.stats().refused_fills, 1);
  // A document computed for another day is refused too (ages change at midnight).
  auto other_day = after;
  other_day.day = "1999-01-01";
  EXPECT_FALSE(cache.Fill(Kind::kSummary, h1_, other_day, "370725107201", "{}"));
}

TEST_P(HouseholdCacheTest, AFeedPrunedPastTheCacheEmptiesIt) {
  HouseholdCache cache(*db_);
  Sync(cache);
  Exec("UPDATE households SET phone = '1' WHERE id = ?", {h1_});
  auto sp = Sync(cache);
  ASSERT_TRUE(cache.Fill(Kind::kDetail, h2_, sp, "370725107201", "{}"));
  // Another process prunes rows this cache has not read yet.
  Exec("UPDATE households SET phone = '2' WHERE id = ?", {h1_});
  Exec("UPDATE households SET phone = '3' WHERE id = ?", {h1_});
  Exec("DELETE FROM registry_changes WHERE rev <= (SELECT MAX(rev) FROM registry_changes) - 1");
  auto flushes = cache.stats().flushes;
  Sync(cache);
  EXPECT_EQ(cache.stats().flushes, flushes + 1);
  EXPECT_FALSE(Cached(cache, h2_));  // unchanged, but the cache cannot know
}

// Readers never see a value older than one committed before their Sync(), while a writer
// commits changes and readers fill the cache from the database concurrently.
TEST_P(HouseholdCacheTest, ReadersNeverSeeAValueOlderThanTheLastCommitBeforeTheirSync) {
  HouseholdCache cache(*db_);
  Exec("UPDATE households SET vehicles = 0 WHERE id = ?", {h1_});
  std::atomic<int64_t> committed{0};
  std::atomic<bool> stop{false};
  std::atomic<int> stale{0}, served{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      auto lease = db_->Acquire();
      if (!lease.ok()) return;
      const storage::Params id{storage::Value(h1_)};
      // Both ways of syncing at once: the shared poll, and (SQLite) a poll on one's own connection.
      storage::Connection* own = t == 0 ? nullptr : lease->get();
      while (!stop) {
        int64_t floor = committed.load();
        auto sp = cache.Sync(own);
        if (!sp.ok()) continue;
        int64_t value;
        if (auto doc = cache.Get(Kind::kDetail, h1_)) {
          value = std::stoll(*doc->json);
        } else {
          auto rs = (*lease)->Query("SELECT vehicles FROM households WHERE id = ?", id);
          if (!rs.ok()) continue;
          value = rs->rows[0].Int(0);
          cache.Fill(Kind::kDetail, h1_, *sp, "370725107201", std::to_string(value));
        }
        if (value < floor) ++stale;
        ++served;
      }
    });
  }
  for (int64_t i = 1; i <= 60; ++i) {
    storage::Params params{storage::Value(i), storage::Value(h1_)};
    Exec("UPDATE households SET vehicles = ? WHERE id = ?", params);
    committed = i;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_GT(served.load(), 60);
  EXPECT_GT(cache.stats().hits, 0);
}

// A writer's document (FillAfterWrite) is served once a poll shows the write's change to be the
// household's first since the writer's sync; any other change before or after it evicts it.
TEST_P(HouseholdCacheTest, AWritersDocumentIsServedOnceItsChangeIsConfirmed) {
  HouseholdCache cache(*db_);
  auto sp = Sync(cache);
  int64_t rev = Change(h1_, "1");
  ASSERT_TRUE(cache.FillAfterWrite(h1_, sp, rev, "370725107201", "{\"v\":2}", Parsed(2)));
  EXPECT_FALSE(Cached(cache, h1_));  // not before the poll has shown the change
  EXPECT_EQ(cache.GetHousehold(h1_), nullptr);
  sp = Sync(cache);
  auto doc = cache.Get(Kind::kDetail, h1_);
  ASSERT_TRUE(doc);
  EXPECT_EQ(*doc->json, "{\"v\":2}");
  ASSERT_NE(cache.GetHousehold(h1_), nullptr);
  EXPECT_EQ(cache.GetHousehold(h1_)->version, 2);
  EXPECT_EQ(cache.stats().confirmed_write_fills, 1);

  // The next write starts from the confirmed document; a change after it evicts it.
  rev = Change(h1_, "2");
  ASSERT_TRUE(cache.FillAfterWrite(h1_, sp, rev, "370725107201", "{\"v\":3}", Parsed(3)));
  Change(h1_, "3");
  Sync(cache);
  EXPECT_FALSE(Cached(cache, h1_));
  EXPECT_EQ(cache.GetHousehold(h1_), nullptr);

  // Another change (a member's, say) committed between the writer's sync and its write: the
  // writer's document lacks it and is dropped.
  sp = Sync(cache);
  Change(h1_, "4");
  rev = Change(h1_, "5");
  ASSERT_TRUE(cache.FillAfterWrite(h1_, sp, rev, "370725107201", "{\"v\":5}", Parsed(5)));
  Sync(cache);
  EXPECT_FALSE(Cached(cache, h1_));
  EXPECT_EQ(cache.stats().dropped_write_fills, 1);

  // A poll already applied a change after the writer's sync (its own or another): refused.
  sp = Sync(cache);
  rev = Change(h1_, "6");
  Sync(cache);
  EXPECT_FALSE(cache.FillAfterWrite(h1_, sp, rev, "370725107201", "{}", Parsed(6)));
  EXPECT_FALSE(Cached(cache, h1_));

  // A reader's document filled over a pending one may predate the write: the write's change
  // evicts it, and nothing of the writer's is served.
  sp = Sync(cache);
  rev = Change(h1_, "7");
  ASSERT_TRUE(cache.FillAfterWrite(h1_, sp, rev, "370725107201", "{\"v\":7}", Parsed(7)));
  ASSERT_TRUE(cache.Fill(Kind::kSummary, h1_, sp, "370725107201", "{\"old\":true}"));
  Sync(cache);
  EXPECT_FALSE(Cached(cache, h1_, Kind::kSummary));
  EXPECT_FALSE(Cached(cache, h1_));
  EXPECT_EQ(cache.stats().write_fills, 4);
}

// An audited household write reports its change's number in the feed, read in the same round
// trip (with and without committing), and 0 when it wrote nothing.
TEST_P(HouseholdCacheTest, AGuardedWriteReportsItsChangesNumberInTheFeed) {
  const std::string update =
      "UPDATE households SET phone = ?, version = version + 1 WHERE id = ? AND version = ? RETURNING id";
  const audit::Entry entry{"household.update", "household", std::to_string(h2_), "370725107201", "{}", "{}"};
  auto last = [&] {
    auto rs = conn().Query("SELECT MAX(rev) FROM registry_changes");
    return rs.ok() ? rs->rows[0].Int(0) : -1;
  };
  for (bool commit : {true, false}) {
    storage::Transaction tx(conn(), true);
    int64_t rev = -1;
    auto n = audit::RecordGuardedWrite(conn(), update, {std::string("1"), h2_, int64_t{1}}, {7, "张三"}, entry,
                                       commit ? &tx : nullptr, &rev);
    ASSERT_TRUE(n.ok()) << n.status().detail();
    EXPECT_EQ(*n, commit ? 1 : 0);  // the first write's version, then a stale one
    if (!commit) {
      ASSERT_TRUE(tx.Commit().ok());
    }
    if (commit) {
      EXPECT_EQ(rev, last());
    } else {
      EXPECT_EQ(rev, 0);
    }
  }
  Exec("UPDATE households SET phone = '0' WHERE id = ?", {h1_});  // numbers move on
  storage::Transaction tx(conn(), true);
  int64_t rev = -1;
  auto n = audit::RecordGuardedWrite(conn(), update, {std::string("2"), h2_, int64_t{2}}, {7, "张三"}, entry,
                                     nullptr, &rev);
  ASSERT_TRUE(n.ok()) << n.status().detail();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(rev, last());
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(rev, last());
  EXPECT_GT(rev, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, HouseholdCacheTest, ::testing::ValuesIn(storage::testing::Backends()));

}  // namespace
}  // namespace doudi::registry
