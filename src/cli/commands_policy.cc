// `doudi eval`, `doudi policy show|check` and `doudi simulate`: the rules engine and the policy
// packs from the command line (eval, and policy without --db, need no database).
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "policy/engine.h"

namespace doudi::cli {
namespace {

// One parameter's value as JSON (a rational as a number).
nlohmann::json ValueJson(const policy::Entry& e) {
  if (auto* i = std::get_if<int64_t>(&e.value)) return *i;
  if (auto* b = std::get_if<bool>(&e.value)) return *b;
  if (auto* r = std::get_if<policy::Rational>(&e.value)) return std::stod(r->ToString());
  if (auto* l = std::get_if<std::vector<std::string>>(&e.value)) return *l;
  return std::get<std::string>(e.value);
}

// policy show: every parameter in force on the date, with its citation (JSON).
int ShowPack(const policy::Pack& pack, const std::string& date) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [key, p] : pack.params()) {
    const policy::Entry* e = pack.EntryOn(key, date);
    if (!e) continue;
    params[key] = {{"value", ValueJson(*e)}, {"from", e->from},   {"source", e->source},
                   {"cite", e->cite},        {"basis", e->basis}, {"label", p.label},
                   {"unit", policy::UnitName(p.unit)}, {"editable", pack.Editable(key, date)}};
  }
  std::cout << nlohmann::json{{"county", pack.county()}, {"date", date}, {"parameters", params}}.dump(2) << "\n";
  return 0;
}

// policy check: the violations of the county's constraints; exit 1 on an error violation.
int CheckPack(const policy::Pack& pack, const std::string& date_text, const std::string& date) {
  auto violations = pack.Check(date_text.empty() ? std::nullopt : std::optional<std::string>(date));
  if (!violations.ok()) return Fail(violations.status());
  int errors = 0, warnings = 0;
  for (const auto& v : *violations) {
    (v.severity == "error" ? errors : warnings)++;
    std::cout << (v.severity == "error" ? "ERROR   " : "WARNING ") << v.constraint_id << " " << v.date << " "
              << v.message << "（" << v.detail << "；" << v.cite << "）\n";
  }
  std::cout << pack.county() << " " << pack.name() << "：" << pack.constraints().size() << " 条约束，" << errors
            << " 项错误，" << warnings << " 项警告\n";
  return errors ? 1 : 0;
}

// policy show / check: prints the pack (JSON) or its violations.
int PrintPolicy(const policy::Pack& pack, bool show, const std::string& date_text) {
  auto date = policy::DateOrToday(date_text, "date");
  if (!date.ok()) return Fail(date.status());
  return show ? ShowPack(pack, *date) : CheckPack(pack, date_text, *date);
}

// eval: one household (JSON on standard input) evaluated on the date, with the explanation.
int EvalStdin(const policy::Pack& pack, const std::string& date_text) {
  auto date = policy::DateOrToday(date_text, "date");
  if (!date.ok()) return Fail(date.status());
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  nlohmann::json j = nlohmann::json::parse(input, nullptr, false);
  if (j.is_discarded()) return Fail(Status::InvalidArgument("", "标准输入不是有效的 JSON"));
  auto facts = policy::FactsFromJson(j);
  if (!facts.ok()) return Fail(facts.status());
  auto params = policy::ResolveParams(pack, *date);
  if (!params.ok()) return Fail(params.status());
  policy::Explain explain;
  auto d = policy::Evaluate(*facts, *params, &explain);
  if (!d.ok()) return Fail(d.status());
  std::cout << policy::ToJson(*facts, *params, *d, &explain).dump(2) << "\n";
  return 0;
}

}  // namespace

void PolicyCommands::Add(CLI::App& app, CommonOptions& o) {
  eval_ = app.add_subcommand("eval", "从标准输入读入一户家庭（JSON），输出各项救助的认定结果（JSON）");
  eval_->add_option("--county", eval_county_, "县级区划代码")->required();
  eval_->add_option("--date", eval_date_, "认定日期 YYYY-MM-DD（默认今天）");
  eval_->add_option("--policies", o.policies_dir, "政策参数包目录");

  policy_ = app.add_subcommand("policy", "政策参数包");
  policy_->require_subcommand(1);
  show_ = policy_->add_subcommand("show", "以 JSON 输出某日生效的全部参数（含出处）");
  check_ = policy_->add_subcommand("check", "按县级文件的数值约束校验参数包，逐条列出违反项");
  for (auto* sub : {show_, check_}) {
    sub->add_option("--county", policy_county_, "县级区划代码")->required();
    sub->add_option("--date", policy_date_, "日期 YYYY-MM-DD");
    sub->add_option("--policies", o.policies_dir, "政策参数包目录");
    sub->add_option("--db", o.db_url, "数据库地址（含管理员修改的参数；可省略）");
  }

  simulate_ = app.add_subcommand("simulate", "模拟政策参数调整：重新测算全县家庭，按镇街汇总");
  simulate_->add_option("--db", o.db_url, "数据库地址")->required();
  simulate_->add_option("--county", sim_county_, "县级区划代码");
  simulate_->add_option("--date", sim_date_, "测算日期 YYYY-MM-DD（默认今天）");
  simulate_->add_option("--set", sim_sets_, "参数=新值，可重复")->required();
  simulate_->add_option("--policies", o.policies_dir, "政策参数包目录");
}

std::optional<int> PolicyCommands::RunWithoutDb(const CommonOptions& o) {
  bool without_db = policy_->parsed() && show_->get_option("--db")->count() == 0 &&
                    check_->get_option("--db")->count() == 0;
  if (!eval_->parsed() && !without_db) return std::nullopt;
  const std::string& county = eval_county_.empty() ? policy_county_ : eval_county_;
  const std::string& date_text = eval_date_.empty() ? policy_date_ : eval_date_;
  auto pack = policy::Pack::Load(o.policies_dir, county);
  if (!pack.ok()) return Fail(pack.status());
  if (!eval_->parsed()) return PrintPolicy(**pack, show_->parsed(), date_text);
  return EvalStdin(**pack, date_text);
}

std::optional<int> PolicyCommands::Run(Context& ctx) {
  if (*policy_) {
    auto pack = ctx.policy.PackFor(policy_county_);
    if (!pack.ok()) return Fail(pack.status());
    return PrintPolicy(**pack, show_->parsed(), policy_date_);
  }
  if (*simulate_) return Simulate(ctx);
  return std::nullopt;
}

// simulate: each --set PARAM=VALUE applied to the pack, the county's households evaluated
// again, summed by town (JSON).
int PolicyCommands::Simulate(Context& ctx) {
  auto date = policy::DateOrToday(sim_date_, "date");
  if (!date.ok()) return Fail(date.status());
  std::vector<policy::SimulationChange> changes;
  for (const auto& kv : sim_sets_) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) return Fail(Status::InvalidArgument("set", "应为 参数=新值：" + kv));
    changes.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
  }
  auto out = ctx.policy.Simulate(sim_county_, *date, changes);
  if (!out.ok()) return Fail(out.status());
  std::cout << out->dump(2) << "\n";
  return 0;
}

}  // namespace doudi::cli
