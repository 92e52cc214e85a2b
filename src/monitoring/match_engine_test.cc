#include "monitoring/match_engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <unordered_map>

#include "common/citizen_id.h"

namespace doudi::monitoring {
namespace {

constexpr uint32_t kToday = 20260315;

std::string WithCheck(const std::string& first17) { return first17 + CitizenIdCheckChar(first17); }

std::string RandomId(std::mt19937_64& rng) {
  static const char* kRegions[] = {"370725", "371522", "520524", "340321", "370321", "110105"};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%04d%02d%02d%03d", kRegions[rng() % 6], 1930 + static_cast<int>(rng() % 90),
                1 + static_cast<int>(rng() % 12), 1 + static_cast<int>(rng() % 28), static_cast<int>(rng() % 1000));
  return WithCheck(buf);
}

std::string IdWithCheckX(std::mt19937_64& rng) {
  for (;;) {
    std::string id = RandomId(rng);
    if (id.back() == 'X') return id;
  }
}

std::string Lower(std::string s) {
  for (char& c : s)
    if (c == 'X') c = 'x';
  return s;
}

uint64_t Pack(const std::string& id) {
  auto r = ParseCitizenId(id);
  EXPECT_TRUE(r.ok()) << id;
  return PackCitizenId(r->normalized);
}

// A file under the test temp dir, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string tmpl = ::testing::TempDir() + "match_engine_XXXXXX";
    const int fd = ::mkstemp(tmpl.data());
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = tmpl;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Found {
  uint64_t line;
  uint32_t row;
  std::vector<std::string> fields;
  bool operator==(const Found& o) const { return line == o.line && row == o.row && fields == o.fields; }
};

struct Outcome {
  ScanReport report;
  std::vector<Found> found;
};

CsvLayout Layout(bool has_header) {
  CsvLayout layout;
  layout.has_header = has_header;
  return layout;
}

ScanOptions Options(int threads = 2, size_t block = size_t{1} << 20) {
  ScanOptions o;
  o.threads = threads;
  o.block_bytes = block;
  o.today = kToday;
  return o;
}

Outcome MatchBytes(const RegistryIndex& index, const std::string& csv, const CsvLayout& layout,
               const ScanOptions& options) {
  Outcome run;
  auto r = MatchFeedBytes(index, csv, layout, options, [&](std::span<const FeedMatch> batch) {
    for (const FeedMatch& m : batch)
      run.found.push_back({m.line, m.registry_row, std::vector<std::string>(m.fields.begin(), m.fields.end())});
  });
  EXPECT_TRUE(r.ok()) << r.status().detail();
  if (r.ok()) run.report = *r;
  return run;
}

RegistryIndex IndexOf(const std::vector<std::string>& ids) {
  std::vector<std::string_view> views(ids.begin(), ids.end());
  auto r = RegistryIndex::FromIds(views, kToday);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

// ------------------------------------------------------------------------------------------
// Id validation.

TEST(IdValidation, AgreesWithParseCitizenIdOnRandomAndMutatedIds) {
  std::mt19937_64 rng(11643);
  const uint32_t today = TodayYyyymmdd();  // ParseCitizenId compares with today
  const char kAlphabet[] = "0123456789Xx a-/:\xE4\"";
  int valid = 0, invalid = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string id = RandomId(rng);
    switch (rng() % 6) {
      case 0: break;
      case 1: id[rng() % 18] = kAlphabet[rng() % (sizeof kAlphabet - 1)]; break;
      case 2: id[rng() % 18] = static_cast<char>('0' + rng() % 10); break;  // mostly wrong check
      case 3: id.resize(rng() % 20); break;
      case 4: id.replace(6, 4, std::to_string(1800 + rng() % 300)); break;  // old, future years
      case 5: {  // months 00-13, days 00-32
        char md[8];
        std::snprintf(md, sizeof md, "%02d%02d", static_cast<int>(rng() % 14), static_cast<int>(rng() % 33));
        id.replace(10, 4, md);
        break;
      }
    }
    if (id.size() == 18 && rng() % 2) id = id.substr(0, 17) + CitizenIdCheckChar(id.substr(0, 17));
    if (id.size() >= 17 && rng() % 8 == 0) id[17 % id.size()] = 'x';
    uint64_t packed = 0;
    const IdProblem p = ValidateAndPackCitizenId(id, today, &packed);
    auto want = ParseCitizenId(id);
    ASSERT_EQ(p == IdProblem::kNone, want.ok()) << id;
    if (want.ok()) {
      ++valid;
      ASSERT_EQ(packed, PackCitizenId(want->normalized)) << id;
    } else {
      ++invalid;
      ASSERT_EQ(std::string(IdProblemMessage(p)), want.status().message()) << id;
    }
  }
  EXPECT_GT(valid, 50000);
  EXPECT_GT(invalid, 50000);
}

TEST(IdValidation, ReasonsAndPackingAreInjective) {
  uint64_t a = 0, b = 0;
  EXPECT_EQ(ValidateAndPackCitizenId("11010519491231002X", kToday, &a), IdProblem::kNone);
  EXPECT_EQ(ValidateAndPackCitizenId("11010519491231002x", kToday, &b), IdProblem::kNone);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, PackCitizenId("11010519491231002X"));
  EXPECT_EQ(ValidateAndPackCitizenId("110105194912310021", kToday, &a), IdProblem::kCheckMismatch);
  EXPECT_EQ(ValidateAndPackCitizenId(WithCheck("37072520270101001"), kToday, &a), IdProblem::kFutureBirthDate);
  EXPECT_EQ(ValidateAndPackCitizenId(WithCheck("37072518991231001"), kToday, &a), IdProblem::kBadBirthDate);
  EXPECT_EQ(ValidateAndPackCitizenId("3707251980010100", kToday, &a), IdProblem::kLength);
  EXPECT_EQ(ValidateAndPackCitizenId(WithCheck("37072519800101001") + "9", kToday, &a), IdProblem::kLength);
  // Calendar: 1900 is not a leap year, 2000 is.
  for (auto [date, ok] : std::vector<std::pair<std::string, bool>>{
           {"19000229", false}, {"20000229", true}, {"19960229", true}, {"19970229", false},
           {"19800431", false}, {"19801231", true}, {"19800100", false}, {"19800132", false},
           {"19000101", true}, {"18991231", false}, {"19801301", false}, {"19800001", false}}) {
    const IdProblem p = ValidateAndPackCitizenId(WithCheck("370725" + date + "001"), kToday, &a);
    EXPECT_EQ(p, ok ? IdProblem::kNone : IdProblem::kBadBirthDate) << date;
  }
  EXPECT_STREQ(IdProblemReason(IdProblem::kCheckMismatch), "check_mismatch");
  // Ids differing only in the check character pack differently (no X/digit collision).
  std::set<uint64_t> seen;
  for (char c : std::string("0123456789X")) {
    std::string id = "11010519491231002";
    id += c;
    seen.insert(PackCitizenId(id));
  }
  EXPECT_EQ(seen.size(), 11u);
}

