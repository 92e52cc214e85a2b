#include "monitoring/screening.h"

#include <algorithm>
#include <map>

#include "audit/audit_log.h"
#include "notices/notices.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "monitoring/monitor.h"
#include "reports/xlsx.h"

namespace doudi::monitoring {
namespace {

using nlohmann::json;

struct VisitResult {
  const char* id;
  const char* label;
  bool needs_note;
};
constexpr VisitResult kResults[] = {
    {"no_change", "情况无变化", false},       {"changed", "情况有变化，需复核", true},
    {"absent", "未见到本人", true},           {"moved", "已迁出或不在本地居住", true},
    {"deceased", "已死亡", true},
};

Status CheckMonth(const std::string& month) {
  if (!IsMonth(month)) return Status::InvalidArgument("month", "月份应为 YYYY-MM");
  return Status::Ok();
}

// "YYYY-MM-01" of the month after; enrollments created before it were approved by the month's end.
std::string NextMonthStart(const std::string& month) {
  int y = std::stoi(month.substr(0, 4)), m = std::stoi(month.substr(5, 2)) + 1;
  if (m == 13) m = 1, ++y;
  return FormatDate(y, m, 1);
}

std::string MonthTitle(const std::string& month) {
  return month.substr(0, 4) + "年" + std::to_string(std::stoi(month.substr(5, 2))) + "月";
}

// The scope a request works in: the user's region, or a village within it.
Result<std::string> ScopeOf(const auth::User& actor, const std::string& village) {
  if (village.empty()) return actor.region_code;
  if (LevelOfCode(village) != RegionLevel::kVillage) return Status::InvalidArgument("village", "村（社区）代码应为12位数字");
  if (!CodeWithin(village, actor.region_code)) return Status::NotFound("该区划不在您的管辖范围内");  // as the other lists
  return village;
}

struct Reason {
  std::string kind;  // "alert" | "review"
  json detail;
};

struct Household {
  int64_t id = 0;
  std::string town_name, village_code, village_name, head_name;
  int64_t members = 0;
  std::vector<json> reasons;
  json visit = nullptr;
};

// The month's screening list for a scope, ordered by village and head of household.
Result<std::vector<Household>> Collect(storage::Connection& conn, const std::string& scope, const std::string& month) {
  const std::string col = ScopeColumn(scope);
  const std::string last = LastDayOfMonth(month);
  std::map<int64_t, Household> out;
  auto alerts = conn.Query(
      "SELECT household_id, id, indicator, status, due_date FROM alerts WHERE " + col +
          " = ? AND household_id IS NOT NULL AND month <= ? AND (status <> 'resolved' OR month = ?) ORDER BY id",
      {scope, month, month});
  if (!alerts.ok()) return alerts.status();
  for (const auto& r : alerts->rows) {
    const Indicator* ind = FindIndicator(r.Text(2));
    const std::string desc = ind ? ind->description : "";
    out[r.Int(0)].reasons.push_back({{"kind", "alert"}, {"alert_id", r.Int(1)}, {"indicator", r.Text(2)},
                                     {"description", desc}, {"status", r.Text(3)}, {"due_date", r.Text(4)}});
  }
  auto reviews = conn.Query(
      "SELECT household_id, program, next_review_date FROM enrollments WHERE " + col +
          " = ? AND status = 'active' AND next_review_date IS NOT NULL AND next_review_date <= ? ORDER BY id",
      {scope, last});
  if (!reviews.ok()) return reviews.status();
  for (const auto& r : reviews->rows)
    out[r.Int(0)].reasons.push_back({{"kind", "review"}, {"program", r.Text(1)},
                                     {"description", notices::ProgramLabel(r.Text(1)) + "定期复核到期"},
                                     {"due_date", r.Text(2)}});
  auto visits = conn.Query(
      "SELECT household_id, result, note, visited_on, visited_by, version FROM screening_visits WHERE " + col +
          " = ? AND month = ?",
      {scope, month});
  if (!visits.ok()) return visits.status();
  for (const auto& r : visits->rows) {
    // A visit recorded for a household not otherwise listed (visited on the assistant's own
    // initiative) is listed too.
    out[r.Int(0)].visit = {{"result", r.Text(1)}, {"result_label", VisitResultLabel(r.Text(1))}, {"note", r.Text(2)},
                           {"visited_on", r.Text(3)}, {"visited_by", r.Text(4)}, {"version", r.Int(5)}};
  }
  if (out.empty()) return std::vector<Household>{};
  // The households found above, in pages of ids (still filtered by scope).
  std::vector<Household> list;
  std::vector<int64_t> ids;
  for (const auto& [id, h] : out) ids.push_back(id);
  for (size_t from = 0; from < ids.size(); from += 500) {
    size_t to = std::min(ids.size(), from + 500);
    std::string marks;
    storage::Params params{scope};
    for (size_t i = from; i < to; ++i) {
      marks += i == from ? "?" : ", ?";
      params.push_back(ids[i]);
    }
    auto hs = conn.Query(
        "SELECT h.id, t.name, h.village_code, v.name, "
        "(SELECT p.name FROM persons p WHERE p.household_id = h.id AND p.relation = 'head'), "
        "(SELECT COUNT(*) FROM persons p WHERE p.household_id = h.id) "
        "FROM households h JOIN regions v ON v.code = h.village_code JOIN regions t ON t.code = h.town_code WHERE h." +
            col + " = ? AND h.id IN (" + marks + ")",
        params);
    if (!hs.ok()) return hs.status();
    for (const auto& r : hs->rows) {
      Household h = std::move(out[r.Int(0)]);
      h.id = r.Int(0);
      h.town_name = r.Text(1);
      h.village_code = r.Text(2);
      h.village_name = r.Text(3);
      h.head_name = r.Text(4);
      h.members = r.Int(5);
      list.push_back(std::move(h));
    }
  }
  std::sort(list.begin(), list.end(), [](const Household& a, const Household& b) {
    return std::tie(a.village_code, a.head_name, a.id) < std::tie(b.village_code, b.head_name, b.id);
  });
  return list;
}

std::string ReasonsText(const Household& h) {
  std::string s;
  for (const auto& r : h.reasons) s += (s.empty() ? "" : "；") + r.value("description", std::string());
  return s.empty() ? "自行走访" : s;
}

Result<std::string> RegionName(storage::Connection& conn, const std::string& code) {
  auto rs = conn.Query("SELECT name FROM regions WHERE code = ?", {code});
  if (!rs.ok()) return rs.status();
  return rs->empty() ? code : rs->rows[0].Text(0);
}

// The month's screening list: a line per household with its reasons and visit.
Result<Workbook> ListSheet(storage::Connection& conn, const std::string& scope, const std::string& month,
                           const std::string& place, reports::Sheet* sheet) {
  DOUDI_ASSIGN_OR_RETURN(auto list, Collect(conn, scope, month));
  const std::string when = MonthTitle(month);
  *sheet = {"月排查清单", place + when + "困难群众月排查清单",
            {"序号", "镇（街道）", "村（社区）", "户主", "家庭人数", "排查原因", "走访结果", "走访日期", "走访人", "情况说明"},
            {6, 14, 16, 10, 8, 40, 16, 12, 12, 30}, {}, {"村协理员签字：", "镇（街道）审核人签字："}};
  int64_t n = 0;
  for (const auto& h : list) {
    bool v = !h.visit.is_null();
    sheet->rows.push_back({++n, h.town_name, h.village_name, h.head_name, h.members, ReasonsText(h),
                           v ? h.visit["result_label"].get<std::string>() : std::string("未走访"),
                           v ? h.visit["visited_on"].get<std::string>() : std::string(),
                           v ? h.visit["visited_by"].get<std::string>() : std::string(),
                           v ? h.visit["note"].get<std::string>() : std::string()});
  }
  return Workbook{place + when + "月排查清单.xlsx", {}};
}

// The public notice of the month's recipients. Publication after approval shows the name, the
// household size and the amount only (民发〔2021〕57号 第二十四条): no citizen id, no address,
// no reasons.
Result<Workbook> NoticeSheet(storage::Connection& conn, const std::string& scope, const std::string& month,
                             const std::string& place, reports::Sheet* sheet) {
  auto rs = conn.Query(
      "SELECT t.name, v.name, (SELECT p.name FROM persons p WHERE p.household_id = e.household_id AND "
      "p.relation = 'head'), e.program, e.covered, e.monthly_fen, e.created_at FROM enrollments e "
      "JOIN regions v ON v.code = e.village_code JOIN regions t ON t.code = e.town_code WHERE e." + std::string(ScopeColumn(scope)) +
          " = ? AND e.status = 'active' AND e.created_at < ? AND e.program IN ('dibao', 'tekun', 'marginal') "
          "ORDER BY e.village_code, e.program, e.id",
      {scope, NextMonthStart(month)});
  if (!rs.ok()) return rs.status();
  const std::string when = MonthTitle(month);
  *sheet = {"月公示", place + when + "社会救助对象公示名单",
            {"序号", "镇（街道）", "村（社区）", "户主姓名", "救助类别", "保障人数", "月救助金（元）", "本月变动"},
            {6, 14, 16, 10, 18, 10, 14, 10}, {},
            {"公示期为7天。对公示对象有异议的，请向所在镇（街道）或县民政局反映。",
             "根据《最低生活保障审核确认办法》第二十四条，公示内容仅包括姓名、保障人数和保障金额。"}};
  int64_t n = 0;
  for (const auto& r : rs->rows) {
    json covered = json::parse(r.Text(4), nullptr, false);
    int64_t people = covered.is_array() ? static_cast<int64_t>(covered.size()) : 0;
    sheet->rows.push_back({++n, r.Text(0), r.Text(1), r.Text(2), notices::ProgramLabel(r.Text(3)), people,
                           reports::Fen{r.Int(5)}, r.Text(6) >= month + "-01" ? std::string("新增") : std::string()});
  }
  return Workbook{place + when + "社会救助对象公示名单.xlsx", {}};
}

// A line of the monthly report: a town (for a county) or a village (for a town or village).
struct ReportLine {
  std::string town, village;
  int64_t listed = 0, visited = 0, changed = 0, absent = 0, alerts_new = 0, alerts_resolved = 0, overdue = 0,
          households = 0, persons = 0, fen = 0;

