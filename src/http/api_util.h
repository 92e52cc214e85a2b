// Helpers the /api/v1 handlers share (every api_*.cc): rendering users and pages, raw JSON
// answers, the version a write needs. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "common/status.h"
#include "http/router.h"

namespace doudi::http {

// A user as the API shows it (session, users list): never the password hash or TOTP secret.
nlohmann::json UserJson(const auth::User& u);

// A page of a list: {items, total, page, page_size}; paging is (page, page_size) from
// Context::Paging.
nlohmann::json Page(nlohmann::json items, int64_t total, std::pair<int64_t, int64_t> paging);

// An answer whose body is JSON already rendered (the household cache's documents).
Response RawJson(int status, std::string body);

// The body's required "version" (optimistic concurrency); InvalidArgument naming the field.
Result<int64_t> RequiredVersion(const nlohmann::json& body);

// The county (6-digit code) a user works in: the first six digits of their region.
std::string CountyOf(const auth::User& u);

// A day YYYY-MM-DD as YYYYMMDD, for the file names of exports ("households-20261108.xlsx").
std::string CompactDate(const std::string& iso_day);

}  // namespace doudi::http
