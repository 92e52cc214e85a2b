// Small text helpers for values stored as text columns: comma lists and JSON documents.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace doudi {

// "a,b,c" → {"a", "b", "c"}; "" → {}.
std::vector<std::string> SplitList(const std::string& s);
// {"a", "b"} → "a,b".
std::string JoinList(const std::vector<std::string>& v);
// The JSON document in `s`, or `def` when `s` is empty or not JSON.
nlohmann::json ParseJsonOr(const std::string& s, nlohmann::json def);

}  // namespace doudi
