// Pages of a list: what a list endpoint takes (?page=&page_size=) and the envelope it answers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/status.h"

namespace doudi {

struct Page {
  int64_t page = 1, page_size = 20;
};

// 1 ≤ page, 1 ≤ page_size ≤ 200; otherwise InvalidArgument("page").
inline Result<Page> CheckPage(Page p) {
  if (p.page < 1 || p.page_size < 1 || p.page_size > 200) return Status::InvalidArgument("page", "分页参数无效");
  return p;
}

// {"items", "total", "page", "page_size"}
inline nlohmann::json PageJson(nlohmann::json items, int64_t total, Page p) {
  return {{"items", std::move(items)}, {"total", total}, {"page", p.page}, {"page_size", p.page_size}};
}

}  // namespace doudi
