// The registry: regions (county → town → village), households and persons.
//
// Every method takes the acting user and enforces region scope: records outside the
// user's region answer NotFound, exactly like records that do not exist. Every write
// runs in one transaction together with its audit entry; reads of persons are logged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/auth.h"
#include "storage/database.h"

namespace doudi::registry {

struct MonthlyIncome {
  int64_t wage = 0, business = 0, property = 0, transfer = 0, pension = 0, other = 0;
};

struct Disability {
  std::string kind;  // physical|visual|hearing|speech|intellectual|mental|multiple
  int grade = 0;     // 1..4
};

struct PersonInput {
  std::string citizen_id;
  std::string name;
  std::string relation;  // head|spouse|child|parent|sibling|grandchild|grandparent|other
  std::optional<Disability> disability;
  bool serious_illness = false;
  std::string self_care = "full";  // full|partial_loss|full_loss
  bool in_school = false;
  bool employed = false;
  bool has_supporter = true;
  MonthlyIncome income;
};

struct Person : PersonInput {
  int64_t id = 0;
  int64_t version = 0;
  int64_t household_id = 0;
  std::string birth_date;
  std::string sex;  // male|female
};

struct HouseholdFields {
  std::string village_code;
  std::string area;  // urban|rural
  std::string residence_address;
  std::string phone;
  int64_t deposits_fen = 0;
  int64_t vehicles = 0;
  int64_t extra_properties = 0;
  bool business = false;
  int64_t medical_expenditure_fen = 0;
  int64_t education_expenditure_fen = 0;
};

struct HouseholdInput : HouseholdFields {
  std::vector<PersonInput> members;
};

struct Household : HouseholdFields {
  int64_t id = 0;
  int64_t version = 0;
  std::string town_code, county_code, village_name, town_name;
  std::string created_at, updated_at;
  std::vector<Person> members;
};

struct HouseholdSummary {
  int64_t id = 0, version = 0, member_count = 0;
  std::string village_code, village_name, town_name, area, head_name, head_citizen_id, updated_at;
};

struct HouseholdQuery {
  std::string q;       // name substring or citizen id prefix
  std::string region;  // optional sub-region inside the user's scope
  int64_t page = 1;
  int64_t page_size = 20;
};

// One household of the roster (户籍家庭花名册), the registry's Excel export.
struct RosterLine {
  int64_t id = 0, member_count = 0;
  std::string town_name, village_name, area, head_name, head_citizen_id, residence_address, phone, updated_at;
  std::string members;  // "王建国（户主）、李秀英（配偶）"
};
struct Roster {
  std::string region_name;        // the region listed: the filter's, else the user's
  std::string search;             // "" | "检索：王" | "按身份证号检索" (no id in a title)
  std::vector<RosterLine> lines;  // by village, then household
};

struct Region {
  std::string code, parent_code, level, name;
  int64_t population = 0;
  int64_t version = 0;
  std::vector<std::string> path;  // names from the county down (Get only)
};

// Validation shared by the API, the CLI and seeding. Fields are relative ("citizen_id").
Status ValidatePerson(const PersonInput& p);
Status ValidateHouseholdFields(const HouseholdFields& h);

// Thread-safe; methods borrow their own connection.
class RegistryService {
 public:
  explicit RegistryService(storage::Database& db);
  ~RegistryService();

  // Runs a piece of work as of the moment its wait ended (see AwaitFresh).
  using Within = std::function<void(const std::function<void()>&)>;
  // For a server that must not hold a thread while a request waits for the household
  // cache to catch up with the change feed (PostgreSQL; on SQLite each request polls on its
  // own connection and this is not needed): calls `ready`, on another thread, once a poll
  // that started after the call has been applied; work run through its Within sees the
  // cache as of that poll without polling again. `ready` must not block.
  bool SharesPolls() const;
  void AwaitFresh(std::function<void(Within)> ready);

