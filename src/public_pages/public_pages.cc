#include "public_pages/public_pages.h"

#include "applications/record.h"
#include "auth/auth.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "common/lists.h"
#include "credit/credit.h"

namespace doudi::public_pages {

using nlohmann::json;

Result<json> PublicService::Submit(const json& body) {
  FieldReader r(body, "");
  std::string name = r.String("name", true);
  std::string cid = r.String("citizen_id", true);
  std::string phone = r.String("phone", true);
  std::string village = r.String("village_code", true);
  std::string area = r.String("area", false, "rural");
  std::string description = r.String("description", false);
  DOUDI_ASSIGN_OR_RETURN(std::vector<std::string> programs, applications::ReadPrograms(r));
  if (!r.ok()) return r.status();
  if (programs.empty()) programs = applications::Programs();
  if (name.empty() || name.size() > 60) return Status::InvalidArgument("name", "请填写姓名");
  auto id = ParseCitizenId(cid);
  if (!id.ok()) return id.status();
  if (phone.size() < 7 || phone.size() > 20 || phone.find_first_not_of("0123456789-+ ") != std::string::npos)
    return Status::InvalidArgument("phone", "请填写有效的联系电话");
  if (area != "urban" && area != "rural") return Status::InvalidArgument("area", "城乡类别应为 urban 或 rural");
  if (description.size() > 2000) return Status::InvalidArgument("description", "情况说明过长");
  if (LevelOfCode(village) != RegionLevel::kVillage) return Status::InvalidArgument("village_code", "请选择村（社区）");
  // Who confirms: the town where the county's pack delegates it, as for a window application (a
  // county without a pack has no delegation).
  auto pack = policy_.PackFor(village.substr(0, 6));
  if (!pack.ok() && pack.status().code() != Code::kNotFound) return pack.status();
  const bool delegated = pack.ok() && applications::TownConfirms(**pack, TodayShanghai());
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto reg = conn->Query("SELECT parent_code FROM regions WHERE code = ? AND level = 'village'", {village});
  if (!reg.ok()) return reg.status();
  if (reg->empty()) return Status::InvalidArgument("village_code", "村（社区）区划代码不存在");
  std::string town = reg->rows[0].Text(0), county = village.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(bool relative, credit::IsStaffRelative(*conn, county, {id->normalized}));
  std::string now = NowIsoShanghai();
  auto ins = conn->Query(
      "INSERT INTO applications (case_no, county_code, town_code, village_code, channel, programs, state, applicant_name, "
      "applicant_citizen_id, applicant_phone, authorization_signed, commitment_signed, staff_relative, delegated, "
      "received_at, description, created_by, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, 'online', ?, 'received', ?, ?, ?, 1, 1, ?, ?, ?, ?, 'online', ?, ?) RETURNING id",
      {"tmp-" + auth::RandomToken(), county, town, village, JoinList(programs), name, id->normalized, phone,
       int64_t{relative}, int64_t{delegated}, now, description + (area == "urban" ? "（城镇）" : "（农村）"), now, now});
  if (!ins.ok()) return ins.status();
  int64_t app_id = ins->rows[0].Int(0);
  DOUDI_ASSIGN_OR_RETURN(std::string case_no, applications::AssignCaseNo(*conn, app_id, county, now));
  auth::User online;
  online.username = "online";
  applications::App a;
  a.id = app_id;
  a.village = village;
  a.version = 1;
  DOUDI_RETURN_IF_ERROR(applications::AuditApp(*conn, online, a, "submit", "", "received", {{"channel", "online"}, {"programs", programs}}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return json{{"case_no", case_no}};
}

Result<json> PublicService::Progress(const std::string& case_no, const std::string& citizen_id,
                                         const std::string& phone_last4) {
  // One answer for every miss (no such case, wrong id, wrong phone digits): the lookup tells
  // nothing about which part was wrong. The phone is not on the public notice, which shows
  // the id's first 6 and last 4 characters (the 8 between them are a birth date, few enough
  // to guess); the caller limits failed tries (http/api_public.cc).
  const Status miss = Status::NotFound("没有找到该申请，请核对案号、身份证号和联系电话后四位");
  auto id = ParseCitizenId(citizen_id);
  if (!id.ok() || phone_last4.size() != 4 || phone_last4.find_first_not_of("0123456789") != std::string::npos)
    return miss;
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(
      "SELECT id, state, received_at, due_date, applicant_citizen_id, applicant_phone FROM applications "
      "WHERE case_no = ?",
      {case_no});
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return miss;
  std::string digits;
  for (char ch : rs->rows[0].Text(5))
    if (ch >= '0' && ch <= '9') digits += ch;
  // An application without a phone of at least four digits cannot be looked up online.
  bool id_ok = rs->rows[0].Text(4) == id->normalized;
  bool phone_ok = digits.size() >= 4 && digits.compare(digits.size() - 4, 4, phone_last4) == 0;
  if (!id_ok || !phone_ok) return miss;
  const auto& r = rs->rows[0];
  auto ev = conn->Query("SELECT at, after_json FROM audit_log WHERE entity = 'application' AND entity_id = ? ORDER BY id",
                        {r.Text(0)});
  if (!ev.ok()) return ev.status();
  json steps = json::array();
  for (const auto& e : ev->rows) {
    json after = ParseJsonOr(e.Text(1), json::object());
    std::string to = after.value("to", "");
    if (to.empty() || after.value("from", "") == to) continue;
    steps.push_back({{"at", e.Text(0)}, {"label", applications::StateLabel(to)}});
  }
  std::string state = r.Text(1);
  return json{{"case_no", case_no}, {"state", state}, {"state_label", applications::StateLabel(state)},
              {"received_at", r.Text(2)}, {"due_date", r.IsNull(3) ? json(nullptr) : json(r.Text(3))}, {"steps", steps}};
}

Result<json> PublicService::Notices(const std::string& village) {
  if (LevelOfCode(village) != RegionLevel::kVillage) return Status::InvalidArgument("village", "请选择村（社区）");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(
      "SELECT a.case_no, a.applicant_name, a.applicant_citizen_id, a.programs, a.determinations, a.notice_ends, "
      "(SELECT COUNT(*) FROM persons p WHERE p.household_id = a.household_id), v.name "
      "FROM applications a JOIN regions v ON v.code = a.village_code "
      "WHERE a.village_code = ? AND a.state = 'public_notice' ORDER BY a.id",
      {village});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows) {
    json det = ParseJsonOr(r.Text(4), json::object());
    int64_t monthly = 0;
    if (det.contains("dibao") && det["dibao"].value("eligible", false)) monthly += det["dibao"].value("monthly_fen", int64_t{0});
    if (det.contains("tekun") && det["tekun"].value("eligible", false)) monthly += det["tekun"].value("monthly_fen", int64_t{0});
    // Only what the rules allow to be published: name, household size, amount (57号 第二十四条).
    items.push_back({{"case_no", r.Text(0)}, {"name", r.Text(1)}, {"citizen_id_masked", MaskCitizenId(r.Text(2))},
                     {"programs", SplitList(r.Text(3))}, {"monthly_fen", monthly}, {"notice_ends", r.Text(5)},
                     {"household_size", r.Int(6)}, {"village_name", r.Text(7)}});
  }
  return json{{"items", items}};
}

}  // namespace doudi::public_pages
