// The application workflow (docs/workflow.md): one application for five programmes, an
// explicit transition table, working-day deadlines, notices archived unchanged, enrollments,
// referrals to departments, credit lists, relatives of staff, act-first emergency help with the
// towns' reserve funds, and the public pages (online application, progress, public notice).
//
// Every state change runs in one transaction with its audit entry (entity "application"),
// which is also the case's timeline. Region scope as in the registry: a case outside the
// user's region answers NotFound. Thread-safe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/auth.h"
#include "cases/calendar.h"
#include "policy/service.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::cases {

struct Transition {
  const char* action;
  const char* from[6];  // allowed from-states (nullptr-terminated)
  const char* to;       // nullptr: stays in the same state (or decided by the payload)
  uint32_t roles;       // bit set of auth::Role
};
// The table itself (workflow.cc), exposed for documentation and tests.
const std::vector<Transition>& Transitions();

struct Page {
  int64_t page = 1, page_size = 20;
};

class CaseService {
 public:
  CaseService(storage::Database& db, registry::RegistryService& registry, policy::PolicyService& policy)
      : db_(db), registry_(registry), policy_(policy) {}

  // Applications
  Result<nlohmann::json> Create(const auth::User& actor, const nlohmann::json& body);
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
  Result<nlohmann::json> Act(const auth::User& actor, int64_t id, const nlohmann::json& body);
  Result<nlohmann::json> Timeline(const auth::User& actor, int64_t id);
  // 一户一案: the household's applications, notices, visits, determinations and enrollments.
  Result<nlohmann::json> HouseholdFile(const auth::User& actor, int64_t household_id);
  Result<nlohmann::json> GetNotice(const auth::User& actor, int64_t id);

  // Enrollments and referrals
  Result<nlohmann::json> ListEnrollments(const auth::User& actor, const std::string& status, Page page);
  Result<nlohmann::json> ListReferrals(const auth::User& actor, const std::string& status, Page page);
  Result<nlohmann::json> ActReferral(const auth::User& actor, int64_t id, const nlohmann::json& body);

  // Dynamic management: review, change_amount, suspend, resume, terminate (gradual exit).
  Result<nlohmann::json> ActEnrollment(const auth::User& actor, int64_t id, const nlohmann::json& body);

  // Scanned signed pages (authorization, integrity commitment) and other documents.
  Result<nlohmann::json> AddAttachment(const auth::User& actor, int64_t application_id, const nlohmann::json& body);
  // Returns content type in *content_type and the decoded bytes.
  Result<std::string> GetAttachment(const auth::User& actor, int64_t id, std::string* content_type);

  // Cross-region verification requests (residence-permit applications → hukou county).
  Result<nlohmann::json> ListVerificationRequests(const auth::User& actor, Page page, const std::string& direction = {});
  Result<nlohmann::json> AnswerVerificationRequest(const auth::User& actor, int64_t id, const nlohmann::json& body);

  // Emergency help and reserve funds
  Result<nlohmann::json> CreateEmergency(const auth::User& actor, const nlohmann::json& body);
  Result<nlohmann::json> ListEmergency(const auth::User& actor, Page page);
  Result<nlohmann::json> ActEmergency(const auth::User& actor, int64_t id, const nlohmann::json& body);
  Result<nlohmann::json> ReserveFunds(const auth::User& actor);
  Result<nlohmann::json> Deposit(const auth::User& actor, const std::string& town, const nlohmann::json& body);

  // Credit lists and relatives of staff
  Result<nlohmann::json> ListCredit(const auth::User& actor, Page page);
  Result<nlohmann::json> AddCredit(const auth::User& actor, const nlohmann::json& body);
  Result<nlohmann::json> Repay(const auth::User& actor, int64_t id);
  Result<nlohmann::json> ListRelatives(const auth::User& actor, Page page);
  Result<nlohmann::json> AddRelative(const auth::User& actor, const nlohmann::json& body);

  // Calendar
  // The State Council's calendar is shared; a county admin's changes apply to that county only,
  // and a user (and a case) works by its own county's calendar.
  Result<nlohmann::json> Holidays(const auth::User& actor, const std::string& year);
  Result<nlohmann::json> SetHoliday(const auth::User& actor, const std::string& day, const nlohmann::json& body);
  Result<nlohmann::json> DeleteHoliday(const auth::User& actor, const std::string& day);
  Result<nlohmann::json> WorkingDays(const auth::User& actor, const std::string& from, const std::string& days);

  // Public, no login
  Result<nlohmann::json> PublicSubmit(const nlohmann::json& body);
  // Progress of an application by its case number, the applicant's citizen id and the last
  // four digits of the applicant's phone: NotFound, the same, for any miss.
  Result<nlohmann::json> PublicProgress(const std::string& case_no, const std::string& citizen_id,
                                        const std::string& phone_last4);
  Result<nlohmann::json> PublicNotices(const std::string& village);

  // Seeding: deposits the reserve fund a county's pack requires for each town.
  Status SeedReserveFunds(storage::Connection& conn, const std::string& county);

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

}  // namespace doudi::cases
