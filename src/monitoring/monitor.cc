#include "monitoring/monitor.h"

#include <map>
#include <set>
#include <unordered_map>

#include "audit/audit_log.h"
#include "calendar/calendar.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "monitoring/match_engine.h"

// The monthly run, step by step: LoadMonth reads the county's persons, enrollments, recorded
// relatives and the month's feed rows; ScanFeeds matches each feed against the registry and
// turns matched rows into candidates (or households to re-evaluate); ReEvaluate runs the policy
// engine on those; PaidTwiceCandidates and ZeroEmploymentCandidates look at the registry itself;
// RaiseAlerts writes one open alert per person and indicator with the run's record.
// The alerts' list, actions and rectification report are in monitor_alerts.cc.

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

struct PersonRow {
  std::string citizen_id, name, town, village;
  int64_t household_id = 0;
};

// A feed file of the month as the engine reads it.
struct FeedFile {
  int64_t id = 0;
  std::string source;
  std::string csv;  // two columns: citizen id, the row's fields as JSON
};

// What a run reads before it matches.
struct MonthInputs {
  std::vector<PersonRow> persons;
  std::unordered_map<std::string, std::set<std::string>> covered;  // citizen id → programmes
  std::unordered_map<int64_t, std::set<std::string>> household_programs;
  std::set<std::string> recorded_relatives;  // 备案 of staff relatives
  std::vector<FeedFile> feeds;

  // Person i's household receives dibao or tekun.
  bool IsRecipient(size_t i) const { return HouseholdHas(i, "dibao") || HouseholdHas(i, "tekun"); }
  bool InAnyProgram(size_t i) const { return household_programs.count(persons[i].household_id) > 0; }
  bool HouseholdHas(size_t i, const char* program) const {
    auto it = household_programs.find(persons[i].household_id);
    return it != household_programs.end() && it->second.count(program);
  }
};

struct Candidate {
  std::string indicator;
  size_t person;  // index into persons
  json details;
};

// What the feeds found: alerts to raise, and persons whose household is re-evaluated with the
// change a feed reports.
struct Findings {
  std::vector<Candidate> candidates;
  std::vector<std::pair<size_t, json>> evaluate;
};

using Progress = std::function<void(const std::string&, uint64_t, uint64_t)>;

Status LoadPersons(storage::Connection& conn, const std::string& county, MonthInputs* in) {
  auto ps = conn.Query(
      "SELECT citizen_id, name, household_id, town_code, village_code FROM persons WHERE county_code = ? ORDER BY id",
      {county});
  if (!ps.ok()) return ps.status();
  in->persons.reserve(ps->rows.size());
  for (const auto& r : ps->rows) in->persons.push_back({r.Text(0), r.Text(1), r.Text(3), r.Text(4), r.Int(2)});
  return Status::Ok();
}

// The active enrollments: each household's programmes, each covered person's programmes.
Status LoadEnrollments(storage::Connection& conn, const std::string& county, MonthInputs* in) {
  auto es = conn.Query("SELECT household_id, program, covered FROM enrollments WHERE county_code = ? AND status = 'active'",
                       {county});
  if (!es.ok()) return es.status();
  for (const auto& r : es->rows) {
    in->household_programs[r.Int(0)].insert(r.Text(1));
    json cov = json::parse(r.Text(2), nullptr, false);
    if (cov.is_array())
      for (const auto& c : cov)
        if (c.is_string()) in->covered[c.get<std::string>()].insert(r.Text(1));
  }
  auto rel = conn.Query("SELECT citizen_id FROM staff_relatives WHERE county_code = ?", {county});
  if (!rel.ok()) return rel.status();
  for (const auto& r : rel->rows) in->recorded_relatives.insert(r.Text(0));
  return Status::Ok();
}

// The rows of a feed file accepted at import (ids validated, amounts already in fen), as the
// two-column CSV the engine scans: citizen id, the row's fields (with its line) as JSON.
Result<std::string> FeedCsv(storage::Connection& conn, int64_t file_id) {
  auto rows = conn.Query("SELECT line, citizen_id, fields FROM feed_rows WHERE file_id = ? ORDER BY line", {file_id});
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
  return csv;
}

Result<MonthInputs> LoadMonth(storage::Database& db, const std::string& county, const std::string& month) {
  MonthInputs in;
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  DOUDI_RETURN_IF_ERROR(LoadPersons(*conn, county, &in));
  DOUDI_RETURN_IF_ERROR(LoadEnrollments(*conn, county, &in));
  auto fs = conn->Query("SELECT id, source FROM feed_files WHERE county_code = ? AND month = ? ORDER BY id",
                        {county, month});
  if (!fs.ok()) return fs.status();
  for (const auto& r : fs->rows) {
    DOUDI_ASSIGN_OR_RETURN(std::string csv, FeedCsv(*conn, r.Int(0)));
    in.feeds.push_back({r.Int(0), r.Text(1), std::move(csv)});
  }
  return in;
}

