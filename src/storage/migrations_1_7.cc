// Migrations 1 to 7: the foundation, the policy overlay, the workflow, monitoring and screening.
// Never edit a migration that has shipped (a migrated database must stay as it is).
#include "storage/migrations_list.h"

namespace doudi::storage::internal {

namespace {

constexpr Migration kMigrations[] = {
    {1, "foundation", R"SQL(
CREATE TABLE regions (
  code TEXT PRIMARY KEY,
  parent_code TEXT,
  level TEXT NOT NULL,
  name TEXT NOT NULL,
  population {{BIGINT}} NOT NULL DEFAULT 0,
  version {{BIGINT}} NOT NULL DEFAULT 1
);
CREATE INDEX regions_parent ON regions(parent_code);

CREATE TABLE holidays (
  day TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL
);

CREATE TABLE users (
  id {{PK}},
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  region_code TEXT NOT NULL REFERENCES regions(code),
  department TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until {{BIGINT}} NOT NULL DEFAULT 0,
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id {{BIGINT}} NOT NULL REFERENCES users(id),
  csrf_token TEXT NOT NULL,
  created_at {{BIGINT}} NOT NULL,
  last_seen {{BIGINT}} NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE households (
  id {{PK}},
  county_code TEXT NOT NULL,
  town_code TEXT NOT NULL,
  village_code TEXT NOT NULL REFERENCES regions(code),
  area TEXT NOT NULL,
  residence_address TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  deposits_fen {{BIGINT}} NOT NULL DEFAULT 0,
  vehicles INTEGER NOT NULL DEFAULT 0,
  extra_properties INTEGER NOT NULL DEFAULT 0,
  business INTEGER NOT NULL DEFAULT 0,
  medical_expenditure_fen {{BIGINT}} NOT NULL DEFAULT 0,
  education_expenditure_fen {{BIGINT}} NOT NULL DEFAULT 0,
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX households_county ON households(county_code, id);
CREATE INDEX households_town ON households(town_code, id);
CREATE INDEX households_village ON households(village_code, id);

CREATE TABLE persons (
  id {{PK}},
  household_id {{BIGINT}} NOT NULL REFERENCES households(id),
  citizen_id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  relation TEXT NOT NULL,
  birth_date TEXT NOT NULL,
  sex TEXT NOT NULL,
  disability_kind TEXT,
  disability_grade INTEGER,
  serious_illness INTEGER NOT NULL DEFAULT 0,
  self_care TEXT NOT NULL DEFAULT 'full',
  in_school INTEGER NOT NULL DEFAULT 0,
  employed INTEGER NOT NULL DEFAULT 0,
  has_supporter INTEGER NOT NULL DEFAULT 1,
  income_wage_fen {{BIGINT}} NOT NULL DEFAULT 0,
  income_business_fen {{BIGINT}} NOT NULL DEFAULT 0,
  income_property_fen {{BIGINT}} NOT NULL DEFAULT 0,
  income_transfer_fen {{BIGINT}} NOT NULL DEFAULT 0,
  income_pension_fen {{BIGINT}} NOT NULL DEFAULT 0,
  income_other_fen {{BIGINT}} NOT NULL DEFAULT 0,
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX persons_household ON persons(household_id);
CREATE INDEX persons_name ON persons(name);

CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY,
  seq {{BIGINT}} NOT NULL,
  last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, last_hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_log (
  id {{BIGINT}} PRIMARY KEY,
  at TEXT NOT NULL,
  actor_id {{BIGINT}} NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  region_code TEXT NOT NULL,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);

CREATE TABLE read_log (
  id {{PK}},
  at TEXT NOT NULL,
  actor_id {{BIGINT}} NOT NULL,
  actor TEXT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  region_code TEXT NOT NULL
);
)SQL"},
    // Persons carry their household's region codes so that name and id searches run on
    // covering (scope, name|citizen_id, household_id) indexes instead of visiting every
    // household in scope.
    {2, "person_scope_columns", R"SQL(
ALTER TABLE persons ADD COLUMN county_code TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN town_code TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN village_code TEXT NOT NULL DEFAULT '';
UPDATE persons SET
  county_code = (SELECT h.county_code FROM households h WHERE h.id = persons.household_id),
  town_code = (SELECT h.town_code FROM households h WHERE h.id = persons.household_id),
  village_code = (SELECT h.village_code FROM households h WHERE h.id = persons.household_id);
DROP INDEX persons_name;
CREATE INDEX persons_county_name ON persons(county_code, name, household_id);
CREATE INDEX persons_town_name ON persons(town_code, name, household_id);
CREATE INDEX persons_village_name ON persons(village_code, name, household_id);
CREATE INDEX persons_county_cid ON persons(county_code, citizen_id, household_id);
CREATE INDEX persons_town_cid ON persons(town_code, citizen_id, household_id);
CREATE INDEX persons_village_cid ON persons(village_code, citizen_id, household_id);
)SQL"},
    // County admins' edits of "local setting" parameters: entries added on top of the pack
    // files (docs/policy-packs.md §5). Rows are never updated; a later entry supersedes.
    {3, "policy_overlay", R"SQL(
CREATE TABLE policy_overlay (
  id {{PK}},
  county TEXT NOT NULL,
  param_key TEXT NOT NULL,
  from_date TEXT NOT NULL,
  value TEXT NOT NULL,
  basis TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL,
  actor TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX policy_overlay_county ON policy_overlay(county, param_key, from_date);
)SQL"},
    // The application workflow (docs/workflow.md): applications and their steps, notices,
    // enrollments, referrals, credit lists, relatives of staff, act-first emergency help and
    // the towns' reserve funds.
    {4, "workflow", R"SQL(
CREATE TABLE applications (
  id {{PK}},
  case_no TEXT NOT NULL UNIQUE,
  county_code TEXT NOT NULL,
  town_code TEXT NOT NULL,
  village_code TEXT NOT NULL REFERENCES regions(code),
  household_id {{BIGINT}} REFERENCES households(id),
  channel TEXT NOT NULL,
  programs TEXT NOT NULL,
  state TEXT NOT NULL,
  applicant_name TEXT NOT NULL,
  applicant_citizen_id TEXT NOT NULL,
  applicant_phone TEXT NOT NULL DEFAULT '',
  authorization_signed INTEGER NOT NULL DEFAULT 0,
  commitment_signed INTEGER NOT NULL DEFAULT 0,
  staff_relative INTEGER NOT NULL DEFAULT 0,
  escalated INTEGER NOT NULL DEFAULT 0,
  delegated INTEGER NOT NULL DEFAULT 0,
  received_at TEXT NOT NULL,
  accepted_at TEXT,
  due_date TEXT,
  extended INTEGER NOT NULL DEFAULT 0,
  missing_items TEXT NOT NULL DEFAULT '[]',
  visit TEXT,
  verification TEXT,
  determinations TEXT,
  town_opinion TEXT,
  notice_starts TEXT,
  notice_ends TEXT,
  decided_at TEXT,
  decision TEXT,
  decision_note TEXT,
  description TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX applications_county ON applications(county_code, id);
CREATE INDEX applications_town ON applications(town_code, id);
CREATE INDEX applications_village ON applications(village_code, id);
CREATE INDEX applications_household ON applications(household_id);

CREATE TABLE objections (
  id {{PK}},
  application_id {{BIGINT}} NOT NULL REFERENCES applications(id),
  content TEXT NOT NULL,
  by_name TEXT NOT NULL DEFAULT '',
  recorded_by TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  answer TEXT,
  answered_by TEXT,
  answered_at TEXT
);
CREATE INDEX objections_application ON objections(application_id);

CREATE TABLE notices (
  id {{PK}},
  application_id {{BIGINT}} REFERENCES applications(id),
  enrollment_id {{BIGINT}},
  village_code TEXT NOT NULL,
  kind TEXT NOT NULL,
  html TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX notices_application ON notices(application_id);

CREATE TABLE enrollments (
  id {{PK}},
  household_id {{BIGINT}} NOT NULL REFERENCES households(id),
  application_id {{BIGINT}} REFERENCES applications(id),
  county_code TEXT NOT NULL,
  town_code TEXT NOT NULL,
  village_code TEXT NOT NULL,
  program TEXT NOT NULL,
  covered TEXT NOT NULL,
  monthly_fen {{BIGINT}} NOT NULL,
  one_off_fen {{BIGINT}} NOT NULL DEFAULT 0,
  first_paid_month TEXT NOT NULL,
  status TEXT NOT NULL,
  next_review_date TEXT,
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX enrollments_county ON enrollments(county_code, id);
CREATE INDEX enrollments_town ON enrollments(town_code, id);
CREATE INDEX enrollments_village ON enrollments(village_code, id);
CREATE INDEX enrollments_household ON enrollments(household_id);

CREATE TABLE referrals (
  id {{PK}},
  application_id {{BIGINT}} REFERENCES applications(id),
  household_id {{BIGINT}} NOT NULL REFERENCES households(id),
  county_code TEXT NOT NULL,
  town_code TEXT NOT NULL,
  village_code TEXT NOT NULL,
  kind TEXT NOT NULL,
  department TEXT NOT NULL,
  department_label TEXT NOT NULL,
  triggers TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  due_date TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX referrals_county ON referrals(county_code, department, id);

CREATE TABLE credit_entries (
  id {{PK}},
  county_code TEXT NOT NULL,
  citizen_id TEXT NOT NULL,
  name TEXT NOT NULL,
  list TEXT NOT NULL,
  reason TEXT NOT NULL,
  owed_fen {{BIGINT}} NOT NULL DEFAULT 0,
  repaid_at TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX credit_entries_citizen ON credit_entries(citizen_id);

CREATE TABLE staff_relatives (
  id {{PK}},
  county_code TEXT NOT NULL,
  citizen_id TEXT NOT NULL,
  name TEXT NOT NULL,
  staff_name TEXT NOT NULL,
  relation TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX staff_relatives_citizen ON staff_relatives(citizen_id);

CREATE TABLE reserve_funds (
  town_code TEXT PRIMARY KEY REFERENCES regions(code),
  county_code TEXT NOT NULL,
  balance_fen {{BIGINT}} NOT NULL DEFAULT 0
);

CREATE TABLE emergency_aid (
  id {{PK}},
  county_code TEXT NOT NULL,
  town_code TEXT NOT NULL,
  household_id {{BIGINT}} REFERENCES households(id),
  person_name TEXT NOT NULL,
  citizen_id TEXT NOT NULL,
  hukou_division TEXT NOT NULL,
  kind TEXT NOT NULL,
  loss_fen {{BIGINT}} NOT NULL,
  amount_fen {{BIGINT}} NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  approver TEXT,
  paid_at TEXT,
  paperwork_completed INTEGER NOT NULL DEFAULT 0,
  case_conference TEXT,
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX emergency_aid_town ON emergency_aid(town_code, id);

CREATE TABLE reserve_movements (
  id {{PK}},
  town_code TEXT NOT NULL,
  amount_fen {{BIGINT}} NOT NULL,
  reason TEXT NOT NULL,
  emergency_aid_id {{BIGINT}},
  actor TEXT NOT NULL,
  at TEXT NOT NULL
);
)SQL"},
    // Dynamic management of enrollments, scanned signed pages, and cross-region verification
    // requests for residence-permit applications.
    {5, "workflow_followup", R"SQL(
ALTER TABLE enrollments ADD COLUMN ends_on TEXT;
ALTER TABLE enrollments ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN hukou_county TEXT NOT NULL DEFAULT '';

CREATE TABLE attachments (
  id {{PK}},
  application_id {{BIGINT}} NOT NULL REFERENCES applications(id),
  village_code TEXT NOT NULL,
  kind TEXT NOT NULL,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size_bytes {{BIGINT}} NOT NULL,
  sha256 TEXT NOT NULL,
  data_base64 TEXT NOT NULL,
  uploaded_by TEXT NOT NULL,
  uploaded_at TEXT NOT NULL
);
CREATE INDEX attachments_application ON attachments(application_id);

CREATE TABLE verification_requests (
  id {{PK}},
  application_id {{BIGINT}} NOT NULL REFERENCES applications(id),
  from_county TEXT NOT NULL,
  to_county TEXT NOT NULL,
  citizen_id TEXT NOT NULL,
  applicant_name TEXT NOT NULL,
  status TEXT NOT NULL,
  answer TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  answered_by TEXT,
  answered_at TEXT
);
CREATE INDEX verification_requests_to ON verification_requests(to_county, id);
)SQL"},
    // Dynamic monitoring (docs/feeds.md, docs/monitoring.md): imported department feeds (the
    // converted file is kept for the batch engine), their valid rows, monthly runs and alerts.
    {6, "monitoring", R"SQL(
CREATE TABLE feed_files (
  id {{PK}},
  county_code TEXT NOT NULL,
  source TEXT NOT NULL,
  month TEXT NOT NULL,
  filename TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  encoding TEXT NOT NULL,
  content TEXT NOT NULL,
  rows_total {{BIGINT}} NOT NULL,
  rows_imported {{BIGINT}} NOT NULL,
  rows_invalid {{BIGINT}} NOT NULL,
  problems TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  imported_at TEXT NOT NULL,
  UNIQUE (county_code, source, month, sha256)
);
CREATE INDEX feed_files_month ON feed_files(county_code, month);

CREATE TABLE feed_rows (
  id {{PK}},
  file_id {{BIGINT}} NOT NULL REFERENCES feed_files(id),
  line {{BIGINT}} NOT NULL,
  citizen_id TEXT NOT NULL,
  fields TEXT NOT NULL
);
CREATE INDEX feed_rows_file ON feed_rows(file_id, line);
CREATE INDEX feed_rows_citizen ON feed_rows(citizen_id);

CREATE TABLE monitor_runs (
  id {{PK}},
  county_code TEXT NOT NULL,
  month TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  persons {{BIGINT}} NOT NULL DEFAULT 0,
  feed_rows {{BIGINT}} NOT NULL DEFAULT 0,
  matched {{BIGINT}} NOT NULL DEFAULT 0,
  alerts_raised {{BIGINT}} NOT NULL DEFAULT 0,
  actor TEXT NOT NULL
);

CREATE TABLE alerts (
  id {{PK}},
  indicator TEXT NOT NULL,
  category TEXT NOT NULL,
  severity TEXT NOT NULL,
  citizen_id TEXT NOT NULL,
  person_name TEXT NOT NULL,
  household_id {{BIGINT}},
  county_code TEXT NOT NULL,
  town_code TEXT NOT NULL,
  village_code TEXT NOT NULL,
  month TEXT NOT NULL,
  details TEXT NOT NULL,
  status TEXT NOT NULL,
  due_date TEXT NOT NULL,
  resolution TEXT,
  confirmed INTEGER,
  application_id {{BIGINT}},
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX alerts_open ON alerts(indicator, citizen_id, status);
CREATE INDEX alerts_town ON alerts(town_code, id);
CREATE INDEX alerts_village ON alerts(village_code, id);
CREATE INDEX alerts_county ON alerts(county_code, id);
)SQL"},
    // Monthly screening (月排查): the village assistants' visit results, one per household and
    // month; monitoring runs record whether they were started by hand or by the schedule; the
    // county's decision on emergency help keeps its reason; a verification request says what to verify.
    {7, "screening", R"SQL(
CREATE TABLE screening_visits (
  id {{PK}},
  county_code TEXT NOT NULL,
  town_code TEXT NOT NULL,
  village_code TEXT NOT NULL,
  household_id {{BIGINT}} NOT NULL REFERENCES households(id),
  month TEXT NOT NULL,
  result TEXT NOT NULL,
  note TEXT NOT NULL,
  visited_on TEXT NOT NULL,
  visited_by TEXT NOT NULL,
  version {{BIGINT}} NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (household_id, month)
);
CREATE INDEX screening_visits_town ON screening_visits(town_code, month);
CREATE INDEX screening_visits_village ON screening_visits(village_code, month);
CREATE INDEX screening_visits_county ON screening_visits(county_code, month);
CREATE INDEX enrollments_review ON enrollments(county_code, status, next_review_date);
ALTER TABLE monitor_runs ADD COLUMN origin TEXT NOT NULL DEFAULT 'manual';
CREATE INDEX monitor_runs_month ON monitor_runs(county_code, month);
ALTER TABLE emergency_aid ADD COLUMN decision_note TEXT;
ALTER TABLE verification_requests ADD COLUMN subject TEXT NOT NULL DEFAULT '';
CREATE INDEX verification_requests_from ON verification_requests(from_county, id);
)SQL"},
};

}  // namespace

std::span<const Migration> MigrationsOneToSeven() { return kMigrations; }

}  // namespace doudi::storage::internal
