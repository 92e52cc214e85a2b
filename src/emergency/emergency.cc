#include "emergency/emergency.h"

#include <algorithm>
#include <set>

#include "audit/audit_log.h"
#include "auth/roles.h"
#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "common/lists.h"
#include "registry/list_read.h"
#include "storage/idempotency.h"

namespace doudi::emergency {

using nlohmann::json;
using auth::Role;
using storage::Connection;
using storage::Params;

namespace {
constexpr const char* kEmergencyColumns =
    "e.id, e.version, e.town_code, t.name, e.person_name, e.citizen_id, e.kind, e.loss_fen, e.amount_fen, e.state, "
    "e.approver, e.paid_at, e.paperwork_completed, e.case_conference, e.hukou_division, e.description, e.created_at, "
    "e.decision_note";
json EmergencyJson(const storage::Row& r) {
  return {{"id", r.Int(0)}, {"version", r.Int(1)}, {"town_code", r.Text(2)}, {"town_name", r.Text(3)},
          {"person_name", r.Text(4)}, {"citizen_id_masked", MaskCitizenId(r.Text(5))}, {"kind", r.Text(6)},
          {"loss_fen", r.Int(7)}, {"amount_fen", r.Int(8)}, {"state", r.Text(9)},
          {"approver", r.IsNull(10) ? json(nullptr) : json(r.Text(10))},
          {"paid_at", r.IsNull(11) ? json(nullptr) : json(r.Text(11))}, {"paperwork_completed", r.Bool(12)},
          {"case_conference", ParseJsonOr(r.Text(13), nullptr)}, {"hukou_division", r.Text(14)},
          {"description", r.Text(15)}, {"created_at", r.Text(16)},
          {"decision_note", r.IsNull(17) ? json(nullptr) : json(r.Text(17))}};
}
// Emergency aid belongs to a town (the person may have no household in the registry): town
// and county staff see their towns' records; a village assistant only those of a person whose
// hukou is in the village or linked to a household of the village.
std::string EmergencyScope(const std::string& scope, Params* params) {
  if (LevelOfCode(scope) == RegionLevel::kVillage) {
    params->push_back(scope);
    params->push_back(scope);
    return "(e.hukou_division = ? OR e.household_id IN (SELECT id FROM households WHERE village_code = ?))";
  }
  params->push_back(scope + "%");
  return "e.town_code LIKE ?";
}
Result<json> LoadEmergency(Connection& conn, int64_t id, const std::string& scope) {
  Params params{id};
  const std::string in_scope = EmergencyScope(scope, &params);
  auto rs = conn.Query(std::string("SELECT ") + kEmergencyColumns +
                           " FROM emergency_aid e JOIN regions t ON t.code = e.town_code WHERE e.id = ? AND " + in_scope,
                       params);
  if (!rs.ok()) return rs.status();
  if (rs->empty()) return Status::NotFound("急难救助记录不存在");
  return EmergencyJson(rs->rows[0]);
}
Status PayFromReserve(Connection& conn, const auth::User& actor, const std::string& town, int64_t amount,
                      int64_t aid_id) {
  auto upd = conn.Execute("UPDATE reserve_funds SET balance_fen = balance_fen - ? WHERE town_code = ? AND balance_fen >= ?",
                          {amount, town, amount});
  if (!upd.ok()) return upd.status();
  if (*upd == 0) return Status::FailedPrecondition("镇（街道）临时救助储备金余额不足，请报县级审批", "amount_fen");
  auto mv = conn.Execute(
      "INSERT INTO reserve_movements (town_code, amount_fen, reason, emergency_aid_id, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
      {town, -amount, std::string("急难型临时救助先行支付"), aid_id, actor.username, NowIsoShanghai()});
  return mv.ok() ? Status::Ok() : mv.status();
}
}  // namespace

Result<json> EmergencyService::Create(const auth::User& actor, const json& body) {
  if (!auth::RoleIn(actor.role, auth::kTownRoles | auth::kCountyRoles)) return Status::PermissionDenied("只有镇街和县级人员可以登记急难救助");
  FieldReader r(body, "");
  std::string town = r.String("town_code", false, LevelOfCode(actor.region_code) == RegionLevel::kTown ? actor.region_code : "");
  std::string name = r.String("person_name", true);
  std::string cid = r.String("citizen_id", true);
  std::string hukou = r.String("hukou_division", true);
  std::string kind = r.String("kind", true);
  int64_t loss = r.Fen("loss_fen", true);
  int64_t amount = r.Fen("amount_fen", true);
  std::string description = r.String("description", false);
  auto household = r.OptInt("household_id");
  if (!r.ok()) return r.status();
  if (LevelOfCode(town) != RegionLevel::kTown || !CodeWithin(town, actor.region_code))
    return Status::InvalidArgument("town_code", "请选择本辖区的镇（街道）");
  auto id = ParseCitizenId(cid);
  if (!id.ok()) return id.status();
  if (LevelOfCode(hukou) != RegionLevel::kCounty && LevelOfCode(hukou) != RegionLevel::kVillage)
    return Status::InvalidArgument("hukou_division", "户籍区划代码应为6位或12位");
  static const std::set<std::string> kKinds = {"accident", "fire", "illness", "disaster", "other"};
  if (!kKinds.count(kind)) return Status::InvalidArgument("kind", "急难类型无效");
  if (amount <= 0) return Status::InvalidArgument("amount_fen", "救助金额应大于0");
  if (name.size() > 60) return Status::InvalidArgument("person_name", "姓名过长");
  if (description.size() > 2000) return Status::InvalidArgument("description", "情况说明过长");
  std::string county = town.substr(0, 6);
  if (household) DOUDI_RETURN_IF_ERROR(registry_.GetHousehold(actor, *household).status());
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(int64_t ceiling, pack->IntOn("temporary.town_ceiling_fen", today));
  bool town_pays = amount <= ceiling;
  std::string now = NowIsoShanghai();

  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key
  auto ins = conn->Query(
      "INSERT INTO emergency_aid (county_code, town_code, household_id, person_name, citizen_id, hukou_division, kind, "
      "loss_fen, amount_fen, description, state, approver, paid_at, created_by, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {county, town, household ? storage::Value(*household) : storage::Value(nullptr), name, id->normalized, hukou, kind,
       loss, amount, description, std::string(town_pays ? "paid" : "awaiting_county"),
       town_pays ? storage::Value(std::string("town")) : storage::Value(nullptr),
       town_pays ? storage::Value(now) : storage::Value(nullptr), actor.username, now, now});
  if (!ins.ok()) return ins.status();
  int64_t aid = ins->rows[0].Int(0);
  if (town_pays) DOUDI_RETURN_IF_ERROR(PayFromReserve(*conn, actor, town, amount, aid));
  DOUDI_ASSIGN_OR_RETURN(json out, LoadEmergency(*conn, aid, actor.region_code));
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"emergency_aid.create", "emergency_aid", std::to_string(aid), town, "null",
                                            json{{"amount_fen", amount}, {"state", out["state"]}, {"ceiling_fen", ceiling},
                                                 {"kind", kind}, {"citizen_id", id->normalized}}
                                                .dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return out;
}