  void Add(const ReportLine& r) {
    listed += r.listed, visited += r.visited, changed += r.changed, absent += r.absent;
    alerts_new += r.alerts_new, alerts_resolved += r.alerts_resolved, overdue += r.overdue;
    households += r.households, persons += r.persons, fen += r.fen;
  }
  std::vector<reports::Cell> Cells() const {
    return {town, village, listed, visited, changed, absent, alerts_new, alerts_resolved, overdue, households, persons,
            reports::Fen{fen}};
  }
};

// The report's lines by unit code: the scope's units, then the month's visits, alerts and
// active enrollments counted into them.
class ReportLines {
 public:
  ReportLines(storage::Connection& conn, const std::string& scope, const std::string& month)
      : conn_(conn), scope_(scope), month_(month), col_(ScopeColumn(scope)),
        by_town_(LevelOfCode(scope) == RegionLevel::kCounty) {}

  Result<std::map<std::string, ReportLine>> Count(const std::string& today) {
    DOUDI_RETURN_IF_ERROR(Units());
    DOUDI_RETURN_IF_ERROR(Visits());
    DOUDI_RETURN_IF_ERROR(Alerts(today));
    DOUDI_RETURN_IF_ERROR(Enrollments());
    return std::move(lines_);
  }

 private:
  std::string Unit(const std::string& village_code) const { return by_town_ ? village_code.substr(0, 9) : village_code; }

