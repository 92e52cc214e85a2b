// Regions: lists below a parent, one region with its path, a town's population.
#include <algorithm>

#include "common/citizen_id.h"
#include "common/date.h"
#include "registry/registry_internal.h"
#include "storage/idempotency.h"

namespace doudi::registry {

using namespace internal;

namespace {
Region RegionFromRow(const storage::Row& r) {
  return Region{r.Text(0), r.Text(1), r.Text(2), r.Text(3), r.Int(4), r.Int(5), {}};
}
constexpr const char* kRegionColumns = "code, parent_code, level, name, population, version";
}  // namespace

Result<std::vector<Region>> RegistryService::ListRegions(const auth::User& actor, const std::string& parent) {
  std::string p = parent.empty() ? actor.region_code : parent;
  std::vector<Region> out;
  if (!CodeWithin(p, actor.region_code)) {
    // A parent above the user's scope lists only the user's own region on that path.
    if (!CodeWithin(actor.region_code, p)) return Status::NotFound("区划不存在");
    auto own = GetRegion(actor, actor.region_code);
    if (!own.ok()) return own.status();
    own->path.clear();
    out.push_back(*own);
    return out;
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(std::string("SELECT ") + kRegionColumns + " FROM regions WHERE parent_code = ? ORDER BY code",
                        {p});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) {
    auto exists = conn->Query("SELECT 1 FROM regions WHERE code = ?", {p});
    if (!exists.ok()) return exists.status();
    if (exists->empty()) return Status::NotFound("区划不存在");
  }
  for (const auto& r : rs->rows) out.push_back(RegionFromRow(r));
  return out;
}

Result<Region> RegistryService::GetRegion(const auth::User& actor, const std::string& code) {
  // Users may see their own region, everything below it and the names above it.
  if (!CodeWithin(code, actor.region_code) && !CodeWithin(actor.region_code, code))
    return Status::NotFound("区划不存在");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(std::string("SELECT ") + kRegionColumns + " FROM regions WHERE code = ?", {code});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("区划不存在");
  Region reg = RegionFromRow(rs->rows[0]);
  for (size_t len : {6u, 9u, 12u}) {
    if (len > code.size()) break;
    auto n = conn->Query("SELECT name FROM regions WHERE code = ?", {code.substr(0, len)});
    if (!n.ok()) return n.status();
    if (!n->empty()) reg.path.push_back(n->rows[0].Text(0));
  }
  return reg;
}

Result<Region> RegistryService::SetPopulation(const auth::User& actor, const std::string& code, int64_t population,
                                              int64_t version) {
  if (actor.role != auth::Role::kCountyAdmin) return Status::PermissionDenied("只有县级管理员可以修改人口数");
  if (population < 0 || population > 10'000'000) return Status::InvalidArgument("population", "人口数应在0到1000万之间");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto rs = conn->Query(std::string("SELECT ") + kRegionColumns + " FROM regions WHERE code = ?", {code});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(code, actor.region_code)) return Status::NotFound("区划不存在");
  Region before = RegionFromRow(rs->rows[0]);
  if (before.level != "town") return Status::InvalidArgument("code", "只能修改镇（街道）的人口数");
  auto n = conn->Execute("UPDATE regions SET population = ?, version = version + 1 WHERE code = ? AND version = ?",
                         {population, code, version});
  if (!n.ok()) return n.status();
  if (*n == 0) return Status::VersionConflict();
  Region after = before;
  after.population = population;
  after.version = before.version + 1;
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"region.update", "region", code, code, ToJson(before).dump(),
                                            ToJson(after).dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return after;
}

}  // namespace doudi::registry
