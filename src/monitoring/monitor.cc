#include "monitoring/monitor.h"

#include <map>
#include <set>
#include <unordered_map>

#include "audit/audit_log.h"
#include "calendar/calendar.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "monitoring/feeds.h"
#include "monitoring/match_engine.h"

namespace doudi::monitoring {
namespace {

using nlohmann::json;

const std::vector<Indicator> kIndicators = {
    {"recipient_died", "improper", "high", 5, "救助对象已死亡，应停发并核查", "民发〔2022〕83号 一（三）"},
    {"recipient_vehicle", "improper", "medium", 10, "救助对象家庭新增车辆", "民发〔2021〕57号 第十四条"},
    {"recipient_real_estate", "improper", "medium", 10, "救助对象家庭新增不动产", "民发〔2021〕57号 第十四条"},
    {"recipient_business", "improper", "medium", 10, "救助对象家庭新增市场主体（经营）", "民发〔2021〕57号 第十四条"},
    {"recipient_income_rise", "improper", "medium", 10, "救助对象家庭收入超过低保标准，应复核或渐退",
     "民发〔2021〕57号 第三十一条、第三十三条"},
    {"paid_twice_dibao_tekun", "duplicate", "high", 5, "同一人同时享受低保和特困供养", "民发〔2021〕43号；民发〔2021〕57号"},
    {"paid_twice_other_county", "duplicate", "high", 5, "在外县（市、区）同时享受社会救助", "民发〔2022〕83号（数据比对）"},
    {"single_person_candidate", "missing", "medium", 10, "低保边缘家庭成员新增重度残疾，可能符合单人保",
     "民发〔2021〕57号 第八条；民发〔2022〕83号 一（一）"},
    {"illness_poverty_candidate", "missing", "medium", 10, "医疗自付费用相对收入过高，可能因病致贫或支出型困难",
     "民发〔2022〕83号（主动发现）"},
    {"at_risk_not_covered", "missing", "high", 10, "防止返贫监测对象未纳入任何社会救助", "民发〔2022〕83号（与乡村振兴部门比对）"},
    {"zero_employment", "missing", "low", 15, "零就业家庭，应转介就业帮扶", "织府办〔2023〕43号 二、9；桓政字〔2021〕7号 四"},
    {"staff_relative_unrecorded", "improper", "high", 5, "救助对象是干部职工或其近亲属，但未备案",
     "民发〔2021〕57号 第十一条、第二十条（近亲属备案）"},
};

const Indicator* FindIndicator(const std::string& id) {
  for (const auto& i : kIndicators)
    if (id == i.id) return &i;
  return nullptr;
}

struct PersonRow {
  std::string citizen_id, name, town, village;
  int64_t household_id = 0;
};

struct Candidate {
  std::string indicator;
  size_t person;  // index into persons
  json details;
};

}  // namespace

const std::vector<Indicator>& Indicators() { return kIndicators; }

Result<RunReport> MonitorService::Run(const audit::Actor& actor, const std::string& county, const std::string& month,
                                      const std::function<void(const std::string&, uint64_t, uint64_t)>& progress,
                                      const std::string& origin) {
  if (LevelOfCode(county) != RegionLevel::kCounty) return Status::InvalidArgument("county", "县级区划代码应为6位");
  if (!IsMonth(month)) return Status::InvalidArgument("month", "月份应为 YYYY-MM");
  std::lock_guard run_lock(run_mu_);
  const std::string date = LastDayOfMonth(month);
  const std::string started = NowIsoShanghai();
  RunReport rep;
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  DOUDI_ASSIGN_OR_RETURN(policy::Params params, policy::ResolveParams(*pack, date));

  std::vector<PersonRow> persons;
  std::vector<std::string_view> ids;
  std::unordered_map<std::string, std::set<std::string>> covered;   // citizen id → programmes
  std::unordered_map<int64_t, std::set<std::string>> household_programs;
  std::set<std::string> recorded_relatives;                          // 备案 of staff relatives
  std::vector<std::pair<int64_t, std::string>> files;                // id, source
  std::vector<std::string> contents;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    auto ps = conn->Query(
        "SELECT citizen_id, name, household_id, town_code, village_code FROM persons WHERE county_code = ? ORDER BY id",
        {county});
    if (!ps.ok()) return ps.status();
    persons.reserve(ps->rows.size());
    for (const auto& r : ps->rows) persons.push_back({r.Text(0), r.Text(1), r.Text(3), r.Text(4), r.Int(2)});
    auto es = conn->Query(
        "SELECT household_id, program, covered FROM enrollments WHERE county_code = ? AND status = 'active'",
        {county});
    if (!es.ok()) return es.status();
    for (const auto& r : es->rows) {
      household_programs[r.Int(0)].insert(r.Text(1));
      json cov = json::parse(r.Text(2), nullptr, false);
      if (cov.is_array())
        for (const auto& c : cov)
          if (c.is_string()) covered[c.get<std::string>()].insert(r.Text(1));
    }
    auto rel = conn->Query("SELECT citizen_id FROM staff_relatives WHERE county_code = ?", {county});
    if (!rel.ok()) return rel.status();
    for (const auto& r : rel->rows) recorded_relatives.insert(r.Text(0));
    // The engine scans the rows accepted at import (ids validated, amounts already in fen),
    // written as two-column CSV: citizen id, the row's fields as JSON.
    auto fs = conn->Query("SELECT id, source FROM feed_files WHERE county_code = ? AND month = ? ORDER BY id",
                          {county, month});
    if (!fs.ok()) return fs.status();
    for (const auto& r : fs->rows) {
      auto rows = conn->Query("SELECT line, citizen_id, fields FROM feed_rows WHERE file_id = ? ORDER BY line",
                              {r.Int(0)});
      if (!rows.ok()) return rows.status();
      std::string csv = "citizen_id,fields\n";
      for (const auto& row : rows->rows) {
        json fields = json::parse(row.Text(2), nullptr, false);
        if (!fields.is_object()) continue;
        fields["line"] = row.Int(0);
        std::string quoted;
        for (char c : fields.dump()) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        csv += row.Text(1) + ",\"" + quoted + "\"\n";
      }
      files.emplace_back(r.Int(0), r.Text(1));
      contents.push_back(std::move(csv));
    }
  }
  for (const auto& p : persons) ids.push_back(p.citizen_id);
  rep.persons = static_cast<int64_t>(persons.size());
  if (progress) progress("registry", persons.size(), persons.size());
  DOUDI_ASSIGN_OR_RETURN(RegistryIndex index, RegistryIndex::FromIds(ids));