  Status Units() {
    auto units = LevelOfCode(scope_) == RegionLevel::kVillage
                     ? conn_.Query("SELECT r.code, r.name, t.name FROM regions r JOIN regions t ON t.code = r.parent_code "
                                   "WHERE r.code = ?", {scope_})
                     : conn_.Query("SELECT r.code, r.name, p.name FROM regions r JOIN regions p ON p.code = r.parent_code "
                                   "WHERE r.parent_code = ? ORDER BY r.code", {scope_});
    if (!units.ok()) return units.status();
    for (const auto& r : units->rows)
      lines_[r.Text(0)] = by_town_ ? ReportLine{r.Text(1), ""} : ReportLine{r.Text(2), r.Text(1)};
    return Status::Ok();
  }
  Status Visits() {
    DOUDI_ASSIGN_OR_RETURN(auto list, Collect(conn_, scope_, month_));
    for (const auto& h : list) {
      ReportLine& line = lines_[Unit(h.village_code)];
      ++line.listed;
      if (h.visit.is_null()) continue;
      ++line.visited;
      if (h.visit["result"] == "changed" || h.visit["result"] == "moved" || h.visit["result"] == "deceased") ++line.changed;
      if (h.visit["result"] == "absent") ++line.absent;
    }
    return Status::Ok();
  }
  Status Alerts(const std::string& today) {
    auto alerts = conn_.Query("SELECT village_code, month, status, due_date, updated_at FROM alerts WHERE " + col_ + " = ?",
                              {scope_});
    if (!alerts.ok()) return alerts.status();
    for (const auto& r : alerts->rows) {
      ReportLine& line = lines_[Unit(r.Text(0))];
      if (r.Text(1) == month_) ++line.alerts_new;
      if (r.Text(2) == "resolved" && r.Text(4).substr(0, 7) == month_) ++line.alerts_resolved;
      if (r.Text(2) != "resolved" && today > r.Text(3)) ++line.overdue;
    }
    return Status::Ok();
  }
  Status Enrollments() {
    auto enr = conn_.Query("SELECT village_code, household_id, covered, monthly_fen FROM enrollments WHERE " + col_ +
                               " = ? AND status = 'active' AND created_at < ?",
                           {scope_, NextMonthStart(month_)});
    if (!enr.ok()) return enr.status();
    for (const auto& r : enr->rows) {
      ReportLine& line = lines_[Unit(r.Text(0))];
      ++line.households;
      json covered = json::parse(r.Text(2), nullptr, false);
      line.persons += covered.is_array() ? static_cast<int64_t>(covered.size()) : 0;
      line.fen += r.Int(3);
    }
    return Status::Ok();
  }

