// Shared helpers of the browser tests (node 20 built-ins + playwright-core, Debian chromium).
//
// Environment:
//   DOUDI_URL       base URL of a live server that serves web/dist at `/`
//   DOUDI_PASSWORD  password of every demo user
//   DOUDI_DB, DOUDI_BIN  the server's database and binary, for tests/api/lib.mjs (apiLib())
//   DOUDI_TOTP_SECRETS  JSON {username: base32 TOTP secret} of the demo admin and auditor
//   DOUDI_CHROMIUM  optional, default /usr/bin/chromium
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'

export const BASE = (process.env.DOUDI_URL ?? 'http://127.0.0.1:18080').replace(/\/+$/, '')
export const PASSWORD = process.env.DOUDI_PASSWORD ?? 'Demo@2026pw'
const CHROMIUM = process.env.DOUDI_CHROMIUM ?? '/usr/bin/chromium'

export const DESKTOP = { width: 1280, height: 900 }
export const PHONE = { width: 375, height: 812 }

// ---------------------------------------------------------------- citizen ids (GB 11643, MOD 11-2)
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'

export function checkChar(first17) {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]
  return CHECK[sum % 11]
}

export function randInt(lo, hi) {
  return lo + Math.floor(Math.random() * (hi - lo + 1))
}

/** A random valid id of 昌乐县 (370725), born between the given years. */
export function randomCitizenId(fromYear, toYear) {
  const y = randInt(fromYear, toYear)
  const m = String(randInt(1, 12)).padStart(2, '0')
  const d = String(randInt(1, 28)).padStart(2, '0')
  const seq = String(randInt(0, 999)).padStart(3, '0')
  const first17 = `370725${y}${m}${d}${seq}`
  return first17 + checkChar(first17)
}

/** The same id with a wrong but well-formed check character. */
export function withWrongCheck(id) {
  const right = id[17]
  return id.slice(0, 17) + CHECK.split('').find((c) => c !== right && c !== 'X')
}

const SURNAMES = '赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦许何吕施张孔曹严华金魏陶姜'
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰春梅'
export function randomName() {
  const pick = (s) => s[randInt(0, s.length - 1)]
  return pick(SURNAMES) + pick(GIVEN) + pick(GIVEN)
}

// ---------------------------------------------------------------- browser
let browser = null

export async function launch() {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
    ],
  })
  return browser
}

export async function close() {
  await browser?.close()
  browser = null
}

export async function newPage(viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.pageErrors = errors
  return page
}

/**
 * Runs `fn(page)` on a fresh page; on failure saves /tmp/e2e-<name>.png (full page) and
 * rethrows. Uncaught errors in the page fail the test too.
 */
export async function withPage(name, viewport, fn) {
  const page = await newPage(viewport)
  try {
    await fn(page)
    assert.deepEqual(page.pageErrors, [], 'uncaught errors in the page')
  } catch (e) {
    await page.screenshot({ path: `/tmp/e2e-${name}.png`, fullPage: true }).catch(() => {})
    throw e
  } finally {
    await page.context().close()
  }
}

/**
 * Logs `username` in on a fresh page and runs `fn(page)`; on failure saves
 * /tmp/e2e-<suite>-<step>.png and rethrows. Uncaught page errors fail the step.
 */
export async function asUserIn(suite, step, username, viewport, fn) {
  const page = await newPage(viewport)
  try {
    await login(page, username)
    await page.waitForURL((u) => !u.pathname.startsWith('/login'))
    await fn(page)
    assert.deepEqual(page.pageErrors, [], `uncaught errors in the page (${step})`)
  } catch (e) {
    await page.screenshot({ path: `/tmp/e2e-${suite}-${step}.png`, fullPage: true }).catch(() => {})
    throw e
  } finally {
    await page.context().close()
  }
}

// ---------------------------------------------------------------- page helpers
export const tid = (id) => `[data-testid="${id}"]`

