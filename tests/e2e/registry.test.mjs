// Browser tests of the registry pages, in headless Debian Chromium through playwright-core.
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' node --test tests/e2e/
//
// The server must run on a migrated, demo-seeded database and serve web/dist at `/`.
// On failure each test leaves a full-page screenshot in /tmp/e2e-<test>.png.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'

const BASE = (process.env.DOUDI_URL ?? 'http://127.0.0.1:18080').replace(/\/$/, '')
const PASSWORD = process.env.DOUDI_PASSWORD ?? 'Demo@2026pw'
const CHROMIUM = process.env.DOUDI_CHROMIUM ?? '/usr/bin/chromium'

// ---- citizen ids (GB 11643, MOD 11-2) ----
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const CHECK = '10X98765432'

function checkChar(first17) {
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]
  return CHECK[sum % 11]
}

function randInt(lo, hi) {
  return lo + Math.floor(Math.random() * (hi - lo + 1))
}

/** A random valid id of 昌乐县 (370725), born between the given years. */
function randomCitizenId(fromYear, toYear) {
  const y = randInt(fromYear, toYear)
  const m = String(randInt(1, 12)).padStart(2, '0')
  const d = String(randInt(1, 28)).padStart(2, '0')
  const seq = String(randInt(0, 999)).padStart(3, '0')
  const first17 = `370725${y}${m}${d}${seq}`
  return first17 + checkChar(first17)
}

/** The same id with a wrong (but well-formed) check character. */
function withWrongCheck(id) {
  const right = id[17]
  const wrong = CHECK.split('').find((c) => c !== right && c !== 'X')
  return id.slice(0, 17) + wrong
}

const SURNAMES = '赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦许何吕施张孔曹严华金魏陶姜'
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰春梅'
function randomName() {
  const pick = (s) => s[randInt(0, s.length - 1)]
  return pick(SURNAMES) + pick(GIVEN) + pick(GIVEN)
}

// ---- browser plumbing ----
let browser

before(async () => {
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
})

after(async () => {
  await browser?.close()
})

/** Runs `fn` with a fresh page; screenshots to /tmp/e2e-<name>.png when it throws. */
async function withPage(name, viewport, fn) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e.message))
  try {
    await fn(page)
    assert.deepEqual(pageErrors, [], 'uncaught errors in the page')
  } catch (e) {
    await page.screenshot({ path: `/tmp/e2e-${name}.png`, fullPage: true }).catch(() => {})
    throw e
  } finally {
    await context.close()
  }
}

const tid = (id) => `[data-testid="${id}"]`

async function login(page, username, password = PASSWORD) {
  await page.goto(`${BASE}/login`)
  await page.locator(tid('login-username')).fill(username)
  await page.locator(tid('login-password')).fill(password)
  await page.locator(tid('login-submit')).click()
}

/** Picks `optionText` in the el-select whose wrapper carries data-testid `testId`. */
async function choose(page, testId, optionText) {
  await page.locator(tid(testId)).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: optionText }).first().click()
}

/** The error text shown under the form item bound to server field `field`. */
function fieldError(scope, field) {
  return scope.locator(`${tid(`field-${field}`)} .el-form-item__error`)
}

async function fillMember(page, index, { citizenId, name, relation }) {
  await page.locator(tid(`member-citizen-id-${index}`)).fill(citizenId)
  await page.locator(tid(`member-name-${index}`)).fill(name)
  if (relation) await choose(page, `member-relation-${index}`, relation)
}

// ---- tests ----

