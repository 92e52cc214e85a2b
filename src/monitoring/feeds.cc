#include "monitoring/feeds.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "common/citizen_id.h"
#include "common/date.h"
#include "common/text.h"
#include "monitoring/match_engine.h"

namespace doudi::monitoring {
namespace {

using nlohmann::json;
using T = FieldType;

// A source's columns: every source names the person first (citizen id, then name), then its own.
std::vector<FeedColumn> PersonAnd(std::initializer_list<FeedColumn> own) {
  std::vector<FeedColumn> columns = {{"citizen_id", "身份证号", T::kCitizenId, true}, {"name", "姓名", T::kText, false}};
  columns.insert(columns.end(), own);
  return columns;
}

const std::vector<FeedSource> kSources = {
    {"death", "死亡人员", "公安局/卫健局",
     PersonAnd({{"date_of_death", "死亡日期", T::kDate, true}})},
    {"hukou_move", "户籍迁移", "公安局",
     PersonAnd({{"move_date", "迁移日期", T::kDate, true}, {"to_division", "迁入地区划代码", T::kDivision, false}})},
    {"vehicle", "车辆登记", "公安局交警大队",
     PersonAnd({{"plate", "号牌号码", T::kText, true}, {"registered_on", "登记日期", T::kDate, true},
                {"value_yuan", "车辆价值（元）", T::kYuan, false}})},
    {"real_estate", "不动产登记", "自然资源和规划局",
     PersonAnd({{"certificate_no", "不动产权证号", T::kText, true}, {"registered_on", "登记日期", T::kDate, true},
                {"area_m2", "面积（平方米）", T::kInt, false}})},
    {"business", "市场主体登记", "市场监督管理局",
     PersonAnd({{"business_name", "市场主体名称", T::kText, true}, {"registered_on", "成立日期", T::kDate, true},
                {"capital_yuan", "注册资本（元）", T::kYuan, false}})},
    {"wage", "工资及社保缴费", "人力资源和社会保障局",
     PersonAnd({{"month", "月份", T::kMonth, true}, {"wage_yuan", "月工资（元）", T::kYuan, true}})},
    {"unemployment", "失业登记", "人力资源和社会保障局",
     PersonAnd({{"registered_on", "登记日期", T::kDate, true}})},
    {"pension", "养老金发放", "人力资源和社会保障局",
     PersonAnd({{"month", "月份", T::kMonth, true}, {"pension_yuan", "月养老金（元）", T::kYuan, true}})},
    {"medical", "医疗费用结算", "医疗保障局",
     PersonAnd({{"month", "月份", T::kMonth, true}, {"total_yuan", "医疗总费用（元）", T::kYuan, true},
                {"out_of_pocket_yuan", "个人自付（元）", T::kYuan, true}})},
    {"disability", "残疾人证", "残疾人联合会",
     PersonAnd({{"kind", "残疾类别", T::kText, true}, {"grade", "残疾等级", T::kInt, true, 1, 4},
                {"issued_on", "发证日期", T::kDate, false}})},
    {"at_risk", "防止返贫监测对象", "乡村振兴局",
     PersonAnd({{"listed_on", "纳入日期", T::kDate, true}, {"risk_type", "风险类型", T::kText, false}})},
    {"tax", "个人所得税", "税务局",
     PersonAnd({{"year", "年度", T::kInt, true, 1900, 2100}, {"income_yuan", "年收入（元）", T::kYuan, true}})},
    {"provident_fund", "住房公积金", "住房公积金管理中心",
     PersonAnd({{"month", "月份", T::kMonth, true}, {"deposit_yuan", "月缴存额（元）", T::kYuan, true}})},
    {"deposit", "银行存款", "人民银行/金融机构",
     PersonAnd({{"as_of", "截止日期", T::kDate, true}, {"balance_yuan", "余额（元）", T::kYuan, true}})},
    {"other_county_recipient", "外县救助对象", "上级民政部门",
     PersonAnd({{"county_code", "县级区划代码", T::kDivision, true}, {"program", "救助类别", T::kText, true},
                {"monthly_yuan", "月救助金（元）", T::kYuan, false}})},
    // Staff and village cadres with their close relatives as declared to the organisation and
    // personnel departments: one row per person (the staff member themself with relation 本人).
    {"staff_kin", "干部职工及近亲属", "组织部/人力资源和社会保障局",
     PersonAnd({{"staff_name", "工作人员姓名", T::kText, true}, {"employer", "工作单位", T::kText, true},
                {"relation", "与工作人员关系", T::kText, true}})},
};

// "12.5" / "1,234.56" / "100" → fen, exactly. Returns false on anything else.
bool ParseYuan(std::string s, int64_t* fen) {
  std::string t;
  for (char c : s)
    if (c != ',' && c != ' ') t += c;
  if (t.empty() || t.size() > 15) return false;
  size_t dot = t.find('.');
  std::string whole = t.substr(0, dot), frac = dot == std::string::npos ? "" : t.substr(dot + 1);
  if (whole.empty() || frac.size() > 2) return false;
  for (char c : whole + frac)
    if (c < '0' || c > '9') return false;
  while (frac.size() < 2) frac += '0';
  *fen = std::stoll(whole) * 100 + std::stoll(frac);
  return true;
}

// Splits "Y<sep>M<sep>D" (or "Y<sep>M" when parts == 2) into numbers, strictly: digits only, a
// 4-digit year, 1–2 digit month and day, one separator ('-' or '/', the same throughout),
// nothing before or after ("2026-11-05junk" is not a date).
bool SplitDateParts(const std::string& s, int parts, int out[3]) {
  size_t i = 0;
  char sep = 0;
  for (int k = 0; k < parts; ++k) {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    size_t len = i - start;
    if (k == 0 ? len != 4 : (len < 1 || len > 2)) return false;
    out[k] = std::stoi(s.substr(start, len));
    if (k + 1 < parts) {
      if (i >= s.size() || (s[i] != '-' && s[i] != '/') || (sep && s[i] != sep)) return false;
      sep = s[i++];
    }
  }
  return i == s.size();
}

// Accepts YYYY-MM-DD, YYYY/MM/DD (Excel) and single-digit months and days; returns the ISO
// form, or "" for anything else.
std::string NormalizeDate(const std::string& s) {
  int p[3];
  if (!SplitDateParts(s, 3, p) || !IsValidDate(p[0], p[1], p[2]) || p[0] < 1900) return "";
  return FormatDate(p[0], p[1], p[2]);
}

std::string NormalizeMonth(const std::string& s) {
  int p[3];
  if (!SplitDateParts(s, 2, p) || p[0] < 2000 || p[0] > 2100 || p[1] < 1 || p[1] > 12) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", p[0], p[1]);
  return buf;
}

// 1-based line of a byte offset.
uint64_t LineOf(const std::string& text, size_t offset) {
  return 1 + static_cast<uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Valid UTF-8 characters of 3 or 4 bytes (CJK and beyond) before `end`.
int WideUtf8Chars(const std::string& s, size_t end) {
  int n = 0;
  for (size_t i = 0; i < end; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xE0 && c <= 0xF4) ++n;
  }
  return n;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// The records of a CSV text. A record ends at a line break outside quotes, so a quoted field
// may hold line breaks (a cell with Alt+Enter in Excel).
class CsvRecords {
 public:
  explicit CsvRecords(const std::string& text) : text_(text) {}

  // The next record, without its line end ("\r\n" or "\n"); false at the end of the text.
  bool Next(std::string* line) {
    if (pos_ >= text_.size()) return false;
    line_no_ = lines_ + 1;
    bool quoted = false;
    size_t i = pos_;
    for (; i < text_.size(); ++i) {
      if (text_[i] == '"') quoted = !quoted;
      else if (text_[i] == '\n') {
        ++lines_;
        if (!quoted) break;
      }
    }
    if (i == text_.size()) {
      if (text_.back() != '\n' || quoted) ++lines_;
      unterminated_ = quoted;
    }
    *line = text_.substr(pos_, i - pos_);
    if (!line->empty() && line->back() == '\r') line->pop_back();
    pos_ = i == text_.size() ? text_.size() : i + 1;
    return true;
  }
  // The last record's first line (1-based).
  uint64_t line_no() const { return line_no_; }
  // The last record opened a quote that the file never closes.
  bool unterminated() const { return unterminated_; }
  Status Unclosed() const {
    return Status::InvalidArgument("file", "第 " + std::to_string(line_no_) + " 行的引号没有闭合（该行起到文件末尾被读成了一个单元格）");
  }

 private:
  const std::string& text_;
  size_t pos_ = 0;
  uint64_t line_no_ = 0, lines_ = 0;  // lines_: the lines read so far
  bool unterminated_ = false;
};

// The header's column of each declared column (by key or label), -1 when absent;
// InvalidArgument naming a required column that is missing.
Result<std::vector<int>> MapHeader(const FeedSource& src, const std::string& header_line) {
  std::vector<std::string> header = SplitCsvRow(header_line);
  std::vector<int> col(src.columns.size(), -1);
  for (size_t c = 0; c < src.columns.size(); ++c)
    for (size_t h = 0; h < header.size(); ++h) {
      std::string name = Trim(header[h]);
      if (name == src.columns[c].key || name == src.columns[c].label) col[c] = static_cast<int>(h);
    }
  for (size_t c = 0; c < src.columns.size(); ++c)
    if (src.columns[c].required && col[c] < 0)
      return Status::InvalidArgument("file", std::string("第 1 行（表头）缺少列：") + src.columns[c].label + "（" +
                                                 src.columns[c].key + "）");
  return col;
}

// A text cell: a line break in a cell (quoted) reads as a space.
std::string CellText(const std::string& v) {
  std::string t;
  for (size_t k = 0; k < v.size(); ++k) {
    if (v[k] == '\r' && k + 1 < v.size() && v[k + 1] == '\n') continue;
    t += v[k] == '\n' || v[k] == '\r' ? ' ' : v[k];
  }
  return t;
}

// Reads one non-empty cell of column fc into *fields (the citizen id into *citizen_id).
// Returns nothing, or the message of the problem.
std::optional<std::string> ParseCell(const FeedColumn& fc, const std::string& v, json* fields, std::string* citizen_id) {
  const std::string label = fc.label;
  switch (fc.type) {
    case T::kCitizenId: {
      auto id = ParseCitizenId(v);
      if (!id.ok()) return id.status().message();
      *citizen_id = id->normalized;
      return std::nullopt;
    }
    case T::kDate: {
      std::string d = NormalizeDate(v);
      if (d.empty()) return label + "不是有效日期";
      (*fields)[fc.key] = d;
      return std::nullopt;
    }
    case T::kMonth: {
      std::string m = NormalizeMonth(v);
      if (m.empty()) return label + "应为 YYYY-MM";
      (*fields)[fc.key] = m;
      return std::nullopt;
    }
    case T::kYuan: {
      int64_t fen = 0;
      if (!ParseYuan(v, &fen)) return label + "应为不小于0的金额（元，最多两位小数）";
      (*fields)[std::string(fc.key).replace(std::string(fc.key).size() - 4, 4, "fen")] = fen;
      return std::nullopt;
    }
    case T::kInt: {
      int64_t n = 0;
      if (v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos || (n = std::stoll(v)) < fc.min ||
          n > fc.max)
        return label + (fc.min == 0 && fc.max == 999'999'999'999
                            ? std::string("应为非负整数")
                            : "应为" + std::to_string(fc.min) + "至" + std::to_string(fc.max) + "的整数");
      (*fields)[fc.key] = n;
      return std::nullopt;
    }
    case T::kDivision: {
      if (LevelOfCode(v) == RegionLevel::kInvalid) return label + "应为6、9或12位数字";
      (*fields)[fc.key] = v;
      return std::nullopt;
    }
    case T::kText: {
      // Other control characters and invisible format characters (bidirectional controls) are
      // refused.
      std::string t = CellText(v);
      if (t.size() > 300) return label + "过长";
      if (HasForbiddenChar(t)) return label + "含有控制字符或不可见的格式字符（如双向文本控制符）";
      (*fields)[fc.key] = t;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// Reads one record's cells by the header's columns; false with *problem at the first bad cell.
bool ParseRecord(const FeedSource& src, const std::vector<int>& col, const std::vector<std::string>& cells,
                 uint64_t line_no, json* fields, std::string* citizen_id, RowProblem* problem) {
  for (size_t c = 0; c < src.columns.size(); ++c) {
    const FeedColumn& fc = src.columns[c];
    std::string v = col[c] >= 0 && static_cast<size_t>(col[c]) < cells.size() ? Trim(cells[col[c]]) : "";
    if (v.empty()) {
      if (!fc.required) continue;
      *problem = {line_no, fc.key, std::string(fc.label) + "不能为空"};
      return false;
    }
    std::optional<std::string> message = ParseCell(fc, v, fields, citizen_id);
    if (message) {
      *problem = {line_no, fc.key, *message};
      return false;
    }
  }
  return true;
}

// The same file (county, source, month, SHA-256) imported before: its report, or nothing.
Result<bool> FindImported(storage::Connection& conn, const std::string& county, const std::string& source,
                          const std::string& month, const std::string& sha, ImportReport* rep) {
  auto dup = conn.Query("SELECT id, rows_total, rows_imported, rows_invalid FROM feed_files "
                        "WHERE county_code = ? AND source = ? AND month = ? AND sha256 = ?",
                        {county, source, month, sha});
  if (!dup.ok()) return dup.status();
  if (dup->empty()) return false;
  rep->already_imported = true;
  rep->file_id = dup->rows[0].Int(0);
  rep->rows = dup->rows[0].Int(1);
  rep->imported = dup->rows[0].Int(2);
  rep->invalid = dup->rows[0].Int(3);
  return true;
}

// What an import stores: the file with its report, its accepted rows and the audit entry.
struct FeedUpload {
  const audit::Actor& actor;
  const std::string &county, &source, &month, &filename, &sha, &text, &now;
};

Status StoreFeed(storage::Connection& conn, const FeedUpload& up, std::vector<std::vector<std::optional<std::string>>>& rows,
                 ImportReport* rep) {
  storage::Transaction tx(conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  auto ins = conn.Query(
      "INSERT INTO feed_files (county_code, source, month, filename, sha256, encoding, content, rows_total, rows_imported, "
      "rows_invalid, problems, imported_by, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {up.county, up.source, up.month, up.filename, up.sha, rep->encoding, up.text, static_cast<int64_t>(rep->rows),
       static_cast<int64_t>(rep->imported), static_cast<int64_t>(rep->invalid), ToJson(*rep)["problems"].dump(),
       up.actor.username, up.now});
  if (!ins.ok()) {
    if (ins.status().code() == Code::kConflict) return Status::Conflict("file", "该文件已导入");
    return ins.status();
  }
  rep->file_id = ins->rows[0].Int(0);
  for (auto& r : rows) r[0] = std::to_string(rep->file_id);
  DOUDI_RETURN_IF_ERROR(conn.BulkInsert("feed_rows", {"file_id", "line", "citizen_id", "fields"}, rows));
  DOUDI_RETURN_IF_ERROR(audit::RecordWrite(conn, up.actor,
                                           {"feed.import", "feed_file", std::to_string(rep->file_id), up.county, "null",
                                            json{{"source", up.source}, {"month", up.month}, {"filename", up.filename},
                                                 {"sha256", up.sha}, {"rows", rep->rows}, {"imported", rep->imported},
                                                 {"invalid", rep->invalid}}
                                                .dump()}));
  return tx.Commit();
}

}  // namespace

const std::vector<FeedSource>& FeedSources() { return kSources; }

const FeedSource* FindSource(const std::string& kind) {
  for (const auto& s : kSources)
    if (kind == s.kind) return &s;
  return nullptr;
}

Result<std::string> ToUtf8(const std::string& bytes, std::string* encoding) {
  std::string in = bytes;
  bool bom = in.size() >= 3 && in.compare(0, 3, "\xEF\xBB\xBF") == 0;
  if (bom) in = in.substr(3);
  size_t bad = FirstInvalidUtf8(in);
  if (bad == std::string::npos) {
    *encoding = "utf-8";
    return in;
  }
  auto not_utf8 = [&] {
    return Status::InvalidArgument("file", "第 " + std::to_string(LineOf(in, bad)) +
                                               " 行含有无效的 UTF-8 字节：请检查该行，或将文件另存为 UTF-8 或 GB18030 编码的 CSV");
  };
  // Every byte before `bad` is well-formed UTF-8; Chinese text there means a UTF-8 file.
  if (bom || WideUtf8Chars(in, bad) >= 2) return not_utf8();
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) return Status::Internal("iconv GB18030 unavailable");
  std::string out(in.size() * 2 + 16, '\0');
  char* src = in.data();
  size_t src_left = in.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
  iconv_close(cd);
  if (rc == static_cast<size_t>(-1)) return not_utf8();
  out.resize(out.size() - dst_left);
  if (!IsValidUtf8(out)) return not_utf8();
  *encoding = "gb18030";
  return out;
}

Status CheckFeedTarget(const std::string& source, const std::string& month) {
  if (!FindSource(source)) return Status::InvalidArgument("source", "未知的数据来源：" + source);
  if (NormalizeMonth(month) != month) return Status::InvalidArgument("month", "月份应为 YYYY-MM");
  return Status::Ok();
}

Result<ImportReport> ImportFeed(storage::Database& db, const audit::Actor& actor, const std::string& county,
                                const std::string& source, const std::string& month, const std::string& filename,
                                const std::string& bytes, const std::function<void(uint64_t)>& on_progress) {
  DOUDI_RETURN_IF_ERROR(CheckFeedTarget(source, month));
  const FeedSource* src = FindSource(source);
  if (LevelOfCode(county) != RegionLevel::kCounty) return Status::InvalidArgument("county", "县级区划代码应为6位");
  ImportReport rep;
  DOUDI_ASSIGN_OR_RETURN(std::string text, ToUtf8(bytes, &rep.encoding));
  std::string sha = audit::Sha256Hex(text);
  DOUDI_ASSIGN_OR_RETURN(storage::Lease conn, db.Acquire());
  DOUDI_ASSIGN_OR_RETURN(bool imported_before, FindImported(*conn, county, source, month, sha, &rep));
  if (imported_before) return rep;
  CsvRecords records(text);
  std::string line;
  if (!records.Next(&line)) return Status::InvalidArgument("file", "文件为空");
  if (records.unterminated()) return records.Unclosed();
  DOUDI_ASSIGN_OR_RETURN(std::vector<int> col, MapHeader(*src, line));

  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string now = NowIsoShanghai();
  while (records.Next(&line)) {
    if (records.unterminated()) return records.Unclosed();
    if (line.find_first_not_of(", \t\"") == std::string::npos) continue;  // blank / Excel trailing commas
    ++rep.rows;
    json fields = json::object();
    std::string citizen_id;
    RowProblem problem;
    if (!ParseRecord(*src, col, SplitCsvRow(line), records.line_no(), &fields, &citizen_id, &problem)) {
      ++rep.invalid;
      if (rep.problems.size() < 1000) rep.problems.push_back(problem);
      continue;
    }
    rows.push_back({std::nullopt, std::to_string(records.line_no()), citizen_id,
                    fields.dump(-1, ' ', false, json::error_handler_t::replace)});
    ++rep.imported;
    if (on_progress && rep.rows % 100000 == 0) on_progress(rep.rows);
  }
  DOUDI_RETURN_IF_ERROR(StoreFeed(*conn, {actor, county, source, month, filename, sha, text, now}, rows, &rep));
  if (on_progress) on_progress(rep.rows);
  return rep;
}

json ToJson(const ImportReport& r) {
  json problems = json::array();
  for (const auto& p : r.problems) problems.push_back({{"line", p.line}, {"field", p.field}, {"message", p.message}});
  return {{"file_id", r.file_id}, {"already_imported", r.already_imported}, {"encoding", r.encoding},
          {"rows", r.rows},       {"imported", r.imported},                 {"invalid", r.invalid},
          {"problems", problems}};
}

}  // namespace doudi::monitoring
