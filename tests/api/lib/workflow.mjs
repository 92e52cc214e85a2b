// The application workflow (issue 4): the transition table, actions with their checks, a case driven
// along the happy path. Helpers of workflow*.test.mjs, emergency, referrals, public and calendar.
// Contract: docs/workflow.md and docs/api.md ("Applications" … "Public").
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { TOWN2, VILLAGE1 } from './env.mjs';
import { T, dbCount, dbExec, dbQuery, sqlString } from './db.mjs';
import { expectError, expectStatus } from './checks.mjs';
import { as } from './client.mjs';
import { citizenId, createHousehold, personInput, randomBirth, todayShanghai } from './data.mjs';

/** The states of the machine (docs/workflow.md). */
export const WF_STATES = ['received', 'documents_requested', 'accepted', 'visited', 'verified',
  'public_notice', 'awaiting_decision', 'enrolled', 'refused', 'withdrawn'];
/** Every action of the transition table. */
export const WF_ACTIONS = ['link_household', 'record_signatures', 'request_documents', 'accept', 'record_visit', 'record_verification',
  'town_opinion', 'record_objection', 'answer_objection', 'close_notice', 'approve', 'refuse', 'extend', 'withdraw'];
/** Allowed actions per state, from the table of docs/workflow.md. */
export const WF_ALLOWED = {
  received: ['link_household', 'record_signatures', 'request_documents', 'accept', 'withdraw'],
  documents_requested: ['link_household', 'record_signatures', 'accept', 'withdraw'],
  accepted: ['record_visit', 'extend', 'withdraw'],
  visited: ['record_verification', 'extend', 'withdraw'],
  verified: ['town_opinion', 'extend', 'withdraw'],
  public_notice: ['record_objection', 'answer_objection', 'close_notice', 'extend'],
  awaiting_decision: ['approve', 'refuse', 'extend'],
  enrolled: [], refused: [], withdrawn: [],
};
/** A demo user whose role may perform the action on a case of 乔官镇 (so that only the state is at fault). */
export const WF_ACTOR = {
  link_household: 'town_clerk', record_signatures: 'town_clerk', request_documents: 'town_clerk', accept: 'town_clerk', record_visit: 'town_clerk',
  record_verification: 'town_clerk', town_opinion: 'town_reviewer', record_objection: 'town_clerk',
  answer_objection: 'town_clerk', close_notice: 'town_clerk', approve: 'reviewer', refuse: 'reviewer',
  extend: 'town_reviewer', withdraw: 'town_clerk',
};

/** expectError for the action endpoint (409 `invalid_transition` is in the error table of docs/api.md). */
export function expectCaseError(res, status, code, field) {
  return expectError(res, status, code, field);
}

/** The applications row (state, version, …) straight from the database. */
export function appRow(id) {
  const rows = dbQuery(`SELECT * FROM applications WHERE id = ${Number(id)}`);
  assert.equal(rows.length, 1, `applications row ${id}`);
  const r = rows[0];
  return { ...r, version: Number(r.version) };
}

/** Counts that a refused action must leave unchanged: audit entries of the case, notices, objections, enrollments, referrals. */
export function caseFootprint(id) {
  const n = Number(id);
  return {
    row: (({ state, version, due_date, accepted_at, decided_at, decision, escalated, extended, household_id, notice_ends }) =>
      ({ state, version, due_date, accepted_at, decided_at, decision, escalated, extended, household_id, notice_ends }))(appRow(n)),
    audit: dbCount(T.audit, `entity = 'application' AND entity_id = '${n}'`),
    notices: dbCount('notices', `application_id = ${n}`),
    objections: dbCount('objections', `application_id = ${n}`),
    enrollments: dbCount('enrollments', `application_id = ${n}`),
    referrals: dbCount('referrals', `application_id = ${n}`),
  };
}

/** GET /applications/{id} (as admin unless a client is given); must succeed. */
export async function getApp(id, client) {
  const c = client || await as('admin');
  return expectStatus(await c.get(`/applications/${id}`), 200, `${c.name} GET application ${id}`);
}

