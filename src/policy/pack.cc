#include "policy/pack.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <toml++/toml.h>

#include "common/date.h"

namespace doudi::policy {
namespace {

struct UnitInfo {
  Unit unit;
  const char* name;
};
constexpr UnitInfo kUnits[] = {
    {Unit::kFen, "fen"},         {Unit::kCount, "count"},       {Unit::kMonths, "months"},
    {Unit::kDays, "days"},       {Unit::kWorkingDays, "working_days"}, {Unit::kHours, "hours"},
    {Unit::kAgeYears, "age_years"}, {Unit::kGrade, "grade"},    {Unit::kMultiple, "multiple"},
    {Unit::kRatio, "ratio"},     {Unit::kBool, "bool"},         {Unit::kEnum, "enum"},
    {Unit::kList, "list"},       {Unit::kText, "text"},
};

Status LoadError(const std::string& file, const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where, "政策参数包 " + file + " 有误：" + where + "：" + what);
}

std::string DateOf(const toml::node* n) {
  if (!n) return {};
  if (auto d = n->value<toml::date>()) return FormatDate(d->year, d->month, d->day);
  if (auto s = n->value<std::string>()) {
    int y, m, d;
    if (ParseDate(*s, &y, &m, &d)) return *s;
  }
  return {};
}

std::string StringOf(const toml::table& t, const char* key) { return t[key].value_or(std::string()); }

Result<Value> ReadValue(const Param& p, const toml::node& n, const std::string& file, const std::string& where) {
  switch (p.unit) {
    case Unit::kMultiple:
    case Unit::kRatio: {
      Rational r;
      if (auto d = n.value_exact<double>()) r = Rational::FromDecimal(*d);
      else if (auto i = n.value_exact<int64_t>()) r = Rational::Int(*i);
      else return LoadError(file, where, "应为小数");
      if (r.num < 0 || (p.unit == Unit::kRatio && Rational::Int(1) < r)) return LoadError(file, where, "数值超出范围");
      return Value(r);
    }
    case Unit::kBool:
      if (auto b = n.value_exact<bool>()) return Value(*b);
      return LoadError(file, where, "应为 true 或 false");
    case Unit::kEnum:
    case Unit::kText: {
      auto s = n.value_exact<std::string>();
      if (!s) return LoadError(file, where, "应为字符串");
      if (p.unit == Unit::kEnum && !p.allowed.empty() &&
          std::find(p.allowed.begin(), p.allowed.end(), *s) == p.allowed.end())
        return LoadError(file, where, "取值 " + *s + " 不在允许范围内");
      return Value(*s);
    }
    case Unit::kList: {
      const toml::array* a = n.as_array();
      if (!a) return LoadError(file, where, "应为字符串数组");
      std::vector<std::string> out;
      for (const auto& e : *a) {
        auto s = e.value_exact<std::string>();
        if (!s) return LoadError(file, where, "数组元素应为字符串");
        if (!p.allowed.empty() && std::find(p.allowed.begin(), p.allowed.end(), *s) == p.allowed.end())
          return LoadError(file, where, "取值 " + *s + " 不在允许范围内");
        out.push_back(*s);
      }
      return Value(out);
    }
    default: {
      auto i = n.value_exact<int64_t>();
      if (!i || *i < 0) return LoadError(file, where, "应为非负整数");
      return Value(*i);
    }
  }
}

Status ReadHistory(Param& p, const toml::array& hist, const std::string& file, const std::string& origin,
                   std::vector<Entry>* out) {
  for (size_t i = 0; i < hist.size(); ++i) {
    std::string where = p.key + ".history[" + std::to_string(i) + "]";
    const toml::table* t = hist[i].as_table();
    if (!t) return LoadError(file, where, "应为表");
    Entry e;
    e.from = DateOf(t->get("from"));
    if (e.from.empty()) return LoadError(file, where, "缺少有效的 from 日期");
    const toml::node* v = t->get("value");
    if (!v) return LoadError(file, where, "缺少 value");
    DOUDI_ASSIGN_OR_RETURN(e.value, ReadValue(p, *v, file, where));
    e.source = StringOf(*t, "source");
    e.cite = StringOf(*t, "cite");
    e.basis = StringOf(*t, "basis");
    e.note = StringOf(*t, "note");
    e.origin = origin;
    if (e.source != "national" && e.source != "seed" && e.source != "local setting")
      return LoadError(file, where, "source 应为 national、seed 或 local setting");
    if (e.source == "local setting" && e.cite != "local setting")
      return LoadError(file, where, "local setting 的 cite 应为 \"local setting\"");
    if (e.source != "local setting" && (e.cite.empty() || e.cite == "local setting"))
      return LoadError(file, where, "缺少出处（cite）");
    if (!out->empty() && !(out->back().from < e.from)) return LoadError(file, where, "from 日期应严格递增");
    out->push_back(std::move(e));
  }
  return Status::Ok();
}

Status WalkNational(const toml::table& t, const std::string& prefix, const std::string& file,
                    std::map<std::string, Param>* params) {
  for (const auto& [k, node] : t) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (prefix.empty() && (key == "pack" || key == "constraint")) continue;
    const toml::table* sub = node.as_table();
    if (!sub) return LoadError(file, key, "应为表");
    if (!sub->contains("label")) {
      DOUDI_RETURN_IF_ERROR(WalkNational(*sub, key, file, params));
      continue;
    }
    Param p;
    p.key = key;
    p.label = StringOf(*sub, "label");
    p.doc = StringOf(*sub, "doc");
    std::string unit = StringOf(*sub, "unit");
    auto u = std::find_if(std::begin(kUnits), std::end(kUnits), [&](const UnitInfo& i) { return unit == i.name; });
    if (u == std::end(kUnits)) return LoadError(file, key, "未知单位 " + unit);
    p.unit = u->unit;
    if (const toml::array* a = (*sub)["allowed"].as_array())
      for (const auto& e : *a) p.allowed.push_back(e.value_or(std::string()));
    p.county_must_set = (*sub)["county_must_set"].value_or(false);
    if (const toml::array* h = (*sub)["history"].as_array()) {
      DOUDI_RETURN_IF_ERROR(ReadHistory(p, *h, file, "national", &p.national));
    } else if (!p.county_must_set) {
      return LoadError(file, key, "缺少 history");
    }
    (*params)[key] = std::move(p);
  }
  return Status::Ok();
}

