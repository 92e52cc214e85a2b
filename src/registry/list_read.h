// List pages outside the registry (applications, enrollments, referrals, credit lists,
// emergency help, …): the page's query, and its read log — a page that shows full citizen ids
// or names is a read of personal data.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/paging.h"
#include "registry/registry.h"
#include "storage/database.h"

namespace doudi::registry {

// One read-log row per page served (entity e.g. "credit_list", id "page N"), none for an empty
// page. Call it with no connection held (it may wait for the log's commit).
inline Status LogListRead(RegistryService& registry, const auth::User& actor, const char* entity,
                          const nlohmann::json& items, Page p) {
  if (items.empty()) return Status::Ok();
  return registry.LogRead(actor, entity, "page " + std::to_string(p.page), actor.region_code);
}

// One page of rows: `count_sql` answers the total and `rows_sql` (ordered, without LIMIT) the
// rows, both with `params`.
struct PageRows {
  storage::ResultSet rows;
  int64_t total = 0;
};
inline Result<PageRows> QueryPage(storage::Connection& conn, const std::string& count_sql, const std::string& rows_sql,
                                  storage::Params params, Page p) {
  auto count = conn.Query(count_sql, params);
  if (!count.ok()) return count.status();
  params.push_back(p.page_size);
  params.push_back((p.page - 1) * p.page_size);
  auto rs = conn.Query(rows_sql + " LIMIT ? OFFSET ?", params);
  if (!rs.ok()) return rs.status();
  return PageRows{std::move(*rs), count->rows[0].Int(0)};
}

// The answer of a list page: the connection goes back to the pool before the read log's commit
// (LogListRead), then the envelope (PageJson).
inline Result<nlohmann::json> LoggedPage(storage::Lease conn, RegistryService& registry, const auth::User& actor,
                                         const char* entity, nlohmann::json items, int64_t total, Page p) {
  { storage::Lease back = std::move(conn); }
  DOUDI_RETURN_IF_ERROR(LogListRead(registry, actor, entity, items, p));
  return PageJson(std::move(items), total, p);
}

}  // namespace doudi::registry
