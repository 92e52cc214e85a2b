#include "storage/migrations.h"

#include <fstream>

#include "common/date.h"

namespace doudi::storage {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;  // {{PK}} and {{BIGINT}} are replaced per dialect
  const char* postgres_sql = nullptr;  // when the dialects need different SQL (triggers)
};

// Never edit a migration that has shipped; add a new one.
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
    // The registry generation: bumped, in the writing transaction, by every change that can
    // change which households a region holds or which households a name / citizen id search
    // finds (household or person inserted, deleted or moved; a name, citizen id or household
    // changed). The API caches household counts and search results per generation and checks
    // the generation in the same statement that reads a page, so cached totals stay exact.
    // It lives on the audit_head row, which every registry write locks anyway: no new lock
    // to order against the chain's.
    {8, "registry_generation", R"SQL(
ALTER TABLE audit_head ADD COLUMN registry_gen INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER households_gen_insert AFTER INSERT ON households
  BEGIN UPDATE audit_head SET registry_gen = registry_gen + 1 WHERE id = 1; END;
CREATE TRIGGER households_gen_delete AFTER DELETE ON households
  BEGIN UPDATE audit_head SET registry_gen = registry_gen + 1 WHERE id = 1; END;
CREATE TRIGGER households_gen_move AFTER UPDATE OF county_code, town_code, village_code ON households
  WHEN OLD.county_code IS NOT NEW.county_code OR OLD.town_code IS NOT NEW.town_code
    OR OLD.village_code IS NOT NEW.village_code
  BEGIN UPDATE audit_head SET registry_gen = registry_gen + 1 WHERE id = 1; END;
CREATE TRIGGER persons_gen_insert AFTER INSERT ON persons
  BEGIN UPDATE audit_head SET registry_gen = registry_gen + 1 WHERE id = 1; END;
CREATE TRIGGER persons_gen_delete AFTER DELETE ON persons
  BEGIN UPDATE audit_head SET registry_gen = registry_gen + 1 WHERE id = 1; END;
CREATE TRIGGER persons_gen_update
  AFTER UPDATE OF name, citizen_id, household_id, county_code, town_code, village_code ON persons
  WHEN OLD.name IS NOT NEW.name OR OLD.citizen_id IS NOT NEW.citizen_id
    OR OLD.household_id IS NOT NEW.household_id OR OLD.county_code IS NOT NEW.county_code
    OR OLD.town_code IS NOT NEW.town_code OR OLD.village_code IS NOT NEW.village_code
  BEGIN UPDATE audit_head SET registry_gen = registry_gen + 1 WHERE id = 1; END;
)SQL", R"SQL(
ALTER TABLE audit_head ADD COLUMN registry_gen BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION registry_gen_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE audit_head SET registry_gen = registry_gen + 1 WHERE id = 1;
  RETURN NULL;
END $$;
CREATE TRIGGER households_gen_change AFTER INSERT OR DELETE OR TRUNCATE ON households
  FOR EACH STATEMENT EXECUTE FUNCTION registry_gen_bump();
CREATE TRIGGER households_gen_move AFTER UPDATE ON households FOR EACH ROW
  WHEN (OLD.county_code IS DISTINCT FROM NEW.county_code OR OLD.town_code IS DISTINCT FROM NEW.town_code
    OR OLD.village_code IS DISTINCT FROM NEW.village_code)
  EXECUTE FUNCTION registry_gen_bump();
CREATE TRIGGER persons_gen_change AFTER INSERT OR DELETE OR TRUNCATE ON persons
  FOR EACH STATEMENT EXECUTE FUNCTION registry_gen_bump();
CREATE TRIGGER persons_gen_update AFTER UPDATE ON persons FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.citizen_id IS DISTINCT FROM NEW.citizen_id
    OR OLD.household_id IS DISTINCT FROM NEW.household_id OR OLD.county_code IS DISTINCT FROM NEW.county_code
    OR OLD.town_code IS DISTINCT FROM NEW.town_code OR OLD.village_code IS DISTINCT FROM NEW.village_code)
  EXECUTE FUNCTION registry_gen_bump();
)SQL"},
    // The registry change feed: every household whose record (its row or any member's) a
    // transaction changes gets a row here, written by triggers in that transaction, numbered
    // in commit order. The server's household cache (registry/household_cache.h) reads the
    // rows past the last number it applied before it answers from memory, so changes made by
    // any process, the CLI's imports included, are never served stale. SQLite serialises
    // writers, so its AUTOINCREMENT numbers are in commit order; on PostgreSQL the number is
    // taken from audit_head.registry_rev, whose row lock the transaction then holds until it
    // commits (as every registry write's audit entry already does), so numbers are in commit
    // order there too. Statement triggers with transition tables keep bulk loads to one row
    // per household and statement. The server prunes old rows.
    {9, "registry_changes", R"SQL(
CREATE TABLE registry_changes (rev INTEGER PRIMARY KEY AUTOINCREMENT, household_id INTEGER NOT NULL);
CREATE TRIGGER households_feed_insert AFTER INSERT ON households
  BEGIN INSERT INTO registry_changes (household_id) VALUES (NEW.id); END;
CREATE TRIGGER households_feed_update AFTER UPDATE ON households
  BEGIN INSERT INTO registry_changes (household_id) VALUES (NEW.id); END;
CREATE TRIGGER households_feed_delete AFTER DELETE ON households
  BEGIN INSERT INTO registry_changes (household_id) VALUES (OLD.id); END;
CREATE TRIGGER persons_feed_insert AFTER INSERT ON persons
  BEGIN INSERT INTO registry_changes (household_id) VALUES (NEW.household_id); END;
CREATE TRIGGER persons_feed_update AFTER UPDATE ON persons
  BEGIN
    INSERT INTO registry_changes (household_id) VALUES (NEW.household_id);
    INSERT INTO registry_changes (household_id) SELECT OLD.household_id WHERE OLD.household_id IS NOT NEW.household_id;
  END;
CREATE TRIGGER persons_feed_delete AFTER DELETE ON persons
  BEGIN INSERT INTO registry_changes (household_id) VALUES (OLD.household_id); END;
)SQL", R"SQL(
ALTER TABLE audit_head ADD COLUMN registry_rev BIGINT NOT NULL DEFAULT 0;
CREATE TABLE registry_changes (rev BIGINT NOT NULL, household_id BIGINT NOT NULL);
CREATE INDEX registry_changes_rev ON registry_changes (rev);
CREATE FUNCTION registry_feed_households() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r BIGINT;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM changed) THEN RETURN NULL; END IF;
  UPDATE audit_head SET registry_rev = registry_rev + 1 WHERE id = 1 RETURNING registry_rev INTO r;
  INSERT INTO registry_changes (rev, household_id) SELECT DISTINCT r, id FROM changed;
  RETURN NULL;