Status WalkCounty(const toml::table& t, const std::string& prefix, const std::string& file,
                  std::map<std::string, Param>* params) {
  for (const auto& [k, node] : t) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (prefix.empty() && (key == "pack" || key == "constraint")) continue;
    const toml::table* sub = node.as_table();
    if (!sub) return LoadError(file, key, "应为表");
    if (!sub->contains("history")) {
      DOUDI_RETURN_IF_ERROR(WalkCounty(*sub, key, file, params));
      continue;
    }
    auto it = params->find(key);
    if (it == params->end()) return LoadError(file, key, "全国参数包中没有该参数");
    const toml::array* h = (*sub)["history"].as_array();
    if (!h) return LoadError(file, key, "history 应为数组");
    DOUDI_RETURN_IF_ERROR(ReadHistory(it->second, *h, file, "county", &it->second.county));
  }
  return Status::Ok();
}

Status ReadConstraints(const toml::table& root, const std::string& file, const std::string& origin,
                       std::vector<Constraint>* out) {
  const toml::array* a = root["constraint"].as_array();
  if (!a) return Status::Ok();
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::table* t = (*a)[i].as_table();
    std::string where = "constraint[" + std::to_string(i) + "]";
    if (!t) return LoadError(file, where, "应为表");
    Constraint c;
    c.id = StringOf(*t, "id");
    c.kind = StringOf(*t, "kind");
    c.scope = StringOf(*t, "scope");
    c.expr = StringOf(*t, "expr");
    c.from = DateOf(t->get("from"));
    c.until = DateOf(t->get("until"));
    c.severity = StringOf(*t, "severity");
    c.cite = StringOf(*t, "cite");
    c.message = StringOf(*t, "message");
    c.note = StringOf(*t, "note");
    c.origin = origin;
    if (const toml::array* w = (*t)["when"].as_array())
      for (const auto& e : *w) c.when.push_back(e.value_or(std::string()));
    if (c.id.empty() || c.expr.empty() || c.message.empty() || c.cite.empty())
      return LoadError(file, where, "约束缺少 id、expr、cite 或 message");
    if (c.kind != "pack" && c.kind != "target") return LoadError(file, c.id, "kind 应为 pack 或 target");
    if (c.severity != "error" && c.severity != "warning") return LoadError(file, c.id, "severity 应为 error 或 warning");
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

// ---- expressions -----------------------------------------------------------------------
class ExprParser {
 public:
  ExprParser(const std::string& s, const std::string& date, const Lookup* lookup)
      : s_(s), date_(date), lookup_(lookup) {}

  Result<bool> Comparison(std::string* detail) {
    DOUDI_ASSIGN_OR_RETURN(Rational l, Sum());
    Skip();
    std::string op;
    for (const char* cand : {"<=", ">=", "==", "!=", "<", ">"}) {
      if (s_.compare(pos_, std::strlen(cand), cand) == 0) {
        op = cand;
        pos_ += op.size();
        break;
      }
    }
    if (op.empty()) return Err("缺少比较运算符");
    DOUDI_ASSIGN_OR_RETURN(Rational r, Sum());
    Skip();
    if (pos_ != s_.size()) return Err("表达式末尾有多余内容");
    if (missing_) return Status::NotFound(missing_name_);
    if (!l.valid() || !r.valid()) return Status::FailedPrecondition("除数为零");
    if (detail) *detail = l.ToString() + " " + op + " " + r.ToString();
    int c = l.Compare(r);
    if (op == "<") return c < 0;
    if (op == "<=") return c <= 0;
    if (op == ">") return c > 0;
    if (op == ">=") return c >= 0;
    if (op == "==") return c == 0;
    return c != 0;
  }
  std::vector<std::pair<std::string, bool>> names;  // name, dated

 private:
  Status Err(const std::string& what) const {
    return Status::InvalidArgument("expr", "约束表达式 \"" + s_ + "\" 第 " + std::to_string(pos_ + 1) + " 个字符：" + what);
  }
  void Skip() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  Result<Rational> Sum() {
    DOUDI_ASSIGN_OR_RETURN(Rational v, Term());
    for (;;) {
      Skip();
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
        char op = s_[pos_++];
        DOUDI_ASSIGN_OR_RETURN(Rational r, Term());
        v = op == '+' ? v + r : v - r;
      } else {
        return v;
      }
    }
  }
  Result<Rational> Term() {
    DOUDI_ASSIGN_OR_RETURN(Rational v, Factor());
    for (;;) {
      Skip();
      if (pos_ < s_.size() && (s_[pos_] == '*' || s_[pos_] == '/')) {
        char op = s_[pos_++];
        DOUDI_ASSIGN_OR_RETURN(Rational r, Factor());
        v = op == '*' ? v * r : v / r;
      } else {
        return v;
      }
    }
  }
  Result<Rational> Factor() {
    Skip();
    if (pos_ >= s_.size()) return Err("表达式不完整");
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      DOUDI_ASSIGN_OR_RETURN(Rational v, Sum());
      Skip();
      if (pos_ >= s_.size() || s_[pos_] != ')') return Err("缺少右括号");
      ++pos_;
      return v;
    }
    if (c >= '0' && c <= '9') {
      size_t start = pos_;
      while (pos_ < s_.size() && ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.')) ++pos_;
      Rational r;
      if (!Rational::Parse(s_.substr(start, pos_ - start), &r)) return Err("数字格式不对");
      return r;
    }
    if (c >= 'a' && c <= 'z') {
      size_t start = pos_;
      while (pos_ < s_.size() &&
             ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || (s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '_' ||
              s_[pos_] == '.'))
        ++pos_;
      std::string name = s_.substr(start, pos_ - start);
      std::string date = date_;
      bool dated = false;
      if (pos_ < s_.size() && s_[pos_] == '@') {
        int y, m, d;
        if (pos_ + 11 > s_.size() || !ParseDate(s_.substr(pos_ + 1, 10), &y, &m, &d)) return Err("日期格式不对");
        date = s_.substr(pos_ + 1, 10);
        pos_ += 11;
        dated = true;
      }
      names.emplace_back(name, dated);
      if (!lookup_) return Rational::Int(1);
      auto v = (*lookup_)(name, date);
      if (!v) {
        if (!missing_) missing_name_ = name + "@" + date;
        missing_ = true;
        return Rational::Int(1);
      }
      return *v;
    }
    return Err("无法识别的字符");
  }

  const std::string& s_;
  std::string date_;
  const Lookup* lookup_;
  size_t pos_ = 0;
  bool missing_ = false;
  std::string missing_name_;
};

}  // namespace

