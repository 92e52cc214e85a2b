// docs/openapi.json against the code, docs/api.md and the live server: every route the router
// registers (src/http/*.cc) is described with its method and exact path and nothing else is; the
// document is structurally sound (OpenAPI 3.0, $refs resolve, path parameters declared); the
// parameters, request bodies, success statuses and public routes follow what the handlers do; the
// Error schema lists exactly the codes of docs/api.md's error table; real responses have the
// declared shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Client, as, createHousehold, expectError, expectStatus, ERROR_CODES, COUNTY, TOWN1, VILLAGE1 } from './lib.mjs';

const ROOT = new URL('../../', import.meta.url);
const SRC_HTTP = new URL('../../src/http/', import.meta.url);
const doc = JSON.parse(readFileSync(new URL('docs/openapi.json', ROOT), 'utf8'));
const apiMd = readFileSync(new URL('docs/api.md', ROOT), 'utf8');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// ---------------------------------------------------------------- the router's registrations
/**
 * Every `router.Add("METHOD", "PATH", …)` of src/http/*.cc (tests excluded), with the source of
 * its registration (up to the next one) to read what the handler does.
 */
function scanRoutes() {
  const routes = [];
  const files = readdirSync(SRC_HTTP).filter(f => f.endsWith('.cc') && !f.endsWith('_test.cc')).sort();
  for (const file of files) {
    const text = readFileSync(new URL(file, SRC_HTTP), 'utf8');
    const matches = [...text.matchAll(/router\.Add\(\s*"([A-Z]+)"\s*,\s*"([^"]+)"/g)];
    matches.forEach((m, i) => {
      const end = i + 1 < matches.length ? matches[i + 1].index : text.length;
      routes.push({ method: m[1], path: m[2], file, source: text.slice(m.index, end) });
    });
  }
  return routes;
}
const ROUTES = scanRoutes();
const key = (method, path) => `${method.toUpperCase()} ${path}`;

/** The operations of the document: [{method, path, op}]. */
function operations() {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {}))
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path, op: item[m], item });
  return out;
}
const OPS = operations();
const opOf = (method, path) => {
  const o = OPS.find(x => x.method === method && x.path === path);
  assert.ok(o, `no operation ${method} ${path} in docs/openapi.json`);
  return o.op;
};

// ---------------------------------------------------------------- $ref resolution
function resolvePointer(ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}
function deref(node) {
  for (let i = 0; node && typeof node === 'object' && node.$ref && i < 20; i++) {
    const target = resolvePointer(node.$ref);
    assert.ok(target !== undefined, `unresolvable $ref ${node.$ref}`);
    node = target;
  }
  return node;
}
/** A schema with $ref followed and a nullable single-element allOf unwrapped: {schema, nullable}. */
function unwrap(schema) {
  let s = deref(schema);
  let nullable = !!s?.nullable;
  while (s && Array.isArray(s.allOf) && s.allOf.length === 1 && !s.properties) {
    nullable ||= !!s.nullable;
    s = deref(s.allOf[0]);
    nullable ||= !!s?.nullable;
  }
  return { schema: s, nullable };
}
function parametersOf(item, op) {
  return [...(item.parameters || []), ...(op.parameters || [])].map(deref);
}

// ---------------------------------------------------------------- shape checker
/**
 * Problems of `value` against `schema`: for an object schema with `properties`, its keys must be
 * declared and the `required` ones present (with exact: every declared property present too);
 * properties are followed `depth` levels down (arrays do not count as a level); primitive types,
 * enums and the date / date-time formats are checked where visited.
 */
