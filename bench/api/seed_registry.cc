// bench/api/seed_registry: bulk-loads a county-sized synthetic registry for the API
// benchmark: N households spread over every village of a county, 1–4 persons each, with
// valid citizen ids. Uses Connection::BulkInsert (COPY on PostgreSQL), one transaction.
// Usage: seed_registry --db URL [--county 370725] [--households 200000]
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "common/citizen_id.h"
#include "common/date.h"
#include "storage/database.h"

using doudi::storage::Database;
using Cells = std::vector<std::optional<std::string>>;

namespace {

const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林"};
const char* kGiven[] = {"秀英", "建国", "桂兰", "志强", "玉梅", "海燕", "国庆", "淑珍", "子涵", "浩然", "明", "丽", "伟", "芳", "军", "静"};

// The synthetic registry: household and person rows in the tables' column order (below).
struct Generator {
  std::string county, now;
  std::mt19937_64 rng{42};
  int64_t hid = 0, pid = 0;  // the last ids used
  long seq = 0;              // persons so far
  std::vector<Cells> hrows, prows;

  void Household(long i, const std::string& town, const std::string& village) {
    ++hid;
    hrows.push_back({std::to_string(hid), county, town, village, (i % 5 == 0) ? "urban" : "rural",
                     "合成地址" + std::to_string(i), "", std::to_string((rng() % 50) * 100000), "0", "0", "0", "0", "0",
                     "1", now, now});
    int members = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < members; ++m) Person(m, town, village);
  }

  void Person(int m, const std::string& town, const std::string& village) {
    ++pid;
    ++seq;
    // Persons whose seq differ by a multiple of 336000 share month, day and sequence
    // number; their block (seq / 336000) differs, and so does year mod 5: ids stay unique.
    int block = static_cast<int>(seq / 336000);
    int year = m < 2 ? 1940 + block + 5 * static_cast<int>(rng() % 10) : 2000 + block + 5 * static_cast<int>(rng() % 4);
    char buf[48];
    // Ids use the neighbouring area code 370702 so they never meet the demo persons'.
    std::snprintf(buf, sizeof buf, "370702%04d%02d%02d%03ld", year, static_cast<int>(1 + seq % 12),
                  static_cast<int>(1 + (seq / 12) % 28), (seq / 336) % 1000);
    std::string id17(buf);
    std::string id = id17 + doudi::CitizenIdCheckChar(id17);
    bool male = ((id[16] - '0') % 2) == 1;
    std::string name = std::string(kSurnames[rng() % 16]) + kGiven[rng() % 16];
    prows.push_back({std::to_string(pid), std::to_string(hid), county, town, village, id, name,
                     m == 0 ? "head" : (m == 1 ? "spouse" : "child"),
                     doudi::FormatDate(year, static_cast<int>(1 + seq % 12), static_cast<int>(1 + (seq / 12) % 28)),
                     male ? "male" : "female", now, now});
  }
};

// Both tables in one transaction (COPY on PostgreSQL).
doudi::Status Load(doudi::storage::Connection& conn, const Generator& g) {
  doudi::storage::Transaction tx(conn, true);
  auto s = conn.BulkInsert("households",
                           {"id", "county_code", "town_code", "village_code", "area", "residence_address", "phone",
                            "deposits_fen", "vehicles", "extra_properties", "business", "medical_expenditure_fen",
                            "education_expenditure_fen", "version", "created_at", "updated_at"},
                           g.hrows);
  if (s.ok())
    s = conn.BulkInsert("persons",
                        {"id", "household_id", "county_code", "town_code", "village_code", "citizen_id", "name",
                         "relation", "birth_date", "sex", "created_at", "updated_at"},
                        g.prows);
  if (s.ok()) s = tx.Commit();
  return s;
}

// After the load: statistics for the planner (and, on PostgreSQL, the identities moved on).
void Analyze(Database& db, doudi::storage::Connection& conn) {
  if (db.dialect() == doudi::storage::Dialect::kPostgres) {
    // Identity columns must continue after the explicit ids.
    // One statement at a time: a multi-statement string runs as one implicit transaction, in
    // which VACUUM is not allowed.
    for (const char* sql : {"SELECT setval(pg_get_serial_sequence('households','id'), (SELECT MAX(id) FROM households))",
                            "SELECT setval(pg_get_serial_sequence('persons','id'), (SELECT MAX(id) FROM persons))",
                            "VACUUM ANALYZE households", "VACUUM ANALYZE persons"}) {
      auto st = conn.ExecScript(sql);
      if (!st.ok()) std::cerr << "warning: " << st.detail() << "\n";
    }
  } else {
    conn.ExecScript("ANALYZE");
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, county = "370725";
  long households = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--db") url = argv[i + 1];
    else if (k == "--county") county = argv[i + 1];
    else if (k == "--households") households = std::stol(argv[i + 1]);
  }
  if (url.empty()) {
    std::cerr << "usage: seed_registry --db URL [--county CODE] [--households N]\n";
    return 2;
  }
  auto db = Database::Open(url, 1);
  if (!db.ok()) {
    std::cerr << db.status().message() << "\n";
    return 1;
  }
  auto conn = (*db)->Acquire();
  auto villages = (*conn)->Query("SELECT code, parent_code FROM regions WHERE level = 'village' AND code LIKE ? ORDER BY code",
                                 {county + "%"});
  auto next = (*conn)->Query("SELECT COALESCE(MAX(id), 0) FROM households");
  auto next_person = (*conn)->Query("SELECT COALESCE(MAX(id), 0) FROM persons");
  if (!villages.ok() || villages->empty() || !next.ok() || !next_person.ok()) {
    std::cerr << "regions missing: run doudi migrate first\n";
    return 1;
  }
  Generator g;
  g.county = county;
  g.now = doudi::NowIsoShanghai();
  g.hid = next->rows[0].Int(0);
  g.pid = next_person->rows[0].Int(0);
  g.hrows.reserve(households);
  g.prows.reserve(households * 3);
  size_t nv = villages->rows.size();
  for (long i = 0; i < households; ++i) {
    const auto& v = villages->rows[static_cast<size_t>(i) % nv];  // round-robin: every town gets households
    g.Household(i, v.Text(1), v.Text(0));
  }
  auto s = Load(**conn, g);
  if (!s.ok()) {
    std::cerr << "load failed: " << s.detail() << "\n";
    return 1;
  }
  Analyze(**db, **conn);
  std::cout << "loaded " << households << " households, " << g.prows.size() << " persons\n";
  return 0;
}