bool IsNumeric(Unit u) {
  return u != Unit::kBool && u != Unit::kEnum && u != Unit::kList && u != Unit::kText;
}
const char* UnitName(Unit u) {
  for (const auto& i : kUnits)
    if (i.unit == u) return i.name;
  return "";
}

std::string ValueToString(const Value& v) {
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* r = std::get_if<Rational>(&v)) return r->ToString();
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  std::string out;
  for (const auto& s : std::get<std::vector<std::string>>(v)) out += (out.empty() ? "" : ",") + s;
  return out;
}

Result<bool> EvaluateComparison(const std::string& expr, const std::string& date, const Lookup& lookup,
                                std::string* detail) {
  ExprParser p(expr, date, &lookup);
  return p.Comparison(detail);
}

Result<std::vector<std::string>> ReferencedNames(const std::string& expr, bool only_undated) {
  ExprParser p(expr, "2000-01-01", nullptr);
  auto r = p.Comparison(nullptr);
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (const auto& [n, dated] : p.names)
    if (!only_undated || !dated) out.push_back(n);
  return out;
}

Result<std::shared_ptr<Pack>> Pack::Load(const std::string& dir, const std::string& county) {
  auto pack = std::make_shared<Pack>();
  pack->county_ = county;
  std::string nfile = dir + "/national.toml", cfile = dir + "/" + county + ".toml";
  toml::table national, local;
  try {
    national = toml::parse_file(nfile);
  } catch (const toml::parse_error& e) {
    return LoadError(nfile, "", std::string(e.description()));
  }
  try {
    local = toml::parse_file(cfile);
  } catch (const toml::parse_error& e) {
    if (!std::ifstream(cfile)) return Status::NotFound("没有该县的政策参数包：" + county);
    return LoadError(cfile, "", std::string(e.description()));
  }
  if (local["pack"]["code"].value_or(std::string()) != county) return LoadError(cfile, "pack.code", "应等于文件名中的县代码");
  pack->name_ = local["pack"]["name"].value_or(std::string(county));
  DOUDI_RETURN_IF_ERROR(WalkNational(national, "", nfile, &pack->params_));
  DOUDI_RETURN_IF_ERROR(WalkCounty(local, "", cfile, &pack->params_));
  for (const auto& [k, p] : pack->params_)
    if (p.county_must_set && p.county.empty()) return LoadError(cfile, k, "县级参数包必须设置该参数");
  DOUDI_RETURN_IF_ERROR(ReadConstraints(national, nfile, "national", &pack->constraints_));
  DOUDI_RETURN_IF_ERROR(ReadConstraints(local, cfile, county, &pack->constraints_));
  std::set<std::string> ids;
  for (const auto& c : pack->constraints_) {
    if (!ids.insert(c.id).second) return LoadError(cfile, c.id, "约束 id 重复");
    std::vector<std::string> exprs = c.when;
    exprs.push_back(c.expr);
    for (const auto& e : exprs) {
      auto names = ReferencedNames(e, false);
      if (!names.ok()) return LoadError(cfile, c.id, names.status().message());
      for (const auto& n : *names) {
        if (n.rfind("metric.", 0) == 0) {
          if (c.kind != "target") return LoadError(cfile, c.id, "pack 约束不能引用 " + n);
          continue;
        }
        const Param* p = pack->Find(n);
        if (!p || !IsNumeric(p->unit)) return LoadError(cfile, c.id, "引用了未声明或非数值参数 " + n);
      }
    }
  }
  return pack;
}