// ------------------------------------------------------------------------------------------
// Matching against a naive join.

struct Generated {
  std::string csv;
  std::vector<std::pair<uint64_t, uint32_t>> matches;  // (line, registry row)
  std::vector<uint64_t> invalid_lines;
  uint64_t rows = 0;
};

// Registry ids, and a feed whose expected result comes from ParseCitizenId and an
// unordered_map, independently of the engine.
Generated MakeFeed(std::mt19937_64& rng, const std::vector<std::string>& registry, int rows, bool crlf) {
  std::unordered_map<std::string, uint32_t> by_id;
  for (size_t i = 0; i < registry.size(); ++i) by_id.emplace(registry[i], static_cast<uint32_t>(i));
  Generated g;
  const char* eol = crlf ? "\r\n" : "\n";
  g.csv = std::string("citizen_id,date,amount,note") + eol;
  uint64_t line = 1;
  for (int i = 0; i < rows; ++i) {
    ++line;
    if (rng() % 50 == 0) {  // blank lines
      g.csv += (rng() % 2) ? std::string(eol) : ",,," + std::string(eol);
      continue;
    }
    std::string id;
    const int kind = static_cast<int>(rng() % 10);
    if (kind < 2) {
      id = registry[rng() % registry.size()];
      if (id.back() == 'X' && rng() % 2) id = Lower(id);
    } else if (kind < 8) {
      id = RandomId(rng);
    } else {
      id = RandomId(rng);
      id[rng() % 18] = "0123456789Xa "[rng() % 13];
      if (rng() % 4 == 0) id.resize(rng() % 18);
      if (rng() % 4 == 0) id = registry[rng() % registry.size()] + static_cast<char>('0' + rng() % 10);
    }
    std::string field = id;
    if (rng() % 8 == 0) field = "\"" + id + "\"";
    if (rng() % 16 == 0) field = " " + id + "\t";
    std::string note = (rng() % 4 == 0) ? "\"a, \"\"b\"\"\"" : "n" + std::to_string(rng() % 100);
    g.csv += field + ",2026-03-0" + std::to_string(1 + rng() % 9) + "," + std::to_string(rng() % 100000) + "." +
             std::to_string(10 + rng() % 90) + "," + note + eol;
    ++g.rows;
    auto parsed = ParseCitizenId(id);
    if (!parsed.ok()) {
      g.invalid_lines.push_back(line);
      continue;
    }
    auto it = by_id.find(parsed->normalized);
    if (it != by_id.end()) g.matches.emplace_back(line, it->second);
  }
  return g;
}