/** TOTP secrets (base32) of the demo accounts that log in with a second factor. */
export const TOTP_SECRETS = JSON.parse(process.env.DOUDI_TOTP_SECRETS || '{}')

/**
 * A TOTP code for `username` the server has not used yet (tests/api/lib.mjs nextTotpCode: it
 * reads the last used step from the database, DOUDI_DB, which the runner sets).
 */
export async function totpCodeFor(username, secret = TOTP_SECRETS[username]) {
  const api = await apiLib()
  return api.nextTotpCode(username, secret ?? api.totpSecrets.get(username))
}

/**
 * tests/api/lib.mjs: login() and TOTP codes use it, and tests make through it what they need
 * besides the pages (households, cases, users, feeds). It reads its settings from the environment
 * when first loaded: the URL and password default to this file's, DOUDI_BIN to the build's binary;
 * DOUDI_DB must name the server's database (the runner sets it).
 */
export async function apiLib() {
  process.env.DOUDI_URL ??= BASE
  process.env.DOUDI_PASSWORD ??= PASSWORD
  process.env.DOUDI_BIN ??= new URL('../../build/doudi', import.meta.url).pathname
  assert.ok(process.env.DOUDI_DB, 'DOUDI_DB must name the server’s database (sqlite:/path or postgresql://…)')
  return import('../api/lib.mjs')
}

/**
 * Fills the login form and submits it; for an account with a known TOTP secret, waits for the
 * code step and fills it (opts.totp: false leaves the code step to the caller).
 */
export async function login(page, username, password = PASSWORD, opts = {}) {
  // An account whose forced steps tests/api/lib.mjs login() took (a password change, TOTP
  // enrolment) logs in with the password and the secret it put in place.
  const api = await apiLib()
  password = api.currentPassword(username, password)
  await page.goto(`${BASE}/login`)
  await page.locator(tid('login-username')).fill(username)
  await page.locator(tid('login-password')).fill(password)
  await page.locator(tid('login-submit')).click()
  if (opts.totp !== false && (TOTP_SECRETS[username] || api.totpSecrets.has(username))) {
    await page.locator(tid('login-totp')).waitFor()
    await page.locator(tid('login-totp')).fill(await totpCodeFor(username))
    await page.locator(tid('login-submit')).click()
  }
}

const HOUSEHOLDS = /\/households$/
/** Where a village assistant lands: the month's screening list (月排查). */
export const SCREENING = /\/monitoring\/screening$/

/**
 * Logs in as `username`, waits for the page the role lands on (`landing`: the household list
 * unless given) and, when that is another page, opens the household list from the side menu.
 */
export async function loginToHouseholds(page, username, landing = HOUSEHOLDS) {
  await login(page, username)
  await page.waitForURL(landing)
  if (landing !== HOUSEHOLDS) {
    await page.locator(tid('menu-households')).click()
    await page.waitForURL(HOUSEHOLDS)
  }
}

/** Picks the option with `optionText` in the el-select carrying data-testid `testId`. */
export async function choose(page, testId, optionText) {
  await page.locator(tid(testId)).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: optionText }).first().click()
}

/** The error text under the form item bound to server field `field` (e.g. members[1].citizen_id). */
export function fieldError(scope, field) {
  return scope.locator(`${tid(`field-${field}`)} .el-form-item__error`)
}

export async function fillMember(page, index, { citizenId, name, relation }) {
  await page.locator(tid(`member-citizen-id-${index}`)).fill(citizenId)
  await page.locator(tid(`member-name-${index}`)).fill(name)
  if (relation) await choose(page, `member-relation-${index}`, relation)
}

/** Clicks `target` and returns the first API response whose path ends with `pathEnd`. */
export async function clickFor(page, target, pathEnd, method) {
  const [res] = await Promise.all([
    page.waitForResponse(
      (r) => new URL(r.url()).pathname.endsWith(pathEnd) && (!method || r.request().method() === method),
    ),
    page.locator(target).click(),
  ])
  return res
}
