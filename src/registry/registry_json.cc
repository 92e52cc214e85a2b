#include "common/citizen_id.h"
#include "common/date.h"
#include "common/json_input.h"
#include "registry/registry.h"

#include <charconv>
#include <cstdio>

namespace doudi::registry {

using nlohmann::json;

Result<PersonInput> PersonInputFromJson(const json& j, const std::string& path) {
  FieldReader r(j, path);
  PersonInput p;
  p.citizen_id = r.String("citizen_id", true);
  p.name = r.String("name", true);
  p.relation = r.String("relation", true);
  if (const json* d = r.Object("disability", false, true)) {
    FieldReader dr(*d, r.PathOf("disability"));
    Disability dis;
    dis.kind = dr.String("kind", true);
    // 1 (most severe) to 4 (GB/T 26341-2010); checked before narrowing to int.
    dis.grade = static_cast<int>(dr.IntIn("grade", true, 1, 4, "残疾等级应为1至4级"));
    if (!dr.ok()) r.Fail(dr.status());
    p.disability = dis;
  }
  p.serious_illness = r.Bool("serious_illness", false);
  p.self_care = r.String("self_care", false, "full");
  p.in_school = r.Bool("in_school", false);
  p.employed = r.Bool("employed", false);
  p.has_supporter = r.Bool("has_supporter", false, true);
  if (const json* inc = r.Object("monthly_income_fen", false)) {
    FieldReader ir(*inc, r.PathOf("monthly_income_fen"));
    p.income.wage = ir.Fen("wage", false);
    p.income.business = ir.Fen("business", false);
    p.income.property = ir.Fen("property", false);
    p.income.transfer = ir.Fen("transfer", false);
    p.income.pension = ir.Fen("pension", false);
    p.income.other = ir.Fen("other", false);
    if (!ir.ok()) r.Fail(ir.status());
  }
  if (!r.ok()) return r.status();
  Status v = ValidatePerson(p);
  if (!v.ok()) return v.WithFieldPrefix(path);
  return p;
}

Result<HouseholdInput> HouseholdInputFromJson(const json& j, bool with_members) {
  FieldReader r(j, "");
  HouseholdInput h;
  h.village_code = r.String("village_code", true);
  h.area = r.String("area", true);
  h.residence_address = r.String("residence_address", false);
  h.phone = r.String("phone", false);
  if (const json* a = r.Object("assets", false)) {
    FieldReader ar(*a, "assets");
    h.deposits_fen = ar.Fen("deposits_fen", false);
    h.vehicles = ar.Int("vehicles", false);
    h.extra_properties = ar.Int("extra_properties", false);
    h.business = ar.Bool("business", false);
    if (!ar.ok()) r.Fail(ar.status());
  }
  if (const json* e = r.Object("annual_rigid_expenditure_fen", false)) {
    FieldReader er(*e, "annual_rigid_expenditure_fen");
    h.medical_expenditure_fen = er.Fen("medical", false);
    h.education_expenditure_fen = er.Fen("education", false);
    if (!er.ok()) r.Fail(er.status());
  }
  if (!r.ok()) return r.status();
  DOUDI_RETURN_IF_ERROR(ValidateHouseholdFields(h));
  if (with_members) {
    const json* members = r.Array("members", true);
    if (!r.ok()) return r.status();
    if (members->empty()) return Status::InvalidArgument("members", "至少登记一名家庭成员");
    if (members->size() > 30) return Status::InvalidArgument("members", "家庭成员不能超过30人");
    int heads = 0;
    for (size_t i = 0; i < members->size(); ++i) {
      std::string path = "members[" + std::to_string(i) + "]";
      DOUDI_ASSIGN_OR_RETURN(PersonInput p, PersonInputFromJson((*members)[i], path));
      if (p.relation == "head" && ++heads > 1)
        return Status::InvalidArgument(path + ".relation", "每户只能有一位户主");
      for (const auto& other : h.members)
        if (ParseCitizenId(other.citizen_id)->normalized == ParseCitizenId(p.citizen_id)->normalized)
          return Status::InvalidArgument(path + ".citizen_id", "同一家庭中身份证号重复");
      h.members.push_back(std::move(p));
    }
    if (heads == 0) return Status::InvalidArgument("members", "须指定一位户主（relation 为 head）");
  }
  return h;
}

namespace {

// Direct serialisation for the hot routes: byte for byte what ToJson(...).dump(-1, ' ',
// false, replace) gives (keys in std::map order), without building the json tree.
bool ValidUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else return false;
    if (n - i < len) return false;
    unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      unsigned char ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

void Str(std::string& out, std::string_view s) {
  if (!ValidUtf8(s)) {
    out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += '"';
  for (char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(ch) <= 0x1F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void Int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void Bool(std::string& out, bool v) { out += v ? "true" : "false"; }

// Appends the punctuation and quoted key given (`,"key`) plus `":` (keys never need escaping).
void Key(std::string& out, const char* key) {
  out += key;
  out += "\":";
}

void AppendPerson(std::string& out, const Person& p, const std::string& today) {
  Key(out, "{\"age"), Int(out, AgeOn(p.birth_date, today));
  Key(out, ",\"birth_date"), Str(out, p.birth_date);
  Key(out, ",\"citizen_id"), Str(out, p.citizen_id);
  Key(out, ",\"disability");
  if (p.disability) {
    Key(out, "{\"grade"), Int(out, p.disability->grade);
    Key(out, ",\"kind"), Str(out, p.disability->kind);
    out += '}';
  } else {
    out += "null";
  }
  Key(out, ",\"employed"), Bool(out, p.employed);
  Key(out, ",\"has_supporter"), Bool(out, p.has_supporter);
  Key(out, ",\"household_id"), Int(out, p.household_id);
  Key(out, ",\"id"), Int(out, p.id);
  Key(out, ",\"in_school"), Bool(out, p.in_school);
  Key(out, ",\"monthly_income_fen");
  Key(out, "{\"business"), Int(out, p.income.business);
  Key(out, ",\"other"), Int(out, p.income.other);
  Key(out, ",\"pension"), Int(out, p.income.pension);
  Key(out, ",\"property"), Int(out, p.income.property);
  Key(out, ",\"transfer"), Int(out, p.income.transfer);
  Key(out, ",\"wage"), Int(out, p.income.wage);
  Key(out, "},\"name"), Str(out, p.name);
  Key(out, ",\"relation"), Str(out, p.relation);
  Key(out, ",\"self_care"), Str(out, p.self_care);
  Key(out, ",\"serious_illness"), Bool(out, p.serious_illness);
  Key(out, ",\"sex"), Str(out, p.sex);
  Key(out, ",\"version"), Int(out, p.version);
  out += '}';
}

void AppendSummary(std::string& out, const HouseholdSummary& s) {
  Key(out, "{\"area"), Str(out, s.area);
  Key(out, ",\"head_citizen_id_masked"), Str(out, MaskCitizenId(s.head_citizen_id));
  Key(out, ",\"head_name"), Str(out, s.head_name);
  Key(out, ",\"id"), Int(out, s.id);
  Key(out, ",\"member_count"), Int(out, s.member_count);
  Key(out, ",\"town_name"), Str(out, s.town_name);
  Key(out, ",\"updated_at"), Str(out, s.updated_at);
  Key(out, ",\"version"), Int(out, s.version);
  Key(out, ",\"village_code"), Str(out, s.village_code);
  Key(out, ",\"village_name"), Str(out, s.village_name);
  out += '}';
}

}  // namespace

std::string DumpJson(const Household& h) { return DumpJson(h, TodayShanghai()); }

std::string DumpJson(const Household& h, const std::string& today) {
  std::string out;
  out.reserve(640 + 560 * h.members.size());
  Key(out, "{\"annual_rigid_expenditure_fen");
  Key(out, "{\"education"), Int(out, h.education_expenditure_fen);
  Key(out, ",\"medical"), Int(out, h.medical_expenditure_fen);
  Key(out, "},\"area"), Str(out, h.area);
  Key(out, ",\"assets");
  Key(out, "{\"business"), Bool(out, h.business);
  Key(out, ",\"deposits_fen"), Int(out, h.deposits_fen);
  Key(out, ",\"extra_properties"), Int(out, h.extra_properties);
  Key(out, ",\"vehicles"), Int(out, h.vehicles);
  Key(out, "},\"county_code"), Str(out, h.county_code);
  Key(out, ",\"created_at"), Str(out, h.created_at);
  Key(out, ",\"id"), Int(out, h.id);
  Key(out, ",\"members");
  out += '[';
  for (size_t i = 0; i < h.members.size(); ++i) {
    if (i) out += ',';
    AppendPerson(out, h.members[i], today);
  }
  out += ']';
  Key(out, ",\"phone"), Str(out, h.phone);
  Key(out, ",\"residence_address"), Str(out, h.residence_address);
  Key(out, ",\"town_code"), Str(out, h.town_code);
  Key(out, ",\"town_name"), Str(out, h.town_name);
  Key(out, ",\"updated_at"), Str(out, h.updated_at);
  Key(out, ",\"version"), Int(out, h.version);
  Key(out, ",\"village_code"), Str(out, h.village_code);
  Key(out, ",\"village_name"), Str(out, h.village_name);
  out += '}';
  return out;
}

std::string DumpSummaryJson(const HouseholdSummary& s) {
  std::string out;
  out.reserve(330);
  AppendSummary(out, s);
  return out;
}

std::string DumpPageJson(const std::vector<std::shared_ptr<const std::string>>& items, int64_t total, int64_t page,
                         int64_t page_size) {
  size_t size = 64;
  for (const auto& item : items) size += item->size() + 1;
  std::string out;
  out.reserve(size);
  Key(out, "{\"items");
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += *items[i];
  }
  out += ']';
  Key(out, ",\"page"), Int(out, page);
  Key(out, ",\"page_size"), Int(out, page_size);
  Key(out, ",\"total"), Int(out, total);
  out += '}';
  return out;
}

json ToJson(const Person& p) {
  json dis = nullptr;
  if (p.disability) dis = {{"kind", p.disability->kind}, {"grade", p.disability->grade}};
  return {{"id", p.id},
          {"version", p.version},
          {"household_id", p.household_id},
          {"citizen_id", p.citizen_id},
          {"name", p.name},
          {"relation", p.relation},
          {"birth_date", p.birth_date},
          {"sex", p.sex},
          {"age", AgeOn(p.birth_date, TodayShanghai())},
          {"disability", dis},
          {"serious_illness", p.serious_illness},
          {"self_care", p.self_care},
          {"in_school", p.in_school},
          {"employed", p.employed},
          {"has_supporter", p.has_supporter},
          {"monthly_income_fen",
           {{"wage", p.income.wage},
            {"business", p.income.business},
            {"property", p.income.property},
            {"transfer", p.income.transfer},
            {"pension", p.income.pension},
            {"other", p.income.other}}}};
}

json ToJson(const Household& h) {
  json members = json::array();
  for (const auto& m : h.members) members.push_back(ToJson(m));
  return {{"id", h.id},
          {"version", h.version},
          {"village_code", h.village_code},
          {"village_name", h.village_name},
          {"town_code", h.town_code},
          {"town_name", h.town_name},
          {"county_code", h.county_code},
          {"area", h.area},
          {"residence_address", h.residence_address},
          {"phone", h.phone},
          {"assets",
           {{"deposits_fen", h.deposits_fen},
            {"vehicles", h.vehicles},
            {"extra_properties", h.extra_properties},
            {"business", h.business}}},
          {"annual_rigid_expenditure_fen",
           {{"medical", h.medical_expenditure_fen}, {"education", h.education_expenditure_fen}}},
          {"members", std::move(members)},
          {"created_at", h.created_at},
          {"updated_at", h.updated_at}};
}

json ToJson(const HouseholdSummary& s) {
  return {{"id", s.id},
          {"version", s.version},
          {"village_code", s.village_code},
          {"village_name", s.village_name},
          {"town_name", s.town_name},
          {"area", s.area},
          {"head_name", s.head_name},
          {"head_citizen_id_masked", MaskCitizenId(s.head_citizen_id)},
          {"member_count", s.member_count},
          {"updated_at", s.updated_at}};
}

json ToJson(const Region& r) {
  json j = {{"code", r.code},
            {"parent_code", r.parent_code.empty() ? json(nullptr) : json(r.parent_code)},
            {"level", r.level},
            {"name", r.name},
            {"population", r.population},
            {"version", r.version}};
  if (!r.path.empty()) j["path"] = r.path;
  return j;
}

}  // namespace doudi::registry