const Param* Pack::Find(const std::string& key) const {
  auto it = params_.find(key);
  return it == params_.end() ? nullptr : &it->second;
}

const Entry* Pack::EntryOn(const std::string& key, const std::string& date) const {
  const Param* p = Find(key);
  if (!p) return nullptr;
  for (const auto* hist : {&p->county, &p->national}) {
    const Entry* best = nullptr;
    for (const auto& e : *hist)
      if (e.from <= date) best = &e;
    if (best) return best;
  }
  return nullptr;
}

namespace {
Status Missing(const std::string& key, const std::string& date) {
  return Status::FailedPrecondition("政策参数 " + key + " 在 " + date + " 没有生效值", key);
}
}  // namespace

Result<int64_t> Pack::IntOn(const std::string& key, const std::string& date) const {
  const Entry* e = EntryOn(key, date);
  if (!e) return Missing(key, date);
  if (auto* i = std::get_if<int64_t>(&e->value)) return *i;
  return Status::Internal("parameter " + key + " is not an integer");
}
Result<Rational> Pack::NumberOn(const std::string& key, const std::string& date) const {
  const Entry* e = EntryOn(key, date);
  if (!e) return Missing(key, date);
  if (auto* i = std::get_if<int64_t>(&e->value)) return Rational::Int(*i);
  if (auto* r = std::get_if<Rational>(&e->value)) return *r;
  return Status::Internal("parameter " + key + " is not numeric");
}
Result<bool> Pack::BoolOn(const std::string& key, const std::string& date) const {
  const Entry* e = EntryOn(key, date);
  if (!e) return Missing(key, date);
  if (auto* b = std::get_if<bool>(&e->value)) return *b;
  return Status::Internal("parameter " + key + " is not a bool");
}
Result<std::string> Pack::StringOn(const std::string& key, const std::string& date) const {
  const Entry* e = EntryOn(key, date);
  if (!e) return Missing(key, date);
  if (auto* s = std::get_if<std::string>(&e->value)) return *s;
  return Status::Internal("parameter " + key + " is not a string");
}
Result<std::vector<std::string>> Pack::ListOn(const std::string& key, const std::string& date) const {
  const Entry* e = EntryOn(key, date);
  if (!e) return Missing(key, date);
  if (auto* l = std::get_if<std::vector<std::string>>(&e->value)) return *l;
  return Status::Internal("parameter " + key + " is not a list");
}