  auto is_recipient = [&](size_t i) {
    auto it = household_programs.find(persons[i].household_id);
    return it != household_programs.end() && (it->second.count("dibao") || it->second.count("tekun"));
  };
  auto in_any_program = [&](size_t i) { return household_programs.count(persons[i].household_id) > 0; };
  auto household_has = [&](size_t i, const char* program) {
    auto it = household_programs.find(persons[i].household_id);
    return it != household_programs.end() && it->second.count(program);
  };

  std::vector<Candidate> candidates;
  std::vector<std::pair<size_t, json>> evaluate;  // persons whose household is re-evaluated, with the change
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string& source = files[f].second;
    CsvLayout layout;
    layout.has_header = true;
    layout.id_column = 0;
    ScanOptions opts;
    opts.on_progress = [&](uint64_t done, uint64_t total) {
      if (progress) progress("feed " + source, done, total);
    };
    // Field values as accepted at import (text, dates, amounts in fen).
    auto row_fields = [](const FeedMatch& m) {
      return m.fields.size() > 1 ? json::parse(m.fields[1], nullptr, false) : json::object();
    };
    auto scan = MatchFeedBytes(index, contents[f], layout, opts, [&](std::span<const FeedMatch> batch) {
      for (const auto& m : batch) {
        size_t i = m.registry_row;
        json fields = row_fields(m);
        if (!fields.is_object()) continue;
        auto field = [&](const char* key) -> json { return fields.contains(key) ? fields[key] : json(""); };
        json details = {{"source", source}, {"feed_file_id", files[f].first}, {"line", field("line")}};
        if (source == "death" && is_recipient(i)) {
          details["date_of_death"] = field("date_of_death");
          candidates.push_back({"recipient_died", i, details});
        } else if ((source == "vehicle" || source == "real_estate" || source == "business") &&
                   (is_recipient(i) || household_has(i, "marginal"))) {
          details["registered_on"] = field("registered_on");
          candidates.push_back({"recipient_" + source, i, details});
        } else if (source == "other_county_recipient" && in_any_program(i)) {
          details["county_code"] = field("county_code");
          details["program"] = field("program");
          candidates.push_back({"paid_twice_other_county", i, details});
        } else if (source == "at_risk" && !in_any_program(i)) {
          details["listed_on"] = field("listed_on");
          candidates.push_back({"at_risk_not_covered", i, details});
        } else if (source == "staff_kin" && in_any_program(i) && !recorded_relatives.count(persons[i].citizen_id)) {
          details["staff_name"] = field("staff_name");
          details["employer"] = field("employer");
          details["relation"] = field("relation");
          candidates.push_back({"staff_relative_unrecorded", i, details});
        } else if (source == "wage" && household_has(i, "dibao")) {
          details["wage_fen"] = field("wage_fen");
          evaluate.emplace_back(i, details);
        } else if (source == "disability" && household_has(i, "marginal") && !household_has(i, "dibao")) {
          details["kind"] = field("kind");
          details["grade"] = field("grade");
          evaluate.emplace_back(i, details);
        } else if (source == "medical" && !household_has(i, "illness_poverty") && !household_has(i, "dibao")) {
          details["out_of_pocket_fen"] = field("out_of_pocket_fen");
          evaluate.emplace_back(i, details);
        }
      }
    });
    if (!scan.ok()) return scan.status();
    rep.feed_rows += static_cast<int64_t>(scan->rows);
    rep.matched += static_cast<int64_t>(scan->matched);
  }

  // Re-evaluate the households whose circumstances the feeds changed, with the policy engine.
  auth::User system;
  system.username = actor.username;
  system.role = auth::Role::kCountyAdmin;
  system.region_code = county;
  for (auto& [i, details] : evaluate) {
    auto h = registry_.GetHousehold(system, persons[i].household_id);
    if (!h.ok()) continue;
    policy::Facts facts = policy::FactsFromHousehold(*h);
    const std::string source = details["source"];
    for (auto& m : facts.members) {
      if (m.citizen_id != persons[i].citizen_id) continue;
      auto fen = [&](const char* key) -> int64_t {
        return details.contains(key) && details[key].is_number_integer() ? details[key].get<int64_t>() : 0;
      };
      if (source == "wage") m.income[policy::kWage] = fen("wage_fen");
      if (source == "disability") {
        static const std::map<std::string, policy::DisabilityKind> kKinds = {
            {"physical", policy::DisabilityKind::kPhysical}, {"肢体", policy::DisabilityKind::kPhysical},
            {"visual", policy::DisabilityKind::kVisual},     {"视力", policy::DisabilityKind::kVisual},
            {"hearing", policy::DisabilityKind::kHearing},   {"听力", policy::DisabilityKind::kHearing},
            {"speech", policy::DisabilityKind::kSpeech},     {"言语", policy::DisabilityKind::kSpeech},
            {"intellectual", policy::DisabilityKind::kIntellectual}, {"智力", policy::DisabilityKind::kIntellectual},
            {"mental", policy::DisabilityKind::kMental},     {"精神", policy::DisabilityKind::kMental},
            {"multiple", policy::DisabilityKind::kMultiple}, {"多重", policy::DisabilityKind::kMultiple}};
        auto k = kKinds.find(details.value("kind", ""));
        // Grades are 1–4; a row stored before the import checked them (or any other value)
        // changes nothing, rather than being narrowed (4294967297 would read as grade 1).
        const json& g = details["grade"];
        if (k != kKinds.end() && g.is_number_integer() && g.get<int64_t>() >= 1 && g.get<int64_t>() <= 4 &&
            !(g.is_number_unsigned() && g.get<uint64_t>() > 4)) {
          m.disability = k->second;
          m.grade = static_cast<int>(g.get<int64_t>());
        }
      }
      if (source == "medical") facts.medical_fen = fen("out_of_pocket_fen") * 12;
    }
    auto d = policy::Evaluate(facts, params, nullptr);
    if (!d.ok()) continue;
    if (source == "wage" && !d->dibao) candidates.push_back({"recipient_income_rise", i, details});
    if (source == "disability" && d->dibao && d->dibao_single) candidates.push_back({"single_person_candidate", i, details});
    if (source == "medical" && (d->illness_poverty || d->expenditure_hardship || d->dibao))
      candidates.push_back({"illness_poverty_candidate", i, details});
  }
  // Paid twice inside the county: dibao and tekun for the same person.
  for (size_t i = 0; i < persons.size(); ++i) {
    auto it = covered.find(persons[i].citizen_id);
    if (it != covered.end() && it->second.count("dibao") && it->second.count("tekun"))
      candidates.push_back({"paid_twice_dibao_tekun", i, json{{"source", "enrollments"}}});
  }
  // Zero-employment households among recipients (where the county prioritizes them).
  if (params.zero_employment_priority) {
    std::set<int64_t> seen;
    for (size_t i = 0; i < persons.size(); ++i) {
      int64_t hid = persons[i].household_id;
      if (!is_recipient(i) || !seen.insert(hid).second) continue;
      auto h = registry_.GetHousehold(system, hid);
      if (!h.ok()) continue;
      auto d = policy::Evaluate(policy::FactsFromHousehold(*h), params, nullptr);
      if (d.ok() && d->zero_employment) candidates.push_back({"zero_employment", i, json{{"source", "registry"}}});
    }
  }

  // Alerts: one open alert per person and indicator.
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(calendar::WorkCalendar cal, calendar::WorkCalendar::Load(*conn, county));
  std::string now = NowIsoShanghai(), today = TodayShanghai();
  auto run = conn->Query(
      "INSERT INTO monitor_runs (county_code, month, started_at, actor, origin) VALUES (?, ?, ?, ?, ?) RETURNING id",
      {county, month, started, actor.username, origin});
  if (!run.ok()) return run.status();
  rep.run_id = run->rows[0].Int(0);
  for (const auto& c : candidates) {
    const Indicator* ind = FindIndicator(c.indicator);
    const PersonRow& p = persons[c.person];
    // One open alert per person and indicator; a resolved one is not raised again for the
    // same month (a later month's evidence raises a new one).
    auto open = conn->Query(
        "SELECT id FROM alerts WHERE indicator = ? AND citizen_id = ? AND (status <> 'resolved' OR month = ?)",
        {c.indicator, p.citizen_id, month});
    if (!open.ok()) return open.status();
    if (!open->empty()) {
      ++rep.alerts_existing;
      continue;
    }
    auto ins = conn->Execute(
        "INSERT INTO alerts (indicator, category, severity, citizen_id, person_name, household_id, county_code, town_code, "
        "village_code, month, details, status, due_date, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?)",
        {c.indicator, ind->category, ind->severity, p.citizen_id, p.name, p.household_id, county, p.town, p.village, month,
         c.details.dump(), cal.AddWorkingDays(today, ind->deadline_working_days), now, now});
    if (!ins.ok()) return ins.status();
    ++rep.alerts_raised;
    rep.by_indicator[c.indicator] = rep.by_indicator.value(c.indicator, 0) + 1;
  }
  auto fin = conn->Execute(
      "UPDATE monitor_runs SET finished_at = ?, persons = ?, feed_rows = ?, matched = ?, alerts_raised = ? WHERE id = ?",
      {NowIsoShanghai(), rep.persons, rep.feed_rows, rep.matched, rep.alerts_raised, rep.run_id});
  if (!fin.ok()) return fin.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor,
                                           {"monitor.run", "monitor_run", std::to_string(rep.run_id), county, "null",
                                            ToJson(rep).dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return rep;
}