// What one matched feed row says about person i: an alert to raise, a household to
// re-evaluate, or nothing. `fields` are the row's values as accepted at import.
void Classify(const MonthInputs& in, const FeedFile& feed, size_t i, const json& fields, Findings* out) {
  const std::string& source = feed.source;
  auto field = [&](const char* key) -> json { return fields.contains(key) ? fields[key] : json(""); };
  json details = {{"source", source}, {"feed_file_id", feed.id}, {"line", field("line")}};
  if (source == "death" && in.IsRecipient(i)) {
    details["date_of_death"] = field("date_of_death");
    out->candidates.push_back({"recipient_died", i, details});
  } else if ((source == "vehicle" || source == "real_estate" || source == "business") &&
             (in.IsRecipient(i) || in.HouseholdHas(i, "marginal"))) {
    details["registered_on"] = field("registered_on");
    out->candidates.push_back({"recipient_" + source, i, details});
  } else if (source == "other_county_recipient" && in.InAnyProgram(i)) {
    details["county_code"] = field("county_code");
    details["program"] = field("program");
    out->candidates.push_back({"paid_twice_other_county", i, details});
  } else if (source == "at_risk" && !in.InAnyProgram(i)) {
    details["listed_on"] = field("listed_on");
    out->candidates.push_back({"at_risk_not_covered", i, details});
  } else if (source == "staff_kin" && in.InAnyProgram(i) && !in.recorded_relatives.count(in.persons[i].citizen_id)) {
    details["staff_name"] = field("staff_name");
    details["employer"] = field("employer");
    details["relation"] = field("relation");
    out->candidates.push_back({"staff_relative_unrecorded", i, details});
  } else if (source == "wage" && in.HouseholdHas(i, "dibao")) {
    details["wage_fen"] = field("wage_fen");
    out->evaluate.emplace_back(i, details);
  } else if (source == "disability" && in.HouseholdHas(i, "marginal") && !in.HouseholdHas(i, "dibao")) {
    details["kind"] = field("kind");
    details["grade"] = field("grade");
    out->evaluate.emplace_back(i, details);
  } else if (source == "medical" && !in.HouseholdHas(i, "illness_poverty") && !in.HouseholdHas(i, "dibao")) {
    details["out_of_pocket_fen"] = field("out_of_pocket_fen");
    out->evaluate.emplace_back(i, details);
  }
}

// Matches every feed of the month against the registry (the batch engine) and classifies the
// matched rows; counts rows and matches in *rep.
Status ScanFeeds(const MonthInputs& in, const RegistryIndex& index, const Progress& progress, Findings* out,
                 RunReport* rep) {
  for (const FeedFile& feed : in.feeds) {
    CsvLayout layout;
    layout.has_header = true;
    layout.id_column = 0;
    ScanOptions opts;
    opts.on_progress = [&](uint64_t done, uint64_t total) {
      if (progress) progress("feed " + feed.source, done, total);
    };
    auto scan = MatchFeedBytes(index, feed.csv, layout, opts, [&](std::span<const FeedMatch> batch) {
      for (const auto& m : batch) {
        json fields = m.fields.size() > 1 ? json::parse(m.fields[1], nullptr, false) : json::object();
        if (fields.is_object()) Classify(in, feed, m.registry_row, fields, out);
      }
    });
    if (!scan.ok()) return scan.status();
    rep->feed_rows += static_cast<int64_t>(scan->rows);
    rep->matched += static_cast<int64_t>(scan->matched);
  }
  return Status::Ok();
}

// A disability certificate's kind and grade applied to a member. Grades are 1–4; a row stored
// before the import checked them (or any other value) changes nothing, rather than being
// narrowed (4294967297 would read as grade 1).
void ApplyDisability(json& details, policy::Member* m) {
  static const std::map<std::string, policy::DisabilityKind> kKinds = {
      {"physical", policy::DisabilityKind::kPhysical}, {"肢体", policy::DisabilityKind::kPhysical},
      {"visual", policy::DisabilityKind::kVisual},     {"视力", policy::DisabilityKind::kVisual},
      {"hearing", policy::DisabilityKind::kHearing},   {"听力", policy::DisabilityKind::kHearing},
      {"speech", policy::DisabilityKind::kSpeech},     {"言语", policy::DisabilityKind::kSpeech},
      {"intellectual", policy::DisabilityKind::kIntellectual}, {"智力", policy::DisabilityKind::kIntellectual},
      {"mental", policy::DisabilityKind::kMental},     {"精神", policy::DisabilityKind::kMental},
      {"multiple", policy::DisabilityKind::kMultiple}, {"多重", policy::DisabilityKind::kMultiple}};
  auto k = kKinds.find(details.value("kind", ""));
  const json& g = details["grade"];
  if (k != kKinds.end() && g.is_number_integer() && g.get<int64_t>() >= 1 && g.get<int64_t>() <= 4 &&
      !(g.is_number_unsigned() && g.get<uint64_t>() > 4)) {
    m->disability = k->second;
    m->grade = static_cast<int>(g.get<int64_t>());
  }
}

