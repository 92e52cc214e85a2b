// RegistryService: its caches and households (read, create, update). Lists, searches and the
// roster are in registry_list.cc, persons in registry_persons.cc, regions in
// registry_regions.cc; rows and checks in registry_rows.cc.
#include "registry/registry.h"

#include <algorithm>

#include "common/citizen_id.h"
#include "common/date.h"
#include "registry/registry_internal.h"
#include "storage/idempotency.h"

namespace doudi::registry {

using namespace internal;

namespace {
constexpr const char* kInsertHousehold =
    "INSERT INTO households (county_code, town_code, village_code, area, residence_address, phone, "
    "deposits_fen, vehicles, extra_properties, business, medical_expenditure_fen, education_expenditure_fen, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
}  // namespace

RegistryService::RegistryService(storage::Database& db)
    : db_(db), read_log_(db), caches_(std::make_unique<Caches>(db)), writes_(db) {}
RegistryService::~RegistryService() = default;

bool RegistryService::SharesPolls() const { return db_.dialect() != storage::Dialect::kSqlite; }

void RegistryService::AwaitFresh(std::function<void(Within)> ready) {
  HouseholdCache& cache = caches_->households;
  cache.AwaitSync([&cache, ready = std::move(ready)](Result<HouseholdCache::SyncPoint> at) {
    if (!at.ok()) {  // the work polls for itself and reports the error
      ready([](const std::function<void()>& work) { work(); });
      return;
    }
    ready([&cache, point = *at](const std::function<void()>& work) {
      HouseholdCache::Presynced scope(cache, point);
      work();
    });
  });
}

Result<Household> RegistryService::GetHousehold(const auth::User& actor, int64_t id) {
  DOUDI_RETURN_IF_ERROR(RequireRead(actor));
  Household h;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    DOUDI_ASSIGN_OR_RETURN(h, LoadHousehold(*conn, caches_->region_names, id, actor.region_code));
  }  // the connection goes back before waiting for the read log's commit
  DOUDI_RETURN_IF_ERROR(read_log_.Record(actor.actor(), "household", std::to_string(id), h.village_code));
  return h;
}

Result<std::string> RegistryService::GetHouseholdJson(const auth::User& actor, int64_t id) {
  DOUDI_RETURN_IF_ERROR(RequireRead(actor));
  Caches& c = *caches_;
  std::optional<HouseholdCache::Doc> doc;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    DOUDI_ASSIGN_OR_RETURN(HouseholdCache::SyncPoint sync, c.households.Sync(conn.get()));
    doc = c.households.Get(HouseholdCache::Kind::kDetail, id);
    if (!doc) {
      // Loaded whatever the reader's scope (the document is shared), checked below.
      auto h = LoadHousehold(*conn, c.region_names, id, kAnyRegion);
      if (!h.ok()) return h.status();
      doc = HouseholdCache::Doc{h->village_code, std::make_shared<const std::string>(DumpJson(*h, sync.day))};
      auto household = std::make_shared<const Household>(std::move(*h));
      c.households.Fill(HouseholdCache::Kind::kDetail, id, sync, doc->village_code, *doc->json, std::move(household));
    }
  }  // the connection goes back before waiting for the read log's commit
  if (!CodeWithin(doc->village_code, actor.region_code)) return Status::NotFound("家庭不存在");
  DOUDI_RETURN_IF_ERROR(read_log_.Record(actor.actor(), "household", std::to_string(id), doc->village_code));
  return *doc->json;
}

// Under the person's region (its auditors see who tried their id) and, when that is outside the
// user's scope, under the user's own region too (the user's auditors see the probing).
Status RegistryService::LogCollision(const auth::User& actor, const IdCollision& c) {
  if (c.person_id == 0) return Status::Ok();
  const std::string id = std::to_string(c.person_id);
  DOUDI_RETURN_IF_ERROR(read_log_.Record(actor.actor(), "person_id_collision", id, c.village_code));
  if (CodeWithin(c.village_code, actor.region_code)) return Status::Ok();
  return read_log_.Record(actor.actor(), "person_id_collision", id, actor.region_code);
}

Result<int64_t> RegistryService::InsertHousehold(Connection& conn, const auth::User& actor, const HouseholdInput& in,
                                                 IdCollision* collision) {
  DOUDI_ASSIGN_OR_RETURN(std::string town,
                         CheckVillage(conn, caches_->region_names, in.village_code, actor.region_code));
  std::string now = NowIsoShanghai();
  auto rs = conn.Query(kInsertHousehold,
                       {in.village_code.substr(0, 6), town, in.village_code, in.area, in.residence_address, in.phone,
                        in.deposits_fen, in.vehicles, in.extra_properties, int64_t{in.business},
                        in.medical_expenditure_fen, in.education_expenditure_fen, now, now});
  if (!rs.ok()) return rs.status();
  int64_t id = rs->rows[0].Int(0);
  for (size_t i = 0; i < in.members.size(); ++i) {
    auto pid = InsertPerson(conn, id, in.members[i], "members[" + std::to_string(i) + "]", actor.region_code, collision);
    if (!pid.ok()) return pid.status();
  }
  DOUDI_ASSIGN_OR_RETURN(Household h, LoadHousehold(conn, caches_->region_names, id, actor.region_code));
  DOUDI_RETURN_IF_ERROR(Audit(conn, actor, "household.create", "household", id, h.village_code, nullptr, ToJson(h)));
  return id;
}