  storage::Connection& conn_;
  const std::string& scope_;
  const std::string& month_;
  const std::string col_;
  const bool by_town_;
  std::map<std::string, ReportLine> lines_;
};

// The monthly report of dynamic management: a line per unit and the total.
Result<Workbook> ReportSheet(storage::Connection& conn, const std::string& scope, const std::string& month,
                             const std::string& place, reports::Sheet* sheet) {
  const std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(auto lines, ReportLines(conn, scope, month).Count(today));
  const std::string when = MonthTitle(month);
  *sheet = {"月报告", place + when + "社会救助动态管理月报告",
            {"镇（街道）", "村（社区）", "应排查户数", "已走访户数", "情况有变化", "未见到本人", "本月新增预警",
             "本月办结预警", "逾期未办结预警", "在保救助项目数", "在保人数", "月救助金（元）"},
            {14, 16, 10, 10, 10, 10, 12, 12, 14, 14, 10, 14}, {}, {}};
  ReportLine total{"合计", ""};
  for (const auto& [code, line] : lines) {
    sheet->rows.push_back(line.Cells());
    total.Add(line);
  }
  sheet->rows.push_back(total.Cells());
  sheet->footer = {"走访完成率：" + (total.listed ? std::to_string(total.visited * 100 / total.listed) + "%" : std::string("—")),
                   "填报单位：" + place + "    填报日期：" + today};
  return Workbook{place + when + "动态管理月报告.xlsx", {}};
}

}  // namespace

const char* VisitResultLabel(const std::string& result) {
  for (const auto& r : kResults)
    if (result == r.id) return r.label;
  return "";
}

Result<json> ScreeningService::List(const auth::User& actor, const std::string& month, const std::string& village,
                                    const std::string& status, int64_t page, int64_t page_size) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  DOUDI_RETURN_IF_ERROR(CheckMonth(month));
  if (!status.empty() && status != "pending" && status != "visited")
    return Status::InvalidArgument("status", "状态应为 pending 或 visited");
  DOUDI_ASSIGN_OR_RETURN(std::string scope, ScopeOf(actor, village));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto list, Collect(*conn, scope, month));
  json summary = {{"households", list.size()}, {"visited", 0}, {"changed", 0}, {"pending", 0}};
  json items = json::array();
  int64_t total = 0, skip = (page - 1) * page_size;
  for (const auto& h : list) {
    bool visited = !h.visit.is_null();
    summary[visited ? "visited" : "pending"] = summary[visited ? "visited" : "pending"].get<int64_t>() + 1;
    if (visited && h.visit["result"] != "no_change") summary["changed"] = summary["changed"].get<int64_t>() + 1;
    if ((status == "pending" && visited) || (status == "visited" && !visited)) continue;
    if (total++ < skip || static_cast<int64_t>(items.size()) >= page_size) continue;
    items.push_back({{"household_id", h.id}, {"head_name", h.head_name}, {"members", h.members},
                     {"town_name", h.town_name}, {"village_code", h.village_code}, {"village_name", h.village_name},
                     {"reasons", h.reasons}, {"visit", h.visit}});
  }
  return json{{"month", month}, {"summary", summary}, {"items", items}, {"total", total}, {"page", page},
              {"page_size", page_size}};
}

