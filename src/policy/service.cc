#include "policy/service.h"

#include <algorithm>
#include <set>

#include "audit/audit_log.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "policy/engine_tables.h"

namespace doudi::policy {
namespace {

using nlohmann::json;

DisabilityKind KindOf(const std::string& s) {
  for (int i = 1; i < 8; ++i)
    if (s == detail::kDisabilityNames[i]) return static_cast<DisabilityKind>(i);
  return DisabilityKind::kNone;
}
SelfCare SelfCareOf(const std::string& s) {
  return s == "full_loss" ? SelfCare::kFullLoss : (s == "partial_loss" ? SelfCare::kPartialLoss : SelfCare::kFull);
}

json EntryJson(const Entry& e) {
  return {{"from", e.from}, {"value", ValueToString(e.value)}, {"source", e.source}, {"cite", e.cite},
          {"basis", e.basis}, {"note", e.note}, {"origin", e.origin}};
}

json ParamJson(const Pack& pack, const Param& p, const std::string& date) {
  const Entry* e = pack.EntryOn(p.key, date);
  std::vector<const Entry*> hist;
  for (const auto& x : p.national) hist.push_back(&x);
  for (const auto& x : p.county) hist.push_back(&x);
  std::stable_sort(hist.begin(), hist.end(), [](const Entry* a, const Entry* b) { return a->from < b->from; });
  json history = json::array();
  for (const Entry* x : hist) history.push_back(EntryJson(*x));
  json out = {{"key", p.key}, {"label", p.label}, {"unit", UnitName(p.unit)}, {"doc", p.doc}, {"allowed", p.allowed},
              {"editable", pack.Editable(p.key, date)}, {"history", history}};
  if (e) {
    out["value"] = ValueToString(e->value);
    out["from"] = e->from;
    out["source"] = e->source;
    out["cite"] = e->cite;
    out["basis"] = e->basis;
    out["note"] = e->note;
  } else {
    out["value"] = nullptr;
  }
  return out;
}

json ViolationJson(const Violation& v) {
  return {{"constraint_id", v.constraint_id}, {"severity", v.severity}, {"date", v.date},
          {"message", v.message}, {"cite", v.cite}, {"detail", v.detail}};
}

Member MemberFromPerson(const registry::Person& p) {
  Member m;
  m.citizen_id = p.citizen_id;
  m.relation = p.relation;
  ParseDate(p.birth_date, &m.birth_y, &m.birth_m, &m.birth_d);
  if (p.disability) {
    m.disability = KindOf(p.disability->kind);
    m.grade = p.disability->grade;
  }
  m.serious_illness = p.serious_illness;
  m.self_care = SelfCareOf(p.self_care);
  m.in_school = p.in_school;
  m.employed = p.employed;
  m.has_supporter = p.has_supporter;
  m.income = {p.income.wage, p.income.business, p.income.property, p.income.transfer, p.income.pension, p.income.other};
  return m;
}

}  // namespace

Result<std::string> DateOrToday(const std::string& text, const std::string& field) {
  if (text.empty()) return TodayShanghai();
  int y, m, d;
  if (!ParseDate(text, &y, &m, &d)) return Status::InvalidArgument(field, "日期应为 YYYY-MM-DD");
  return text;
}

Facts FactsFromHousehold(const registry::Household& h) {
  Facts f;
  f.urban = h.area == "urban";
  f.hukou_division = h.village_code;
  for (const auto& p : h.members) f.members.push_back(MemberFromPerson(p));
  f.deposits_fen = h.deposits_fen;
  f.vehicles = h.vehicles;
  f.extra_properties = h.extra_properties;
  f.business = h.business;
  f.medical_fen = h.medical_expenditure_fen;
  f.education_fen = h.education_expenditure_fen;
  return f;
}

Result<std::shared_ptr<Pack>> PolicyService::LoadWithOverlay(const std::string& county) {
  DOUDI_ASSIGN_OR_RETURN(std::shared_ptr<Pack> pack, Pack::Load(dir_, county));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(
      "SELECT param_key, from_date, value, basis, note FROM policy_overlay WHERE county = ? ORDER BY id", {county});
  if (!rs.ok()) return rs.status();
  for (const auto& r : rs->rows) {
    auto v = pack->ParseValue(r.Text(0), r.Text(2));
    if (!v.ok()) return Status::Internal("policy_overlay row for " + r.Text(0) + " no longer parses");
    Entry e{r.Text(1), *v, "local setting", "local setting", r.Text(3), r.Text(4), "overlay"};
    DOUDI_RETURN_IF_ERROR(pack->AddOverlay(r.Text(0), std::move(e)));
  }
  return pack;
}

Result<std::shared_ptr<const Pack>> PolicyService::PackFor(const std::string& county) {
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = cache_.find(county);
    if (it != cache_.end()) return it->second;
  }
  DOUDI_ASSIGN_OR_RETURN(std::shared_ptr<Pack> pack, LoadWithOverlay(county));
  std::lock_guard<std::mutex> g(mu_);
  cache_[county] = pack;
  return std::shared_ptr<const Pack>(pack);
}

