// The public pages (no login): the online application, the progress of an application, and the
// villages' public notices (公示). Built on the applications module's record.
//
// Owns: nothing of its own; writes `applications` rows of channel "online" (state received,
// no household yet: the town links one before acceptance). Takes: JSON bodies and query values
// of docs/api.md § Public. Errors: InvalidArgument (field named), NotFound (one answer for
// every miss of a progress lookup). The HTTP layer limits the tries (rate limits, issue 17).
// Depends on: applications (record), credit, policy (the pack: who confirms), audit, storage. Thread-safe (no state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "policy/service.h"
#include "storage/database.h"

namespace doudi::public_pages {

class PublicService {
 public:
  PublicService(storage::Database& db, policy::PolicyService& policy) : db_(db), policy_(policy) {}

  // An online application: answers its case number. Like one registered at a window, it is
  // confirmed by the town where the county's pack delegates confirmation (delegation.town_confirms).
  Result<nlohmann::json> Submit(const nlohmann::json& body);
  // Progress of an application by its case number, the applicant's citizen id and the last
  // four digits of the applicant's phone: NotFound, the same, for any miss.
  Result<nlohmann::json> Progress(const std::string& case_no, const std::string& citizen_id,
                                  const std::string& phone_last4);
  // The applications of a village in public notice: name, masked id, household size, amount.
  Result<nlohmann::json> Notices(const std::string& village);

 private:
  storage::Database& db_;
  policy::PolicyService& policy_;
};

}  // namespace doudi::public_pages
