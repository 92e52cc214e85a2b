// Excel workbooks for the exports county staff open in Excel (monthly notices, reports, lists),
// written with libxlsxwriter. A sheet is a title line, a header row and typed cells; money is
// given in fen and written as yuan with two decimals (a number, so Excel can sum it).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace doudi::reports {

struct Fen {
  int64_t fen = 0;
};
using Cell = std::variant<std::monostate, std::string, int64_t, Fen>;

struct Sheet {
  std::string name;                 // tab name (≤ 31 characters, no []:*?/\)
  std::string title;                // merged first line, e.g. "2026年11月低保对象公示名单"
  std::vector<std::string> header;  // column headings
  std::vector<double> widths;       // column widths in characters (optional)
  std::vector<std::vector<Cell>> rows;
  std::vector<std::string> footer;  // lines after the table (notes, signatures)
};

// The .xlsx file's bytes. Internal on a write failure (temporary file, library error).
Result<std::string> WriteWorkbook(const std::vector<Sheet>& sheets);

}  // namespace doudi::reports
