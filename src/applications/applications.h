// The applications module: one application for the five programmes (五合一) and its workflow —
// intake, home visit, economic verification, the town's review, the public notice and the
// decision — within deadlines counted in working days, with the notices archived unchanged.
//
// Owns: the tables `applications`, `objections` and `notices` (through the notices module), and
// the transition table (transitions.h), the workflow's single description. The decision writes
// enrollments (enrollments module) and referrals (referrals.h). Takes: the acting user and JSON
// bodies of docs/api.md § Applications and § Notices; returns their JSON documents.
// Errors: PermissionDenied (role; a department liaison learns nothing about a case), NotFound
// (outside the user's region, like a missing case), InvalidArgument (field named),
// FailedPrecondition (a rule of the workflow, field named), VersionConflict, Conflict
// invalid_transition, CommittedUnread (the write committed, its read-back failed).
// Every state change runs in one transaction with its audit entry (entity "application"), which
// is also the case's timeline; every read of a case is logged.
// Depends on: enrollments, credit, calendar, notices, policy, registry, audit, storage.
// Thread-safe (no state of its own).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/auth.h"
#include "common/paging.h"
#include "policy/service.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::applications {

class ApplicationService {
 public:
  ApplicationService(storage::Database& db, registry::RegistryService& registry, policy::PolicyService& policy)
      : db_(db), registry_(registry), policy_(policy) {}

  // A staff member registers an application for a registered household (window, assistant,
  // hotline or discovery channel). Claims the request's Idempotency-Key.
  Result<nlohmann::json> Create(const auth::User& actor, const nlohmann::json& body);
  // The cases in the user's scope; state "open" for all not final.
  Result<nlohmann::json> List(const auth::User& actor, const std::string& state, const std::string& q,
                              const std::string& village, const std::string& sort, Page page);
  Result<nlohmann::json> Get(const auth::User& actor, int64_t id);
  // A lead from monitoring or the hotline turned into an application (channel discovery); the
  // authorization and commitment are signed later (record_signatures) before acceptance.
  // The caller's own writes share its transaction (the alert that found the need is resolved
  // with it, or neither is written): `first` runs before the application is inserted (to lock
  // the caller's rows before the audit chain's head, the order every write keeps), `also`
  // after, with the new application's id. Returns that id.
  Result<int64_t> CreateDiscovery(const auth::User& actor, int64_t household_id, const std::string& note,
                                  const std::function<Status(storage::Connection&)>& first,
                                  const std::function<Status(storage::Connection&, int64_t)>& also);
  // An action of the transition table ({"action", "version", …fields}).
  Result<nlohmann::json> Act(const auth::User& actor, int64_t id, const nlohmann::json& body);
  Result<nlohmann::json> Timeline(const auth::User& actor, int64_t id);
  // 一户一案: the household's applications, notices, visits, determinations and enrollments.
  Result<nlohmann::json> HouseholdFile(const auth::User& actor, int64_t household_id);
  Result<nlohmann::json> GetNotice(const auth::User& actor, int64_t id);

 private:
  // Get for the answer of a committed write: a failure is Status::CommittedUnread.
  Result<nlohmann::json> GetAfterWrite(const auth::User& actor, int64_t id);
  // Create and Act up to their commit: the application's id.
  Result<int64_t> CreateCommit(const auth::User& actor, const nlohmann::json& body);
  Result<int64_t> ActCommit(const auth::User& actor, int64_t id, const nlohmann::json& body);

  storage::Database& db_;
  registry::RegistryService& registry_;
  policy::PolicyService& policy_;
};

}  // namespace doudi::applications