std::vector<std::string> RandomRegistry(std::mt19937_64& rng, size_t n) {
  std::set<std::string> seen;
  std::vector<std::string> ids;
  while (ids.size() < n) {
    std::string id = RandomId(rng);
    if (seen.insert(id).second) ids.push_back(id);
  }
  return ids;
}

TEST(MatchFeed, FindsExactlyTheNaiveJoin) {
  std::mt19937_64 rng(20260315);
  const std::vector<std::string> registry = RandomRegistry(rng, 3000);
  const RegistryIndex index = IndexOf(registry);
  ASSERT_EQ(index.size(), registry.size());
  const Generated g = MakeFeed(rng, registry, 20000, false);
  ASSERT_GT(g.matches.size(), 1000u);
  ASSERT_GT(g.invalid_lines.size(), 500u);
  const CsvLayout layout;
  for (auto [threads, block] : std::vector<std::pair<int, size_t>>{{1, 1 << 20}, {2, 4096}, {2, 61}, {3, 7}}) {
    SCOPED_TRACE("threads " + std::to_string(threads) + ", block " + std::to_string(block));
    ScanOptions options = Options(threads, block);
    options.max_errors = 1000000;
    const Outcome run = MatchBytes(index, g.csv, layout, options);
    std::vector<std::pair<uint64_t, uint32_t>> got;
    for (const Found& f : run.found) got.emplace_back(f.line, f.row);
    EXPECT_EQ(got, g.matches);  // same matches, in file order
    EXPECT_EQ(run.report.matched, g.matches.size());
    EXPECT_EQ(run.report.rows, g.rows);
    EXPECT_EQ(run.report.invalid, g.invalid_lines.size());
    std::vector<uint64_t> error_lines;
    for (const RowError& e : run.report.errors) error_lines.push_back(e.line);
    EXPECT_EQ(error_lines, g.invalid_lines);
    for (const Found& f : run.found) {
      ASSERT_EQ(f.fields.size(), 4u);
      EXPECT_EQ(f.fields[1].substr(0, 8), "2026-03-");
    }
  }
  // The file path gives the same answer as the bytes.
  TempFile file(g.csv);
  size_t n = 0;
  auto r = MatchFeedFile(index, file.path(), layout, Options(2, 100000),
                         [&](std::span<const FeedMatch> b) { n += b.size(); });
  ASSERT_TRUE(r.ok()) << r.status().detail();
  EXPECT_EQ(r->matched, g.matches.size());
  EXPECT_EQ(n, g.matches.size());
  EXPECT_EQ(r->invalid, g.invalid_lines.size());
  EXPECT_EQ(r->errors.size(), 100u);  // default max_errors
  EXPECT_EQ(r->errors[0].line, g.invalid_lines[0]);
}

TEST(MatchFeed, CrlfLineEndingsGiveTheSameResult) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> registry = RandomRegistry(rng, 500);
  const RegistryIndex index = IndexOf(registry);
  std::mt19937_64 a(99), b(99);
  const Generated lf = MakeFeed(a, registry, 3000, false);
  const Generated crlf = MakeFeed(b, registry, 3000, true);
  ASSERT_EQ(lf.matches, crlf.matches);
  const Outcome x = MatchBytes(index, lf.csv, CsvLayout{}, Options(2, 333));
  const Outcome y = MatchBytes(index, crlf.csv, CsvLayout{}, Options(2, 333));
  EXPECT_EQ(x.found, y.found);  // fields too: no "\r" left on the last field
  EXPECT_EQ(y.report.invalid, crlf.invalid_lines.size());
  EXPECT_EQ(y.found.size(), crlf.matches.size());
  for (const Found& f : y.found) EXPECT_EQ(f.fields.back().find('\r'), std::string::npos);
}

