// Browser test of the application workflow (docs/workflow.md): one dibao application walked from
// the town window to enrollment, every step done in the browser by the role that owns it, with
// the acceptance notice printed and the timeline checked.
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' DOUDI_DB=sqlite:/path/e2e.db node --test tests/e2e/workflow.test.mjs
//
// The notice period (7 days) cannot pass during a test: the test ends it in the database
// (`applications.notice_ends`, migration 4) with the sqlite3 command-line tool, so DOUDI_DB must
// be the server's SQLite database (`sqlite:/path`). On failure a screenshot of the page of the
// failing step is left in /tmp/e2e-workflow-<step>.png.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { BASE, DESKTOP, PHONE, clickFor, close, fieldError, launch, login, newPage, tid, asUserIn, apiLib } from './lib.mjs'

before(launch)
after(close)

const VILLAGE = '370725107202' // 乔官镇乔南村
const APPLICANT = '王建国' // demo household of 乔南村: one member, pension only → dibao
const DB = process.env.DOUDI_DB ?? ''

/** Today in Asia/Shanghai (the server's calendar), shifted by `days`. */
function shanghaiDay(days = 0) {
  const d = new Date(Date.now() + days * 86_400_000)
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}

function sqlite(sql) {
  assert.match(DB, /^sqlite:/, 'DOUDI_DB must name the server’s SQLite database (sqlite:/path) to end the notice period')
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', DB.slice('sqlite:'.length), sql], { encoding: 'utf8' })
}

const asUser = (step, username, viewport, fn) => asUserIn('workflow', step, username, viewport, fn)

/** Opens the case page and waits for the state tag to read `stateLabel`. */
async function openCase(page, id, stateLabel) {
  await page.goto(`${BASE}/cases/${id}`)
  await page.locator(tid('case-state')).getByText(stateLabel, { exact: true }).waitFor()
}

/** Clicks the action button; resolves with its dialog once open. */
async function openAction(page, action) {
  await page.locator(tid(`case-action-${action}`)).click()
  const dialog = page.locator('.el-dialog', { has: page.locator(tid(`action-form-${action}`)) })
  await dialog.waitFor()
  return dialog
}

/** Clicks the action button, fills the dialog with `fill(dialog)`, submits; returns the response. */
async function act(page, id, action, fill = async () => {}) {
  await fill(await openAction(page, action))
  return clickFor(page, tid('case-action-submit'), `/api/v1/applications/${id}/actions`, 'POST')
}

async function expectState(page, res, state, stateLabel) {
  assert.equal(res.status(), 200, `action failed: ${await res.text()}`)
  const body = await res.json()
  assert.equal(body.state, state)
  await page.locator(tid('case-state')).getByText(stateLabel, { exact: true }).waitFor()
  await page.locator(tid('case-action-dialog')).waitFor({ state: 'hidden' })
  return body
}