/** A valid payload for each action (ctx: {household_id, objection_id}). */
export function wfPayload(action, ctx = {}) {
  switch (action) {
    case 'link_household': return { household_id: ctx.household_id ?? 1 };
    case 'record_signatures': return { authorization: true, commitment: true };
    case 'request_documents': return { missing_items: ['户口簿复印件', '残疾证复印件'] };
    case 'accept': return {};
    case 'record_visit': return { visited_on: todayShanghai(), staff: ['王某', '李某'], findings: '入户调查：家中无劳动力，住房简陋。' };
    case 'record_verification': return { findings: '经济状况核对：无存款、无车辆、无工商登记。' };
    case 'town_opinion': return { recommend: 'approve', opinion: '符合条件，拟同意。', escalate: false };
    case 'record_objection': return { content: '有村民反映其家中另有收入。', by: '匿名村民' };
    case 'answer_objection': return { objection_id: ctx.objection_id ?? 1, answer: '经复核，反映情况不属实。' };
    case 'close_notice': return {};
    case 'approve': return { opinion: '同意。' };
    case 'refuse': return { reasons: '家庭人均收入高于当地最低生活保障标准。' };
    case 'extend': return { reason: '需进一步核实家庭经济状况。' };
    case 'withdraw': return { reason: '申请人主动撤回。' };
    default: throw new Error(`unknown action ${action}`);
  }
}

/** POST /applications/{id}/actions with the case's current version (read from the database) unless given. */
export async function act(client, id, action, payload = {}, version) {
  const v = version === undefined ? appRow(id).version : version;
  return client.post(`/applications/${id}/actions`, { action, version: v, ...payload });
}

/** An action that must succeed (200); checks the new state (if given) and that the version went up. */
export async function actOk(client, id, action, payload = {}, state) {
  const before = appRow(id);
  const res = await act(client, id, action, payload, before.version);
  const app = expectStatus(res, 200, `${client.name} ${action} (from ${before.state})`);
  assert.equal(String(app.id), String(id), `${action}: id`);
  if (state) assert.equal(app.state, state, `${action}: state`);
  assert.ok(app.version > before.version, `${action}: version ${before.version} → ${app.version}`);
  assert.equal(appRow(id).state, app.state, `${action}: database state`);
  return app;
}

/** A refused action: the expected error, and nothing about the case changed (row, audit, notices…). */
export async function actRefused(client, id, action, payload, status, code, field) {
  const before = caseFootprint(id);
  const res = await act(client, id, action, payload, before.row.version);
  const e = expectCaseError(res, status, code, field);
  assert.deepEqual(caseFootprint(id), before, `${client.name} ${action} refused (${code}) must change nothing`);
  return e;
}

/** Members of a household that qualifies for whole-household dibao in 370725 (no income; fixed ages). */
export function dibaoMembers(extra = {}) {
  return [
    personInput({ relation: 'head', citizen_id: citizenId({ birth: randomBirth(1971, 1984) }), ...(extra.head || {}) }),
    personInput({ relation: 'spouse', citizen_id: citizenId({ birth: randomBirth(1971, 1984) }), ...(extra.spouse || {}) }),
  ];
}

/** The town clerk of a village (demo users). */
export function clerkOf(village) { return village.startsWith(TOWN2) ? 'town2_clerk' : 'town_clerk'; }

/**
 * A fresh household and an application in state `received`.
 * opts: village, members, programs, by (username filing it), household (use this one).
 */
export async function newCase(opts = {}) {
  const village = opts.village || VILLAGE1;
  const clerk = await as(clerkOf(village));
  const household = opts.household || await createHousehold(clerk, village, opts.members || dibaoMembers());
  const by = await as(opts.by || clerkOf(village));
  const body = { household_id: household.id, authorization: true, commitment: true, note: '测试申请' };
  if (opts.programs) body.programs = opts.programs;
  if (opts.channel) body.channel = opts.channel;
  const res = await by.post('/applications', body);
  const app = expectStatus(res, 201, `${by.name} POST /applications`);
  assert.equal(app.state, 'received');
  return { household, app };
}

