// The household list (paged, searched, cached per registry generation) and the roster export.
#include <algorithm>

#include "common/citizen_id.h"
#include "common/date.h"
#include "registry/registry_internal.h"
#include "storage/idempotency.h"

namespace doudi::registry {

using namespace internal;

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

Result<std::string> RegistryService::ListHouseholdsJson(const auth::User& actor, const HouseholdQuery& q) {
  DOUDI_RETURN_IF_ERROR(RequireRead(actor));
  // Scope (and an optional sub-region) filter the households, or, when searching, the persons,
  // which carry the same region columns.
  DOUDI_ASSIGN_OR_RETURN(ScopeFilter scope, ScopeOf(actor, q.region));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  Caches& c = *caches_;
  DOUDI_ASSIGN_OR_RETURN(HouseholdCache::SyncPoint sync, c.households.Sync(conn.get()));
  const Search search = ParseSearch(q.q);
  std::string key = scope.key + (q.q.empty() ? "|all" : (search.by_id ? "|id|" : "|name|") + search.needle);
  // A search has no DISTINCT / ORDER BY in SQL: they tempt SQLite into walking
  // persons_household in order; the covering (scope, name, household_id) index plus a sort
  // here is far cheaper.
  std::string sql = "SELECT h.id FROM households h WHERE " + scope.On("h") + " ORDER BY h.id DESC";
  Params params = scope.params;
  if (!q.q.empty()) {
    sql = "SELECT p.household_id FROM persons p WHERE " + scope.On("p");
    AppendSearch(search, &sql, &params);
  }
  DOUDI_ASSIGN_OR_RETURN(auto ids, c.ListedIds(*conn, key, sql, params, sync));
  return c.PageJson(*conn, *ids, q, sync);
}

// The households listed (all in scope, or those a search finds), newest first, as of the
// sync: from the cache when no change that could alter the list (the registry generation) has
// committed since it was read, else from one pass over the (scope, id) index or the (scope,
// name | citizen_id, household_id) index (`scan`). A page is a slice of that list; no COUNT,
// no OFFSET walk.
Result<std::shared_ptr<const std::vector<int64_t>>> RegistryService::Caches::ListedIds(
    Connection& conn, const std::string& key, const std::string& scan, const Params& params,
    const HouseholdCache::SyncPoint& sync) {
  auto cached = [&]() -> std::shared_ptr<const std::vector<int64_t>> {
    std::lock_guard<std::mutex> g(mu);
    auto it = searches.find(key);
    if (it != searches.end() && sync.gen && it->second.gen == *sync.gen) return it->second.ids;
    return nullptr;
  };
  std::shared_ptr<const std::vector<int64_t>> ids = cached();
  if (ids) return ids;
  std::lock_guard<std::mutex> compute(compute_mu);  // concurrent misses wait and reuse one scan
  ids = cached();
  if (ids) return ids;
  auto rows = conn.Query(scan, params);
  if (!rows.ok()) return rows.status();
  auto fresh = std::make_shared<std::vector<int64_t>>();
  fresh->reserve(rows->rows.size());
  for (const auto& r : rows->rows) fresh->push_back(r.Int(0));
  std::sort(fresh->begin(), fresh->end(), std::greater<>());
  fresh->erase(std::unique(fresh->begin(), fresh->end()), fresh->end());
  // Read after the sync, so at least as new as its generation: tagged with it (a newer scan
  // only costs a rescan later).
  if (sync.gen) {
    std::lock_guard<std::mutex> g(mu);
    auto old = searches.find(key);
    if (old != searches.end()) {
      cached_ids -= old->second.ids->size();
      searches.erase(old);
    }
    if (searches.size() >= kMaxEntries || cached_ids + fresh->size() > kMaxIds) {
      searches.clear();
      cached_ids = 0;
    }
    searches[key] = {*sync.gen, fresh};
    cached_ids += fresh->size();
  }
  return std::shared_ptr<const std::vector<int64_t>>(std::move(fresh));
}

// The page: each household's summary document from the cache, the others in one statement.
Result<std::string> RegistryService::Caches::PageJson(Connection& conn, const std::vector<int64_t>& ids,
                                                      const HouseholdQuery& q, const HouseholdCache::SyncPoint& sync) {
  size_t first = static_cast<size_t>((q.page - 1) * q.page_size);
  size_t last = std::min(ids.size(), first + static_cast<size_t>(q.page_size));
  std::vector<std::shared_ptr<const std::string>> docs;
  if (first < last) households.GetSummaries(ids.data() + first, last - first, &docs);
  std::unordered_map<int64_t, size_t> missing;  // household → position in docs
  for (size_t i = first; i < last; ++i)
    if (!docs[i - first]) missing.emplace(ids[i], i - first);
  if (!missing.empty()) {
    std::string sql = std::string(kSummary) + " WHERE h.id IN (";
    Params page_ids;
    for (size_t i = first; i < last; ++i) {
      if (!missing.count(ids[i])) continue;
      sql += page_ids.empty() ? "?" : ", ?";
      page_ids.emplace_back(std::in_place_type<int64_t>, ids[i]);
    }
    sql += ") ORDER BY h.id DESC";
    auto rs = conn.Query(sql, page_ids);
    if (!rs.ok()) return rs.status();
    DOUDI_ASSIGN_OR_RETURN(auto loaded, SummariesFromRows(conn, region_names, *rs));
    for (const auto& s : loaded) {
      auto doc = std::make_shared<const std::string>(DumpSummaryJson(s));
      households.Fill(HouseholdCache::Kind::kSummary, s.id, sync, s.village_code, *doc);
      docs[missing.at(s.id)] = std::move(doc);
    }
  }
  // A household deleted since the list was read is left out of its page.
  docs.erase(std::remove(docs.begin(), docs.end(), nullptr), docs.end());
  return DumpPageJson(docs, static_cast<int64_t>(ids.size()), q.page, q.page_size);
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

}  // namespace doudi::registry