test('village assistant registers a household, finds it, and sees server field errors', async () => {
  await withPage('registry', { width: 1280, height: 900 }, async (page) => {
    await login(page, 'village1')
    await page.waitForURL(/\/households$/)
    await assert.doesNotReject(page.locator(tid('header-user-role')).getByText('村级协理员').waitFor())
    await assert.doesNotReject(page.locator(tid('header-user-region')).getByText('乔南村').waitFor())
    // A village assistant may not manage users nor read the audit log.
    await page.locator(tid('menu-households')).waitFor()
    assert.equal(await page.locator(tid('menu-users')).count(), 0)
    assert.equal(await page.locator(tid('menu-audit')).count(), 0)

    // ---- create ----
    await page.locator(tid('household-new')).click()
    await page.waitForURL(/\/households\/new$/)
    // The assistant's own village is preselected.
    await page.locator(tid('field-village_code')).getByText('乔南村').waitFor()

    const headId = randomCitizenId(1950, 1975)
    const spouseId = randomCitizenId(1950, 1975)
    const headName = randomName()
    const spouseName = randomName()
    const address = `乔官镇乔南村 E2E ${randInt(1, 9999)} 号`
    await page.locator(tid('household-address')).fill(address)
    await page.locator(tid('household-phone')).fill('13800000000')
    await page.locator(tid('household-deposits')).fill('1234.5')
    await fillMember(page, 0, { citizenId: headId, name: headName })
    await page.locator(tid('member-add')).click()
    await fillMember(page, 1, { citizenId: withWrongCheck(spouseId), name: spouseName, relation: '配偶' })

    // The client only warns about the check character; the server decides.
    await page.locator(tid('member-citizen-id-hint-1')).waitFor()
    let [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/households') && r.request().method() === 'POST'),
      page.locator(tid('household-save')).click(),
    ])
    assert.equal(res.status(), 400)
    const body = await res.json()
    assert.equal(body.error.code, 'invalid_argument')
    assert.equal(body.error.field, 'members[1].citizen_id')
    assert.ok(/[\u4e00-\u9fff]/.test(body.error.message), `server message should be Chinese: ${body.error.message}`)
    const err = fieldError(page, 'members[1].citizen_id')
    await err.waitFor()
    assert.equal((await err.innerText()).trim(), body.error.message)
    // Nothing else is marked, and the page did not move on.
    assert.equal(await fieldError(page, 'members[0].citizen_id').count(), 0)
    assert.match(page.url(), /\/households\/new$/)

    await page.locator(tid('member-citizen-id-1')).fill(spouseId.toLowerCase())
    ;[res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/households') && r.request().method() === 'POST'),
      page.locator(tid('household-save')).click(),
    ])
    assert.equal(res.status(), 201, `create failed: ${await res.text()}`)
    const created = await res.json()
    assert.equal(created.assets.deposits_fen, 123450)
    assert.equal(created.members.length, 2)
    await page.waitForURL(new RegExp(`/households/${created.id}$`))
    await page.locator(tid('household-detail-title')).getByText(headName).waitFor()
    await page.locator(tid('household-info-deposits')).getByText('1234.50').waitFor()

    // ---- find it by search ----
    await page.locator(tid('menu-households')).click()
    await page.waitForURL(/\/households(\?.*)?$/)
    await page.locator(tid('household-search')).fill(headId)
    await page.locator(tid('household-search')).press('Enter')
    await page.waitForURL(/[?&]q=/)
    const row = page.locator(`${tid('household-table')} .el-table__body tr`, { hasText: headName })
    await row.waitFor()
    assert.equal(await page.locator(`${tid('household-table')} .el-table__body-wrapper tr.el-table__row`).count(), 1)
    const rowText = await row.innerText()
    assert.ok(rowText.includes(`${headId.slice(0, 6)}********${headId.slice(14)}`), `masked id in: ${rowText}`)
    assert.ok(rowText.includes('乔南村'), rowText)
    assert.ok(rowText.includes('农村'), rowText)
    await page.locator(`${tid('household-table')} .el-pagination, ${tid('household-pagination')}`).getByText('共 1 条').waitFor()

    // ---- open it ----
    await row.click()
    await page.waitForURL(new RegExp(`/households/${created.id}$`))
    await page.locator(`${tid('member-table')} .el-table__body`).getByText(spouseName).first().waitFor()

    // ---- add a member: wrong check character, the server's error under the citizen id ----
    await page.locator(tid('member-add')).click()
    const dialog = page.locator('.el-dialog', { has: page.locator(tid('member-citizen-id-dialog')) })
    await dialog.waitFor()
    const childId = randomCitizenId(2008, 2015)
    const childName = randomName()
    await fillMember(page, 'dialog', { citizenId: withWrongCheck(childId), name: childName, relation: '子女' })
    ;[res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/households/${created.id}/members`)),
      dialog.locator(tid('member-dialog-save')).click(),
    ])
    assert.equal(res.status(), 400)
    const memberErr = (await res.json()).error
    assert.equal(memberErr.field, 'citizen_id')
    const dialogErr = fieldError(dialog, 'citizen_id')
    await dialogErr.waitFor()
    assert.equal((await dialogErr.innerText()).trim(), memberErr.message)

    await page.locator(tid('member-citizen-id-dialog')).fill(childId)
    ;[res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/api/v1/households/${created.id}/members`)),
      dialog.locator(tid('member-dialog-save')).click(),
    ])
    assert.equal(res.status(), 201, `add member failed: ${await res.text()}`)
    await dialog.waitFor({ state: 'hidden' })
    await page.locator(`${tid('member-table')} .el-table__body`).getByText(childName).first().waitFor()
    await page.locator('.el-card__header', { hasText: '家庭成员（3 人）' }).waitFor()
  })
})

test('phone-sized screen: login errors in Chinese, household list and drawer menu', async () => {
  await withPage('phone', { width: 375, height: 812 }, async (page) => {
    await login(page, 'village2', 'wrong-password-1')
    const loginError = page.locator(tid('login-error'))
    await loginError.waitFor()
    assert.match(await loginError.innerText(), /用户名或密码错误/)

    await page.locator(tid('login-password')).fill(PASSWORD)
    await page.locator(tid('login-submit')).click()
    await page.waitForURL(/\/households$/)
    await page.locator(tid('app-name')).getByText('兜底 · 社会救助综合服务平台').waitFor()
    await page.locator(tid('household-table')).waitFor()
    await page.locator(tid('household-new')).waitFor()
    // Columns are labelled in Chinese.
    const header = await page.locator(`${tid('household-table')} .el-table__header`).innerText()
    for (const label of ['户主', '身份证号', '村（社区）', '镇街', '城乡', '人数', '更新时间']) {
      assert.ok(header.includes(label), `column ${label} in ${header}`)
    }
    // The page itself does not scroll sideways (the table may, inside its card).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the screen`)

    // The side menu is a drawer behind the menu button.
    assert.equal(await page.locator(`.layout-aside ${tid('side-menu')}`).count(), 0)
    await page.locator(tid('menu-toggle')).click()
    const drawerMenu = page.locator(`.el-drawer ${tid('side-menu')}`)
    await drawerMenu.waitFor()
    await drawerMenu.locator(tid('menu-regions')).getByText('区划').waitFor()
    assert.equal(await drawerMenu.locator(tid('menu-users')).count(), 0)
    await drawerMenu.locator(tid('menu-regions')).click()
    await page.waitForURL(/\/regions$/)
    await page.locator(`${tid('region-tree')}`).getByText('龙泉院村').first().waitFor()
  })
})
