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

  // Town 1 with two villages, town 2 with one. For 昌乐 the rural 乔官镇 and urban 宝都街道.
  std::string town1, town2;
  if (county == "370725") {
    town1 = "370725107";
    town2 = "370725001";
  } else {
    DOUDI_ASSIGN_OR_RETURN(auto towns, Children(*conn, county));
    for (const auto& t : towns) {
      DOUDI_ASSIGN_OR_RETURN(auto v, Children(*conn, t));
      if (v.size() >= 2 && town1.empty()) town1 = t;
      else if (!v.empty() && town2.empty() && !town1.empty() && t != town1) town2 = t;
    }
    if (town1.empty() || town2.empty()) return Status::FailedPrecondition("该县的区划数据不足以生成演示数据");
  }
  DOUDI_ASSIGN_OR_RETURN(auto villages1, Children(*conn, town1));
  DOUDI_ASSIGN_OR_RETURN(auto villages2, Children(*conn, town2));
  std::vector<std::string> villages;
  if (county == "370725") villages = {"370725107202", "370725107206", "370725001036"};
  else villages = {villages1.at(0), villages1.at(1), villages2.at(0)};

  std::string prefix = county == "370725" ? "" : county + "_";
  std::vector<DemoUser> users = {
      {prefix + "admin", "county_admin", county, "县民政局管理员", "", ""},
      {prefix + "reviewer", "county_reviewer", county, "县级审核员", "", ""},
      {prefix + "supervisor", "supervisor", county, "纪检监督员", "", ""},
      {prefix + "auditor", "auditor", county, "审计员", "", ""},
      {prefix + "liaison", "department_liaison", county, "医保局联络员", "医保局", ""},
      {prefix + "town_clerk", "town_clerk", town1, "镇街经办员", "", ""},
      {prefix + "town_reviewer", "town_reviewer", town1, "镇街审核员", "", ""},
      {prefix + "town2_clerk", "town_clerk", town2, "镇街经办员（二）", "", ""},
      {prefix + "village1", "village_assistant", villages[0], "村协理员（一）", "", ""},
      {prefix + "village2", "village_assistant", villages[1], "村协理员（二）", "", ""},
      {prefix + "village3", "village_assistant", villages[2], "村协理员（三）", "", ""},
  };

  auto exists = conn->Query("SELECT password_hash FROM users WHERE username = ?", {users[0].username});
  if (!exists.ok()) return exists.status();
  auto needs_totp = [](const DemoUser& u) { return u.role == "county_admin" || u.role == "auditor"; };
  if (!exists->empty()) {  // already seeded
    report->existed = true;
    report->password_works = auth::VerifyPassword(exists->rows[0].Text(0), password);
    for (auto& u : users) {
      if (!needs_totp(u)) continue;
      auto t = conn->Query("SELECT totp_secret FROM users WHERE username = ? AND totp_enabled = 1", {u.username});
      if (!t.ok()) return t.status();
      if (!t->empty()) u.totp_secret = t->rows[0].Text(0);
    }
    return users;
  }

  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auth::User system;
  system.username = "system";
  system.role = auth::Role::kCountyAdmin;
  system.region_code = county;
  for (auto& u : users) {
    // The demo password is the operator's own choice, not one an admin handed out: it is not
    // forced to change at first login (docs/security.md). Admin and auditor get TOTP.
    auto created = auth.CreateUserUnchecked(*conn, {u.username, password, u.display_name, u.role, u.region_code,
                                                    u.department, false});
    if (!created.ok()) return created.status();
    DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, system.actor(),
                                             {"user.create", "user", std::to_string(created->id), u.region_code,
                                              "null", "{\"username\":\"" + u.username + "\"}"}));
    if (needs_totp(u)) {
      DOUDI_ASSIGN_OR_RETURN(u.totp_secret, auth.EnrolTotpUnchecked(*conn, created->id));
      DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, system.actor(),
                                               {"user.totp_enrol", "user", std::to_string(created->id),
                                                u.region_code, "null", R"({"totp_enabled":true})"}));
    }
  }
  int seq = 0;
  for (size_t vi = 0; vi < villages.size(); ++vi) {
    for (int hi = 0; hi < 3; ++hi) {
      registry::HouseholdInput h;
      h.village_code = villages[vi];
      h.area = vi == 2 ? "urban" : "rural";
      h.residence_address = "演示地址" + std::to_string(hi + 1) + "号";
      h.deposits_fen = 500000 * hi;
      int members = 1 + (static_cast<int>(vi) + hi) % 4;
      for (int m = 0; m < members; ++m) {
        registry::PersonInput p;
        ++seq;
        bool male = (seq % 2) == 1;
        int year = m == 0 ? 1950 + 7 * hi + static_cast<int>(vi) : (m == 1 ? 1955 + 7 * hi : 2008 + m);
        p.citizen_id = MakeCitizenId(county, year, 1 + seq % 12, 1 + seq % 28, seq, male);
        p.name = std::string(kSurnames[(vi * 3 + hi) % 12]) + kGiven[seq % 12];
        p.relation = m == 0 ? "head" : (m == 1 ? "spouse" : "child");
        p.in_school = m >= 2;
        p.income.wage = m == 0 ? 80000 * hi : 0;
        p.income.pension = year < 1962 ? 18000 : 0;
        if (hi == 1 && m == 0) p.disability = registry::Disability{"physical", 2};
        if (hi == 2 && m == 1) p.serious_illness = true;
        h.members.push_back(std::move(p));
      }
      auto id = registry.InsertHousehold(*conn, system, h);
      if (!id.ok()) return id.status();
      if (hi == 1) {
        // One dibao household per village, its yearly review due this month: the monthly
        // screening list and the public notice have something to show.
        nlohmann::json covered = nlohmann::json::array();
        for (const auto& p : h.members) covered.push_back(p.citizen_id);
        std::string today = TodayShanghai(), now = NowIsoShanghai();
        auto en = conn->Query(
            "INSERT INTO enrollments (household_id, county_code, town_code, village_code, program, covered, monthly_fen, "
            "first_paid_month, status, next_review_date, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 'dibao', ?, ?, ?, 'active', ?, ?, ?) RETURNING id",
            {*id, county, villages[vi].substr(0, 9), villages[vi], covered.dump(),
             int64_t{45000} * static_cast<int64_t>(h.members.size()), today.substr(0, 7), LastDayOfMonth(today.substr(0, 7)),
             now, now});
        if (!en.ok()) return en.status();
        DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, system.actor(),
                                                 {"enrollment.demo", "enrollment", en->rows[0].Text(0), villages[vi],
                                                  "null", nlohmann::json{{"household_id", *id}, {"program", "dibao"}}.dump()}));
      }
    }
  }
  // Demo town populations (the seeds give none) and the reserve funds the pack requires.
  auto towns = Children(*conn, county);
  if (!towns.ok()) return towns.status();
  for (size_t i = 0; i < towns->size(); ++i) {
    auto upd = conn->Execute("UPDATE regions SET population = ? WHERE code = ? AND population = 0",
                             {int64_t{40000 + 7000 * static_cast<int64_t>(i)}, (*towns)[i]});
    if (!upd.ok()) return upd.status();
  }
  DOUDI_RETURN_IF_ERROR(emergency.SeedReserveFunds(*conn, county));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return users;
}

}  // namespace doudi::cli