json ToJson(const RunReport& r) {
  return {{"run_id", r.run_id},     {"persons", r.persons},           {"feed_rows", r.feed_rows},
          {"matched", r.matched},   {"alerts_raised", r.alerts_raised}, {"alerts_existing", r.alerts_existing},
          {"by_indicator", r.by_indicator}};
}

Result<json> MonitorService::ListAlerts(const auth::User& actor, const std::string& status, const std::string& indicator,
                                        int64_t page, int64_t page_size) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  std::string where = std::string(" WHERE a.") + ScopeColumn(actor.region_code) + " = ?";
  storage::Params params{actor.region_code};
  if (status == "open") {
    where += " AND a.status <> 'resolved'";
  } else if (!status.empty()) {
    where += " AND a.status = ?";
    params.push_back(status);
  }
  if (!indicator.empty()) {
    where += " AND a.indicator = ?";
    params.push_back(indicator);
  }
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM alerts a" + where, params);
  if (!count.ok()) return count.status();
  params.push_back(page_size);
  params.push_back((page - 1) * page_size);
  auto rs = conn->Query(
      "SELECT a.id, a.version, a.indicator, a.category, a.severity, a.citizen_id, a.person_name, a.household_id, "
      "a.village_code, v.name, a.month, a.details, a.status, a.due_date, a.resolution, a.confirmed, a.application_id, "
      "a.created_at, a.proposed_by, a.proposed_at FROM alerts a JOIN regions v ON v.code = a.village_code" +
          where + " ORDER BY CASE WHEN a.status = 'resolved' THEN 1 ELSE 0 END, a.due_date, a.id LIMIT ? OFFSET ?",
      params);
  if (!rs.ok()) return rs.status();
  std::string today = TodayShanghai();
  json items = json::array();
  for (const auto& r : rs->rows) {
    const Indicator* ind = FindIndicator(r.Text(2));
    items.push_back({{"id", r.Int(0)}, {"version", r.Int(1)}, {"indicator", r.Text(2)},
                     {"description", ind ? ind->description : ""}, {"cite", ind ? ind->cite : ""},
                     {"category", r.Text(3)}, {"severity", r.Text(4)}, {"citizen_id_masked", MaskCitizenId(r.Text(5))},
                     {"person_name", r.Text(6)}, {"household_id", r.Int(7)}, {"village_code", r.Text(8)},
                     {"village_name", r.Text(9)}, {"month", r.Text(10)},
                     {"details", json::parse(r.Text(11), nullptr, false)}, {"status", r.Text(12)},
                     {"due_date", r.Text(13)}, {"overdue", r.Text(12) != "resolved" && today > r.Text(13)},
                     {"resolution", r.Text(14)}, {"confirmed", r.IsNull(15) ? json(nullptr) : json(r.Bool(15))},
                     {"application_id", r.IsNull(16) ? json(nullptr) : json(r.Int(16))}, {"created_at", r.Text(17)},
                     {"proposed_by", r.IsNull(18) ? json(nullptr) : json(r.Text(18))},
                     {"proposed_at", r.IsNull(19) ? json(nullptr) : json(r.Text(19))}});
  }
  const int64_t total = count->rows[0].Int(0);
  { storage::Lease back = std::move(conn); }  // to the pool before the read log's commit
  // The alerts name the persons: a page served is a read of personal data.
  if (!items.empty())
    DOUDI_RETURN_IF_ERROR(registry_.LogRead(actor, "alert_list", "page " + std::to_string(page), actor.region_code));
  return json{{"items", items}, {"total", total}, {"page", page}, {"page_size", page_size}};
}