Result<Value> Pack::ParseValue(const std::string& key, const std::string& text) const {
  const Param* p = Find(key);
  if (!p) return Status::InvalidArgument("key", "没有该政策参数：" + key);
  auto bad = [&](const char* what) { return Status::InvalidArgument("value", key + " 的取值" + what); };
  switch (p->unit) {
    case Unit::kMultiple:
    case Unit::kRatio: {
      Rational r;
      if (!Rational::Parse(text, &r)) return bad("应为非负小数");
      if (p->unit == Unit::kRatio && Rational::Int(1) < r) return bad("应在0到1之间");
      return Value(r);
    }
    case Unit::kBool:
      if (text == "true") return Value(true);
      if (text == "false") return Value(false);
      return bad("应为 true 或 false");
    case Unit::kEnum:
      if (!p->allowed.empty() && std::find(p->allowed.begin(), p->allowed.end(), text) == p->allowed.end())
        return bad("不在允许范围内");
      return Value(text);
    case Unit::kText:
      return Value(text);
    case Unit::kList: {
      std::vector<std::string> out;
      size_t start = 0;
      while (start <= text.size() && !text.empty()) {
        size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!p->allowed.empty() && std::find(p->allowed.begin(), p->allowed.end(), item) == p->allowed.end())
          return bad("不在允许范围内");
        out.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      return Value(out);
    }
    default: {
      if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
        return bad("应为非负整数");
      return Value(static_cast<int64_t>(std::stoll(text)));
    }
  }
}