END $$;
CREATE FUNCTION registry_feed_persons() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r BIGINT;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM changed) THEN RETURN NULL; END IF;
  UPDATE audit_head SET registry_rev = registry_rev + 1 WHERE id = 1 RETURNING registry_rev INTO r;
  INSERT INTO registry_changes (rev, household_id) SELECT DISTINCT r, household_id FROM changed;
  RETURN NULL;
END $$;
CREATE FUNCTION registry_feed_persons_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r BIGINT;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM changed) THEN RETURN NULL; END IF;
  UPDATE audit_head SET registry_rev = registry_rev + 1 WHERE id = 1 RETURNING registry_rev INTO r;
  INSERT INTO registry_changes (rev, household_id)
    SELECT r, household_id FROM changed UNION SELECT r, household_id FROM was;
  RETURN NULL;
END $$;
CREATE TRIGGER households_feed_insert AFTER INSERT ON households REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION registry_feed_households();
CREATE TRIGGER households_feed_update AFTER UPDATE ON households REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION registry_feed_households();
CREATE TRIGGER households_feed_delete AFTER DELETE ON households REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION registry_feed_households();
CREATE TRIGGER persons_feed_insert AFTER INSERT ON persons REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION registry_feed_persons();
CREATE TRIGGER persons_feed_update AFTER UPDATE ON persons REFERENCING OLD TABLE AS was NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION registry_feed_persons_update();
CREATE TRIGGER persons_feed_delete AFTER DELETE ON persons REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION registry_feed_persons();
)SQL"},
    // The chain's previous head, kept beside the new one: on PostgreSQL an audit entry and the
    // head's move are one statement (UPDATE … RETURNING returns only new values, and the entry
    // stores the hash it follows).
    {10, "audit_head_prev_hash", R"SQL(
ALTER TABLE audit_head ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
)SQL"},
    // PostgreSQL leaves a tenth of each new household and person page free, so that an update
    // can put the row's new version on the same page (a HOT update: no new entry in any of the
    // table's indexes, the old version pruned in place). With full pages — a bulk load fills
    // them — an update that finds no room moves the row to another page and adds an entry to
    // every index. Pages written before this migration keep their fill until rewritten.
    // SQLite updates rows in place: nothing to do.
    {11, "registry_fillfactor", R"SQL(
SELECT 1;
)SQL", R"SQL(
ALTER TABLE households SET (fillfactor = 90);
ALTER TABLE persons SET (fillfactor = 90);
)SQL"},
    // Level-3 identification: forced password change (first login, reset), password age,
    // TOTP second factor. Existing passwords count as changed now (no mass expiry).
    {12, "auth_level3", R"SQL(
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_changed_at {{BIGINT}} NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step {{BIGINT}} NOT NULL DEFAULT 0;
UPDATE users SET password_changed_at = CAST(strftime('%s', 'now') AS INTEGER);
CREATE INDEX sessions_created ON sessions(created_at);
)SQL", R"SQL(
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_changed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
UPDATE users SET password_changed_at = EXTRACT(EPOCH FROM now())::bigint;
CREATE INDEX sessions_created ON sessions(created_at);
)SQL"},
    // The audit chain keyed (HMAC-SHA-256 with a key kept outside the database, see
    // src/audit/chain_keys.h) and the read log chained the same way (read_head is its head).
    // A chain written before this migration is re-keyed by `doudi migrate` (audit::SealChain):
    // `sealed` stays 0 until then, and 1 for a new database. Once sealed, triggers refuse any
    // UPDATE or DELETE (and TRUNCATE) of audit_log and read_log: both are append-only.
    // PostgreSQL computes an entry's HMAC in its one statement (pgcrypto, a trusted extension).
    {13, "audit_keyed_chain", R"SQL(
ALTER TABLE audit_head ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
UPDATE audit_head SET sealed = CASE WHEN seq = 0 AND NOT EXISTS (SELECT 1 FROM read_log) THEN 1 ELSE 0 END
  WHERE id = 1;
ALTER TABLE read_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE read_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE TABLE read_head (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, last_hash TEXT NOT NULL);
INSERT INTO read_head (id, seq, last_hash) SELECT 1, COALESCE(MAX(id), 0),
  '0000000000000000000000000000000000000000000000000000000000000000' FROM read_log;
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
  WHEN (SELECT sealed FROM audit_head WHERE id = 1) = 1
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
  WHEN (SELECT sealed FROM audit_head WHERE id = 1) = 1
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER read_log_append_only_update BEFORE UPDATE ON read_log
  WHEN (SELECT sealed FROM audit_head WHERE id = 1) = 1
  BEGIN SELECT RAISE(ABORT, 'read_log is append-only'); END;
CREATE TRIGGER read_log_append_only_delete BEFORE DELETE ON read_log
  WHEN (SELECT sealed FROM audit_head WHERE id = 1) = 1
  BEGIN SELECT RAISE(ABORT, 'read_log is append-only'); END;
)SQL", R"SQL(
SELECT pg_advisory_xact_lock(4171305013);
CREATE SCHEMA IF NOT EXISTS doudi_crypto;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA doudi_crypto;
ALTER TABLE audit_head ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
UPDATE audit_head SET sealed = CASE WHEN seq = 0 AND NOT EXISTS (SELECT 1 FROM read_log) THEN 1 ELSE 0 END
  WHERE id = 1;
ALTER TABLE read_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE read_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
CREATE TABLE read_head (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, last_hash TEXT NOT NULL);
INSERT INTO read_head (id, seq, last_hash) SELECT 1, COALESCE(MAX(id), 0),
  '0000000000000000000000000000000000000000000000000000000000000000' FROM read_log;
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT sealed FROM audit_head WHERE id = 1) = 1 THEN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER read_log_append_only BEFORE UPDATE OR DELETE ON read_log
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER read_log_no_truncate BEFORE TRUNCATE ON read_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
)SQL"},
    // Issue 17 (case access and workflow). A county's own calendar changes (county_holidays:
    // kind holiday or workday, or 'none' to make a State Council day an ordinary one for that
    // county only) beside the shared State Council calendar (holidays). The Idempotency-Key of
    // a create, written in the create's transaction (the unique key makes a concurrent repeat
    // write nothing), with the answer stored after the commit. An alert a village assistant
    // confirmed is a proposal (status 'proposed', who and when) until a town or county role
    // confirms it.
    {14, "county_calendar_idempotency_alert_proposals", R"SQL(
CREATE TABLE county_holidays (
  county_code TEXT NOT NULL,
  day TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (county_code, day)
);
CREATE TABLE idempotency_keys (
  user_id {{BIGINT}} NOT NULL,
  idem_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER,
  body TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
ALTER TABLE alerts ADD COLUMN proposed_by TEXT;
ALTER TABLE alerts ADD COLUMN proposed_at TEXT;
)SQL"},
};

