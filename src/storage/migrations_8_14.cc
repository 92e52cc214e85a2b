// Migrations 8 to 14: the registry generation and change feed, the audit head's previous hash,
// level-3 identification, the keyed audit chain, county calendars, idempotency and alert proposals.
// Never edit a migration that has shipped (a migrated database must stay as it is).
#include "storage/migrations_list.h"

namespace doudi::storage::internal {

namespace {

constexpr Migration kMigrations[] = {
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

}  // namespace

std::span<const Migration> MigrationsEightToFourteen() { return kMigrations; }

}  // namespace doudi::storage::internal
