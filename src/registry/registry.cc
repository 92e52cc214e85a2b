#include "registry/registry.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/citizen_id.h"
#include "common/date.h"
#include "registry/household_cache.h"
#include "storage/idempotency.h"

namespace doudi::registry {
namespace {

using nlohmann::json;
using storage::Connection;
using storage::Params;

constexpr const char* kRelations[] = {"head", "spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other"};
constexpr const char* kDisabilityKinds[] = {"physical", "visual", "hearing", "speech", "intellectual", "mental", "multiple"};
constexpr const char* kSelfCare[] = {"full", "partial_loss", "full_loss"};

template <size_t N>
bool OneOf(const std::string& v, const char* const (&set)[N]) {
  return std::find_if(std::begin(set), std::end(set), [&](const char* s) { return v == s; }) != std::end(set);
}

// --- SQL, next to the code that uses it ---------------------------------------------------
constexpr const char* kPersonColumns =
    "id, version, household_id, citizen_id, name, relation, birth_date, sex, disability_kind, "
    "disability_grade, serious_illness, self_care, in_school, employed, has_supporter, income_wage_fen, "
    "income_business_fen, income_property_fen, income_transfer_fen, income_pension_fen, income_other_fen";
// The household and its members in one statement: one row per member (household columns
// repeated), member columns from index 18. Region names (columns 5, 6) come from RegionNames:
// fewer joins to plan, and PostgreSQL plans every execution (see postgres_backend.cc).
constexpr const char* kHouseholdSelect =
    "SELECT h.id, h.version, h.village_code, h.town_code, h.county_code, NULL, NULL, h.area, "
    "h.residence_address, h.phone, h.deposits_fen, h.vehicles, h.extra_properties, h.business, "
    "h.medical_expenditure_fen, h.education_expenditure_fen, h.created_at, h.updated_at, "
    "p.id, p.version, p.household_id, p.citizen_id, p.name, p.relation, p.birth_date, p.sex, p.disability_kind, "
    "p.disability_grade, p.serious_illness, p.self_care, p.in_school, p.employed, p.has_supporter, "
    "p.income_wage_fen, p.income_business_fen, p.income_property_fen, p.income_transfer_fen, p.income_pension_fen, "
    "p.income_other_fen "
    "FROM households h LEFT JOIN persons p ON p.household_id = h.id WHERE h.id = ? ORDER BY p.id";
constexpr size_t kHouseholdMemberColumn = 18;
constexpr const char* kInsertHousehold =
    "INSERT INTO households (county_code, town_code, village_code, area, residence_address, phone, "
    "deposits_fen, vehicles, extra_properties, business, medical_expenditure_fen, education_expenditure_fen, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
// The region codes are copied from the household (kept in step by UpdateHousehold).
constexpr const char* kInsertPerson =
    "INSERT INTO persons (household_id, county_code, town_code, village_code, citizen_id, name, relation, "
    "birth_date, sex, disability_kind, disability_grade, serious_illness, self_care, in_school, employed, "
    "has_supporter, income_wage_fen, income_business_fen, income_property_fen, income_transfer_fen, "
    "income_pension_fen, income_other_fen, created_at, updated_at) "
    "SELECT h.id, h.county_code, h.town_code, h.village_code, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ? FROM households h WHERE h.id = ? RETURNING id";

// Person columns (kPersonColumns order) starting at column o.
Person PersonFromRow(const storage::Row& r, size_t o = 0) {
  Person p;
  p.id = r.Int(o + 0);
  p.version = r.Int(o + 1);
  p.household_id = r.Int(o + 2);
  p.citizen_id = r.Text(o + 3);
  p.name = r.Text(o + 4);
  p.relation = r.Text(o + 5);
  p.birth_date = r.Text(o + 6);
  p.sex = r.Text(o + 7);
  if (!r.IsNull(o + 8)) p.disability = Disability{r.Text(o + 8), static_cast<int>(r.Int(o + 9))};
  p.serious_illness = r.Bool(o + 10);
  p.self_care = r.Text(o + 11);
  p.in_school = r.Bool(o + 12);
  p.employed = r.Bool(o + 13);
  p.has_supporter = r.Bool(o + 14);
  p.income = {r.Int(o + 15), r.Int(o + 16), r.Int(o + 17), r.Int(o + 18), r.Int(o + 19), r.Int(o + 20)};
  return p;
}

// Person columns after household_id in insert/update order.
Params PersonParams(const PersonInput& p, const CitizenIdInfo& id) {
  return {id.normalized,
          p.name,
          p.relation,
          id.birth_date,
          std::string(id.male ? "male" : "female"),
          p.disability ? storage::Value(p.disability->kind) : storage::Value(nullptr),
          p.disability ? storage::Value(int64_t{p.disability->grade}) : storage::Value(nullptr),
          int64_t{p.serious_illness},
          p.self_care,
          int64_t{p.in_school},
          int64_t{p.employed},
          int64_t{p.has_supporter},
          p.income.wage,
          p.income.business,
          p.income.property,
          p.income.transfer,
          p.income.pension,
          p.income.other};
}

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

// The household columns of kHouseholdSelect (0–17; names from the cache) into h.
Status HouseholdFromRow(Connection& conn, RegionNames& names, const storage::Row& r, Household& h) {
  h.id = r.Int(0);
  h.version = r.Int(1);
  h.village_code = r.Text(2);
  h.town_code = r.Text(3);
  h.county_code = r.Text(4);
  DOUDI_ASSIGN_OR_RETURN(h.village_name, names.Get(conn, h.village_code));
  DOUDI_ASSIGN_OR_RETURN(h.town_name, names.Get(conn, h.town_code));
  h.area = r.Text(7);
  h.residence_address = r.Text(8);
  h.phone = r.Text(9);
  h.deposits_fen = r.Int(10);
  h.vehicles = r.Int(11);
  h.extra_properties = r.Int(12);
  h.business = r.Bool(13);
  h.medical_expenditure_fen = r.Int(14);
  h.education_expenditure_fen = r.Int(15);
  h.created_at = r.Text(16);
  h.updated_at = r.Text(17);
  return Status::Ok();
}

Result<Household> LoadHousehold(Connection& conn, RegionNames& names, int64_t id, const std::string& scope) {
  auto rs = conn.Query(kHouseholdSelect, {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("家庭不存在");
  if (scope != kAnyRegion && !CodeWithin(rs->rows[0].Text(2), scope)) return Status::NotFound("家庭不存在");
  Household h;
  DOUDI_RETURN_IF_ERROR(HouseholdFromRow(conn, names, rs->rows[0], h));
  for (const auto& row : rs->rows)
    if (!row.IsNull(kHouseholdMemberColumn)) h.members.push_back(PersonFromRow(row, kHouseholdMemberColumn));
  return h;
}

// Looks up a village code: 400 when unknown or not a village, 404 when outside scope.
Result<std::string> CheckVillage(Connection& conn, RegionNames& names, const std::string& code,
                                 const std::string& scope) {
  DOUDI_ASSIGN_OR_RETURN(std::optional<RegionNames::Region> r, names.Find(conn, code));
  if (!r || r->level != "village") return Status::InvalidArgument("village_code", "村（社区）区划代码不存在");
  if (!CodeWithin(code, scope)) return Status::NotFound("该村（社区）不在您的管辖范围内");
  return r->parent_code;  // town code
}

// 409 when `normalized` is registered to a person other than `self` (issue 17 #7). Inside
// the actor's scope the answer names the household (the clerk can open it); outside it says
// nothing about the person, the household or the region. *collision gets the person either way.
Status CheckIdFree(Connection& conn, const std::string& normalized, int64_t self, const std::string& scope,
                   const std::string& field, RegistryService::IdCollision* collision) {
  auto rs = conn.Query("SELECT id, household_id, village_code FROM persons WHERE citizen_id = ?", {normalized});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || rs->rows[0].Int(0) == self) return Status::Ok();
  const auto& r = rs->rows[0];
  if (collision) *collision = {r.Int(0), r.Text(2)};
  if (CodeWithin(r.Text(2), scope))
    return Status::Conflict(field, "该身份证号已登记在您辖区的家庭（家庭编号 " + std::to_string(r.Int(1)) + "）");
  return Status::Conflict(field, "该身份证号已有登记，不能重复登记；请核对身份证号，或联系县级民政部门核实");
}

// Raced by a concurrent insert of the same id (the unique index answers): no one is named.
Status IdTakenMeanwhile(const std::string& field) {
  return Status::Conflict(field, "该身份证号已有登记，不能重复登记；请核对身份证号");
}

Result<int64_t> InsertPerson(Connection& conn, int64_t household_id, const PersonInput& p, const std::string& path,
                             const std::string& scope, RegistryService::IdCollision* collision) {
  auto id = ParseCitizenId(p.citizen_id);
  if (!id.ok()) return id.status().WithFieldPrefix(path.empty() ? "" : path);
  const std::string field = path.empty() ? "citizen_id" : path + ".citizen_id";
  DOUDI_RETURN_IF_ERROR(CheckIdFree(conn, id->normalized, 0, scope, field, collision));
  Params params = PersonParams(p, *id);
  std::string now = NowIsoShanghai();
  params.push_back(now);
  params.push_back(now);
  params.push_back(household_id);
  auto rs = conn.Query(kInsertPerson, params);
  if (!rs.ok()) {
    if (rs.status().code() == Code::kConflict) return IdTakenMeanwhile(field);
    return rs.status();
  }
  if (rs->empty()) return Status::NotFound("家庭不存在");
  return rs->rows[0].Int(0);
}

Status RequireWrite(const auth::User& actor) {
  return auth::CanWriteRegistry(actor.role) ? Status::Ok() : Status::PermissionDenied("您的角色无权修改户籍信息");
}
Status RequireRead(const auth::User& actor) {
  return auth::CanReadRegistry(actor.role) ? Status::Ok() : Status::PermissionDenied("您的角色无权查看户籍信息");
}

Result<Person> LoadPerson(Connection& conn, int64_t id, const std::string& scope, std::string* village) {
  auto rs = conn.Query(std::string("SELECT ") + kPersonColumns +
                           ", (SELECT village_code FROM households h WHERE h.id = persons.household_id)"
                           " FROM persons WHERE id = ?",
                       {id});
  if (!rs.ok()) return rs.status();
  if (rs->empty() || !CodeWithin(rs->rows[0].Text(21), scope)) return Status::NotFound("人员不存在");
  if (village) *village = rs->rows[0].Text(21);
  return PersonFromRow(rs->rows[0]);
}

Status Audit(Connection& conn, const auth::User& actor, const char* action, const char* entity, int64_t id,
             const std::string& region, const json& before, const json& after) {
  return audit::RecordWrite(conn, actor.actor(),
                            {action, entity, std::to_string(id), region, before.dump(), after.dump()});
}

}  // namespace

Status ValidatePerson(const PersonInput& p) {
  auto id = ParseCitizenId(p.citizen_id);
  if (!id.ok()) return id.status();
  if (p.name.empty() || p.name.size() > 60) return Status::InvalidArgument("name", "姓名不能为空且不超过20个汉字");
  if (!OneOf(p.relation, kRelations)) return Status::InvalidArgument("relation", "与户主关系无效");
  if (p.disability) {
    if (!OneOf(p.disability->kind, kDisabilityKinds)) return Status::InvalidArgument("disability.kind", "残疾类别无效");
    if (p.disability->grade < 1 || p.disability->grade > 4)
      return Status::InvalidArgument("disability.grade", "残疾等级应为1至4级");
  }
  if (!OneOf(p.self_care, kSelfCare)) return Status::InvalidArgument("self_care", "自理能力无效");
  return Status::Ok();
}

Status ValidateHouseholdFields(const HouseholdFields& h) {
  if (LevelOfCode(h.village_code) != RegionLevel::kVillage)
    return Status::InvalidArgument("village_code", "村（社区）区划代码应为12位数字");
  if (h.area != "urban" && h.area != "rural") return Status::InvalidArgument("area", "城乡类别应为 urban 或 rural");
  if (h.residence_address.size() > 300) return Status::InvalidArgument("residence_address", "居住地址过长");
  if (h.phone.size() > 20 || h.phone.find_first_not_of("0123456789-+ ") != std::string::npos)
    return Status::InvalidArgument("phone", "电话号码只能包含数字、空格、+ 和 -，且不超过20位");
  if (h.vehicles < 0 || h.vehicles > 100) return Status::InvalidArgument("assets.vehicles", "车辆数应在0到100之间");
  if (h.extra_properties < 0 || h.extra_properties > 100)
    return Status::InvalidArgument("assets.extra_properties", "房产数应在0到100之间");
  return Status::Ok();
}

namespace {
// Summaries: one row per (household, member), households newest first. Head and member
// count are folded here, region names come from RegionNames.
constexpr const char* kSummary =
    "SELECT h.id, h.version, h.village_code, h.town_code, h.area, h.updated_at, p.id, p.relation, p.name, "
    "p.citizen_id FROM households h LEFT JOIN persons p ON p.household_id = h.id";

Result<std::vector<HouseholdSummary>> SummariesFromRows(Connection& conn, RegionNames& names,
                                                        const storage::ResultSet& rs) {
  std::vector<HouseholdSummary> out;
  int64_t head_id = 0;
  for (const auto& r : rs.rows) {
    if (out.empty() || out.back().id != r.Int(0)) {
      HouseholdSummary s;
      s.id = r.Int(0);
      s.version = r.Int(1);
      s.village_code = r.Text(2);
      DOUDI_ASSIGN_OR_RETURN(s.village_name, names.Get(conn, s.village_code));
      DOUDI_ASSIGN_OR_RETURN(s.town_name, names.Get(conn, r.Text(3)));
      s.area = r.Text(4);
      s.updated_at = r.Text(5);
      out.push_back(std::move(s));
      head_id = 0;
    }
    if (r.IsNull(6)) continue;  // no members
    HouseholdSummary& s = out.back();
    ++s.member_count;
    if (r.Text(7) == "head" && (head_id == 0 || r.Int(6) < head_id)) {
      head_id = r.Int(6);
      s.head_name = r.Text(8);
      s.head_citizen_id = r.Text(9);
    }
  }
  return out;
}

// The rows a household query may see: the user's scope, narrowed to q.region when given
// (a code inside the scope, else NotFound). A condition on the region columns that
// households and persons share.
struct ScopeFilter {
  std::vector<const char*> columns;
  Params params;
  std::string key;  // the scope and region, for cache keys
  std::string On(std::string_view alias) const {  // "h.town_code = ? AND h.village_code = ?"
    std::string sql;
    for (const char* c : columns) sql += (sql.empty() ? "" : " AND ") + std::string(alias) + "." + c + " = ?";
    return sql;
  }
};
Result<ScopeFilter> ScopeOf(const auth::User& actor, const std::string& region) {
  ScopeFilter f{{ScopeColumn(actor.region_code)}, {actor.region_code}, actor.region_code};
  if (!region.empty() && region != actor.region_code) {
    if (LevelOfCode(region) == RegionLevel::kInvalid)
      return Status::InvalidArgument("region", "区划代码应为6、9或12位数字");
    if (!CodeWithin(region, actor.region_code)) return Status::NotFound("该区划不在您的管辖范围内");
    f.columns.push_back(ScopeColumn(region));
    f.params.push_back(region);
    f.key += "/" + region;
  }
  return f;
}

// A search of persons: a citizen id prefix (4+ digits, x read as X) or a name substring.
struct Search {
  bool by_id = false;
  std::string needle;
};
Search ParseSearch(const std::string& q) {
  Search s{q.size() >= 4 && std::all_of(q.begin(), q.end(), [](char c) {
             return (c >= '0' && c <= '9') || c == 'x' || c == 'X';
           }),
           q};
  if (s.by_id) std::transform(s.needle.begin(), s.needle.end(), s.needle.begin(), [](char c) { return c == 'x' ? 'X' : c; });
  return s;
}
// The search's condition on persons (alias p): an id range, or LIKE with its wildcards escaped.
void AppendSearch(const Search& s, std::string* sql, Params* params) {
  if (s.by_id) {
    *sql += " AND p.citizen_id >= ? AND p.citizen_id < ?";
    params->push_back(s.needle);
    params->push_back(s.needle + "Z");
    return;
  }
  std::string esc;
  for (char ch : s.needle) {
    if (ch == '%' || ch == '_' || ch == '\\') esc += '\\';
    esc += ch;
  }
  *sql += " AND p.name LIKE ? ESCAPE '\\'";
  params->push_back("%" + esc + "%");
}

const char* RelationLabel(const std::string& relation) {
  static const std::pair<const char*, const char*> kLabels[] = {
      {"head", "户主"},     {"spouse", "配偶"},       {"child", "子女"},        {"parent", "父母"},
      {"sibling", "兄弟姐妹"}, {"grandchild", "孙子女"}, {"grandparent", "祖父母"}, {"other", "其他"}};
  for (const auto& [k, v] : kLabels)
    if (relation == k) return v;
  return "其他";
}

}  // namespace

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
  RegionNames region_names;
  explicit Caches(storage::Database& db) : households(db) {}
  HouseholdCache households;  // documents, kept exact by the change feed
};

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

Result<std::string> RegistryService::ListHouseholdsJson(const auth::User& actor, const HouseholdQuery& q) {
  DOUDI_RETURN_IF_ERROR(RequireRead(actor));
  // Scope (and an optional sub-region) filter the households, or, when searching, the persons,
  // which carry the same region columns.
  DOUDI_ASSIGN_OR_RETURN(ScopeFilter scope, ScopeOf(actor, q.region));
  std::string key = scope.key;
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  Caches& c = *caches_;
  DOUDI_ASSIGN_OR_RETURN(HouseholdCache::SyncPoint sync, c.households.Sync(conn.get()));

  // The households listed (all in scope, or those a search finds), newest first, as of the
  // sync: from the cache when no change that could alter the list (the registry generation)
  // has committed since it was read, else from one pass over the (scope, id) index or the
  // (scope, name | citizen_id, household_id) index. A page is a slice of that list; no
  // COUNT, no OFFSET walk.
  const Search search = ParseSearch(q.q);
  key += q.q.empty() ? "|all" : (search.by_id ? "|id|" : "|name|") + search.needle;
  auto cached = [&]() -> std::shared_ptr<const std::vector<int64_t>> {
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.searches.find(key);
    if (it != c.searches.end() && sync.gen && it->second.gen == *sync.gen) return it->second.ids;
    return nullptr;
  };
  std::shared_ptr<const std::vector<int64_t>> ids = cached();
  std::unique_lock<std::mutex> compute(c.compute_mu, std::defer_lock);
  if (!ids) {
    compute.lock();  // concurrent misses wait and reuse one scan
    ids = cached();
  }
  if (!ids) {
    // A search has no DISTINCT / ORDER BY in SQL: they tempt SQLite into walking
    // persons_household in order; the covering (scope, name, household_id) index plus a sort
    // here is far cheaper.
    std::string sql = "SELECT h.id FROM households h WHERE " + scope.On("h") + " ORDER BY h.id DESC";
    Params params = scope.params;
    if (!q.q.empty()) {
      sql = "SELECT p.household_id FROM persons p WHERE " + scope.On("p");
      AppendSearch(search, &sql, &params);
    }
    auto rows = conn->Query(sql, params);
    if (!rows.ok()) return rows.status();
    auto fresh = std::make_shared<std::vector<int64_t>>();
    fresh->reserve(rows->rows.size());
    for (const auto& r : rows->rows) fresh->push_back(r.Int(0));
    std::sort(fresh->begin(), fresh->end(), std::greater<>());
    fresh->erase(std::unique(fresh->begin(), fresh->end()), fresh->end());
    // Read after the sync, so at least as new as its generation: tagged with it (a newer
    // scan only costs a rescan later).
    if (sync.gen) {
      std::lock_guard<std::mutex> g(c.mu);
      auto old = c.searches.find(key);
      if (old != c.searches.end()) {
        c.cached_ids -= old->second.ids->size();
        c.searches.erase(old);
      }
      if (c.searches.size() >= Caches::kMaxEntries || c.cached_ids + fresh->size() > Caches::kMaxIds) {
        c.searches.clear();
        c.cached_ids = 0;
      }
      c.searches[key] = {*sync.gen, fresh};
      c.cached_ids += fresh->size();
    }
    ids = std::move(fresh);
  }
  if (compute.owns_lock()) compute.unlock();

  // The page: each household's summary document from the cache, the others in one statement.
  size_t first = static_cast<size_t>((q.page - 1) * q.page_size);
  size_t last = std::min(ids->size(), first + static_cast<size_t>(q.page_size));
  std::vector<std::shared_ptr<const std::string>> docs;
  if (first < last) c.households.GetSummaries(ids->data() + first, last - first, &docs);
  std::unordered_map<int64_t, size_t> missing;  // household → position in docs
  for (size_t i = first; i < last; ++i)
    if (!docs[i - first]) missing.emplace((*ids)[i], i - first);
  if (!missing.empty()) {
    std::string sql = std::string(kSummary) + " WHERE h.id IN (";
    Params page_ids;
    for (size_t i = first; i < last; ++i) {
      if (!missing.count((*ids)[i])) continue;
      sql += page_ids.empty() ? "?" : ", ?";
      page_ids.emplace_back(std::in_place_type<int64_t>, (*ids)[i]);
    }
    sql += ") ORDER BY h.id DESC";
    auto rs = conn->Query(sql, page_ids);
    if (!rs.ok()) return rs.status();
    DOUDI_ASSIGN_OR_RETURN(auto loaded, SummariesFromRows(*conn, c.region_names, *rs));
    for (const auto& s : loaded) {
      auto doc = std::make_shared<const std::string>(DumpSummaryJson(s));
      c.households.Fill(HouseholdCache::Kind::kSummary, s.id, sync, s.village_code, *doc);
      docs[missing.at(s.id)] = std::move(doc);
    }
  }
  // A household deleted since the list was read is left out of its page.
  docs.erase(std::remove(docs.begin(), docs.end(), nullptr), docs.end());
  return DumpPageJson(docs, static_cast<int64_t>(ids->size()), q.page, q.page_size);
}

Result<Roster> RegistryService::RosterOf(const auth::User& actor, const HouseholdQuery& q, int64_t limit) {
  DOUDI_RETURN_IF_ERROR(RequireRead(actor));
  DOUDI_ASSIGN_OR_RETURN(ScopeFilter scope, ScopeOf(actor, q.region));
  std::string where = scope.On("h"), key = scope.key;
  Params params = scope.params;
  Roster out;
  if (!q.q.empty()) {
    const Search search = ParseSearch(q.q);
    std::string found = "SELECT p.household_id FROM persons p WHERE " + scope.On("p");
    Params found_params = scope.params;
    AppendSearch(search, &found, &found_params);
    where += " AND h.id IN (" + found + ")";
    out.search = search.by_id ? "按身份证号检索" : "检索：" + search.needle;
    params.insert(params.end(), found_params.begin(), found_params.end());
    key += "|" + search.needle;
  }
  const std::string region = q.region.empty() ? actor.region_code : q.region;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    // One transaction (on SQLite one snapshot; on PostgreSQL, read committed, a write between
    // the count and the rows may move the total by a few: the limit is a guard, not a quota).
    storage::Transaction tx(*conn, false);
    DOUDI_RETURN_IF_ERROR(tx.status());
    auto count = conn->Query("SELECT COUNT(*) FROM households h WHERE " + where, params);
    if (!count.ok()) return count.status();
    if (count->rows[0].Int(0) > limit)
      return Status::InvalidArgument("region", "导出范围内有 " + std::to_string(count->rows[0].Int(0)) +
                                                   " 户，超过 " + std::to_string(limit) +
                                                   " 户的上限，请选择镇（街道）或村（社区）后再导出");
    auto rs = conn->Query(
        "SELECT h.id, h.village_code, h.town_code, h.area, h.residence_address, h.phone, h.updated_at, p.id, "
        "p.relation, p.name, p.citizen_id FROM households h LEFT JOIN persons p ON p.household_id = h.id WHERE " +
            where + " ORDER BY h.village_code, h.id, p.id",
        params);
    if (!rs.ok()) return rs.status();
    RegionNames& names = caches_->region_names;
    DOUDI_ASSIGN_OR_RETURN(out.region_name, names.Get(*conn, region));
    for (const auto& r : rs->rows) {
      if (out.lines.empty() || out.lines.back().id != r.Int(0)) {
        RosterLine line;
        line.id = r.Int(0);
        DOUDI_ASSIGN_OR_RETURN(line.village_name, names.Get(*conn, r.Text(1)));
        DOUDI_ASSIGN_OR_RETURN(line.town_name, names.Get(*conn, r.Text(2)));
        line.area = r.Text(3);
        line.residence_address = r.Text(4);
        line.phone = r.Text(5);
        line.updated_at = r.Text(6);
        out.lines.push_back(std::move(line));
      }
      if (r.IsNull(7)) continue;  // no members
      RosterLine& line = out.lines.back();
      ++line.member_count;
      const std::string& relation = r.Text(8);
      if (relation == "head" && line.head_name.empty()) {
        line.head_name = r.Text(9);
        line.head_citizen_id = r.Text(10);
      }
      line.members += (line.members.empty() ? "" : "、") + r.Text(9) + "（" + RelationLabel(relation) + "）";
    }
  }  // the connection goes back before waiting for the read log's commit
  DOUDI_RETURN_IF_ERROR(read_log_.Record(actor.actor(), "household_roster", key, region));
  return out;
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

Result<Person> RegistryService::GetPerson(const auth::User& actor, int64_t id) {
  DOUDI_RETURN_IF_ERROR(RequireRead(actor));
  std::string village;
  Person p;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    DOUDI_ASSIGN_OR_RETURN(p, LoadPerson(*conn, id, actor.region_code, &village));
  }
  DOUDI_RETURN_IF_ERROR(read_log_.Record(actor.actor(), "person", std::to_string(id), village));
  return p;
}