Result<json> EmergencyService::List(const auth::User& actor, Page page) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  DOUDI_ASSIGN_OR_RETURN(page, CheckPage(page));
  Params params;
  const std::string in_scope = EmergencyScope(actor.region_code, &params);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  DOUDI_ASSIGN_OR_RETURN(auto page_rows, registry::QueryPage(*conn, "SELECT COUNT(*) FROM emergency_aid e WHERE " + in_scope,
      std::string("SELECT ") + kEmergencyColumns + " FROM emergency_aid e JOIN regions t ON t.code = e.town_code WHERE " +
          in_scope + " ORDER BY e.id DESC", params, page));
  json items = json::array();
  for (const auto& r : page_rows.rows.rows) items.push_back(EmergencyJson(r));
  return registry::LoggedPage(std::move(conn), registry_, actor, "emergency_aid_list", std::move(items), page_rows.total, page);
}

Result<json> EmergencyService::Act(const auth::User& actor, int64_t id, const json& body) {
  // A role that may not read the records (the department liaison) learns nothing about one: 403
  // for any id. The checks below refine who may take each action.
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  FieldReader r(body, "");
  std::string action = r.String("action", true);
  int64_t version = r.Int("version", true);
  std::string note = r.String("note", false);
  if (!r.ok()) return r.status();
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_ASSIGN_OR_RETURN(json aid, LoadEmergency(*conn, id, actor.region_code));
  if (aid["version"].get<int64_t>() != version) return Status::VersionConflict();
  std::string state = aid["state"];
  std::string now = NowIsoShanghai();
  const bool county_actor = auth::RoleIn(actor.role, auth::kCountyRoles);
  std::string sql;
  Params params;
  if (action == "approve_county" || action == "reject") {
    if (!county_actor) return Status::PermissionDenied("超过镇街审批权限的急难救助须由县级民政部门审批");
    if (state != "awaiting_county") return Status(Code::kConflict, "invalid_transition", "该记录当前不能审批", "action");
    if (action == "reject" && note.empty()) return Status::InvalidArgument("note", "请填写不予救助的理由");
    if (note.size() > 2000) return Status::InvalidArgument("note", "内容过长");
    sql = action == "approve_county"
              ? "UPDATE emergency_aid SET state = 'paid', approver = 'county', paid_at = ?, decision_note = ?, updated_at = ?, "
                "version = version + 1 WHERE id = ?"
              : "UPDATE emergency_aid SET state = 'rejected', approver = 'county', decision_note = ?, updated_at = ?, "
                "version = version + 1 WHERE id = ?";
    params = action == "approve_county" ? Params{now, note, now, id} : Params{note, now, id};
  } else if (action == "case_conference") {
    if (!county_actor && actor.role != Role::kTownReviewer)
      return Status::PermissionDenied("一事一议须由县级或镇街审核人员记录");
    if (state != "awaiting_county") return Status(Code::kConflict, "invalid_transition", "该记录当前不能一事一议", "action");
    std::vector<std::string> members;
    if (const json* arr = r.Array("members", true))
      for (const auto& m : *arr)
        if (m.is_string() && !m.get<std::string>().empty()) members.push_back(m.get<std::string>());
    std::string decision = r.String("decision", true);
    if (!r.ok()) return r.status();
    if (members.size() < 3) return Status::InvalidArgument("members", "一事一议须记录至少3名参会人员");
    if (decision != "approve" && decision != "reject") return Status::InvalidArgument("decision", "决定应为 approve 或 reject");
    json conference = {{"members", members}, {"decision", decision}, {"note", note}, {"recorded_by", actor.username},
                       {"at", now}};
    sql = std::string("UPDATE emergency_aid SET state = ?, approver = 'case_conference', paid_at = ?, case_conference = ?, ") +
          "updated_at = ?, version = version + 1 WHERE id = ?";
    params = {std::string(decision == "approve" ? "paid" : "rejected"),
              decision == "approve" ? storage::Value(now) : storage::Value(nullptr), conference.dump(), now, id};
  } else if (action == "complete_paperwork") {
    if (!auth::RoleIn(actor.role, auth::kTownRoles) && !county_actor) return Status::PermissionDenied();
    if (state != "paid" || aid["paperwork_completed"].get<bool>())
      return Status(Code::kConflict, "invalid_transition", "该记录当前不需要补办手续", "action");
    sql = "UPDATE emergency_aid SET paperwork_completed = 1, updated_at = ?, version = version + 1 WHERE id = ?";
    params = {now, id};
  } else {
    return Status::InvalidArgument("action", "操作应为 approve_county、reject、case_conference 或 complete_paperwork");
  }
  auto upd = conn->Execute(sql, params);
  if (!upd.ok()) return upd.status();
  DOUDI_ASSIGN_OR_RETURN(json after, LoadEmergency(*conn, id, actor.region_code));
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"emergency_aid." + action, "emergency_aid", std::to_string(id),
                                            aid["town_code"], aid.dump(), after.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return after;
}