// The household's facts with the change a feed reports for the person (wage, disability,
// medical costs).
void ApplyFeedChange(const std::string& citizen_id, json& details, policy::Facts* facts) {
  const std::string source = details["source"];
  for (auto& m : facts->members) {
    if (m.citizen_id != citizen_id) continue;
    auto fen = [&](const char* key) -> int64_t {
      return details.contains(key) && details[key].is_number_integer() ? details[key].get<int64_t>() : 0;
    };
    if (source == "wage") m.income[policy::kWage] = fen("wage_fen");
    if (source == "disability") ApplyDisability(details, &m);
    if (source == "medical") facts->medical_fen = fen("out_of_pocket_fen") * 12;
  }
}

// The county-wide user the run reads households as.
auth::User RunUser(const audit::Actor& actor, const std::string& county) {
  auth::User system;
  system.username = actor.username;
  system.role = auth::Role::kCountyAdmin;
  system.region_code = county;
  return system;
}

// Re-evaluates the households whose circumstances the feeds changed, with the policy engine.
void ReEvaluate(registry::RegistryService& registry, const auth::User& system, const policy::Params& params,
                const MonthInputs& in, Findings* out) {
  for (auto& [i, details] : out->evaluate) {
    auto h = registry.GetHousehold(system, in.persons[i].household_id);
    if (!h.ok()) continue;
    policy::Facts facts = policy::FactsFromHousehold(*h);
    const std::string source = details["source"];
    ApplyFeedChange(in.persons[i].citizen_id, details, &facts);
    auto d = policy::Evaluate(facts, params, nullptr);
    if (!d.ok()) continue;
    if (source == "wage" && !d->dibao) out->candidates.push_back({"recipient_income_rise", i, details});
    if (source == "disability" && d->dibao && d->dibao_single)
      out->candidates.push_back({"single_person_candidate", i, details});
    if (source == "medical" && (d->illness_poverty || d->expenditure_hardship || d->dibao))
      out->candidates.push_back({"illness_poverty_candidate", i, details});
  }
}

// Paid twice inside the county: dibao and tekun for the same person.
void PaidTwiceCandidates(const MonthInputs& in, Findings* out) {
  for (size_t i = 0; i < in.persons.size(); ++i) {
    auto it = in.covered.find(in.persons[i].citizen_id);
    if (it != in.covered.end() && it->second.count("dibao") && it->second.count("tekun"))
      out->candidates.push_back({"paid_twice_dibao_tekun", i, json{{"source", "enrollments"}}});
  }
}

// Zero-employment households among recipients (where the county prioritizes them).
void ZeroEmploymentCandidates(registry::RegistryService& registry, const auth::User& system,
                              const policy::Params& params, const MonthInputs& in, Findings* out) {
  if (!params.zero_employment_priority) return;
  std::set<int64_t> seen;
  for (size_t i = 0; i < in.persons.size(); ++i) {
    int64_t hid = in.persons[i].household_id;
    if (!in.IsRecipient(i) || !seen.insert(hid).second) continue;
    auto h = registry.GetHousehold(system, hid);
    if (!h.ok()) continue;
    auto d = policy::Evaluate(policy::FactsFromHousehold(*h), params, nullptr);
    if (d.ok() && d->zero_employment) out->candidates.push_back({"zero_employment", i, json{{"source", "registry"}}});
  }
}

// Writes a run's alerts, all stamped with the same time and due from the same day.
struct AlertWriter {
  storage::Connection& conn;
  const calendar::WorkCalendar& cal;
  const std::string& county;
  const std::string& month;
  const std::string now = NowIsoShanghai(), today = TodayShanghai();