function shapeProblems(value, schema, where, { depth = 1, exact = true } = {}) {
  const { schema: s, nullable } = unwrap(schema);
  if (!s || typeof s !== 'object') return [`${where}: no schema`];
  if (value === null) return nullable ? [] : [`${where}: null but not nullable`];
  const problems = [];
  const type = s.type || (s.properties ? 'object' : undefined);
  if (type === 'object') {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${where}: expected an object, got ${JSON.stringify(value)?.slice(0, 80)}`];
    if (s.properties) {
      const declared = Object.keys(s.properties);
      const keys = Object.keys(value);
      for (const k of keys) if (!declared.includes(k)) problems.push(`${where}.${k}: in the response, not declared`);
      for (const k of s.required || []) if (!keys.includes(k)) problems.push(`${where}.${k}: required, absent`);
      if (exact) for (const k of declared) if (!keys.includes(k)) problems.push(`${where}.${k}: declared, absent`);
      if (depth > 0)
        for (const k of keys)
          if (declared.includes(k)) problems.push(...shapeProblems(value[k], s.properties[k], `${where}.${k}`, { depth: depth - 1, exact }));
    }
  } else if (type === 'array') {
    if (!Array.isArray(value)) return [`${where}: expected an array`];
    if (s.items) value.slice(0, 5).forEach((v, i) => problems.push(...shapeProblems(v, s.items, `${where}[${i}]`, { depth, exact })));
  } else if (type === 'string') {
    if (typeof value !== 'string') return [`${where}: expected a string, got ${JSON.stringify(value)}`];
    if (s.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) problems.push(`${where}: "${value}" is not a date`);
    if (s.format === 'date-time' && !(/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))))
      problems.push(`${where}: "${value}" is not a date-time`);
  } else if (type === 'integer') {
    if (!Number.isInteger(value)) problems.push(`${where}: expected an integer, got ${JSON.stringify(value)}`);
  } else if (type === 'number') {
    if (typeof value !== 'number') problems.push(`${where}: expected a number`);
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') problems.push(`${where}: expected a boolean, got ${JSON.stringify(value)}`);
  }
  if (Array.isArray(s.enum) && !s.enum.includes(value)) problems.push(`${where}: ${JSON.stringify(value)} not in enum ${JSON.stringify(s.enum)}`);
  return problems;
}

/** The declared response of an operation for a real answer: its status must be declared; returns the schema. */
function declaredResponse(method, path, res, mediaType = 'application/json') {
  const op = opOf(method, path);
  const r = deref(op.responses?.[String(res.status)]);
  assert.ok(r, `${method} ${path} answered ${res.status}, which the document does not declare (${Object.keys(op.responses || {})})`);
  const media = r.content?.[mediaType];
  assert.ok(media?.schema, `${method} ${path} ${res.status}: no ${mediaType} schema`);
  return media.schema;
}

/** Asserts a real JSON answer matches the operation's declared response for its status. */
function expectShape(method, path, res, opts) {
  const schema = declaredResponse(method, path, res);
  const problems = shapeProblems(res.body, schema, `${method} ${path} ${res.status}`, opts);
  assert.deepEqual(problems, [], `response does not match docs/openapi.json:\n  ${problems.join('\n  ')}`);
}

// ---------------------------------------------------------------- (a) routes ⇔ operations
test('openapi: every route the router registers is described, with its method and exact path', () => {
  assert.ok(ROUTES.length >= 50, `only ${ROUTES.length} router.Add calls found in src/http: the scan is broken`);
  const seen = new Set();
  for (const r of ROUTES) {
    assert.ok(!seen.has(key(r.method, r.path)), `${key(r.method, r.path)} registered twice`);
    seen.add(key(r.method, r.path));
  }
  const documented = new Set(OPS.map(o => key(o.method, o.path)));
  const missing = ROUTES.filter(r => !documented.has(key(r.method, r.path))).map(r => `${key(r.method, r.path)} (${r.file})`);
  assert.deepEqual(missing, [], `routes missing from docs/openapi.json:\n  ${missing.join('\n  ')}`);
});

test('openapi: every described operation is a registered route', () => {
  const registered = new Set(ROUTES.map(r => key(r.method, r.path)));
  const extra = OPS.map(o => key(o.method, o.path)).filter(k => !registered.has(k));
  assert.deepEqual(extra, [], `operations in docs/openapi.json the router does not register:\n  ${extra.join('\n  ')}`);
  for (const path of Object.keys(doc.paths)) assert.ok(path.startsWith('/api/v1/'), `path ${path} is not a full /api/v1 path`);
  assert.deepEqual(doc.servers, [{ url: '/' }], 'paths are full paths: servers must be [{"url":"/"}]');
});

test('docs/api.md names every route (method and full path) in its prose', () => {
  const named = new Set();
  for (const m of apiMd.matchAll(/`((?:GET|POST|PUT|PATCH|DELETE)(?:\|(?:GET|POST|PUT|PATCH|DELETE))*) (\/api\/v1\/[^\s`?]*)/g))
    for (const method of m[1].split('|')) named.add(key(method, m[2]));
  const missing = ROUTES.map(r => key(r.method, r.path)).filter(k => !named.has(k));
  assert.deepEqual(missing, [], `routes docs/api.md does not name:\n  ${missing.join('\n  ')}`);
  assert.match(apiMd.split('\n').slice(0, 8).join('\n'), /docs\/openapi\.json/, 'docs/api.md points to docs/openapi.json');
});

// ---------------------------------------------------------------- (b) structure
test('openapi: version, info, security schemes', () => {
  assert.equal(typeof doc.openapi, 'string');
  assert.ok(doc.openapi.startsWith('3.0'), `openapi ${doc.openapi}`);
  assert.equal(doc.info?.title, 'doudi API');
  assert.equal(doc.info?.version, '1');
  const schemes = doc.components?.securitySchemes || {};
  const cookie = Object.values(schemes).find(s => s.type === 'apiKey' && s.in === 'cookie');
  assert.equal(cookie?.name, 'doudi_session', 'a cookie scheme for doudi_session');
  const csrf = Object.values(schemes).find(s => s.type === 'apiKey' && s.in === 'header');
  assert.equal(csrf?.name, 'X-CSRF-Token', 'a header scheme for X-CSRF-Token');
});

test('openapi: every $ref resolves inside the document', () => {
  const bad = [];
  let count = 0;
  const walk = (node, where) => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, `${where}[${i}]`));
    if (!node || typeof node !== 'object') return;
    if (Object.hasOwn(node, '$ref')) {
      count++;
      if (resolvePointer(node.$ref) === undefined) bad.push(`${where}: ${node.$ref}`);
    }
    for (const [k, v] of Object.entries(node)) walk(v, `${where}/${k}`);
  };
  walk(doc, '#');
  assert.ok(count > 50, `only ${count} $refs`);
  assert.deepEqual(bad, [], `unresolvable $refs:\n  ${bad.join('\n  ')}`);
});

test('openapi: every operation has a summary, an operationId, responses with a success status', () => {
  const ids = new Set();
  for (const { method, path, op } of OPS) {
    const at = `${method} ${path}`;
    assert.ok(typeof op.summary === 'string' && op.summary.length > 3, `${at}: summary`);
    assert.ok(op.operationId && !ids.has(op.operationId), `${at}: operationId missing or duplicated`);
    ids.add(op.operationId);
    assert.ok(op.responses && Object.keys(op.responses).length > 0, `${at}: responses`);
    assert.ok(Object.keys(op.responses).some(s => /^2\d\d$/.test(s)), `${at}: no 2xx response`);
    for (const [status, r] of Object.entries(op.responses)) {
      assert.ok(/^[1-5]\d\d$/.test(status), `${at}: response key ${status}`);
      if (Number(status) >= 400) {
        const schema = deref(r).content?.['application/json']?.schema;
        assert.equal(schema?.$ref, '#/components/schemas/Error', `${at} ${status}: must answer the Error schema`);
      }
    }
  }
});

test('openapi: the parameters of every path template are declared as required path parameters', () => {
  for (const { method, path, op, item } of OPS) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map(m => m[1]);
    const declared = parametersOf(item, op).filter(p => p.in === 'path');
    for (const n of names) {
      const p = declared.find(d => d.name === n);
      assert.ok(p, `${method} ${path}: path parameter {${n}} not declared`);
      assert.equal(p.required, true, `${method} ${path}: path parameter {${n}} must be required`);
      assert.ok(p.schema?.type, `${method} ${path}: path parameter {${n}} has no type`);
    }
    for (const d of declared) assert.ok(names.includes(d.name), `${method} ${path}: path parameter ${d.name} not in the template`);
  }
});

test('openapi: query parameters are exactly what the handler reads (paging included)', () => {
  for (const r of ROUTES) {
    const o = OPS.find(x => x.method === r.method && x.path === r.path);
    if (!o) continue; // reported by the route test
    const reads = new Set([...r.source.matchAll(/\bc\.Query\("([^"]+)"\)/g)].map(m => m[1]));
    // Paging: read directly, or by the list shape of src/http/routes.h.
    if (/\bc\.Paging\(\)|\bPageOf\(c\)|\bListRoute\(/.test(r.source)) { reads.add('page'); reads.add('page_size'); }
    const declared = parametersOf(o.item, o.op).filter(p => p.in === 'query');
    for (const p of declared) assert.ok(p.schema?.type, `${key(r.method, r.path)}: query parameter ${p.name} has no type`);
    assert.deepEqual(declared.map(p => p.name).sort(), [...reads].sort(), `${key(r.method, r.path)}: query parameters`);
  }
});

test('openapi: a request body exactly where the handler reads one; success statuses as the handler answers', () => {
  for (const r of ROUTES) {
    const o = OPS.find(x => x.method === r.method && x.path === r.path);
    if (!o) continue;
    const at = key(r.method, r.path);
    // A body: read directly, or by the body shapes of src/http/routes.h.
    const readsBody = /\bc\.JsonBody\(\)|\b(?:Id)?BodyRoute\(/.test(r.source);
    assert.equal(!!o.op.requestBody, readsBody, `${at}: requestBody ${readsBody ? 'missing' : 'declared but the handler reads none'}`);
    if (readsBody) {
      const { schema } = unwrap(o.op.requestBody.content?.['application/json']?.schema);
      assert.equal(schema?.type, 'object', `${at}: the body is a JSON object`);
      assert.ok(o.op.responses['400'] && o.op.responses['413'], `${at}: a body may answer 400 and 413`);
    }
    // The statuses the handler can answer: literals of Response::Json / Ok / RawJson, of the
    // body shapes of src/http/routes.h (BodyRoute(201, …)) and of a `? 200 : 201` choice,
    // NoContent → 204; none of them → 200 (a Response's default, and the other shapes' answer).
    const statuses = new Set();
    for (const m of r.source.matchAll(/\b(?:Json|Ok|RawJson|BodyRoute|IdBodyRoute)\(\s*(2\d\d)\b/g)) statuses.add(m[1]);
    for (const m of r.source.matchAll(/\?\s*(2\d\d)\s*:\s*(2\d\d)\b/g)) { statuses.add(m[1]); statuses.add(m[2]); }
    if (/\bNoContent\(\)/.test(r.source)) statuses.add('204');
    if (statuses.size === 0) statuses.add('200');
    const declared = Object.keys(o.op.responses).filter(s => /^2\d\d$/.test(s));
    assert.deepEqual(declared.sort(), [...statuses].sort(), `${at}: success statuses`);
  }
});

test('openapi: security follows the routes\' access (public, session, CSRF) and the error responses that go with it', () => {
  for (const r of ROUTES) {
    const o = OPS.find(x => x.method === r.method && x.path === r.path);
    if (!o) continue;
    const at = key(r.method, r.path);
    const isPublic = /Access::kPublic/.test(r.source);
    const security = o.op.security ?? doc.security;
    if (isPublic) {
      assert.deepEqual(o.op.security, [], `${at}: a public route needs security: []`);
      if (at !== 'POST /api/v1/session') assert.ok(!o.op.responses['401'], `${at}: a public route does not answer 401`);
      continue;
    }
    assert.ok(Array.isArray(security) && security.length > 0, `${at}: needs the session cookie`);
    const schemes = doc.components.securitySchemes;
    for (const req of security) {
      const names = Object.keys(req);
      assert.ok(names.some(n => schemes[n]?.in === 'cookie'), `${at}: every security requirement includes the cookie`);
      if (MUTATING.has(r.method)) assert.ok(names.some(n => schemes[n]?.in === 'header' && schemes[n]?.name === 'X-CSRF-Token'), `${at}: CSRF token`);
      else assert.ok(!names.some(n => schemes[n]?.in === 'header'), `${at}: no CSRF token on ${r.method}`);
    }
    assert.ok(o.op.responses['401'], `${at}: answers 401 without a session`);
    if (MUTATING.has(r.method)) assert.ok(o.op.responses['403'], `${at}: answers 403 csrf_failed`);
  }
  const login = opOf('POST', '/api/v1/session');
  assert.deepEqual(login.security, [], 'POST /api/v1/session needs neither session nor CSRF token');
  assert.ok(login.responses['401'] && login.responses['423'], 'login may answer 401 invalid_credentials and 423 account_locked');
});

test('openapi: downloads declare their content types', () => {
  const xlsx = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  for (const path of ['/api/v1/households/export', '/api/v1/screening/export'])
    assert.ok(opOf('GET', path).responses['200'].content?.[xlsx], `${path}: ${xlsx}`);
  assert.ok(opOf('GET', '/api/v1/notices/{id}/print').responses['200'].content?.['text/html'], 'print page: text/html');
  const att = opOf('GET', '/api/v1/attachments/{id}').responses['200'].content || {};
  for (const t of ['image/jpeg', 'image/png', 'application/pdf']) assert.ok(att[t], `attachment: ${t}`);
});

// ---------------------------------------------------------------- (c) error codes
test('openapi: the Error schema\'s codes are the error table of docs/api.md, with the statuses of lib.mjs', () => {
  const rows = [...apiMd.matchAll(/^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|/gm)].map(m => ({ status: Number(m[1]), code: m[2] }));
  assert.ok(rows.length >= 10, `error table of docs/api.md not found (${rows.length} rows)`);
  const table = Object.fromEntries(rows.map(r => [r.code, r.status]));
  assert.equal(Object.keys(table).length, rows.length, 'a code appears twice in the table');
  const err = unwrap(doc.components?.schemas?.Error).schema;
  assert.deepEqual([...(err?.required || [])], ['error']);
  const inner = unwrap(err.properties.error).schema;
  for (const k of ['code', 'message', 'field']) {
    assert.ok(inner.properties?.[k], `Error.error.${k} declared`);
    assert.ok(inner.required?.includes(k), `Error.error.${k} required`);
  }
  const codes = unwrap(inner.properties.code).schema.enum;
  assert.ok(Array.isArray(codes), 'Error.error.code has an enum');
  assert.deepEqual([...codes].sort(), Object.keys(table).sort(), 'Error.error.code enum = the codes of docs/api.md');
  for (const c of ['unavailable', 'outcome_unknown', 'committed_unread']) assert.ok(codes.includes(c), c);
  for (const [code, status] of Object.entries(ERROR_CODES)) {
    assert.ok(Object.hasOwn(table, code), `lib.mjs ERROR_CODES has ${code}, docs/api.md's table does not`);
    assert.equal(table[code], status, `${code}: HTTP ${table[code]} in docs/api.md, ${status} in lib.mjs`);
  }
  // Each status of the table has a shared response the operations reference.
  const used = new Set(OPS.flatMap(o => Object.keys(o.op.responses)));
  for (const status of new Set(rows.map(r => r.status)))
    if (status !== 405) assert.ok(used.has(String(status)), `no operation declares HTTP ${status}`);
});

// ---------------------------------------------------------------- (d) live responses
test('live: GET /health has exactly the declared shape', async () => {
  const res = await new Client().get('/health');
  expectStatus(res, 200, 'health');
  expectShape('GET', '/api/v1/health', res);
});

test('live: household list, detail and creation have exactly the declared shapes', async () => {
  const clerk = await as('town_clerk');
  const created = await createHousehold(clerk, VILLAGE1);
  // the 201 of POST /households (createHousehold asserted it) against the declared response
  const createdSchema = declaredResponse('POST', '/api/v1/households', { status: 201 });
  assert.deepEqual(shapeProblems(created, createdSchema, 'POST /api/v1/households 201', { depth: 2 }), []);

  const list = await clerk.get('/households?page_size=2');
  expectStatus(list, 200, 'GET /households');
  assert.ok(list.body.items.length >= 1, 'the list has the household just created');
  expectShape('GET', '/api/v1/households', list, { depth: 1 });

  const one = await clerk.get(`/households/${created.id}`);
  expectStatus(one, 200, 'GET /households/{id}');
  expectShape('GET', '/api/v1/households/{id}', one, { depth: 2 });

  const person = await clerk.get(`/persons/${created.members[0].id}`);
  expectStatus(person, 200, 'GET /persons/{id}');
  expectShape('GET', '/api/v1/persons/{id}', person, { depth: 1 });
});

test('live: error answers have exactly the declared Error shape', async () => {
  const clerk = await as('town_clerk');
  const missing = await clerk.get('/households/999999999999');
  expectError(missing, 404, 'not_found');
  expectShape('GET', '/api/v1/households/{id}', missing, { depth: 1 });

  const anon = await new Client().get('/households');
  expectError(anon, 401, 'unauthenticated');
  expectShape('GET', '/api/v1/households', anon, { depth: 1 });

  const bad = await clerk.get('/households?page_size=0');
  expectError(bad, 400, 'invalid_argument', 'page_size');
  expectShape('GET', '/api/v1/households', bad, { depth: 1 });

  const noCsrf = await clerk.post('/households', {}, { csrf: false });
  expectError(noCsrf, 403, 'csrf_failed');
  expectShape('POST', '/api/v1/households', noCsrf, { depth: 1 });
});

test('live: session, regions and the public region list match their declared shapes', async () => {
  const clerk = await as('town_clerk');
  const session = await clerk.get('/session');
  expectStatus(session, 200, 'GET /session');
  expectShape('GET', '/api/v1/session', session, { depth: 1 });

  const region = await clerk.get(`/regions/${VILLAGE1}`);
  expectStatus(region, 200, 'GET /regions/{code}');
  assert.ok(Array.isArray(region.body.path), 'GET /regions/{code} has the path');
  expectShape('GET', '/api/v1/regions/{code}', region, { exact: false });

  const children = await clerk.get(`/regions?parent=${TOWN1}`);
  expectStatus(children, 200, 'GET /regions');
  expectShape('GET', '/api/v1/regions', children, { depth: 1, exact: false });

  for (const parent of [COUNTY, TOWN1]) {
    const pub = await new Client().get(`/public/regions?parent=${parent}`);
    expectStatus(pub, 200, `GET /public/regions?parent=${parent}`);
    assert.ok(pub.body.items.length > 0, 'the public region list is not empty');
    expectShape('GET', '/api/v1/public/regions', pub, { depth: 1 });
  }
  const badParent = await new Client().get(`/public/regions?parent=${VILLAGE1}`);
  expectError(badParent, 400, 'invalid_argument', 'parent');
  expectShape('GET', '/api/v1/public/regions', badParent, { depth: 1 });
});

test('live: the roster export answers the declared content type', async () => {
  const clerk = await as('town_clerk');
  const res = await clerk.get(`/households/export?region=${VILLAGE1}`);
  assert.equal(res.status, 200, `export: ${res.status}`);
  const declared = Object.keys(opOf('GET', '/api/v1/households/export').responses['200'].content);
  assert.ok(declared.includes((res.headers.get('content-type') || '').split(';')[0].trim()),
    `content type ${res.headers.get('content-type')} not among ${declared}`);
});