std::string Render(const char* sql, Dialect d) {
  std::string s(sql);
  auto replace = [&s](const std::string& from, const std::string& to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
  };
  if (d == Dialect::kSqlite) {
    replace("{{PK}}", "INTEGER PRIMARY KEY AUTOINCREMENT");
    replace("{{BIGINT}}", "INTEGER");
  } else {
    replace("{{PK}}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    replace("{{BIGINT}}", "BIGINT");
  }
  return s;
}

}  // namespace

Status Migrate(Connection& conn, int* applied) {
  *applied = 0;
  DOUDI_RETURN_IF_ERROR(conn.ExecScript(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at TEXT NOT NULL)"));
  for (const auto& m : kMigrations) {
    Transaction tx(conn, true);
    DOUDI_RETURN_IF_ERROR(tx.status());
    auto done = conn.Query("SELECT 1 FROM schema_migrations WHERE version = ?", {int64_t{m.version}});
    if (!done.ok()) return done.status();
    if (!done->empty()) continue;
    const char* sql = conn.dialect() == Dialect::kPostgres && m.postgres_sql ? m.postgres_sql : m.sql;
    DOUDI_RETURN_IF_ERROR(conn.ExecScript(Render(sql, conn.dialect())));
    auto ins = conn.Execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        {int64_t{m.version}, std::string(m.name), NowIsoShanghai()});
    if (!ins.ok()) return ins.status();
    DOUDI_RETURN_IF_ERROR(tx.Commit());
    ++*applied;
  }
  return Status::Ok();
}

