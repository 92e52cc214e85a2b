// Straight access to the server's database (the `sqlite3` and `psql` command-line clients), the
// doudi binary, the table names the tests count, and the audit rows of an entity.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { BIN, DB, DB_KIND } from './env.mjs';

// ---------------------------------------------------------------- database
export function sqlitePath() { return DB.replace(/^sqlite:(\/\/(?=\/))?/i, ''); }

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs a SELECT directly on the server's database and returns the rows as objects.
 * (Values are JSON: integers as numbers, text as strings.)
 */
export function dbQuery(sql) {
  if (DB_KIND === 'sqlite') {
    const out = run('sqlite3', ['-bail', '-cmd', '.timeout 10000', '-json', sqlitePath(), sql]);
    return out.trim() === '' ? [] : JSON.parse(out);
  }
  const wrapped = `SELECT coalesce(json_agg(t), '[]'::json) FROM (${sql.replace(/;\s*$/, '')}) t`;
  const out = run('psql', [DB, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-c', wrapped]);
  return JSON.parse(out);
}

/** Runs statements (UPDATE/DELETE/INSERT…) directly on the database. */
export function dbExec(sql) {
  if (DB_KIND === 'sqlite') {
    return run('sqlite3', ['-bail', '-cmd', '.timeout 10000', sqlitePath()], sql.trim().replace(/;?$/, ';\n'));
  }
  return run('psql', [DB, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At'], sql.trim().replace(/;?$/, ';\n'));
}

/**
 * Makes the database refuse inserts into `table` whose new row matches `when` (an SQL condition
 * on NEW, the same on both databases), through a trigger named `name`, while `fn` runs; the
 * trigger is removed after.
 */
export async function withInsertRefused(table, name, when, fn) {
  dbExec(DB_KIND === 'sqlite'
    ? `CREATE TRIGGER ${name} BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'refused by test'); END`
    : `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF ${when} THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$;
       CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  try {
    return await fn();
  } finally {
    dbExec(DB_KIND === 'sqlite' ? `DROP TRIGGER ${name}` : `DROP TRIGGER ${name} ON ${table}; DROP FUNCTION ${name}()`);
  }
}

/**
 * A month (YYYY-MM) between `fromYear` and `toYear` that no feed, monitoring run or alert of the
 * database uses yet, picked at random: the suites run repeatedly on the same database.
 */
export function unusedMonth(fromYear, toYear) {
  const used = new Set(dbQuery(`SELECT month FROM feed_files UNION SELECT month FROM alerts
    UNION SELECT month FROM monitor_runs`).map(r => r.month));
  const free = [];
  for (let y = fromYear; y <= toYear; y++) for (let m = 1; m <= 12; m++) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (!used.has(month)) free.push(month);
  }
  if (free.length === 0) throw new Error(`no unused month left between ${fromYear}-01 and ${toYear}-12`);
  return free[randomInt(0, free.length)];
}

/** SELECT count(*) helper. */
export function dbCount(table, where = '1=1') {
  const rows = dbQuery(`SELECT count(*) AS n FROM ${table} WHERE ${where}`);
  return Number(rows[0].n);
}

export function sqlString(s) { return `'${String(s).replace(/'/g, "''")}'`; }

// ---------------------------------------------------------------- binary
/** Runs DOUDI_BIN with args → {code, stdout, stderr}. */
export function runBin(args, opts = {}) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: opts.timeout ?? 60000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------- schema names
// Table names from the server's migrations (src/storage/migrations.h).
export const T = {
  households: 'households',
  persons: 'persons',
  audit: 'audit_log',
};

/** Row counts used to assert "nothing was written". */
export function dbSnapshot() {
  const [r] = dbQuery(`SELECT (SELECT count(*) FROM ${T.households}) AS households,
    (SELECT count(*) FROM ${T.persons}) AS persons, (SELECT count(*) FROM ${T.audit}) AS audit`);
  return { households: Number(r.households), persons: Number(r.persons), audit: Number(r.audit) };
}

export function personsWithId(citizenId) {
  return dbCount(T.persons, `citizen_id = ${sqlString(citizenId.toUpperCase())}`);
}

// ---------------------------------------------------------------- audit
/** audit_log rows (from the database) about one entity id, oldest first. */
export function auditRowsFor(entityLike, entityId) {
  return dbQuery(`SELECT * FROM ${T.audit} WHERE entity LIKE ${sqlString(entityLike)} AND entity_id = ${sqlString(String(entityId))} ORDER BY id`);
}

/** JSON value of an audit before/after field as returned by the API (object or JSON text). */
export function auditJson(v) {
  if (typeof v === 'string') { try { return JSON.parse(v); } catch { return v; } }
  return v;
}
