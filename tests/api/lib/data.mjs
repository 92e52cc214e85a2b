// Test data: valid (and deliberately invalid) citizen ids, Chinese names, person and household
// payloads, throwaway users, dates in Asia/Shanghai, and paged lists read whole.
import { randomBytes, randomInt } from 'node:crypto';
import assert from 'node:assert/strict';
import { VILLAGE1, uniq } from './env.mjs';

// ---------------------------------------------------------------- citizen ids
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function checkChar(first17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

function pad(n, w) { return String(n).padStart(w, '0'); }

/**
 * A random valid 18-character citizen id (GB 11643) of county 370725.
 * opts.check: force the check character (e.g. 'X'); opts.sex: 'male'|'female';
 * opts.birth: 'YYYYMMDD'.
 */
export function citizenId(opts = {}) {
  for (;;) {
    let birth = opts.birth;
    if (!birth) {
      const start = Date.UTC(1940, 0, 1), end = Date.UTC(2015, 11, 31);
      const d = new Date(start + randomInt(0, Math.floor((end - start) / 86400000) + 1) * 86400000);
      birth = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
    }
    let seq = randomInt(0, 1000);
    if (opts.sex === 'male' && seq % 2 === 0) seq = (seq + 1) % 1000;
    if (opts.sex === 'female' && seq % 2 === 1) seq = seq - 1;
    const first17 = `370725${birth}${pad(seq, 3)}`;
    const c = checkChar(first17);
    if (opts.check && c !== opts.check) continue;
    return first17 + c;
  }
}

/** Same id with a wrong check character. */
export function wrongCheck(id) {
  const right = checkChar(id.slice(0, 17));
  const options = CHECK.split('').filter(c => c !== right);
  return id.slice(0, 17) + options[randomInt(0, options.length)];
}

/** Recomputes the check character (for building ids with e.g. a bad birth date). */
export function withCheck(first17) { return first17 + checkChar(first17); }

export function birthOf(id) { return `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`; }
export function sexOf(id) { return Number(id[16]) % 2 === 1 ? 'male' : 'female'; }

// ---------------------------------------------------------------- payloads
const SURNAMES = '赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜';
const GIVEN = '伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文斌玉梅海燕春雪松柏林森波浩宇轩然鹏飞';
/** A random 4-character Chinese name, practically unique. */
export function chineseName() {
  let s = SURNAMES[randomInt(0, SURNAMES.length)];
  for (let i = 0; i < 3; i++) s += GIVEN[randomInt(0, GIVEN.length)];
  return s;
}

export function personInput(overrides = {}) {
  return {
    citizen_id: citizenId(),
    name: chineseName(),
    relation: 'head',
    disability: null,
    serious_illness: false,
    self_care: 'full',
    in_school: false,
    employed: false,
    has_supporter: true,
    monthly_income_fen: { wage: 0, business: 0, property: 0, transfer: 0, pension: 0, other: 0 },
    ...overrides,
  };
}

export function householdInput(village = VILLAGE1, members, overrides = {}) {
  return {
    village_code: village,
    area: 'rural',
    residence_address: `测试地址 ${randomInt(1, 999)} 号`,
    phone: `138${pad(randomInt(0, 1e8), 8)}`,
    assets: { deposits_fen: 0, vehicles: 0, extra_properties: 0, business: false },
    annual_rigid_expenditure_fen: { medical: 0, education: 0 },
    members: members || [personInput({ relation: 'head' })],
    ...overrides,
  };
}

/** Creates a household (must succeed, 201) and returns the Household body. */
export async function createHousehold(client, village = VILLAGE1, members, overrides = {}) {
  const input = householdInput(village, members, overrides);
  const res = await client.post('/households', input);
  assert.equal(res.status, 201, `create household in ${village}: ${res.status} ${res.text.slice(0, 500)}`);
  return res.body;
}

/** All items of a paged list endpoint (page_size 200). */
export async function listAll(client, path) {
  const sep = path.includes('?') ? '&' : '?';
  const items = [];
  for (let page = 1; ; page++) {
    const res = await client.get(`${path}${sep}page=${page}&page_size=200`);
    assert.equal(res.status, 200, `${path} page ${page}: ${res.status} ${res.text.slice(0, 300)}`);
    items.push(...res.body.items);
    if (res.body.items.length === 0 || items.length >= res.body.total) return items;
    if (page > 100) throw new Error('too many pages');
  }
}

// ---------------------------------------------------------------- users
/** A password satisfying the policy (≥ 10 characters, three classes, not common, not the username). */
export function strongPassword() { return `Pw${randomBytes(6).toString('hex')}9z`; }

/** Admin creates a throwaway user (must succeed); returns {user, username, password}. */
export async function createUser(admin, fields = {}) {
  const username = fields.username || uniq('u');
  const password = fields.password || strongPassword();
  const body = {
    username, password,
    display_name: fields.display_name || '测试用户',
    role: fields.role || 'village_assistant',
    region_code: fields.region_code || VILLAGE1,
    department: fields.department ?? '',
  };
  const res = await admin.post('/users', body);
  assert.equal(res.status, 201, `create user ${username}: ${res.status} ${res.text.slice(0, 500)}`);
  return { user: res.body, username, password };
}

/** Today's date in Asia/Shanghai as YYYY-MM-DD. */
export function todayShanghai() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date());
}

/** Completed years between birth (YYYY-MM-DD) and today in Asia/Shanghai. */
export function ageOn(birth, today = todayShanghai()) {
  const [by, bm, bd] = birth.split('-').map(Number);
  const [ty, tm, td] = today.split('-').map(Number);
  return ty - by - ((tm < bm || (tm === bm && td < bd)) ? 1 : 0);
}

export const ISO_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$/;

export function maskId(id) { return id.slice(0, 6) + '********' + id.slice(-4); }

/** A random birth date YYYYMMDD between 1 January of `fromYear` and 28 December of `toYear`. */
export function randomBirth(fromYear, toYear) {
  const y = randomInt(fromYear, toYear + 1), m = randomInt(1, 13), d = randomInt(1, 29);
  return `${y}${pad(m, 2)}${pad(d, 2)}`;
}

/** A valid citizen id of another division (e.g. '110105' for 北京朝阳). */
export function citizenIdOf(division, birth = '19800101') {
  const first17 = `${division}${birth}${pad(randomInt(0, 1000), 3)}`;
  return first17 + checkChar(first17);
}
