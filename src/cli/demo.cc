#include "cli/demo.h"

#include "common/citizen_id.h"
#include "common/date.h"

namespace doudi::cli {
namespace {

constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "孙", "马"};
constexpr const char* kGiven[] = {"秀英", "建国", "桂兰", "志强", "玉梅", "海燕", "国庆", "淑珍", "子涵", "浩然", "明", "丽"};

std::string MakeCitizenId(const std::string& county, int year, int month, int day, int seq, bool male) {
  char buf[32];
  int s = seq * 2 + (male ? 1 : 0);
  std::snprintf(buf, sizeof buf, "%s%04d%02d%02d%03d", county.c_str(), year, month, day, s % 1000);
  std::string first17(buf);
  return first17 + CitizenIdCheckChar(first17);
}

Result<std::vector<std::string>> Children(storage::Connection& conn, const std::string& parent) {
  auto rs = conn.Query("SELECT code FROM regions WHERE parent_code = ? ORDER BY code", {parent});
  if (!rs.ok()) return rs.status();
  std::vector<std::string> out;
  for (const auto& r : rs->rows) out.push_back(r.Text(0));
  return out;
}

// The demo's regions: town 1 with two villages, town 2 with one. For 昌乐 the rural 乔官镇 and
// urban 宝都街道; elsewhere the first towns with enough villages.
struct DemoRegions {
  std::string town1, town2;
  std::vector<std::string> villages;  // two of town 1, one of town 2
};

Result<DemoRegions> PickRegions(storage::Connection& conn, const std::string& county) {
  DemoRegions r;
  if (county == "370725") {
    r.town1 = "370725107";
    r.town2 = "370725001";
  } else {
    DOUDI_ASSIGN_OR_RETURN(auto towns, Children(conn, county));
    for (const auto& t : towns) {
      DOUDI_ASSIGN_OR_RETURN(auto v, Children(conn, t));
      if (v.size() >= 2 && r.town1.empty()) r.town1 = t;
      else if (!v.empty() && r.town2.empty() && !r.town1.empty() && t != r.town1) r.town2 = t;
    }
    if (r.town1.empty() || r.town2.empty()) return Status::FailedPrecondition("该县的区划数据不足以生成演示数据");
  }
  DOUDI_ASSIGN_OR_RETURN(auto villages1, Children(conn, r.town1));
  DOUDI_ASSIGN_OR_RETURN(auto villages2, Children(conn, r.town2));
  if (county == "370725") r.villages = {"370725107202", "370725107206", "370725001036"};
  else r.villages = {villages1.at(0), villages1.at(1), villages2.at(0)};
  return r;
}

// The eleven staff accounts from county to village (other counties' names get a prefix).
std::vector<DemoUser> DemoUsers(const std::string& county, const DemoRegions& r) {
  std::string prefix = county == "370725" ? "" : county + "_";
  return {
      {prefix + "admin", "county_admin", county, "县民政局管理员", "", ""},
      {prefix + "reviewer", "county_reviewer", county, "县级审核员", "", ""},
      {prefix + "supervisor", "supervisor", county, "纪检监督员", "", ""},
      {prefix + "auditor", "auditor", county, "审计员", "", ""},
      {prefix + "liaison", "department_liaison", county, "医保局联络员", "医保局", ""},
      {prefix + "town_clerk", "town_clerk", r.town1, "镇街经办员", "", ""},
      {prefix + "town_reviewer", "town_reviewer", r.town1, "镇街审核员", "", ""},
      {prefix + "town2_clerk", "town_clerk", r.town2, "镇街经办员（二）", "", ""},
      {prefix + "village1", "village_assistant", r.villages[0], "村协理员（一）", "", ""},
      {prefix + "village2", "village_assistant", r.villages[1], "村协理员（二）", "", ""},
      {prefix + "village3", "village_assistant", r.villages[2], "村协理员（三）", "", ""},
  };
}

bool NeedsTotp(const DemoUser& u) { return u.role == "county_admin" || u.role == "auditor"; }

// Seeded before: the TOTP secrets already enrolled, for the report (nothing is written).
Status ReadEnrolledSecrets(storage::Connection& conn, std::vector<DemoUser>& users) {
  for (auto& u : users) {
    if (!NeedsTotp(u)) continue;
    auto t = conn.Query("SELECT totp_secret FROM users WHERE username = ? AND totp_enabled = 1", {u.username});
    if (!t.ok()) return t.status();
    if (!t->empty()) u.totp_secret = t->rows[0].Text(0);
  }
  return Status::Ok();
}

// The accounts with their audit entries; the admin and auditor are enrolled in TOTP.
Status CreateUsers(storage::Connection& conn, auth::AuthService& auth, const auth::User& system,
                   std::vector<DemoUser>& users, const std::string& password) {
  for (auto& u : users) {
    // The demo password is the operator's own choice, not one an admin handed out: it is not
    // forced to change at first login (docs/security.md). Admin and auditor get TOTP.
    auto created = auth.CreateUserUnchecked(conn, {u.username, password, u.display_name, u.role, u.region_code,
                                                   u.department, false});
    if (!created.ok()) return created.status();
    DOUDI_RETURN_IF_ERROR(audit::RecordWrite(conn, system.actor(),
                                             {"user.create", "user", std::to_string(created->id), u.region_code,
                                              "null", "{\"username\":\"" + u.username + "\"}"}));
    if (NeedsTotp(u)) {
      DOUDI_ASSIGN_OR_RETURN(u.totp_secret, auth.EnrolTotpUnchecked(conn, created->id));
      DOUDI_RETURN_IF_ERROR(audit::RecordWrite(conn, system.actor(),
                                               {"user.totp_enrol", "user", std::to_string(created->id),
                                                u.region_code, "null", R"({"totp_enabled":true})"}));
    }
  }
  return Status::Ok();
}

// Household `hi` (0..2) of village `vi`: 1 to 4 members; `seq` numbers the persons.
registry::HouseholdInput DemoHousehold(const std::string& county, const std::string& village, size_t vi, int hi,
                                       int* seq) {
  registry::HouseholdInput h;
  h.village_code = village;
  h.area = vi == 2 ? "urban" : "rural";
  h.residence_address = "演示地址" + std::to_string(hi + 1) + "号";
  h.deposits_fen = 500000 * hi;
  int members = 1 + (static_cast<int>(vi) + hi) % 4;
  for (int m = 0; m < members; ++m) {
    registry::PersonInput p;
    int n = ++*seq;
    bool male = (n % 2) == 1;
    int year = m == 0 ? 1950 + 7 * hi + static_cast<int>(vi) : (m == 1 ? 1955 + 7 * hi : 2008 + m);
    p.citizen_id = MakeCitizenId(county, year, 1 + n % 12, 1 + n % 28, n, male);
    p.name = std::string(kSurnames[(vi * 3 + hi) % 12]) + kGiven[n % 12];
    p.relation = m == 0 ? "head" : (m == 1 ? "spouse" : "child");
    p.in_school = m >= 2;
    p.income.wage = m == 0 ? 80000 * hi : 0;
    p.income.pension = year < 1962 ? 18000 : 0;
    if (hi == 1 && m == 0) p.disability = registry::Disability{"physical", 2};
    if (hi == 2 && m == 1) p.serious_illness = true;
    h.members.push_back(std::move(p));
  }
  return h;
}

// One dibao household per village, its yearly review due this month: the monthly screening
// list and the public notice have something to show.
Status EnrollDemoDibao(storage::Connection& conn, const auth::User& system, const std::string& county,
                       const std::string& village, int64_t household_id,
                       const registry::HouseholdInput& h) {
  nlohmann::json covered = nlohmann::json::array();
  for (const auto& p : h.members) covered.push_back(p.citizen_id);
  std::string today = TodayShanghai(), now = NowIsoShanghai();
  auto en = conn.Query(
      "INSERT INTO enrollments (household_id, county_code, town_code, village_code, program, covered, monthly_fen, "
      "first_paid_month, status, next_review_date, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, 'dibao', ?, ?, ?, 'active', ?, ?, ?) RETURNING id",
      {household_id, county, village.substr(0, 9), village, covered.dump(),
       int64_t{45000} * static_cast<int64_t>(h.members.size()), today.substr(0, 7), LastDayOfMonth(today.substr(0, 7)),
       now, now});
  if (!en.ok()) return en.status();
  return audit::RecordWrite(conn, system.actor(),
                            {"enrollment.demo", "enrollment", en->rows[0].Text(0), village, "null",
                             nlohmann::json{{"household_id", household_id}, {"program", "dibao"}}.dump()});
}

// Three households in each demo village; the second of each is enrolled in dibao.
Status InsertHouseholds(storage::Connection& conn, registry::RegistryService& registry, const auth::User& system,
                        const std::string& county, const std::vector<std::string>& villages) {
  int seq = 0;
  for (size_t vi = 0; vi < villages.size(); ++vi) {
    for (int hi = 0; hi < 3; ++hi) {
      registry::HouseholdInput h = DemoHousehold(county, villages[vi], vi, hi, &seq);
      auto id = registry.InsertHousehold(conn, system, h);
      if (!id.ok()) return id.status();
      if (hi == 1) DOUDI_RETURN_IF_ERROR(EnrollDemoDibao(conn, system, county, villages[vi], *id, h));
    }
  }
  return Status::Ok();
}

// Demo town populations (the seeds give none), where none is set.
Status SetTownPopulations(storage::Connection& conn, const std::string& county) {
  auto towns = Children(conn, county);
  if (!towns.ok()) return towns.status();
  for (size_t i = 0; i < towns->size(); ++i) {
    auto upd = conn.Execute("UPDATE regions SET population = ? WHERE code = ? AND population = 0",
                            {int64_t{40000 + 7000 * static_cast<int64_t>(i)}, (*towns)[i]});
    if (!upd.ok()) return upd.status();
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<DemoUser>> SeedDemo(storage::Database& db, auth::AuthService& auth,
                                       registry::RegistryService& registry, emergency::EmergencyService& emergency,
                                       const std::string& county, const std::string& password,
                                       SeedReport* report) {
  SeedReport ignored;
  if (!report) report = &ignored;
  *report = {};
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  auto c = conn->Query("SELECT name FROM regions WHERE code = ? AND level = 'county'", {county});
  if (!c.ok()) return c.status();
  if (c->empty()) return Status::InvalidArgument("county", "区划表中没有该县：" + county + "（请先运行 migrate）");
  DOUDI_ASSIGN_OR_RETURN(DemoRegions regions, PickRegions(*conn, county));
  std::vector<DemoUser> users = DemoUsers(county, regions);

  auto exists = conn->Query("SELECT password_hash FROM users WHERE username = ?", {users[0].username});
  if (!exists.ok()) return exists.status();
  if (!exists->empty()) {  // already seeded
    report->existed = true;
    report->password_works = auth::VerifyPassword(exists->rows[0].Text(0), password);
    DOUDI_RETURN_IF_ERROR(ReadEnrolledSecrets(*conn, users));
    return users;
  }

  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auth::User system;
  system.username = "system";
  system.role = auth::Role::kCountyAdmin;
  system.region_code = county;
  DOUDI_RETURN_IF_ERROR(CreateUsers(*conn, auth, system, users, password));
  DOUDI_RETURN_IF_ERROR(InsertHouseholds(*conn, registry, system, county, regions.villages));
  // The reserve funds the pack requires.
  DOUDI_RETURN_IF_ERROR(SetTownPopulations(*conn, county));
  DOUDI_RETURN_IF_ERROR(emergency.SeedReserveFunds(*conn, county));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return users;
}

}  // namespace doudi::cli