test('one dibao application from the town window to enrollment, each step by its role', async () => {
  assert.match(DB, /^sqlite:/, 'DOUDI_DB must name the server’s SQLite database (sqlite:/path) to end the notice period')
  let id = 0
  let caseNo = ''

  // ---- town window: register the application and accept it; print the acceptance notice ----
  await asUser('create', 'town_clerk', DESKTOP, async (page) => {
    await page.locator(tid('menu-cases')).click()
    await page.waitForURL(/\/cases(\?.*)?$/)
    await page.locator(tid('case-new')).click()
    const dialog = page.locator(tid('new-case-dialog'))
    await dialog.waitFor()

    // The household: searched by name, the one of 乔南村.
    await page.locator(`${tid('new-case-household')} input`).fill(APPLICANT)
    await page.locator('.el-select-dropdown__item:visible', { hasText: APPLICANT }).filter({ hasText: '乔南村' }).first().click()
    await page.locator(`${tid('new-case-applicant')}`).getByText(APPLICANT).waitFor() // the head, by default
    // A dibao application: untick the other four programmes (five-in-one is the default).
    for (const p of ['tekun', 'temporary', 'marginal', 'illness_poverty']) {
      await page.locator(tid(`new-case-program-${p}`)).click()
    }

    // Both signed papers are required: nothing is sent without them.
    let posted = 0
    const count = (r) => {
      if (new URL(r.url()).pathname === '/api/v1/applications' && r.method() === 'POST') posted++
    }
    page.on('request', count)
    await page.locator(tid('new-case-submit')).click()
    await fieldError(page, 'authorization').getByText('须签署家庭经济状况核对授权书').waitFor()
    await fieldError(page, 'commitment').getByText('须签署诚信承诺书').waitFor()
    assert.equal(posted, 0, 'no request without the signed authorization and commitment')
    page.off('request', count)

    await page.locator(tid('new-case-authorization')).click()
    await page.locator(tid('new-case-commitment')).click()

    // The connection fails: whether it arrived is not known. The dialog keeps what was typed
    // and says to look before sending again.
    await page.route('**/api/v1/applications', (route) =>
      route.request().method() === 'POST' ? route.abort('connectionreset') : route.continue())
    await page.locator(tid('new-case-submit')).click()
    await page.locator(tid('new-case-error')).getByText('网络中断，无法确认是否已保存，请刷新页面查看后再操作，勿重复提交').waitFor()
    assert.ok(await dialog.isVisible(), 'the dialog stays open')
    assert.equal(await page.locator(`${tid('new-case-applicant')}`).getByText(APPLICANT).count(), 1, 'the household is kept')
    await page.unroute('**/api/v1/applications')

    let res = await clickFor(page, tid('new-case-submit'), '/api/v1/applications', 'POST')
    assert.equal(res.status(), 201, `create failed: ${await res.text()}`)
    const created = await res.json()
    assert.equal(created.state, 'received')
    assert.equal(created.channel, 'window')
    assert.deepEqual(created.programs, ['dibao'])
    assert.equal(created.village_code, VILLAGE)
    assert.equal(created.applicant_name, APPLICANT)
    id = created.id
    caseNo = created.case_no
    await page.waitForURL(new RegExp(`/cases/${id}$`))
    await page.locator(tid('case-title')).getByText(caseNo).waitFor()
    await page.locator(tid('case-state')).getByText('已提交，待受理').waitFor()
    assert.equal((await page.locator(tid('case-programs')).innerText()).trim(), '低保')
    // Only what this user may do now: accepting, asking for documents, withdrawing.
    await page.locator(tid('case-action-accept')).waitFor()
    assert.equal(await page.locator(tid('case-action-record_visit')).count(), 0)
    assert.equal(await page.locator(tid('case-action-link_household')).count(), 0, 'the household is already linked')

    res = await act(page, id, 'accept')
    const accepted = await expectState(page, res, 'accepted', '已受理，待入户调查')
    assert.match(accepted.due_date, /^\d{4}-\d{2}-\d{2}$/)
    await page.locator(tid('case-due')).getByText(accepted.due_date).waitFor()
    await page.locator(tid('case-flag-delegated')).getByText('镇街审批').waitFor()
    await page.locator(tid('case-step-accept')).and(page.locator('[data-status="success"]')).waitFor()

    // The acceptance notice: printable A4 page in a new tab.
    const notice = accepted.notices.find((n) => n.kind === 'acceptance')
    assert.ok(notice, 'an acceptance notice is archived')
    await page.locator(tid('notice-row-acceptance')).getByText('申请受理告知书').waitFor()
    const [tab] = await Promise.all([page.waitForEvent('popup'), page.locator(tid(`notice-view-${notice.id}`)).click()])
    await tab.waitForLoadState()
    assert.match(new URL(tab.url()).pathname, new RegExp(`/api/v1/notices/${notice.id}/print$`))
    const text = await tab.locator('body').innerText()
    assert.ok(text.includes('受理告知书'), `notice text: ${text.slice(0, 200)}`)
    assert.ok(text.includes(caseNo), 'the notice carries the case number')
    assert.ok(text.includes(accepted.due_date), 'the notice carries the due date')
    await tab.close()

    // The case is in the list, found by its number, with its due date.
    await page.locator(tid('menu-cases')).click()
    await page.waitForURL(/\/cases(\?.*)?$/)
    await page.locator(tid('case-search')).fill(caseNo)
    await page.locator(tid('case-search')).press('Enter')
    await page.waitForURL(/[?&]q=/)
    const row = page.locator(`${tid('case-table')} tr.el-table__row`, { hasText: caseNo })
    await row.waitFor()
    const rowText = await row.innerText()
    for (const s of [APPLICANT, '乔南村', '低保', '窗口', '已受理，待入户调查', accepted.due_date]) {
      assert.ok(rowText.includes(s), `"${s}" in row: ${rowText}`)
    }
  })

  // ---- village assistant, on a phone: the home visit with two staff ----
  await asUser('visit', 'village1', PHONE, async (page) => {
    await openCase(page, id, '已受理，待入户调查')
    const res = await act(page, id, 'record_visit', async () => {
      await page.locator(tid('action-staff-0')).fill('李协理')
      // One staff member is not enough: the form says so and sends nothing.
      let posted = 0
      const count = (r) => {
        if (new URL(r.url()).pathname.endsWith('/actions')) posted++
      }
      page.on('request', count)
      await page.locator(tid('case-action-submit')).click()
      await fieldError(page, 'staff').getByText('入户调查人员不少于 2 人').waitFor()
      assert.equal(posted, 0)
      page.off('request', count)
      await page.locator(tid('action-staff-1')).fill('王村委')
      await page.locator(tid('action-findings')).fill('独居老人，仅有基础养老金，住房简陋，无其他收入来源。')
    })
    const visited = await expectState(page, res, 'visited', '已入户调查，待信息核对')
    assert.deepEqual(visited.visit.staff, ['李协理', '王村委'])
    await page.locator(tid('case-visit-staff')).getByText('李协理、王村委').waitFor()
    await page.locator(tid('case-no-actions')).waitFor() // nothing more for the village
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `the case page is ${overflow}px wider than a 375px screen`)
  })

  // ---- town window: economic verification (the policy engine decides) ----
  await asUser('verify', 'town_clerk', DESKTOP, async (page) => {
    await openCase(page, id, '已入户调查，待信息核对')
    const res = await act(page, id, 'record_verification', async () => {
      await page.locator(tid('action-verification-findings')).fill('存款、车辆、房产、工商、社保核对无异常。')
    })
    const verified = await expectState(page, res, 'verified', '已核对，待镇街审核')
    assert.equal(verified.determinations.dibao.eligible, true, 'the demo household qualifies for dibao')
    await page.locator(tid('det-dibao')).getByText('符合').waitFor()
  })

  // ---- town reviewer: the town opinion → public notice in the village ----
  await asUser('opinion', 'town_reviewer', DESKTOP, async (page) => {
    await openCase(page, id, '已核对，待镇街审核')
    const res = await act(page, id, 'town_opinion', async () => {
      await page.locator(tid('action-recommend-approve')).click()
      await page.locator(tid('action-opinion')).fill('经审核，符合低保条件，同意公示。')
    })
    const noticed = await expectState(page, res, 'public_notice', '公示中')
    assert.ok(noticed.notice_ends > shanghaiDay(), 'the notice runs for days')
    await page.locator(tid('case-notice-period')).getByText(noticed.notice_ends).waitFor()
  })

  // The village notice board (no login) lists the applicant, never with the full citizen id.
  {
    const page = await newPage(PHONE)
    try {
      await page.goto(`${BASE}/notice-board?village=${VILLAGE}`)
      const item = page.locator(tid(`board-item-${caseNo}`))
      await item.waitFor()
      const text = await item.innerText()
      assert.ok(text.includes(APPLICANT), text)
      assert.ok(!/\d{17}[\dX]/.test(await page.locator('body').innerText()), 'no full citizen id on the public board')
      assert.match(await item.locator(tid('board-masked-id')).innerText(), /^\d{6}\*{8}[\dX]{4}$/)
      assert.equal(new URL(page.url()).pathname, '/notice-board', 'public page, no redirect to the login page')
    } catch (e) {
      await page.screenshot({ path: '/tmp/e2e-workflow-board.png', fullPage: true }).catch(() => {})
      throw e
    } finally {
      await page.context().close()
    }
  }

  // ---- town window: the notice cannot be closed early; after it ends it can ----
  await asUser('close', 'town_clerk', DESKTOP, async (page) => {
    await openCase(page, id, '公示中')
    let res = await act(page, id, 'close_notice')
    assert.equal(res.status(), 409)
    const { error } = await res.json()
    assert.equal(error.code, 'failed_precondition')
    await page.locator(tid('case-action-error')).getByText(error.message).waitFor()

    // The seven days pass.
    sqlite(`UPDATE applications SET notice_ends = '${shanghaiDay(-1)}' WHERE id = ${Number(id)}`)
    res = await clickFor(page, tid('case-action-submit'), `/api/v1/applications/${id}/actions`, 'POST')
    await expectState(page, res, 'awaiting_decision', '待审批确认')
  })

  // ---- town reviewer: approval (昌乐 delegates confirmation to the town) → enrollment ----
  await asUser('approve', 'town_reviewer', DESKTOP, async (page) => {
    await openCase(page, id, '待审批确认')
    const res = await act(page, id, 'approve', async () => {
      await page.locator(tid('action-approve-opinion')).fill('同意纳入农村低保。')
    })
    const enrolled = await expectState(page, res, 'enrolled', '已批准')
    const dibao = enrolled.enrollments.find((e) => e.program === 'dibao')
    assert.ok(dibao && dibao.monthly_fen > 0, `a dibao enrollment with a monthly amount: ${JSON.stringify(enrolled.enrollments)}`)
    const yuan = `${Math.floor(dibao.monthly_fen / 100)}.${String(dibao.monthly_fen % 100).padStart(2, '0')}`
    await page.locator(tid('enrollment-amount-dibao')).getByText(`每月 ${yuan} 元`).waitFor()
    await page.locator(tid('case-step-result')).and(page.locator('[data-status="success"]')).waitFor()
    await page.locator(tid('notice-row-approval')).getByText('审批通知书').waitFor()
    assert.equal(await page.locator(tid('case-no-actions')).count(), 1, 'nothing left to do')

    // The timeline: every step, by whom, in order.
    const expected = [
      ['submit', 'town_clerk'],
      ['accept', 'town_clerk'],
      ['record_visit', 'village1'],
      ['record_verification', 'town_clerk'],
      ['town_opinion', 'town_reviewer'],
      ['close_notice', 'town_clerk'],
      ['approve', 'town_reviewer'],
    ]
    const items = page.locator(`${tid('case-timeline')} .el-timeline-item`)
    await page.locator(tid('timeline-item-approve')).waitFor()
    assert.equal(await items.count(), expected.length)
    const labels = ['提交申请', '受理', '录入入户调查', '录入信息核对', '镇街审核意见', '结束公示', '批准']
    for (let i = 0; i < expected.length; i++) {
      const [action, who] = expected[i]
      const item = items.nth(i)
      assert.equal(await item.getAttribute('data-testid'), `timeline-item-${action}`)
      const text = await item.innerText()
      assert.ok(text.includes(labels[i]), `step ${i} "${labels[i]}": ${text}`)
      assert.ok(text.includes(`办理人：${who}`), `step ${i} by ${who}: ${text}`)
      assert.match(text, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/)
    }
    assert.ok((await items.nth(2).innerText()).includes('李协理、王村委'))
    assert.ok((await items.nth(6).innerText()).includes('纳入救助 1 项'))
  })
})