Result<Household> RegistryService::CreateHousehold(const auth::User& actor, const HouseholdInput& in) {
  DOUDI_RETURN_IF_ERROR(RequireWrite(actor));
  IdCollision collision;
  auto out = [&]() -> Result<Household> {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    storage::Transaction tx(*conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key (issue 17)
    DOUDI_ASSIGN_OR_RETURN(int64_t id, InsertHousehold(*conn, actor, in, &collision));
    DOUDI_ASSIGN_OR_RETURN(Household h, LoadHousehold(*conn, caches_->region_names, id, actor.region_code));
    DOUDI_RETURN_IF_ERROR(tx.Commit());
    return h;
  }();  // rolled back and the connection returned before the collision is logged
  DOUDI_RETURN_IF_ERROR(LogCollision(actor, collision));
  return out;
}

Result<Household> RegistryService::UpdateHousehold(const auth::User& actor, int64_t id, const HouseholdFields& in,
                                                   int64_t version, std::string* json_doc) {
  DOUDI_RETURN_IF_ERROR(RequireWrite(actor));
  Caches& c = *caches_;
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  // The household as of a sync after the request arrived: from the cache when it holds it
  // (every change committed before the request has evicted it), else read in the transaction.
  // Either way the UPDATE below applies only to the version read.
  DOUDI_ASSIGN_OR_RETURN(HouseholdCache::SyncPoint sync, c.households.Sync(conn.get()));
  std::shared_ptr<const Household> cached = c.households.GetHousehold(id);
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  Household before;
  if (cached) {
    if (!CodeWithin(cached->village_code, actor.region_code)) return Status::NotFound("家庭不存在");
    before = *cached;
  } else {
    DOUDI_ASSIGN_OR_RETURN(before, LoadHousehold(*conn, c.region_names, id, actor.region_code));
  }
  DOUDI_ASSIGN_OR_RETURN(std::string town, CheckVillage(*conn, c.region_names, in.village_code, actor.region_code));
  if (before.version != version) return Status::VersionConflict();
  const bool moved = in.village_code != before.village_code;
  // The updated household is the one read with the new fields: the UPDATE applies only to the
  // version read (members are unchanged but for their region columns, which a member document
  // does not show), so neither a second read nor RETURNING is needed, and the audit entry can
  // go with the UPDATE in one statement (RecordGuardedWrite).
  Household after = before;
  static_cast<HouseholdFields&>(after) = in;
  after.county_code = in.village_code.substr(0, 6);
  after.town_code = town;
  DOUDI_ASSIGN_OR_RETURN(after.village_name, c.region_names.Get(*conn, after.village_code));
  DOUDI_ASSIGN_OR_RETURN(after.town_name, c.region_names.Get(*conn, after.town_code));
  after.version = version + 1;
  after.updated_at = NowIsoShanghai();
  json b = ToJson(before), a = ToJson(after);
  b.erase("members");
  a.erase("members");
  std::string write =
      "UPDATE households SET county_code = ?, town_code = ?, village_code = ?, area = ?, residence_address = ?, "
      "phone = ?, deposits_fen = ?, vehicles = ?, extra_properties = ?, business = ?, "
      "medical_expenditure_fen = ?, education_expenditure_fen = ?, updated_at = ?, version = ? "
      "WHERE id = ? AND version = ? RETURNING id";
  Params params{after.county_code, town, in.village_code, in.area, in.residence_address, in.phone, in.deposits_fen,
                in.vehicles, in.extra_properties, int64_t{in.business}, in.medical_expenditure_fen,
                in.education_expenditure_fen, after.updated_at, after.version, id, version};
  audit::Entry entry{"household.update", "household", std::to_string(id), after.village_code, b.dump(), a.dump()};
  if (!moved) {
    // The write is its transaction's only one: it is group-committed with other requests'
    // (audit::WriteQueue; inside the server's DeferCommits scope this returns before the
    // commit, and the receipt carries the outcome). Committed as the feed's change `rev`, its
    // only change to the household, its next read needs no load once a poll shows nothing
    // else changed it first (HouseholdCache).
    std::string doc = DumpJson(after, sync.day);
    if (json_doc) *json_doc = doc;
    auto filled = std::make_shared<const Household>(after);
    DOUDI_RETURN_IF_ERROR(writes_.Submit(
        *conn, tx, std::move(write), std::move(params), actor.actor(), entry,
        {"SELECT id FROM households WHERE id = ? FOR UPDATE", {id}, id},
        [&c, id, sync, filled, doc = std::move(doc)](const audit::WriteQueue::Outcome& o) mutable -> Status {
          if (!o.status.ok()) return o.status;
          if (o.rows == 0) return Status::VersionConflict();  // changed since it was read (nothing written)
          c.households.FillAfterWrite(id, sync, o.feed_rev, filled->village_code, std::move(doc), filled);
          return Status::Ok();
        }));
    return after;
  }
  DOUDI_ASSIGN_OR_RETURN(int64_t updated, audit::RecordGuardedWrite(*conn, write, params, actor.actor(), entry));
  if (updated == 0) return Status::VersionConflict();  // changed since it was read (nothing written)
  // Members carry their household's region codes.
  auto members = conn->Execute(
      "UPDATE persons SET county_code = ?, town_code = ?, village_code = ? WHERE household_id = ?",
      {after.county_code, town, in.village_code, id});
  if (!members.ok()) return members.status();
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  if (json_doc) *json_doc = DumpJson(after, sync.day);
  return after;
}

}  // namespace doudi::registry