/** Moves the public notice of a case into the past (the 7 days are over), keeping the column format. */
export function ageNotice(id) {
  const r = appRow(id);
  assert.ok(r.notice_ends, `case ${id} has no notice_ends`);
  const rest = (s) => (s ? String(s).slice(10) : '');
  dbExec(`UPDATE applications SET notice_starts = ${sqlString('2020-01-01' + rest(r.notice_starts || r.notice_ends))},
    notice_ends = ${sqlString('2020-01-08' + rest(r.notice_ends))} WHERE id = ${Number(id)}`);
}

/** The objections of a case (GET as admin). */
export async function objectionsOf(id) { return (await getApp(id)).objections; }

/**
 * Drives a case of 乔官镇 along the happy path up to `target` with the right users.
 * opts: recommend ('approve'|'refuse'), escalate, decider (username for approve/refuse).
 */
export async function driveTo(id, target, opts = {}) {
  const path = opts.recommend === 'refuse'
    ? ['received', 'accepted', 'visited', 'verified', 'awaiting_decision']
    : ['received', 'accepted', 'visited', 'verified', 'public_notice', 'awaiting_decision'];
  let app;
  const step = async (username, action, payload, state) => { app = await actOk(await as(username), id, action, payload, state); };
  if (target === 'documents_requested') { await step('town_clerk', 'request_documents', wfPayload('request_documents'), target); return app; }
  if (target === 'withdrawn') { await step('town_clerk', 'withdraw', wfPayload('withdraw'), target); return app; }
  const final = ['enrolled', 'refused'].includes(target) ? 'awaiting_decision' : target;
  const stop = path.indexOf(final);
  assert.ok(stop >= 0, `driveTo ${target}`);
  for (let i = path.indexOf(appRow(id).state) + 1; i <= stop; i++) {
    const s = path[i];
    if (s === 'accepted') await step('town_clerk', 'accept', {}, s);
    else if (s === 'visited') await step('town_clerk', 'record_visit', wfPayload('record_visit'), s);
    else if (s === 'verified') await step('town_clerk', 'record_verification', wfPayload('record_verification'), s);
    else if (s === 'public_notice' || (s === 'awaiting_decision' && opts.recommend === 'refuse')) {
      await step('town_reviewer', 'town_opinion',
        { recommend: opts.recommend || 'approve', opinion: '镇街审核意见。', escalate: !!opts.escalate }, s);
    } else if (s === 'awaiting_decision') {
      ageNotice(id);
      await step('town_clerk', 'close_notice', {}, s);
    }
  }
  if (target === 'enrolled') await step(opts.decider || 'reviewer', 'approve', wfPayload('approve'), 'enrolled');
  if (target === 'refused') await step(opts.decider || 'reviewer', 'refuse', wfPayload('refuse'), 'refused');
  return app || await getApp(id);
}

/** GET /working-days?from=&days= → due (must succeed). */
export async function workingDays(from, days, client) {
  const c = client || await as('admin');
  const res = await c.get(`/working-days?from=${from}&days=${days}`);
  const body = expectStatus(res, 200, `working-days ${from}+${days}`);
  return body.due;
}

/** Balance of a town's reserve fund from GET /reserve-funds (as the given user). */
export async function reserveBalance(client, town) {
  const body = expectStatus(await client.get('/reserve-funds'), 200, 'reserve-funds');
  const f = body.items.find(i => i.town_code === town);
  assert.ok(f, `reserve fund of ${town} in ${JSON.stringify(body).slice(0, 300)}`);
  return Number(f.balance_fen);
}

/** SHA-256 (hex) of a string's UTF-8 bytes. */
export function sha256Hex(s) { return createHash('sha256').update(Buffer.from(s, 'utf8')).digest('hex'); }

/** An 18-character id anywhere in a text (a full citizen id must never appear on public pages). */
export const FULL_ID_RE = /\d{17}[\dXx]/;
