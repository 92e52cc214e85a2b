// Settings of the API suite from the environment (set by tests/run.sh), the run's unique token and
// the demo county's region codes.
//
//   DOUDI_URL       base URL of the live server, e.g. http://127.0.0.1:18081
//   DOUDI_DB        the server's database URL: sqlite:/abs/path.db or postgresql://…
//   DOUDI_BIN       absolute path of the doudi binary
//   DOUDI_PASSWORD  password of every demo user
//   DOUDI_TOTP_SECRETS  JSON {username: base32 TOTP secret} of the demo admin and auditor (lib/client.mjs)
import { randomBytes } from 'node:crypto';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

export const BASE = env('DOUDI_URL').replace(/\/+$/, '');
export const DB = env('DOUDI_DB');
export const BIN = env('DOUDI_BIN');
export const PASSWORD = env('DOUDI_PASSWORD');
export const API = '/api/v1';

/** 'sqlite' or 'postgresql', from DOUDI_DB's scheme. */
export const DB_KIND = /^sqlite:/i.test(DB) ? 'sqlite'
  : /^postgres(ql)?:/i.test(DB) ? 'postgresql'
  : (() => { throw new Error(`unsupported DOUDI_DB ${DB}`); })();

/** Short token unique to this run, for usernames and the like. */
export const RUN = Date.now().toString(36) + randomBytes(3).toString('hex');
export function uniq(prefix = 't') {
  return `${prefix}${RUN}${randomBytes(3).toString('hex')}`;
}

// ---------------------------------------------------------------- demo data
export const COUNTY = '370725';
export const TOWN1 = '370725107'; // 乔官镇
export const TOWN2 = '370725001'; // 宝都街道
export const VILLAGE1 = '370725107202'; // 乔南村 (village1)
export const VILLAGE2 = '370725107206'; // 龙泉院村 (village2)
export const VILLAGE3 = '370725001036'; // (village3), in 宝都街道
export const UNKNOWN_VILLAGE = '370725107999'; // well-formed, not a division