Status CheckSchemaCurrent(Connection& conn) {
  auto rs = conn.Query("SELECT COUNT(*) FROM schema_migrations");
  int64_t expected = static_cast<int64_t>(std::size(kMigrations));
  if (!rs.ok() || rs->rows[0].Int(0) < expected)
    return Status::FailedPrecondition("数据库结构不是最新版本，请先运行 doudi migrate --db …");
  return Status::Ok();
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(std::move(cur));
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  cells.push_back(std::move(cur));
  return cells;
}

namespace {
Status LoadCsv(Connection& conn, const std::string& path, size_t ncols, const char* insert_sql) {
  std::ifstream in(path);
  if (!in) return Status::FailedPrecondition("找不到参考数据文件 " + path + "（请先运行 make build）");
  std::string line;
  std::getline(in, line);  // header
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    auto cells = SplitCsvLine(line);
    if (cells.size() != ncols)
      return Status::InvalidArgument("line", path + " 第 " + std::to_string(lineno) + " 行列数不对");
    Params p(cells.begin(), cells.end());
    if (ncols == 4 && cells[1].empty()) p[1] = nullptr;  // regions: county has no parent
    auto r = conn.Execute(insert_sql, p);
    if (!r.ok()) return r.status();
  }
  return Status::Ok();
}
}  // namespace

Status LoadReferenceData(Connection& conn, const std::string& data_dir) {
  Transaction tx(conn, true);
  DOUDI_RETURN_IF_ERROR(tx.status());
  DOUDI_RETURN_IF_ERROR(LoadCsv(conn, data_dir + "/regions.csv", 4,
                                "INSERT INTO regions (code, parent_code, level, name) VALUES (?, ?, ?, ?) "
                                "ON CONFLICT (code) DO NOTHING"));
  DOUDI_RETURN_IF_ERROR(LoadCsv(conn, data_dir + "/holidays.csv", 3,
                                "INSERT INTO holidays (day, kind, name) VALUES (?, ?, ?) "
                                "ON CONFLICT (day) DO NOTHING"));
  return tx.Commit();
}

}  // namespace doudi::storage