Result<json> PolicyService::Eval(const std::string& county, const json& input, const std::string& date) {
  DOUDI_ASSIGN_OR_RETURN(auto pack, PackFor(county));
  DOUDI_ASSIGN_OR_RETURN(Facts facts, FactsFromJson(input));
  DOUDI_ASSIGN_OR_RETURN(Params params, ResolveParams(*pack, date));
  Explain explain;
  DOUDI_ASSIGN_OR_RETURN(Determination d, Evaluate(facts, params, &explain));
  return ToJson(facts, params, d, &explain);
}

Result<json> PolicyService::HouseholdDeterminations(const auth::User& actor, int64_t id, const std::string& date) {
  DOUDI_ASSIGN_OR_RETURN(registry::Household h, registry_.GetHousehold(actor, id));
  DOUDI_ASSIGN_OR_RETURN(auto pack, PackFor(h.county_code));
  Facts facts = FactsFromHousehold(h);
  DOUDI_ASSIGN_OR_RETURN(Params params, ResolveParams(*pack, date));
  Explain explain;
  DOUDI_ASSIGN_OR_RETURN(Determination d, Evaluate(facts, params, &explain));
  json out = ToJson(facts, params, d, &explain);
  out["household_id"] = id;
  return out;
}

Result<json> PolicyService::Describe(const std::string& county, const std::string& date) {
  DOUDI_ASSIGN_OR_RETURN(auto pack, PackFor(county));
  json params = json::array();
  for (const auto& [k, p] : pack->params()) params.push_back(ParamJson(*pack, p, date));
  json constraints = json::array();
  for (const auto& c : pack->constraints())
    constraints.push_back({{"id", c.id}, {"kind", c.kind}, {"scope", c.scope}, {"expr", c.expr},
                           {"severity", c.severity}, {"cite", c.cite}, {"message", c.message}});
  DOUDI_ASSIGN_OR_RETURN(auto violations, pack->Check(std::nullopt));
  json v = json::array();
  for (const auto& x : violations) v.push_back(ViolationJson(x));
  return json{{"county", county}, {"name", pack->name()}, {"date", date}, {"parameters", params},
              {"constraints", constraints}, {"violations", v}};
}