// ------------------------------------------------------------------------------------------
// Invalid rows, quoting, headers, boundaries.

TEST(MatchFeed, ReportsInvalidRowsWithLineNumbersAndReasons) {
  std::mt19937_64 rng(1);
  const std::string known = RandomId(rng);
  const RegistryIndex index = IndexOf({known});
  std::string wrong_check = known;
  wrong_check[17] = known[17] == '1' ? '2' : '1';
  const std::string csv = "citizen_id,amount\n" +           // 1
                          known + ",1\n" +                  // 2 matched
                          wrong_check + ",2\n" +            // 3
                          WithCheck("37072519801301001") + ",3\n" +  // 4 month 13
                          "12345,4\n" +                     // 5 short
                          RandomId(rng) + ",5\n" +          // 6 valid, not registered
                          WithCheck("37072520270101001") + ",6\n" +  // 7 born after today
                          "37072519800101001A,7\n" +        // 8
                          "3707251980a101001X,8\n" +        // 9
                          known + "7,9\n" +                 // 10 a registered id plus a digit
                          "\n" +                            // 11 blank
                          WithCheck("37072519810229001") + ",9";  // 12 not a leap year, no "\n"
  const Outcome run = MatchBytes(index, csv, CsvLayout{}, Options());
  ASSERT_EQ(run.found.size(), 1u);
  EXPECT_EQ(run.found[0].line, 2u);
  EXPECT_EQ(run.found[0].row, 0u);
  EXPECT_EQ(run.found[0].fields, (std::vector<std::string>{known, "1"}));
  const std::vector<std::pair<uint64_t, IdProblem>> want = {
      {3, IdProblem::kCheckMismatch}, {4, IdProblem::kBadBirthDate}, {5, IdProblem::kLength},
      {7, IdProblem::kFutureBirthDate}, {8, IdProblem::kCheckSyntax}, {9, IdProblem::kNotDigits},
      {10, IdProblem::kLength}, {12, IdProblem::kBadBirthDate}};
  std::vector<std::pair<uint64_t, IdProblem>> got;
  for (const RowError& e : run.report.errors) got.emplace_back(e.line, e.problem);
  EXPECT_EQ(got, want);
  EXPECT_EQ(run.report.invalid, 8u);
  EXPECT_EQ(run.report.rows, 10u);
  EXPECT_EQ(run.report.lines, 12u);
  EXPECT_EQ(run.report.blank_lines, 1u);
  EXPECT_EQ(run.report.matched, 1u);
}

TEST(MatchFeed, LowerCaseXIsNormalized) {
  std::mt19937_64 rng(2);
  const std::string upper = IdWithCheckX(rng), other = IdWithCheckX(rng);
  // Registry upper-case, feed lower-case; and the other way round.
  const RegistryIndex index = IndexOf({upper, Lower(other)});
  const Outcome run = MatchBytes(index, Lower(upper) + "\n" + other + "\n", Layout(false), Options());
  ASSERT_EQ(run.found.size(), 2u);
  EXPECT_EQ(run.found[0].row, 0u);
  EXPECT_EQ(run.found[1].row, 1u);
  // Upper and lower case are one person in a registry.
  const std::string lower = Lower(upper);
  std::vector<std::string_view> both = {upper, lower};
  auto dup = RegistryIndex::FromIds(both, kToday);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Code::kConflict);
  EXPECT_EQ(dup.status().field(), "ids[1]");
}