Result<Person> RegistryService::AddMember(const auth::User& actor, int64_t household_id, const PersonInput& in) {
  DOUDI_RETURN_IF_ERROR(RequireWrite(actor));
  IdCollision collision;
  auto out = [&]() -> Result<Person> {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    storage::Transaction tx(*conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key (issue 17)
    DOUDI_ASSIGN_OR_RETURN(Household h, LoadHousehold(*conn, caches_->region_names, household_id, actor.region_code));
    if (in.relation == "head") return Status::InvalidArgument("relation", "该家庭已有户主");
    DOUDI_ASSIGN_OR_RETURN(int64_t id, InsertPerson(*conn, household_id, in, "", actor.region_code, &collision));
    DOUDI_ASSIGN_OR_RETURN(Person p, LoadPerson(*conn, id, actor.region_code, nullptr));
    DOUDI_RETURN_IF_ERROR(Audit(*conn, actor, "person.create", "person", id, h.village_code, nullptr, ToJson(p)));
    DOUDI_RETURN_IF_ERROR(tx.Commit());
    return p;
  }();
  DOUDI_RETURN_IF_ERROR(LogCollision(actor, collision));
  return out;
}

Result<Person> RegistryService::UpdatePerson(const auth::User& actor, int64_t id, const PersonInput& in,
                                             int64_t version) {
  DOUDI_RETURN_IF_ERROR(RequireWrite(actor));
  IdCollision collision;
  auto out = UpdatePersonTx(actor, id, in, version, &collision);
  DOUDI_RETURN_IF_ERROR(LogCollision(actor, collision));
  return out;
}

Result<Person> RegistryService::UpdatePersonTx(const auth::User& actor, int64_t id, const PersonInput& in,
                                               int64_t version, IdCollision* collision) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  std::string village;
  DOUDI_ASSIGN_OR_RETURN(Person before, LoadPerson(*conn, id, actor.region_code, &village));
  if ((before.relation == "head") != (in.relation == "head"))
    return Status::InvalidArgument("relation", before.relation == "head" ? "户主的关系不能修改，请先变更户主"
                                                                         : "该家庭已有户主");
  auto cid = ParseCitizenId(in.citizen_id);
  if (!cid.ok()) return cid.status();
  DOUDI_RETURN_IF_ERROR(CheckIdFree(*conn, cid->normalized, id, actor.region_code, "citizen_id", collision));
  Params params = PersonParams(in, *cid);
  params.push_back(NowIsoShanghai());
  params.push_back(id);
  params.push_back(version);
  auto n = conn->Execute(
      "UPDATE persons SET citizen_id = ?, name = ?, relation = ?, birth_date = ?, sex = ?, disability_kind = ?, "
      "disability_grade = ?, serious_illness = ?, self_care = ?, in_school = ?, employed = ?, has_supporter = ?, "
      "income_wage_fen = ?, income_business_fen = ?, income_property_fen = ?, income_transfer_fen = ?, "
      "income_pension_fen = ?, income_other_fen = ?, updated_at = ?, version = version + 1 "
      "WHERE id = ? AND version = ?",
      params);
  if (!n.ok()) {
    if (n.status().code() == Code::kConflict) return IdTakenMeanwhile("citizen_id");
    return n.status();
  }
  if (*n == 0) return Status::VersionConflict();
  DOUDI_ASSIGN_OR_RETURN(Person after, LoadPerson(*conn, id, actor.region_code, nullptr));
  DOUDI_RETURN_IF_ERROR(Audit(*conn, actor, "person.update", "person", id, village, ToJson(before), ToJson(after)));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return after;
}

Status RegistryService::RemovePerson(const auth::User& actor, int64_t id, int64_t version) {
  DOUDI_RETURN_IF_ERROR(RequireWrite(actor));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  std::string village;
  DOUDI_ASSIGN_OR_RETURN(Person before, LoadPerson(*conn, id, actor.region_code, &village));
  if (before.relation == "head") return Status::FailedPrecondition("不能删除户主", "relation");
  auto n = conn->Execute("DELETE FROM persons WHERE id = ? AND version = ?", {id, version});
  if (!n.ok()) return n.status();
  if (*n == 0) return Status::VersionConflict();
  DOUDI_RETURN_IF_ERROR(Audit(*conn, actor, "person.delete", "person", id, village, ToJson(before), nullptr));
  return tx.Commit();
}

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
