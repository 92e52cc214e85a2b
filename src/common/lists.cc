#include "common/lists.h"

namespace doudi {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t c = s.find(',', start);
    out.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

nlohmann::json ParseJsonOr(const std::string& s, nlohmann::json def) {
  if (s.empty()) return def;
  nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
  return j.is_discarded() ? def : j;
}

}  // namespace doudi
