// The credit module: the county's trust and dishonesty lists (守信 / 失信名单) and the record of
// relatives of staff (近亲属备案), and the checks the workflow makes against them.
//
// Owns: the tables `credit_entries` and `staff_relatives`. Takes: the acting user (county staff
// only: county admin or county reviewer) and JSON bodies of docs/api.md § Credit and relatives;
// returns their JSON documents. Errors: PermissionDenied (not county staff), InvalidArgument
// (field named; citizen ids checked by GB 11643), NotFound (nothing to repay).
// Every write is one transaction with its audit entry; a list page with names and ids is
// read-logged. Depends on: registry (read log), audit, storage. Thread-safe (no state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "common/paging.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::credit {

// Any of `ids` on a list of the county ("trust" or "dishonesty"; for dishonesty only entries
// not yet repaid), in the caller's transaction.
Result<bool> OnList(storage::Connection& conn, const std::string& county, const std::vector<std::string>& ids,
                    const std::string& list);
// Any of `ids` recorded as a relative of staff in the county.
Result<bool> IsStaffRelative(storage::Connection& conn, const std::string& county, const std::vector<std::string>& ids);

class CreditService {
 public:
  CreditService(storage::Database& db, registry::RegistryService& registry) : db_(db), registry_(registry) {}

  Result<nlohmann::json> ListCredit(const auth::User& actor, Page page);
  Result<nlohmann::json> AddCredit(const auth::User& actor, const nlohmann::json& body);
  // Records that a dishonesty entry's improper payment was repaid.
  Result<nlohmann::json> Repay(const auth::User& actor, int64_t id);
  Result<nlohmann::json> ListRelatives(const auth::User& actor, Page page);
  // Records a relative of staff; the person's open applications become staff-relative cases.
  Result<nlohmann::json> AddRelative(const auth::User& actor, const nlohmann::json& body);

 private:
  Result<nlohmann::json> CountyPage(const auth::User& actor, Page page, const char* table, const char* columns,
                                    const char* entity, nlohmann::json (*make)(const storage::Row&));

  storage::Database& db_;
  registry::RegistryService& registry_;
};

}  // namespace doudi::credit