Status Pack::AddOverlay(const std::string& key, Entry entry) {
  auto it = params_.find(key);
  if (it == params_.end()) return Status::InvalidArgument("key", "没有该政策参数：" + key);
  DOUDI_ASSIGN_OR_RETURN(Value checked, ParseValue(key, ValueToString(entry.value)));
  entry.value = std::move(checked);
  auto& hist = it->second.county;
  hist.erase(std::remove_if(hist.begin(), hist.end(), [&](const Entry& e) { return e.from == entry.from; }),
             hist.end());
  auto pos = std::find_if(hist.begin(), hist.end(), [&](const Entry& e) { return entry.from < e.from; });
  hist.insert(pos, std::move(entry));
  return Status::Ok();
}

bool Pack::Editable(const std::string& key, const std::string& date) const {
  const Param* p = Find(key);
  if (!p) return false;
  const Entry* e = EntryOn(key, date);
  return p->county_must_set || !e || e->source == "local setting";
}

Result<std::vector<Violation>> Pack::Check(const std::optional<std::string>& only_date) const {
  std::vector<Violation> out;
  Lookup lookup = [this](const std::string& name, const std::string& d) -> std::optional<Rational> {
    auto v = NumberOn(name, d);
    if (!v.ok()) return std::nullopt;
    return *v;
  };
  for (const auto& c : constraints_) {
    if (c.kind != "pack") continue;
    std::set<std::string> undated;
    for (const auto& e : [&] { auto w = c.when; w.push_back(c.expr); return w; }()) {
      DOUDI_ASSIGN_OR_RETURN(auto names, ReferencedNames(e, true));
      undated.insert(names.begin(), names.end());
    }
    std::set<std::string> dates;
    if (only_date) {
      dates.insert(*only_date);
    } else if (undated.empty()) {
      dates.insert(c.from.empty() ? TodayShanghai() : c.from);
    } else {
      for (const auto& n : undated)
        if (const Param* p = Find(n))
          for (const auto* hist : {&p->national, &p->county})
            for (const auto& e : *hist) dates.insert(e.from);
      if (!c.from.empty()) dates.insert(c.from);
    }
    for (const auto& d : dates) {
      if (!c.from.empty() && d < c.from) continue;
      if (!c.until.empty() && d > c.until) continue;
      bool skip = false;
      for (const auto& n : undated)
        if (!EntryOn(n, d)) skip = true;
      if (skip) continue;
      bool applies = true;
      for (const auto& w : c.when) {
        auto r = EvaluateComparison(w, d, lookup, nullptr);
        if (!r.ok() || !*r) applies = false;
      }
      if (!applies) continue;
      std::string detail;
      auto r = EvaluateComparison(c.expr, d, lookup, &detail);
      if (r.ok() && *r) continue;
      Violation v{c.id, c.severity, d, c.message, c.cite, detail};
      if (!r.ok()) v.detail = "无法计算：" + r.status().message() + (r.status().code() == Code::kNotFound ? " 没有生效值" : "");
      out.push_back(std::move(v));
    }
  }
  return out;
}

}  // namespace doudi::policy
