// The enrollments module: who receives which programme, from when and how much (救助对象), and
// dynamic management (动态管理): review, change of amount, suspension, resumption, termination
// with gradual exit (渐退). Payments (monthly rolls) will sit beside it.
//
// Owns: the `enrollments` table. An enrollment is written by the workflow's approval (Enroll,
// in the caller's transaction) and changed only through Act. Takes: the acting user and JSON
// bodies of docs/api.md § Enrollments; returns their JSON documents. Errors: PermissionDenied
// (dynamic management is town and county work), NotFound (outside the user's scope, like a
// missing record), InvalidArgument (field named), VersionConflict, Conflict invalid_transition.
// A termination archives its notice (取消救助待遇告知书) when the enrollment came from an
// application. Every write is one transaction with its audit entry; list pages are read-logged.
// Depends on: notices, policy (the pack), registry (read log), audit, storage. Thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "auth/auth.h"
#include "common/paging.h"
#include "policy/service.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::enrollments {

// A programme granted by a decision on an application.
struct NewEnrollment {
  int64_t household_id = 0, application_id = 0;
  std::string county, town, village;
  std::string program;
  nlohmann::json covered;       // citizen ids of the members covered
  int64_t monthly_fen = 0;      // 0 for a one-off or a status (marginal, illness_poverty, …)
  int64_t one_off_fen = 0;      // > 0: paid once (temporary help), status "paid"
  std::string first_paid_month; // YYYY-MM
  std::string next_review_date; // for a monthly enrollment
};

// Inserts an enrollment in the caller's transaction (audited with the approval that grants it).
Status Enroll(storage::Connection& conn, const NewEnrollment& e);

class EnrollmentService {
 public:
  EnrollmentService(storage::Database& db, registry::RegistryService& registry, policy::PolicyService& policy)
      : db_(db), registry_(registry), policy_(policy) {}

  // The enrollments in the user's scope, newest first; `status` filters ("" for all).
  Result<nlohmann::json> List(const auth::User& actor, const std::string& status, Page page);
  // Dynamic management: review, change_amount, suspend, resume, terminate (gradual exit).
  Result<nlohmann::json> Act(const auth::User& actor, int64_t id, const nlohmann::json& body);

 private:
  storage::Database& db_;
  registry::RegistryService& registry_;
  policy::PolicyService& policy_;
};

}  // namespace doudi::enrollments