TEST(MatchFeed, QuotedFieldsAndIdColumnByName) {
  std::mt19937_64 rng(3);
  const std::string a = RandomId(rng), b = RandomId(rng), c = RandomId(rng), d = RandomId(rng);
  const RegistryIndex index = IndexOf({a, b, c, d});
  const std::string csv =
      "name,\"备注, 说明\",身份证号\n"
      "\"Wang, \"\"Er\"\"\",x,\"" + a + "\"\n"   // quoted fields before the id, commas inside
      "王二,\"a,b\",  " + b + " \n"             // spaces around the id
      "张三,,\"" + c + "\",extra\n"             // more columns than the header
      "李四,\"unterminated," + d + "\n";        // the open quote swallows the id: missing column
  CsvLayout layout;
  layout.id_column_name = "身份证号";
  const Outcome run = MatchBytes(index, csv, layout, Options(2, 5));
  ASSERT_EQ(run.found.size(), 3u);
  EXPECT_EQ(run.found[0].fields, (std::vector<std::string>{"Wang, \"Er\"", "x", a}));
  EXPECT_EQ(run.found[1].fields, (std::vector<std::string>{"王二", "a,b", "  " + b + " "}));
  EXPECT_EQ(run.found[2].fields, (std::vector<std::string>{"张三", "", c, "extra"}));
  EXPECT_EQ(run.found[2].line, 4u);
  ASSERT_EQ(run.report.errors.size(), 1u);
  EXPECT_EQ(run.report.errors[0].line, 5u);
  EXPECT_EQ(run.report.errors[0].problem, IdProblem::kMissingColumn);
  // The same by index.
  CsvLayout by_index;
  by_index.id_column = 2;
  EXPECT_EQ(MatchBytes(index, csv, by_index, Options(1)).found, run.found);
  EXPECT_EQ(SplitCsvRow("a,\"b,\"\"c\"\"\",,\"d\"x"), (std::vector<std::string>{"a", "b,\"c\"", "", "dx"}));
  EXPECT_EQ(SplitCsvRow("a\tb", '\t'), (std::vector<std::string>{"a", "b"}));
}

TEST(MatchFeed, HeaderHandling) {
  std::mt19937_64 rng(4);
  const std::string a = RandomId(rng);
  const RegistryIndex index = IndexOf({a});
  // Without a header, line 1 is data.
  Outcome run = MatchBytes(index, a + ",1\n" + a + ",2\n", Layout(false), Options());
  ASSERT_EQ(run.found.size(), 2u);
  EXPECT_EQ(run.found[0].line, 1u);
  EXPECT_EQ(run.report.rows, 2u);
  // With one, line 1 is never matched, even when it holds an id.
  run = MatchBytes(index, a + ",1\n" + a + ",2\n", CsvLayout{}, Options());
  ASSERT_EQ(run.found.size(), 1u);
  EXPECT_EQ(run.found[0].line, 2u);
  EXPECT_EQ(run.report.rows, 1u);
  // A byte-order mark before the header, and a tab-delimited file.
  CsvLayout tabs;
  tabs.delimiter = '\t';
  tabs.id_column_name = "sfz";
  run = MatchBytes(index, "\xEF\xBB\xBFname\tsfz\n张三\t" + a + "\n", tabs, Options());
  ASSERT_EQ(run.found.size(), 1u);
  EXPECT_EQ(run.found[0].fields[0], "张三");
  // A byte-order mark without a header: the first id still matches.
  run = MatchBytes(index, "\xEF\xBB\xBF" + a + "\n", Layout(false), Options());
  EXPECT_EQ(run.found.size(), 1u);
  // Unknown column name, or a name without a header.
  CsvLayout missing;
  missing.id_column_name = "citizen_id";
  auto r = MatchFeedBytes(index, "name,id\n", missing, Options(), nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "id_column_name");
  missing.has_header = false;
  EXPECT_FALSE(MatchFeedBytes(index, "x\n", missing, Options(), nullptr).ok());
  CsvLayout quote;
  quote.delimiter = '"';
  EXPECT_EQ(MatchFeedBytes(index, "x\n", quote, Options(), nullptr).status().field(), "delimiter");
}