  // A page of household summaries as the API's JSON document.
  Result<std::string> ListHouseholdsJson(const auth::User& actor, const HouseholdQuery& q);
  // Every household the list query finds (all pages: q.page and q.page_size are ignored), for
  // the Excel roster. At most `limit` households, else InvalidArgument on "region" asking
  // for a smaller region. Logged as one read (entity "household_roster", id the region and
  // the search).
  static constexpr int64_t kMaxRoster = 20000;
  Result<Roster> RosterOf(const auth::User& actor, const HouseholdQuery& q, int64_t limit = kMaxRoster);
  Result<Household> GetHousehold(const auth::User& actor, int64_t id);
  // The API's household document (DumpJson), served from the household cache when current.
  Result<std::string> GetHouseholdJson(const auth::User& actor, int64_t id);
  Result<Household> CreateHousehold(const auth::User& actor, const HouseholdInput& in);
  // With `json_doc`, also the API's document of the updated household (DumpJson).
  Result<Household> UpdateHousehold(const auth::User& actor, int64_t id, const HouseholdFields& in,
                                    int64_t version, std::string* json_doc = nullptr);

  Result<Person> GetPerson(const auth::User& actor, int64_t id);
  Result<Person> AddMember(const auth::User& actor, int64_t household_id, const PersonInput& in);
  Result<Person> UpdatePerson(const auth::User& actor, int64_t id, const PersonInput& in, int64_t version);
  Status RemovePerson(const auth::User& actor, int64_t id, int64_t version);

  Result<std::vector<Region>> ListRegions(const auth::User& actor, const std::string& parent);
  Result<Region> GetRegion(const auth::User& actor, const std::string& code);
  Result<Region> SetPopulation(const auth::User& actor, const std::string& code, int64_t population,
                               int64_t version);

  // Logs a read of personal data held outside the registry (an application's record) in the
  // registry's read log. Call it with no connection held: it may wait for the log's commit.
  Status LogRead(const auth::User& actor, std::string_view entity, std::string_view id, std::string_view region) {
    return read_log_.Record(actor.actor(), entity, id, region);
  }

  // A citizen id that is registered already (issue 17 #7): the person who holds it, for the
  // read log (entity "person_id_collision"), so that probing ids through the 409 is traceable.
  struct IdCollision {
    int64_t person_id = 0;  // 0: none
    std::string village_code;
  };

  // Used by seeding and imports: runs inside the caller's transaction, audited as actor.
  // A member whose citizen id is registered already sets *collision (when given) and fails
  // with 409 conflict, naming the household only when it is in the actor's scope.
  Result<int64_t> InsertHousehold(storage::Connection& conn, const auth::User& actor, const HouseholdInput& in,
                                  IdCollision* collision = nullptr);

 private:
  // Logs a collision (after the write's transaction ended: the read log commits on its own).
  Status LogCollision(const auth::User& actor, const IdCollision& c);
  Result<Person> UpdatePersonTx(const auth::User& actor, int64_t id, const PersonInput& in, int64_t version,
                                IdCollision* collision);
  struct Caches;
  storage::Database& db_;
  audit::ReadLog read_log_;
  std::unique_ptr<Caches> caches_;
  audit::WriteQueue writes_;  // after caches_: its last writes fill the cache as it stops
};

// JSON mapping (API shapes, see docs/api.md).
Result<HouseholdInput> HouseholdInputFromJson(const nlohmann::json& j, bool with_members);
Result<PersonInput> PersonInputFromJson(const nlohmann::json& j, const std::string& path);
nlohmann::json ToJson(const Person& p);
nlohmann::json ToJson(const Household& h);
nlohmann::json ToJson(const HouseholdSummary& s);
// The same documents as ToJson(...).dump(), written directly; ages as of `today` (Shanghai).
std::string DumpJson(const Household& h);
std::string DumpJson(const Household& h, const std::string& today);
std::string DumpSummaryJson(const HouseholdSummary& s);
// A household list page from its items' documents (DumpSummaryJson).
std::string DumpPageJson(const std::vector<std::shared_ptr<const std::string>>& items, int64_t total, int64_t page,
                         int64_t page_size);
nlohmann::json ToJson(const Region& r);

}  // namespace doudi::registry