// A village assistant's confirmation of a wrong payment (improper or duplicate) is a proposal
// (status 'proposed'): nothing is suspended until a town or county role confirms it (action
// confirm) or sends it back to verification (reject, with a reason). Confirmed needs (missing)
// start an application whoever confirms them: a village assistant may file one anyway.
Result<json> MonitorService::ActAlert(const auth::User& actor, int64_t id, const json& body) {
  if (!auth::CanWriteRegistry(actor.role)) return Status::PermissionDenied("您的角色不能处理预警");
  FieldReader r(body, "");
  std::string action = r.String("action", true);
  int64_t version = r.Int("version", true);
  std::string note = r.String("note", false);
  bool confirmed = r.Bool("confirmed", false);
  if (!r.ok()) return r.status();
  if (note.size() > 4000) return Status::InvalidArgument("note", "内容过长");
  const bool village_actor = actor.role == auth::Role::kVillageAssistant;
  if ((action == "confirm" || action == "reject") && village_actor)
    return Status::PermissionDenied("村协理员提出的核实结论须由镇街或县级人员确认");
  int64_t household_id = 0;
  std::string indicator, category, status, village, proposal;
  {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    auto rs = conn->Query(
        "SELECT indicator, category, status, household_id, village_code, version, resolution FROM alerts WHERE id = ?",
        {id});
    if (!rs.ok()) return rs.status();
    if (rs->empty() || !CodeWithin(rs->rows[0].Text(4), actor.region_code)) return Status::NotFound("预警不存在");
    indicator = rs->rows[0].Text(0);
    category = rs->rows[0].Text(1);
    status = rs->rows[0].Text(2);
    household_id = rs->rows[0].Int(3);
    village = rs->rows[0].Text(4);
    proposal = rs->rows[0].Text(6);
    if (rs->rows[0].Int(5) != version) return Status::VersionConflict();
  }
  std::string to;
  const bool still_open = status != "resolved" && status != "proposed";
  if (action == "verify" && status == "new") to = "verifying";
  else if (action == "resolve" && still_open) to = village_actor && confirmed && category != "missing" ? "proposed" : "resolved";
  else if (action == "confirm" && status == "proposed") to = "resolved";
  else if (action == "reject" && status == "proposed") to = "verifying";
  else if (action != "verify" && action != "resolve" && action != "confirm" && action != "reject")
    return Status::InvalidArgument("action", "操作应为 verify、resolve、confirm 或 reject");
  else return Status(Code::kConflict, "invalid_transition", "预警当前状态不能执行该操作", "action");
  if (action == "confirm") {
    confirmed = true;
    if (note.empty()) note = proposal;
  }
  if ((to == "resolved" || to == "proposed") && note.empty()) return Status::InvalidArgument("note", "请填写核查结论");
  if (action == "reject" && note.empty()) return Status::InvalidArgument("note", "请填写退回理由");
  // The alert's own writes; with a confirmed need they run inside the transaction that starts
  // its application (channel discovery), so the two are written together or not at all.
  json after;
  auto finish = [&](storage::Connection& conn, std::optional<int64_t> application_id) -> Status {
    std::string now = NowIsoShanghai();
    const bool proposing = to == "proposed";
    auto upd = conn.Execute(
        "UPDATE alerts SET status = ?, resolution = ?, confirmed = ?, application_id = ?, proposed_by = ?, "
        "proposed_at = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
        {to, note,
         to == "resolved" || proposing ? storage::Value(int64_t{confirmed}) : storage::Value(nullptr),
         application_id ? storage::Value(*application_id) : storage::Value(nullptr),
         proposing ? storage::Value(actor.username) : storage::Value(nullptr),
         proposing ? storage::Value(now) : storage::Value(nullptr), now, id, version});
    if (!upd.ok()) return upd.status();
    if (*upd == 0) return Status::VersionConflict();
    int64_t suspended = 0;
    if (to == "resolved" && confirmed && category != "missing" && household_id) {
      // A confirmed wrong payment suspends the benefit pending termination or recovery.
      auto s = conn.Execute(
          "UPDATE enrollments SET status = 'suspended', status_reason = ?, updated_at = ?, version = version + 1 "
          "WHERE household_id = ? AND status = 'active' AND program IN ('dibao', 'tekun')",
          {"动态监测预警核实：" + note, now, household_id});
      if (!s.ok()) return s.status();
      suspended = *s;
    }
    after = {{"status", to}, {"confirmed", confirmed}, {"note", note}, {"suspended_enrollments", suspended},
             {"application_id", application_id ? json(*application_id) : json(nullptr)}};
    if (proposing) after["proposed_by"] = actor.username;
    return audit::RecordWrite(conn, actor.actor(),
                              {"alert." + action, "alert", std::to_string(id), village,
                               json{{"status", status}}.dump(), after.dump()});
  };
  if (to == "resolved" && confirmed && category == "missing" && household_id) {
    // The alert's row is locked (and its version checked) before the application's audit entry
    // takes the chain's head: a concurrent action on the alert waits here, not in a deadlock.
    auto lock = [&](storage::Connection& conn) -> Status {
      auto n = conn.Execute("UPDATE alerts SET version = version WHERE id = ? AND version = ?", {id, version});
      if (!n.ok()) return n.status();
      return *n == 0 ? Status::VersionConflict() : Status::Ok();
    };
    auto app = applications_.CreateDiscovery(actor, household_id, "动态监测预警：" + indicator + "；" + note, lock,
                                      [&](storage::Connection& conn, int64_t app_id) { return finish(conn, app_id); });
    if (!app.ok()) return app.status();  // on success `after` names it
  } else {
    DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
    storage::Transaction tx(*conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    DOUDI_RETURN_IF_ERROR(finish(*conn, std::nullopt));
    DOUDI_RETURN_IF_ERROR(tx.Commit());
  }
  after["id"] = id;
  after["version"] = version + 1;
  return after;
}

Result<json> MonitorService::Rectification(const auth::User& actor, const std::string& month) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  std::string where = std::string(" WHERE a.") + ScopeColumn(actor.region_code) + " = ?";
  storage::Params params{actor.region_code};
  if (!month.empty()) {
    where += " AND a.month = ?";
    params.push_back(month);
  }
  auto rs = conn->Query(
      "SELECT a.town_code, t.name, a.category, a.status, a.due_date, a.confirmed FROM alerts a "
      "JOIN regions t ON t.code = a.town_code" + where,
      params);
  if (!rs.ok()) return rs.status();
  std::string today = TodayShanghai();
  std::map<std::string, json> towns;
  for (const auto& r : rs->rows) {
    json& t = towns[r.Text(0)];
    if (t.is_null()) {
      t = {{"town_code", r.Text(0)}, {"town_name", r.Text(1)}};
      for (const char* c : {"missing", "duplicate", "improper"})
        t[c] = {{"found", 0}, {"resolved", 0}, {"confirmed", 0}, {"overdue", 0}};
    }
    json& c = t[r.Text(2)];
    c["found"] = c["found"].get<int>() + 1;
    if (r.Text(3) == "resolved") {
      c["resolved"] = c["resolved"].get<int>() + 1;
      if (r.Bool(5)) c["confirmed"] = c["confirmed"].get<int>() + 1;
    } else if (today > r.Text(4)) {
      c["overdue"] = c["overdue"].get<int>() + 1;
    }
  }
  json items = json::array();
  for (auto& [code, t] : towns) items.push_back(t);
  return json{{"month", month}, {"items", items}};
}

