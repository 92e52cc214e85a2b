#include "reports/xlsx.h"

#include <unistd.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace doudi::reports {
namespace {

// Removes the temporary file however the write ends.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) std::remove(path.c_str());
  }
};

}  // namespace

Result<std::string> WriteWorkbook(const std::vector<Sheet>& sheets) {
  // libxlsxwriter 1.1.4 (Debian 12) writes to a file only: a private temporary file, read back.
  std::string tmpl = (std::filesystem::temp_directory_path() / "doudi-xlsx-XXXXXX").string();
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return Status::Internal("无法创建临时文件");
  close(fd);
  TempFile tmp{tmpl};

  lxw_workbook* wb = workbook_new(tmp.path.c_str());
  if (!wb) return Status::Internal("无法创建 Excel 文件");
  lxw_format* title = workbook_add_format(wb);
  format_set_bold(title);
  format_set_font_size(title, 14);
  format_set_align(title, LXW_ALIGN_CENTER);
  lxw_format* head = workbook_add_format(wb);
  format_set_bold(head);
  format_set_border(head, LXW_BORDER_THIN);
  format_set_bg_color(head, 0xDDEBF7);
  format_set_align(head, LXW_ALIGN_CENTER);
  format_set_text_wrap(head);
  lxw_format* cell = workbook_add_format(wb);
  format_set_border(cell, LXW_BORDER_THIN);
  lxw_format* money = workbook_add_format(wb);
  format_set_border(money, LXW_BORDER_THIN);
  format_set_num_format(money, "#,##0.00");

  for (const auto& s : sheets) {
    lxw_worksheet* ws = workbook_add_worksheet(wb, s.name.empty() ? nullptr : s.name.c_str());
    if (!ws) {
      workbook_close(wb);
      return Status::Internal("工作表名称无效：" + s.name);
    }
    lxw_row_t row = 0;
    lxw_col_t cols = static_cast<lxw_col_t>(std::max<size_t>(s.header.size(), 1));
    if (!s.title.empty()) {
      if (cols > 1) worksheet_merge_range(ws, 0, 0, 0, cols - 1, s.title.c_str(), title);
      else worksheet_write_string(ws, 0, 0, s.title.c_str(), title);
      worksheet_set_row(ws, 0, 24, nullptr);
      row = 1;
    }
    for (size_t c = 0; c < s.widths.size(); ++c)
      worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c), s.widths[c], nullptr);
    for (size_t c = 0; c < s.header.size(); ++c)
      worksheet_write_string(ws, row, static_cast<lxw_col_t>(c), s.header[c].c_str(), head);
    lxw_row_t header_row = row;
    if (!s.header.empty()) {
      worksheet_freeze_panes(ws, row + 1, 0);
      ++row;
    }
    for (const auto& r : s.rows) {
      for (size_t c = 0; c < r.size(); ++c) {
        auto col = static_cast<lxw_col_t>(c);
        const Cell& v = r[c];
        if (const auto* str = std::get_if<std::string>(&v)) worksheet_write_string(ws, row, col, str->c_str(), cell);
        else if (const auto* n = std::get_if<int64_t>(&v)) worksheet_write_number(ws, row, col, static_cast<double>(*n), cell);
        else if (const auto* f = std::get_if<Fen>(&v)) worksheet_write_number(ws, row, col, static_cast<double>(f->fen) / 100.0, money);
        else worksheet_write_blank(ws, row, col, cell);
      }
      ++row;
    }
    if (!s.header.empty() && !s.rows.empty()) worksheet_autofilter(ws, header_row, 0, row - 1, cols - 1);
    ++row;
    for (const auto& line : s.footer) worksheet_write_string(ws, row++, 0, line.c_str(), nullptr);
  }
  lxw_error err = workbook_close(wb);
  if (err != LXW_NO_ERROR) return Status::Internal(std::string("Excel 文件写入失败：") + lxw_strerror(err));
  std::ifstream in(tmp.path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  if (!in.good() && !in.eof()) return Status::Internal("无法读取生成的 Excel 文件");
  return out.str();
}

}  // namespace doudi::reports
