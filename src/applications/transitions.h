// The workflow's single description (docs/workflow.md): one row per action, naming the states
// it may be taken from, the state it leads to, the roles that may take it, and the functions
// that do it. Adding an action is one row here and one function in actions.cc or decision.cc.
//
// The dispatcher (ApplicationService::Act) does what every action shares: it reads the action
// and version, loads the case in the user's scope, checks the state, the role (MayAct) and the
// version, runs the row's `prepare` before the write transaction, then in one transaction runs
// `apply`, updates the row (the columns the action set, the state, the version) and writes the
// audit entry. An action's function only validates its fields, sets columns, adds details to
// the audit entry and archives its notice.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "applications/record.h"
#include "common/json_input.h"
#include "policy/service.h"
#include "registry/registry.h"

namespace doudi::applications {

// What an action's `prepare` needs: it runs before the write transaction, for the reads that go
// through other services on their own connections (on SQLite a second connection could not
// write while the transaction holds the lock).
struct Prepared {
  nlohmann::json determinations;               // record_verification: the rules on the household
  std::optional<registry::Household> linked;   // link_household: the household to link
};

struct PrepareContext {
  const auth::User& actor;
  FieldReader& body;
  const App& app;  // as loaded before the transaction
  registry::RegistryService& registry;
  policy::PolicyService& policy;
  Prepared& out;
};

// An action inside the write transaction.
class ActionContext {
 public:
  ActionContext(const auth::User& actor, FieldReader& body, storage::Connection& conn, App& app,
                const policy::Pack& pack, const calendar::WorkCalendar& cal, const Prepared& prepared,
                std::string to);

  const auth::User& actor;
  FieldReader& body;
  storage::Connection& conn;
  App& app;  // loaded in the transaction; an action may update fields a notice shows
  const policy::Pack& pack;
  const calendar::WorkCalendar& cal;
  const Prepared& prepared;
  const std::string today, now;
  std::string to;                          // the next state: the row's, or the action's choice
  nlohmann::json details = nlohmann::json::object();  // the audit entry's details

  // Sets a column of the application's row.
  void Set(const char* column, storage::Value v);
  // A text field, trimmed; required → not empty; at most `max` bytes.
  Result<std::string> Text(const char* key, bool required, size_t max = 2000);
  // An optional array of non-empty strings (≤ 200 bytes each).
  Result<std::vector<std::string>> StringList(const char* key);
  // The citizen ids of the household's members and of the applicant.
  Result<std::vector<std::string>> MemberIds();
  // The UPDATE of the row: the columns set, the state, updated_at and the version.
  Status Update(int64_t version);

 private:
  std::vector<std::string> sets_;  // "column = ?"
  storage::Params values_;
};

using PrepareFn = Status (*)(PrepareContext&);
using ApplyFn = Status (*)(ActionContext&);

struct Transition {
  const char* action;
  const char* from[6];  // allowed from-states (nullptr-terminated)
  const char* to;       // nullptr: stays in the same state (or decided by the action)
  uint32_t roles;       // bit set of auth::Role (auth/roles.h)
  ApplyFn apply;        // does the action in the write transaction
  PrepareFn prepare;    // reads before the transaction, or nullptr
};

// The table, in the order the web app lists the actions.
const std::vector<Transition>& Transitions();
// The row of an action, or nullptr.
const Transition* FindTransition(const std::string& action);
// The table's `from` names the state.
bool AllowedFrom(const Transition& t, const std::string& state);
// Role, level and case-flag rules beyond the table (docs/workflow.md).
Status MayAct(const auth::User& actor, const App& a, const Transition& t);
// 409 invalid_transition naming the state.
Status InvalidTransition(const std::string& action, const std::string& state);
// The actions the user may take on the case now.
nlohmann::json AllowedActions(const auth::User& actor, const App& a);

// The actions (actions.cc: intake and review; decision.cc: the decision).
Status PrepareLinkHousehold(PrepareContext& c);
Status LinkHousehold(ActionContext& c);
Status RecordSignatures(ActionContext& c);
Status RequestDocuments(ActionContext& c);
Status Accept(ActionContext& c);
Status RecordVisit(ActionContext& c);
Status PrepareVerification(PrepareContext& c);
Status RecordVerification(ActionContext& c);
Status TownOpinion(ActionContext& c);
Status RecordObjection(ActionContext& c);
Status AnswerObjection(ActionContext& c);
Status CloseNotice(ActionContext& c);
Status Approve(ActionContext& c);
Status Refuse(ActionContext& c);
Status Extend(ActionContext& c);
Status Withdraw(ActionContext& c);

}  // namespace doudi::applications