Result<json> MonitorService::ListRuns(const auth::User& actor, int64_t page, int64_t page_size) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM monitor_runs WHERE county_code = ?", {county});
  if (!count.ok()) return count.status();
  auto rs = conn->Query(
      "SELECT id, month, started_at, finished_at, persons, feed_rows, matched, alerts_raised, actor, origin "
      "FROM monitor_runs WHERE county_code = ? ORDER BY id DESC LIMIT ? OFFSET ?",
      {county, page_size, (page - 1) * page_size});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows)
    items.push_back({{"id", r.Int(0)}, {"month", r.Text(1)}, {"started_at", r.Text(2)}, {"finished_at", r.Text(3)},
                     {"persons", r.Int(4)}, {"feed_rows", r.Int(5)}, {"matched", r.Int(6)},
                     {"alerts_raised", r.Int(7)}, {"actor", r.Text(8)}, {"origin", r.Text(9)}});
  return json{{"items", items}, {"total", count->rows[0].Int(0)}, {"page", page}, {"page_size", page_size}};
}

Result<json> MonitorService::ListFeeds(const auth::User& actor, int64_t page, int64_t page_size) {
  if (!(actor.role == auth::Role::kCountyAdmin || actor.role == auth::Role::kCountyReviewer ||
        actor.role == auth::Role::kDepartmentLiaison || actor.role == auth::Role::kSupervisor))
    return Status::PermissionDenied();
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto count = conn->Query("SELECT COUNT(*) FROM feed_files WHERE county_code = ?", {county});
  if (!count.ok()) return count.status();
  auto rs = conn->Query(
      "SELECT id, source, month, filename, encoding, rows_total, rows_imported, rows_invalid, problems, imported_by, "
      "imported_at FROM feed_files WHERE county_code = ? ORDER BY id DESC LIMIT ? OFFSET ?",
      {county, page_size, (page - 1) * page_size});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows)
    items.push_back({{"id", r.Int(0)}, {"source", r.Text(1)}, {"month", r.Text(2)}, {"filename", r.Text(3)},
                     {"encoding", r.Text(4)}, {"rows", r.Int(5)}, {"imported", r.Int(6)}, {"invalid", r.Int(7)},
                     {"problems", json::parse(r.Text(8), nullptr, false)}, {"imported_by", r.Text(9)},
                     {"imported_at", r.Text(10)}});
  return json{{"items", items}, {"total", count->rows[0].Int(0)}, {"page", page}, {"page_size", page_size}};
}

}  // namespace doudi::monitoring
