// The registry's internals shared by its files (registry.cc: the service and households;
// registry_persons.cc, registry_regions.cc, registry_list.cc: lists, searches and the roster;
// registry_rows.cc: rows to records, the checks and the audit entry). Not part of the contract
// (registry.h).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "registry/household_cache.h"
#include "registry/registry.h"

namespace doudi::registry::internal {

using nlohmann::json;
using storage::Connection;
using storage::Params;

// Regions never change once loaded (reference data is inserted, never updated, except a
// town's population, which is not kept here), so their names, levels and parents are cached
// per service.
class RegionNames {
 public:
  struct Region {
    std::string name, level, parent_code;
  };
  // The region, or nullopt when the code is unknown.
  Result<std::optional<Region>> Find(Connection& conn, const std::string& code) {
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = regions_.find(code);
      if (it != regions_.end()) return std::optional<Region>(it->second);
    }
    auto rs = conn.Query("SELECT name, level, parent_code FROM regions WHERE code = ?", {code});
    if (!rs.ok()) return rs.status();
    if (rs->empty()) return std::optional<Region>();
    Region r{rs->rows[0].Text(0), rs->rows[0].Text(1), rs->rows[0].Text(2)};
    std::lock_guard<std::mutex> g(mu_);
    return std::optional<Region>(regions_.emplace(code, std::move(r)).first->second);
  }
  // The region's name, empty when the code is unknown.
  Result<std::string> Get(Connection& conn, const std::string& code) {
    DOUDI_ASSIGN_OR_RETURN(std::optional<Region> r, Find(conn, code));
    return r ? r->name : std::string();
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, Region> regions_;
};

// LoadHousehold's scope for documents shared by all readers (each reader's scope is checked
// against the document's village).
const std::string kAnyRegion = "*";

// Person columns (kPersonColumns order) starting at column o.
Person PersonFromRow(const storage::Row& r, size_t o = 0);
// Person columns after household_id in insert/update order.
Params PersonParams(const PersonInput& p, const CitizenIdInfo& id);
// The household with its members; NotFound outside `scope` (or kAnyRegion).
Result<Household> LoadHousehold(Connection& conn, RegionNames& names, int64_t id, const std::string& scope);
// Looks up a village code: 400 when unknown or not a village, 404 when outside scope; the town.
Result<std::string> CheckVillage(Connection& conn, RegionNames& names, const std::string& code,
                                 const std::string& scope);
// 409 when `normalized` is registered to a person other than `self` (issue 17 #7).
Status CheckIdFree(Connection& conn, const std::string& normalized, int64_t self, const std::string& scope,
                   const std::string& field, RegistryService::IdCollision* collision);
// Raced by a concurrent insert of the same id (the unique index answers): no one is named.
Status IdTakenMeanwhile(const std::string& field);
Result<int64_t> InsertPerson(Connection& conn, int64_t household_id, const PersonInput& p, const std::string& path,
                             const std::string& scope, RegistryService::IdCollision* collision);
Status RequireWrite(const auth::User& actor);
Status RequireRead(const auth::User& actor);
Result<Person> LoadPerson(Connection& conn, int64_t id, const std::string& scope, std::string* village);
// The audit entry of a registry write (before and after as JSON, null when none).
Status Audit(Connection& conn, const auth::User& actor, const char* action, const char* entity, int64_t id,
             const std::string& region, const json& before, const json& after);

}  // namespace doudi::registry::internal

namespace doudi::registry {

struct RegistryService::Caches {
  // The household ids (newest first) of a scope, or that a search finds in it, each valid
  // for one registry generation (see migration 8). Bounded (entries and ids held): cleared
  // when full, entries are rebuilt on demand.
  static constexpr size_t kMaxEntries = 512;
  static constexpr size_t kMaxIds = 8'000'000;  // 64 MB
  struct Search {
    int64_t gen;
    std::shared_ptr<const std::vector<int64_t>> ids;
  };
  std::mutex mu;
  std::mutex compute_mu;  // one rescan at a time: concurrent misses wait and reuse it
  std::unordered_map<std::string, Search> searches;
  size_t cached_ids = 0;
  internal::RegionNames region_names;
  explicit Caches(storage::Database& db) : households(db) {}
  HouseholdCache households;  // documents, kept exact by the change feed

  // ListHouseholdsJson's steps (registry_list.cc): the household ids listed under `key` (from
  // the cache, or scanned by `scan`), then one page of their summary documents.
  Result<std::shared_ptr<const std::vector<int64_t>>> ListedIds(storage::Connection& conn, const std::string& key,
                                                                const std::string& scan, const storage::Params& params,
                                                                const HouseholdCache::SyncPoint& sync);
  Result<std::string> PageJson(storage::Connection& conn, const std::vector<int64_t>& ids, const HouseholdQuery& q,
                               const HouseholdCache::SyncPoint& sync);
};

}  // namespace doudi::registry