  // Raises candidate c unless an alert stands for it: one open alert per person and
  // indicator, and a resolved one is not raised again for the same month (a later month's
  // evidence raises a new one).
  Status Raise(const PersonRow& p, const Candidate& c, RunReport* rep) {
    const Indicator* ind = FindIndicator(c.indicator);
    auto open = conn.Query(
        "SELECT id FROM alerts WHERE indicator = ? AND citizen_id = ? AND (status <> 'resolved' OR month = ?)",
        {c.indicator, p.citizen_id, month});
    if (!open.ok()) return open.status();
    if (!open->empty()) {
      ++rep->alerts_existing;
      return Status::Ok();
    }
    auto ins = conn.Execute(
        "INSERT INTO alerts (indicator, category, severity, citizen_id, person_name, household_id, county_code, "
        "town_code, village_code, month, details, status, due_date, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?)",
        {c.indicator, ind->category, ind->severity, p.citizen_id, p.name, p.household_id, county, p.town, p.village,
         month, c.details.dump(), cal.AddWorkingDays(today, ind->deadline_working_days), now, now});
    if (!ins.ok()) return ins.status();
    ++rep->alerts_raised;
    rep->by_indicator[c.indicator] = rep->by_indicator.value(c.indicator, 0) + 1;
    return Status::Ok();
  }
};

// Writes the run, its alerts and its audit entry in one transaction.
Status RaiseAlerts(storage::Database& db, const audit::Actor& actor, const std::string& county,
                   const std::string& month, const std::string& started, const std::string& origin,
                   const MonthInputs& in, const Findings& found, RunReport* rep) {
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(calendar::WorkCalendar cal, calendar::WorkCalendar::Load(*conn, county));
  AlertWriter alerts{*conn, cal, county, month};
  auto run = conn->Query(
      "INSERT INTO monitor_runs (county_code, month, started_at, actor, origin) VALUES (?, ?, ?, ?, ?) RETURNING id",
      {county, month, started, actor.username, origin});
  if (!run.ok()) return run.status();
  rep->run_id = run->rows[0].Int(0);
  for (const auto& c : found.candidates)
    DOUDI_RETURN_IF_ERROR(alerts.Raise(in.persons[c.person], c, rep));
  auto fin = conn->Execute(
      "UPDATE monitor_runs SET finished_at = ?, persons = ?, feed_rows = ?, matched = ?, alerts_raised = ? WHERE id = ?",
      {NowIsoShanghai(), rep->persons, rep->feed_rows, rep->matched, rep->alerts_raised, rep->run_id});
  if (!fin.ok()) return fin.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor,
                                           {"monitor.run", "monitor_run", std::to_string(rep->run_id), county, "null",
                                            ToJson(*rep).dump()}));
  return tx.Commit();
}

}  // namespace

const std::vector<Indicator>& Indicators() { return kIndicators; }

const Indicator* FindIndicator(const std::string& id) {
  for (const auto& i : kIndicators)
    if (id == i.id) return &i;
  return nullptr;
}

Result<RunReport> MonitorService::Run(const audit::Actor& actor, const std::string& county, const std::string& month,
                                      const Progress& progress, const std::string& origin) {
  if (LevelOfCode(county) != RegionLevel::kCounty) return Status::InvalidArgument("county", "县级区划代码应为6位");
  if (!IsMonth(month)) return Status::InvalidArgument("month", "月份应为 YYYY-MM");
  std::lock_guard run_lock(run_mu_);
  const std::string started = NowIsoShanghai();
  RunReport rep;
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  DOUDI_ASSIGN_OR_RETURN(policy::Params params, policy::ResolveParams(*pack, LastDayOfMonth(month)));
  DOUDI_ASSIGN_OR_RETURN(MonthInputs in, LoadMonth(db_, county, month));

  std::vector<std::string_view> ids;
  for (const auto& p : in.persons) ids.push_back(p.citizen_id);
  rep.persons = static_cast<int64_t>(in.persons.size());
  if (progress) progress("registry", in.persons.size(), in.persons.size());
  DOUDI_ASSIGN_OR_RETURN(RegistryIndex index, RegistryIndex::FromIds(ids));

  Findings found;
  DOUDI_RETURN_IF_ERROR(ScanFeeds(in, index, progress, &found, &rep));
  const auth::User system = RunUser(actor, county);
  ReEvaluate(registry_, system, params, in, &found);
  PaidTwiceCandidates(in, &found);
  ZeroEmploymentCandidates(registry_, system, params, in, &found);
  DOUDI_RETURN_IF_ERROR(RaiseAlerts(db_, actor, county, month, started, origin, in, found, &rep));
  return rep;
}

json ToJson(const RunReport& r) {
  return {{"run_id", r.run_id},     {"persons", r.persons},           {"feed_rows", r.feed_rows},
          {"matched", r.matched},   {"alerts_raised", r.alerts_raised}, {"alerts_existing", r.alerts_existing},
          {"by_indicator", r.by_indicator}};
}

}  // namespace doudi::monitoring