Result<json> EmergencyService::ReserveFunds(const auth::User& actor) {
  if (!auth::CanReadRegistry(actor.role)) return Status::PermissionDenied();
  std::string county = actor.region_code.substr(0, 6);
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(int64_t per_resident, pack->IntOn("reserve_fund.per_resident_min_fen", today));
  DOUDI_ASSIGN_OR_RETURN(int64_t per_town, pack->IntOn("reserve_fund.per_town_fen", today));
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  auto rs = conn->Query(
      "SELECT t.code, t.name, t.population, COALESCE(f.balance_fen, 0) FROM regions t "
      "LEFT JOIN reserve_funds f ON f.town_code = t.code WHERE t.parent_code = ? ORDER BY t.code",
      {county});
  if (!rs.ok()) return rs.status();
  json items = json::array();
  for (const auto& r : rs->rows) {
    if (!CodeWithin(r.Text(0), actor.region_code) && !CodeWithin(actor.region_code, r.Text(0))) continue;
    int64_t required = std::max(per_resident * r.Int(2), per_town);
    items.push_back({{"town_code", r.Text(0)}, {"town_name", r.Text(1)}, {"population", r.Int(2)},
                     {"balance_fen", r.Int(3)}, {"required_fen", required}});
  }
  return json{{"items", items}};
}