Result<json> ScreeningService::RecordVisit(const auth::User& actor, const json& body) {
  if (!auth::CanWriteRegistry(actor.role)) return Status::PermissionDenied("您的角色不能登记走访结果");
  FieldReader r(body, "");
  std::string month = r.String("month", true);
  int64_t household_id = r.Int("household_id", true);
  std::string result = r.String("result", true);
  std::string note = r.String("note", false);
  std::string visited_on = r.String("visited_on", true);
  auto version = r.OptInt("version");
  if (!r.ok()) return r.status();
  DOUDI_RETURN_IF_ERROR(CheckMonth(month));
  const VisitResult* res = nullptr;
  for (const auto& v : kResults)
    if (result == v.id) res = &v;
  if (!res) return Status::InvalidArgument("result", "走访结果无效");
  if (res->needs_note && note.empty()) return Status::InvalidArgument("note", "请填写情况说明");
  if (note.size() > 2000) return Status::InvalidArgument("note", "情况说明过长");
  int y, m, d;
  std::string today = TodayShanghai();
  if (month > today.substr(0, 7)) return Status::InvalidArgument("month", "不能登记未来月份的走访");
  if (!ParseDate(visited_on, &y, &m, &d)) return Status::InvalidArgument("visited_on", "日期格式应为 YYYY-MM-DD");
  if (visited_on > today) return Status::InvalidArgument("visited_on", "走访日期不能晚于今天");
  if (visited_on < month + "-01") return Status::InvalidArgument("visited_on", "走访日期不能早于排查月份");

  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto h = conn->Query("SELECT county_code, town_code, village_code FROM households WHERE id = ?", {household_id});
  if (!h.ok()) return h.status();
  if (h->empty() || !CodeWithin(h->rows[0].Text(2), actor.region_code)) return Status::NotFound("家庭不存在");
  const std::string village = h->rows[0].Text(2);
  auto existing = conn->Query(
      "SELECT id, version, result, note, visited_on FROM screening_visits WHERE household_id = ? AND month = ?",
      {household_id, month});
  if (!existing.ok()) return existing.status();
  std::string now = NowIsoShanghai();
  json after = {{"household_id", household_id}, {"month", month}, {"result", result}, {"note", note},
                {"visited_on", visited_on}};
  json before = nullptr;
  int64_t id = 0, new_version = 1;
  if (existing->empty()) {
    auto ins = conn->Query(
        "INSERT INTO screening_visits (county_code, town_code, village_code, household_id, month, result, note, "
        "visited_on, visited_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        {h->rows[0].Text(0), h->rows[0].Text(1), village, household_id, month, result, note, visited_on, actor.username,
         now, now});
    if (!ins.ok()) return ins.status();
    id = ins->rows[0].Int(0);
  } else {
    // Correcting a recorded visit needs the version last seen: two people cannot silently
    // overwrite each other's record.
    const auto& row = existing->rows[0];
    if (!version) return Status::InvalidArgument("version", "该户本月已登记走访结果，修改时请提供版本号");
    if (*version != row.Int(1)) return Status::VersionConflict();
    id = row.Int(0);
    before = {{"result", row.Text(2)}, {"note", row.Text(3)}, {"visited_on", row.Text(4)}};
    auto upd = conn->Execute(
        "UPDATE screening_visits SET result = ?, note = ?, visited_on = ?, visited_by = ?, updated_at = ?, "
        "version = version + 1 WHERE id = ? AND version = ?",
        {result, note, visited_on, actor.username, now, id, *version});
    if (!upd.ok()) return upd.status();
    if (*upd == 0) return Status::VersionConflict();
    new_version = *version + 1;
  }
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"screening.visit", "screening_visit", std::to_string(id), village,
                                            before.dump(), after.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  after["id"] = id;
  after["version"] = new_version;
  after["result_label"] = res->label;
  after["visited_by"] = actor.username;
  return after;
}

Result<Workbook> ScreeningService::Export(const auth::User& actor, const std::string& month, const std::string& kind) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  DOUDI_RETURN_IF_ERROR(CheckMonth(month));
  if (kind != "list" && kind != "notice" && kind != "report")
    return Status::InvalidArgument("kind", "导出类型应为 list、notice 或 report");
  const std::string scope = actor.region_code;
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(std::string place, RegionName(*conn, scope));
  reports::Sheet sheet;
  auto out = kind == "list"     ? ListSheet(*conn, scope, month, place, &sheet)
             : kind == "notice" ? NoticeSheet(*conn, scope, month, place, &sheet)
                                : ReportSheet(*conn, scope, month, place, &sheet);
  if (!out.ok()) return out.status();
  // The list and the notice carry names: their export is a read of personal data.
  if (kind != "report")
    DOUDI_RETURN_IF_ERROR(audit::RecordRead(*conn, actor.actor(), "screening_" + kind, month, scope));
  DOUDI_ASSIGN_OR_RETURN(out->bytes, reports::WriteWorkbook({sheet}));
  return out;
}

}  // namespace doudi::monitoring