TEST(MatchFeed, EmptyFilesAndHeaderOnly) {
  std::mt19937_64 rng(5);
  const RegistryIndex index = IndexOf({RandomId(rng)});
  for (const std::string csv : {"", "citizen_id,amount\n", "citizen_id,amount", "\xEF\xBB\xBF", "\n\n"}) {
    for (bool header : {true, false}) {
      Outcome run = MatchBytes(index, csv, Layout(header), Options(2, 1));
      EXPECT_EQ(run.report.matched, 0u);
      EXPECT_EQ(run.report.invalid, header || csv.size() < 5 ? 0u : 1u) << csv;
      TempFile file(csv);
      auto r = MatchFeedFile(index, file.path(), Layout(header), Options(), nullptr);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->rows, run.report.rows);
      EXPECT_EQ(r->lines, run.report.lines);
    }
  }
  TempFile empty("");
  auto r = MatchFeedFile(index, empty.path(), CsvLayout{}, Options(), nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lines, 0u);
  EXPECT_EQ(r->rows, 0u);
  auto missing = MatchFeedFile(index, "/nonexistent/feed.csv", CsvLayout{}, Options(), nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST(MatchFeed, RowsSplitAcrossBlockBoundaries) {
  std::mt19937_64 rng(6);
  const std::vector<std::string> registry = RandomRegistry(rng, 50);
  const RegistryIndex index = IndexOf(registry);
  const Generated g = MakeFeed(rng, registry, 60, true);
  const Outcome whole = MatchBytes(index, g.csv, CsvLayout{}, Options(1, 1 << 20));
  ASSERT_FALSE(whole.found.empty());
  for (size_t block = 1; block <= 100; ++block) {
    for (int threads : {1, 2, 3}) {
      const Outcome run = MatchBytes(index, g.csv, CsvLayout{}, Options(threads, block));
      ASSERT_EQ(run.found, whole.found) << "block " << block << ", threads " << threads;
      ASSERT_EQ(run.report.errors.size(), whole.report.errors.size());
      for (size_t i = 0; i < run.report.errors.size(); ++i)
        ASSERT_EQ(run.report.errors[i].line, whole.report.errors[i].line) << "block " << block;
      ASSERT_EQ(run.report.lines, whole.report.lines);
      ASSERT_EQ(run.report.blank_lines, whole.report.blank_lines);
    }
  }
  // Files read with pread: a row longer than the 4 KiB look-ahead crosses many blocks.
  const std::string long_row = registry[0] + "," + std::string(20000, 'z') + "\n";
  const std::string csv = "id,x\n" + long_row + registry[1] + ",1\n" + long_row;
  TempFile file(csv);
  for (size_t block : {size_t{1}, size_t{100}, size_t{4096}, size_t{5000}, size_t{1} << 20}) {
    std::vector<uint64_t> lines;
    auto r = MatchFeedFile(index, file.path(), CsvLayout{}, Options(2, block), [&](std::span<const FeedMatch> b) {
      for (const FeedMatch& m : b) {
        lines.push_back(m.line);
        EXPECT_EQ(m.fields.size(), 2u);
      }
    });
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(lines, (std::vector<uint64_t>{2, 3, 4})) << "block " << block;
  }
}

TEST(MatchFeed, ProgressCancelAndCountsOnly) {
  std::mt19937_64 rng(8);
  const std::vector<std::string> registry = RandomRegistry(rng, 100);
  const RegistryIndex index = IndexOf(registry);
  const Generated g = MakeFeed(rng, registry, 2000, false);
  ScanOptions options = Options(2, 1000);
  uint64_t last = 0, calls = 0;
  bool ordered = true;
  options.on_progress = [&](uint64_t done, uint64_t total) {
    ordered = ordered && done > last && total == g.csv.size();
    last = done;
    ++calls;
  };
  options.with_fields = false;
  auto r = MatchFeedBytes(index, g.csv, CsvLayout{}, options, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->matched, g.matches.size());
  EXPECT_TRUE(ordered);
  EXPECT_EQ(last, g.csv.size());
  EXPECT_GT(calls, 10u);
  std::atomic<bool> cancel{true};
  options.cancel = &cancel;
  auto c = MatchFeedBytes(index, g.csv, CsvLayout{}, options, nullptr);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
}

// ------------------------------------------------------------------------------------------
// The registry.

TEST(RegistryIndex, FromCsvReportsInvalidAndDuplicateRowsAndKeepsOrdinals) {
  std::mt19937_64 rng(9);
  const std::string a = RandomId(rng), b = IdWithCheckX(rng), c = RandomId(rng);
  const std::string csv =
      "citizen_id,name,household_id\r\n"  // 1
      + a + ",张三,1\r\n"                   // 2 row 0
      "bad,李四,1\r\n"                      // 3 row 1 invalid
      "\r\n"                                // 4 blank
      + Lower(b) + ",王五,2\r\n"           // 5 row 2
      + a + ",张三,3\r\n"                   // 6 row 3 duplicate of row 0
      + b + ",王五,2\r\n"                   // 7 row 4 duplicate of row 2 (x = X)
      + c + ",赵六,4";                      // 8 row 5
  for (size_t block : {size_t{1}, size_t{13}, size_t{1} << 20}) {
    ScanReport report;
    auto index = RegistryIndex::FromCsvBytes(csv, CsvLayout{}, Options(2, block), &report);
    ASSERT_TRUE(index.ok());
    EXPECT_EQ(index->size(), 3u);
    EXPECT_EQ(index->Find(Pack(a)), std::optional<uint32_t>(0));
    EXPECT_EQ(index->Find(Pack(b)), std::optional<uint32_t>(2));
    EXPECT_EQ(index->Find(Pack(c)), std::optional<uint32_t>(5));
    EXPECT_EQ(index->Find(Pack(RandomId(rng))), std::nullopt);
    EXPECT_EQ(report.rows, 6u);
    EXPECT_EQ(report.lines, 8u);
    EXPECT_EQ(report.invalid, 1u);
    EXPECT_EQ(report.duplicates, 2u);
    std::vector<std::pair<uint64_t, IdProblem>> got;
    for (const RowError& e : report.errors) got.emplace_back(e.line, e.problem);
    EXPECT_EQ(got, (std::vector<std::pair<uint64_t, IdProblem>>{
                       {3, IdProblem::kLength}, {6, IdProblem::kDuplicate}, {7, IdProblem::kDuplicate}}));
  }
  TempFile file(csv);
  ScanReport report;
  auto index = RegistryIndex::FromCsvFile(file.path(), CsvLayout{}, Options(), &report);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->size(), 3u);
  EXPECT_EQ(report.duplicates, 2u);
  EXPECT_EQ(RegistryIndex::FromCsvFile("/nonexistent.csv", CsvLayout{}, Options(), nullptr).status().code(),
            Code::kNotFound);
}