Result<json> EmergencyService::Deposit(const auth::User& actor, const std::string& town, const json& body) {
  if (actor.role != Role::kCountyAdmin) return Status::PermissionDenied("只有县级管理员可以拨付储备金");
  FieldReader r(body, "");
  int64_t amount = r.Fen("amount_fen", true);
  std::string note = r.String("note", true);
  if (!r.ok()) return r.status();
  if (amount <= 0) return Status::InvalidArgument("amount_fen", "金额应大于0");
  if (LevelOfCode(town) != RegionLevel::kTown || !CodeWithin(town, actor.region_code)) return Status::NotFound("镇（街道）不存在");
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db_.Acquire());
  storage::Transaction tx(*conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(storage::ClaimIdempotencyKey(*conn));  // Idempotency-Key
  auto known = conn->Query("SELECT 1 FROM regions WHERE code = ? AND level = 'town'", {town});
  if (!known.ok()) return known.status();
  if (known->empty()) return Status::NotFound("镇（街道）不存在");  // a well-formed code of no town
  auto up = conn->Execute(
      "INSERT INTO reserve_funds (town_code, county_code, balance_fen) VALUES (?, ?, ?) "
      "ON CONFLICT (town_code) DO UPDATE SET balance_fen = reserve_funds.balance_fen + excluded.balance_fen",
      {town, town.substr(0, 6), amount});
  if (!up.ok()) return up.status();
  auto mv = conn->Execute("INSERT INTO reserve_movements (town_code, amount_fen, reason, actor, at) VALUES (?, ?, ?, ?, ?)",
                          {town, amount, note, actor.username, NowIsoShanghai()});
  if (!mv.ok()) return mv.status();
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(*conn, actor.actor(),
                                           {"reserve_fund.deposit", "reserve_fund", town, town, "null",
                                            json{{"amount_fen", amount}, {"note", note}}.dump()}));
  DOUDI_RETURN_IF_ERROR(tx.Commit());
  return ReserveFunds(actor);
}

Status EmergencyService::SeedReserveFunds(Connection& conn, const std::string& county) {
  DOUDI_ASSIGN_OR_RETURN(auto pack, policy_.PackFor(county));
  std::string today = TodayShanghai();
  DOUDI_ASSIGN_OR_RETURN(int64_t per_resident, pack->IntOn("reserve_fund.per_resident_min_fen", today));
  DOUDI_ASSIGN_OR_RETURN(int64_t per_town, pack->IntOn("reserve_fund.per_town_fen", today));
  auto rs = conn.Query("SELECT code, population FROM regions WHERE parent_code = ?", {county});
  if (!rs.ok()) return rs.status();
  for (const auto& r : rs->rows) {
    int64_t required = std::max({per_resident * r.Int(1), per_town, int64_t{2000000}});
    auto ins = conn.Execute(
        "INSERT INTO reserve_funds (town_code, county_code, balance_fen) VALUES (?, ?, ?) ON CONFLICT (town_code) DO NOTHING",
        {r.Text(0), county, required});
    if (!ins.ok()) return ins.status();
  }
  return Status::Ok();
}

}  // namespace doudi::emergency
