#include "http/api_util.h"

#include <algorithm>

#include "common/json_input.h"

namespace doudi::http {

using nlohmann::json;

json UserJson(const auth::User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"display_name", u.display_name},
          {"role", auth::RoleName(u.role)},
          {"region_code", u.region_code},
          {"region_name", u.region_name},
          {"department", u.department},
          {"disabled", u.disabled},
          {"must_change_credentials", u.must_change_password},
          {"totp_enabled", u.totp_enabled},
          {"version", u.version}};
}

json Page(json items, int64_t total, std::pair<int64_t, int64_t> paging) {
  return {{"items", std::move(items)}, {"total", total}, {"page", paging.first}, {"page_size", paging.second}};
}

Response RawJson(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Result<int64_t> RequiredVersion(const json& body) {
  FieldReader r(body, "");
  int64_t v = r.Int("version", true);
  if (!r.ok()) return r.status();
  return v;
}

std::string CountyOf(const auth::User& u) { return u.region_code.substr(0, 6); }

std::string CompactDate(const std::string& iso_day) {
  std::string compact = iso_day;
  compact.erase(std::remove(compact.begin(), compact.end(), '-'), compact.end());
  return compact;
}

}  // namespace doudi::http