TEST(RegistryIndex, GrowsWhenTheFirstLinesUnderestimateTheRows) {
  // The table is sized from the line length of the first MiB: here one long row, then many
  // short ones, so it must grow (several times) while inserting.
  std::mt19937_64 rng(12);
  const std::vector<std::string> ids = RandomRegistry(rng, 60000);
  std::string csv = "citizen_id,name\n" + ids[0] + "," + std::string(1 << 20, 'n') + "\n";
  for (size_t i = 1; i < ids.size(); ++i) csv += ids[i] + ",x\n";
  for (int threads : {1, 2}) {
    ScanReport report;
    auto index = RegistryIndex::FromCsvBytes(csv, CsvLayout{}, Options(threads, 1 << 16), &report);
    ASSERT_TRUE(index.ok());
    EXPECT_EQ(index->size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(index->Find(Pack(ids[i])), std::optional<uint32_t>(i));
  }
}

TEST(RegistryIndex, LargeIndexFindsAllAndOnlyItsKeys) {
  std::mt19937_64 rng(10);
  std::vector<std::string> ids = RandomRegistry(rng, 240000);
  std::vector<uint64_t> packed;
  for (size_t i = 0; i < 200000; ++i) packed.push_back(Pack(ids[i]));
  auto index = RegistryIndex::FromPacked(packed);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->size(), packed.size());
  EXPECT_LE(index->memory_bytes(), 24u * packed.size());  // table + filter
  for (size_t i = 0; i < packed.size(); ++i) ASSERT_EQ(index->Find(packed[i]), std::optional<uint32_t>(i));
  for (size_t i = 200000; i < ids.size(); ++i) ASSERT_EQ(index->Find(Pack(ids[i])), std::nullopt);
  // Garbage and repeats are refused.
  std::vector<uint64_t> zero = {packed[0], 0};
  EXPECT_EQ(RegistryIndex::FromPacked(zero).status().field(), "ids[1]");
  std::vector<uint64_t> huge = {packed[0], packed[1], ~uint64_t{0}};
  EXPECT_EQ(RegistryIndex::FromPacked(huge).status().field(), "ids[2]");
  std::vector<uint64_t> repeat = {packed[0], packed[1], packed[0]};
  auto r = RegistryIndex::FromPacked(repeat);
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_EQ(r.status().field(), "ids[2]");
  std::vector<std::string_view> invalid = {ids[0], "110105194912310021"};
  EXPECT_EQ(RegistryIndex::FromIds(invalid, kToday).status().message(), "身份证号校验位错误");
  // An empty registry matches nothing.
  auto empty = RegistryIndex::FromPacked({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(MatchBytes(*empty, ids[0] + "\n", Layout(false), Options()).report.matched, 0u);
}

}  // namespace
}  // namespace doudi::monitoring