test('an action saved whose answer could not be read back says so and offers a reload, not a resend', async () => {
  const { app } = await (await apiLib()).newCase()
  await asUser('saved-unread', 'town_clerk', DESKTOP, async (page) => {
    await openCase(page, app.id, '已提交，待受理')
    // From now the read log refuses this application's rows: the accepted record cannot be
    // read back for the answer (its read would go unlogged).
    const trigger = `refuse_read_e2e_${Number(app.id)}`
    sqlite(`CREATE TRIGGER ${trigger} BEFORE INSERT ON read_log WHEN NEW.entity = 'application' AND ` +
      `NEW.entity_id = '${Number(app.id)}' BEGIN SELECT RAISE(ABORT, 'refused by test'); END`)
    try {
      const res = await act(page, app.id, 'accept')
      assert.equal(res.status(), 500, await res.text())
      assert.equal((await res.json()).error.code, 'committed_unread')
      const alert = page.locator(tid('case-action-error'))
      await alert.getByText('已保存成功，但读取结果失败，请刷新页面查看，勿重复提交').waitFor()
      await alert.locator(tid('case-action-reload')).waitFor()
    } finally {
      sqlite(`DROP TRIGGER ${trigger}`)
    }
    // The reload shows what was saved.
    await page.locator(tid('case-action-reload')).click()
    await page.locator(tid('case-state')).getByText('已受理，待入户调查', { exact: true }).waitFor()
    await page.locator(tid('case-action-dialog')).waitFor({ state: 'hidden' })
  })
})

test('an action whose answer is lost on the way back says it may be saved and offers a reload, not a resend', async () => {
  const { app } = await (await apiLib()).newCase()
  await asUser('answer-lost', 'town_clerk', DESKTOP, async (page) => {
    await openCase(page, app.id, '已提交，待受理')
    // The request reaches the server, which saves it; its answer never reaches the page.
    let landed = 0
    await page.route(`**/api/v1/applications/${app.id}/actions`, async (route) => {
      const res = await route.fetch()
      landed = res.status()
      await route.abort('connectionreset')
    })
    await openAction(page, 'accept')
    await page.locator(tid('case-action-submit')).click()
    const alert = page.locator(tid('case-action-error'))
    await alert.getByText('网络中断，无法确认是否已保存，请刷新页面查看后再操作，勿重复提交').waitFor()
    assert.equal(landed, 200, 'the server saved the action')
    await page.unroute(`**/api/v1/applications/${app.id}/actions`)
    await alert.locator(tid('case-action-reload')).click()
    await page.locator(tid('case-state')).getByText('已受理，待入户调查', { exact: true }).waitFor()
    await page.locator(tid('case-action-dialog')).waitFor({ state: 'hidden' })
  })
})