Result<json> PolicyService::AddEntry(const auth::User& actor, const std::string& key, const std::string& from,
                                     const std::string& value, const std::string& basis, const std::string& note) {
  if (actor.role != auth::Role::kCountyAdmin) return Status::PermissionDenied("只有县级管理员可以修改政策参数");
  const std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(auto current, PackFor(county));
  if (!current->Find(key)) return Status::InvalidArgument("key", "没有该政策参数：" + key);
  std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(std::string from_date, DateOrToday(from, "from"));
  if (from_date < today) return Status::InvalidArgument("from", "生效日期不能早于今天");
  if (!current->Editable(key, from_date))
    return Status::PermissionDenied("该参数来自国家规定或县级文件，不能在系统中修改");
  if (note.empty()) return Status::InvalidArgument("note", "请填写修改理由");
  if (note.size() > 1000 || basis.size() > 300) return Status::InvalidArgument("note", "说明过长");
  auto parsed = current->ParseValue(key, value);
  if (!parsed.ok()) return parsed.status();
  Pack candidate = *current;
  DOUDI_RETURN_IF_ERROR(candidate.AddOverlay(key, Entry{from_date, *parsed, "local setting", "local setting", basis,
                                                        note, "overlay"}));
  DOUDI_ASSIGN_OR_RETURN(auto before, current->Check(std::nullopt));
  DOUDI_ASSIGN_OR_RETURN(auto after, candidate.Check(std::nullopt));
  std::set<std::pair<std::string, std::string>> known;
  for (const auto& v : before) known.insert({v.constraint_id, v.date});
  for (const auto& v : after) {
    if (v.severity == "error" && !known.count({v.constraint_id, v.date}))
      return Status::FailedPrecondition(v.message + "（" + v.cite + "；" + v.constraint_id + "，" + v.date + "：" +
                                            v.detail + "）",
                                        "value");
  }
  const Entry* old = current->EntryOn(key, from_date);
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    storage::Transaction tx(*conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    std::string text = ValueToString(*parsed);
    auto ins = conn->Execute(
        "INSERT INTO policy_overlay (county, param_key, from_date, value, basis, note, actor, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {county, key, from_date, text, basis, note, actor.username, NowIsoShanghai()});
    if (!ins.ok()) return ins.status();
    json before_json = old ? EntryJson(*old) : json(nullptr);
    json after_json = {{"key", key}, {"from", from_date}, {"value", text}, {"basis", basis}, {"note", note}};
    DOUDI_RETURN_IF_ERROR(audit::RecordWrite(
        *conn, actor.actor(), {"policy.entry", "policy_parameter", key, county, before_json.dump(), after_json.dump()}));
    DOUDI_RETURN_IF_ERROR(tx.Commit());
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    cache_.erase(county);
  }
  DOUDI_ASSIGN_OR_RETURN(auto fresh, PackFor(county));
  return ParamJson(*fresh, *fresh->Find(key), from_date);
}

namespace {

// One town's (or the county's) households and eligibility before and after a simulated change.
struct Tally {
  std::string name;
  int64_t households = 0, before = 0, after = 0, newly = 0, lost = 0, cost_before = 0, cost_after = 0;

  // One household's determinations under the current and the changed parameters.
  void Add(const Determination& b, const Determination& a) {
    bool eb = b.dibao || b.tekun, ea = a.dibao || a.tekun;
    ++households;
    before += eb;
    after += ea;
    newly += !eb && ea;
    lost += eb && !ea;
    cost_before += b.dibao_monthly() + b.tekun_monthly;
    cost_after += a.dibao_monthly() + a.tekun_monthly;
  }
  void Add(const Tally& t) {
    households += t.households;
    before += t.before;
    after += t.after;
    newly += t.newly;
    lost += t.lost;
    cost_before += t.cost_before;
    cost_after += t.cost_after;
  }
  json Counts() const {
    return {{"households", households},      {"eligible_before", before},         {"eligible_after", after},
            {"newly_eligible", newly},       {"no_longer_eligible", lost},        {"cost_before_fen", cost_before},
            {"cost_after_fen", cost_after}, {"cost_change_fen", cost_after - cost_before}};
  }
};

// The changes applied to a copy of the pack as overlay entries from `date`; `change_list`
// gets each one's value before and after.
Result<Pack> ApplyChanges(const Pack& base, const std::string& date, const std::vector<SimulationChange>& changes,
                          json& change_list) {
  Pack changed = base;
  for (const auto& c : changes) {
    std::string field = "set." + c.key;
    if (!base.Find(c.key)) return Status::InvalidArgument(field, "没有该政策参数：" + c.key);
    auto v = base.ParseValue(c.key, c.value);
    if (!v.ok()) return Status::InvalidArgument(field, v.status().message());
    const Entry* old = base.EntryOn(c.key, date);
    change_list.push_back({{"key", c.key}, {"before", old ? ValueToString(old->value) : ""}, {"after", ValueToString(*v)}});
    DOUDI_RETURN_IF_ERROR(changed.AddOverlay(c.key, Entry{date, *v, "local setting", "local setting", "", "simulation", "overlay"}));
  }
  return changed;
}

// A household row of the simulation's query (without its members).
void HouseholdFacts(const storage::Row& h, Facts& f) {
  f.members.clear();
  f.urban = h.Text(3) == "urban";
  f.hukou_division = h.Text(2);
  f.deposits_fen = h.Int(4);
  f.vehicles = h.Int(5);
  f.extra_properties = h.Int(6);
  f.business = h.Bool(7);
  f.medical_fen = h.Int(8);
  f.education_fen = h.Int(9);
}

// A person row of the simulation's query.
Member MemberFromRow(const storage::Row& r) {
  Member m;
  m.citizen_id = r.Text(1);
  m.relation = r.Text(2);
  ParseDate(r.Text(3), &m.birth_y, &m.birth_m, &m.birth_d);
  if (!r.IsNull(4)) {
    m.disability = KindOf(r.Text(4));
    m.grade = static_cast<int>(r.Int(5));
  }
  m.serious_illness = r.Bool(6);
  m.self_care = SelfCareOf(r.Text(7));
  m.in_school = r.Bool(8);
  m.employed = r.Bool(9);
  m.has_supporter = r.Bool(10);
  for (int k = 0; k < kIncomeKinds; ++k) m.income[k] = r.Int(11 + k);
  return m;
}

// Every household of the county evaluated under both parameter sets, tallied by town
// (households and persons are read in two ordered scans and merged).
Status TallyByTown(storage::Connection& conn, const std::string& county, const Params& before, const Params& after,
                   std::map<std::string, Tally>& by_town) {
  auto hs = conn.Query(
      "SELECT id, town_code, village_code, area, deposits_fen, vehicles, extra_properties, business, "
      "medical_expenditure_fen, education_expenditure_fen FROM households WHERE county_code = ? ORDER BY id",
      {county});
  if (!hs.ok()) return hs.status();
  auto ps = conn.Query(
      "SELECT household_id, citizen_id, relation, birth_date, disability_kind, disability_grade, serious_illness, "
      "self_care, in_school, employed, has_supporter, income_wage_fen, income_business_fen, income_property_fen, "
      "income_transfer_fen, income_pension_fen, income_other_fen FROM persons WHERE county_code = ? "
      "ORDER BY household_id, id",
      {county});
  if (!ps.ok()) return ps.status();
  auto towns = conn.Query("SELECT code, name FROM regions WHERE parent_code = ? ORDER BY code", {county});
  if (!towns.ok()) return towns.status();
  for (const auto& t : towns->rows) by_town[t.Text(0)].name = t.Text(1);
  size_t pi = 0;
  Facts f;
  for (const auto& h : hs->rows) {
    int64_t id = h.Int(0);
    HouseholdFacts(h, f);
    while (pi < ps->rows.size() && ps->rows[pi].Int(0) < id) ++pi;
    for (; pi < ps->rows.size() && ps->rows[pi].Int(0) == id; ++pi) f.members.push_back(MemberFromRow(ps->rows[pi]));
    if (f.members.empty() || f.members.size() > 30) continue;
    auto b = Evaluate(f, before, nullptr);
    auto a = Evaluate(f, after, nullptr);
    if (!b.ok() || !a.ok()) continue;  // cannot happen without a current programme
    by_town[h.Text(1)].Add(*b, *a);
  }
  return Status::Ok();
}

}  // namespace

Result<json> PolicyService::Simulate(const std::string& county, const std::string& date,
                                     const std::vector<SimulationChange>& changes) {
  DOUDI_ASSIGN_OR_RETURN(auto base_pack, PackFor(county));
  json change_list = json::array();
  DOUDI_ASSIGN_OR_RETURN(Pack changed, ApplyChanges(*base_pack, date, changes, change_list));
  DOUDI_ASSIGN_OR_RETURN(Params before, ResolveParams(*base_pack, date));
  DOUDI_ASSIGN_OR_RETURN(Params after, ResolveParams(changed, date));

  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  std::map<std::string, Tally> by_town;
  DOUDI_RETURN_IF_ERROR(TallyByTown(*conn, county, before, after, by_town));
  json rows = json::array();
  Tally total;
  for (const auto& [code, t] : by_town) {
    json row = {{"town_code", code}, {"town_name", t.name}};
    row.update(t.Counts());
    rows.push_back(std::move(row));
    total.Add(t);
  }
  return json{{"county", county}, {"date", date}, {"changes", change_list}, {"towns", rows}, {"totals", total.Counts()}};
}

}  // namespace doudi::policy
