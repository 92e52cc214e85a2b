// Browser tests of the policy-engine pages: the household's 救助资格测算 card, the policy
// parameter page (with a county admin's edit) and the simulation page with its ECharts chart.
//
//   DOUDI_URL=http://127.0.0.1:18080 DOUDI_PASSWORD='…' node --test tests/e2e/policy.test.mjs
//
// The server must run on a migrated, demo-seeded database and serve web/dist at `/`.
// Each test compares what the page shows with the JSON the server answered, so a page that
// drops or misformats a value fails. On failure: /tmp/e2e-<name>.png.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { DESKTOP, PHONE, clickFor, close, fieldError, launch, login, tid, withPage, loginToHouseholds, SCREENING } from './lib.mjs'

before(launch)
after(close)

/** 98000 → "980.00" (integer arithmetic, as the app does). */
function yuan(fen) {
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  const cents = abs % 100
  return `${sign}${(abs - cents) / 100}.${String(cents).padStart(2, '0')}`
}

/** Today and tomorrow in Asia/Shanghai, YYYY-MM-DD (the server's calendar). */
function shanghaiDay(offsetDays = 0) {
  const today = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date())
  const [y, m, d] = today.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + offsetDays)).toISOString().slice(0, 10)
}

const cite = (c) => (c === 'local setting' ? '本地设定' : c)
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim()

test('village assistant sees the determinations of a household with their reasons and citations', async () => {
  await withPage('policy-household', DESKTOP, async (page) => {
    await loginToHouseholds(page, 'village1', SCREENING)
    // Policy parameters are readable by a village assistant; simulation is not.
    await page.locator(tid('menu-policy')).getByText('政策参数').waitFor()
    assert.equal(await page.locator(tid('menu-policySimulate')).count(), 0)

    const [detRes] = await Promise.all([
      page.waitForResponse((r) => /\/api\/v1\/households\/\d+\/determinations/.test(new URL(r.url()).pathname)),
      page.locator(`${tid('household-table')} tr.el-table__row`).first().click(),
    ])
    assert.equal(detRes.status(), 200, await detRes.text())
    assert.equal(new URL(detRes.url()).searchParams.get('date'), shanghaiDay(0), 'the date picker defaults to today')
    const det = await detRes.json()
    const household = await (await page.request.get(new URL(`/api/v1/households/${det.household_id}`, page.url()).href)).json()

    const card = page.locator(tid('determination-card'))
    await card.getByText('救助资格测算').waitFor()

    // ---- every programme, in Chinese, with its yes/no tag as the server decided ----
    const names = {
      dibao: '低保',
      tekun: '特困供养',
      marginal: '低保边缘',
      temporary: '临时救助',
      expenditure_hardship: '刚性支出困难',
      illness_poverty: '因病致贫重病患者',
    }
    for (const [key, name] of Object.entries(names)) {
      const tile = card.locator(tid(`determination-${key}`))
      await tile.getByText(name, { exact: true }).waitFor()
      assert.equal(await text(tile.locator(tid(`determination-${key}-status`))), det[key].eligible ? '符合' : '不符合', key)
    }
    if (det.dibao.eligible) {
      assert.equal(await text(card.locator(tid('determination-dibao-monthly')).locator('strong')), `${yuan(det.dibao.monthly_fen)} 元`)
      const coverage = await text(card.locator(tid('determination-dibao-coverage')))
      if (det.dibao.coverage === 'whole_household') assert.equal(coverage, '整户施保')
      else {
        assert.match(coverage, /^单人保：/)
        for (const id of det.dibao.covered) {
          const m = household.members.find((p) => p.citizen_id === id)
          assert.ok(m && coverage.includes(m.name), `covered member ${id} by name in ${coverage}`)
        }
      }
    }
    // Referrals (一户一策) with the department and the triggers in Chinese.
    if (det.referrals.length) {
      const list = card.locator(tid('determination-referrals'))
      for (const r of det.referrals) {
        const line = await text(list.locator(tid(`referral-${r.kind}`)))
        assert.ok(line.includes(r.department_label), line)
        assert.doesNotMatch(line, /[a-z]_[a-z]/, `triggers in Chinese: ${line}`)
      }
    } else {
      await card.locator(tid('determination-no-referrals')).getByText('暂无转介建议').waitFor()
    }

    // ---- 依据: the dibao reasons expand and show rule, citation, facts and parameters ----
    assert.ok(det.dibao.reasons.length > 0, 'dibao has reasons')
    const reasons = card.locator(tid('reasons-dibao'))
    await reasons.locator('.el-collapse-item__header').click()
    const first = det.dibao.reasons[0]
    const reason = reasons.locator(tid('reason-dibao-0'))
    await reason.waitFor()
    const ruleText = await text(reason.locator(tid('reason-rule')))
    assert.ok(ruleText.startsWith(first.rule), `${ruleText} names ${first.rule}`)
    assert.match(ruleText, /[\u4e00-\u9fff]/, 'rule label in Chinese')
    assert.equal(await text(reason.locator(tid('reason-cite'))), cite(first.cite))
    assert.equal(await text(reason.locator('.reason-pass')), first.passed ? '✓ 满足' : '✗ 不满足')
    // The DB-1 reason (when present) shows the standard in 元 and its citation.
    const dbIndex = det.dibao.reasons.findIndex((r) => r.rule === 'DB-1')
    if (dbIndex >= 0) {
      const db = reasons.locator(tid(`reason-dibao-${dbIndex}`))
      assert.match(await text(db.locator(tid('reason-rule'))), /^DB-1 整户低保（差额法）/)
      const std = det.dibao.reasons[dbIndex].params.find((p) => p.key.endsWith('_monthly_fen'))
      if (std) {
        const params = await text(db.locator(tid('reason-params')))
        assert.ok(params.includes(`${yuan(Number(std.value))} 元`), `standard in 元 in: ${params}`)
        assert.ok(params.includes(cite(std.cite)), `param citation in: ${params}`)
      }
      const facts = await text(db.locator(tid('reason-facts')))
      const counted = det.dibao.reasons[dbIndex].facts.counted_income_fen
      if (typeof counted === 'number') assert.ok(facts.includes(`${yuan(counted)} 元`), `fen facts in 元: ${facts}`)
    }
  })
})

test('county admin reads the parameters, is refused by a constraint, edits a local setting and sees its history', async () => {
  await withPage('policy-admin', DESKTOP, async (page) => {
    await loginToHouseholds(page, 'admin')
    const [polRes] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/policy'),
      page.locator(tid('menu-policy')).click(),
    ])
    await page.waitForURL(/\/policy$/)
    assert.equal(polRes.status(), 200)
    const pack = await polRes.json()
    const byKey = Object.fromEntries(pack.parameters.map((p) => [p.key, p]))
    await page.locator(tid('policy-count')).getByText(`共 ${pack.parameters.length} 项`).waitFor()

    // ---- 城市低保标准: value in 元, source and cite `local setting` as 本地设定 ----
    const urban = byKey['dibao.urban_monthly_fen']
    assert.ok(urban, 'the pack has dibao.urban_monthly_fen')
    await page.locator(tid('policy-search')).fill('城市低保标准')
    await page.locator(tid('policy-label-dibao.urban_monthly_fen')).getByText('城市低保标准').waitFor()
    assert.equal(await text(page.locator(tid('policy-value-dibao.urban_monthly_fen'))), `${yuan(Number(urban.value))} 元`)
    assert.equal(await text(page.locator(tid('policy-from-dibao.urban_monthly_fen'))), urban.from)
    assert.equal(urban.cite, 'local setting')
    assert.equal(await text(page.locator(tid('policy-cite-dibao.urban_monthly_fen'))), '本地设定')
    assert.equal(await text(page.locator(tid('policy-source-dibao.urban_monthly_fen'))), '本地设定')
    assert.equal(await text(page.locator(tid('policy-group-name-dibao'))), '低保')
    // The search narrows the list (no group of workflow limits left).
    await page.locator(tid('policy-group-workflow')).waitFor({ state: 'detached' })

    // ---- an urban standard far above 1.23 × rural: refused with the constraint's message ----
    await page.locator(tid('policy-edit-dibao.urban_monthly_fen')).click()
    const dialog = page.locator('.el-dialog', { has: page.locator(tid('policy-edit-value')) })
    await dialog.waitFor()
    assert.equal(await page.locator(tid('policy-edit-value')).inputValue(), yuan(Number(urban.value)).replace(/\.00$/, ''), 'prefilled in 元')
    await page.locator(tid('policy-edit-value')).fill(String(Math.ceil((Number(byKey['dibao.rural_monthly_fen'].value) * 2) / 100)))
    await page.locator(tid('policy-edit-note')).fill('E2E: too high on purpose')
    let res = await clickFor(page, tid('policy-edit-save'), '/api/v1/policy/entries', 'POST')
    assert.equal(res.status(), 409, await res.text())
    const refused = (await res.json()).error
    assert.equal(refused.code, 'failed_precondition')
    const refusal = page.locator(tid('policy-edit-constraint'))
    await refusal.getByText('修改未保存：不符合约束条件').waitFor()
    assert.ok((await text(refusal)).includes(refused.message.replace(/\s+/g, ' ')), 'the server message is shown')
    await page.locator(tid('policy-edit-cancel')).click()
    await dialog.waitFor({ state: 'hidden' })

    // ---- 低保渐退期 → 5 months from tomorrow, with a note ----
    const exit = byKey['dibao.gradual_exit_months']
    assert.ok(exit?.editable, 'the gradual-exit length is a local setting')
    await page.locator(tid('policy-search')).fill('低保渐退期')
    await page.locator(tid('policy-edit-dibao.gradual_exit_months')).click()
    await dialog.waitFor()
    await page.locator(tid('policy-edit-value')).fill('5')
    // A missing note is caught before anything is sent.
    await page.locator(tid('policy-edit-note')).fill('')
    await page.locator(tid('policy-edit-save')).click()
    await fieldError(page, 'note').getByText('请填写修改说明').waitFor()

    const tomorrow = shanghaiDay(1)
    const fromInput = page.locator(`${tid('policy-edit-from')} input`)
    await fromInput.fill(tomorrow)
    await fromInput.press('Enter')
    const note = `E2E 渐退期调整 ${Date.now()}`
    await page.locator(tid('policy-edit-note')).fill(note)
    await page.locator(tid('policy-edit-basis')).fill('昌政发〔2026〕E2E号')
    res = await clickFor(page, tid('policy-edit-save'), '/api/v1/policy/entries', 'POST')
    assert.equal(res.status(), 201, await res.text())
    const saved = await res.json()
    assert.equal(String(saved.value), '5')
    assert.equal(saved.from, tomorrow)
    await dialog.waitFor({ state: 'hidden' })
    await page.locator('.el-message', { hasText: `参数已修改，自 ${tomorrow} 起生效` }).waitFor()

    // The history (opened after the save) lists the new entry, pending, with its note.
    const history = page.locator(tid('policy-history-dibao.gradual_exit_months'))
    const row = history.locator('tr', { hasText: note })
    await row.waitFor()
    const rowText = await text(row)
    for (const part of [tomorrow, '待生效', '5 个月', '本地设定', '县级管理员修改', '昌政发〔2026〕E2E号']) {
      assert.ok(rowText.includes(part), `${part} in history row: ${rowText}`)
    }
    // The value in force today is unchanged.
    assert.equal(await text(page.locator(tid('policy-value-dibao.gradual_exit_months'))), `${exit.value} 个月`)

    // ---- constraints: a collapsible list ----
    const constraints = page.locator(tid('policy-constraints'))
    await constraints.getByText(`约束条件（${pack.constraints.length} 条）`).click()
    await constraints.locator(tid('policy-constraint-table')).getByText(pack.constraints[0].message).first().waitFor()
  })
})

test('county admin simulates a higher rural standard and sees the chart and the town table', async () => {
  await withPage('policy-simulate', DESKTOP, async (page) => {
    await loginToHouseholds(page, 'admin')
    const [polRes] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/policy'),
      page.locator(tid('menu-policySimulate')).click(),
    ])
    await page.waitForURL(/\/policy\/simulate$/)
    const rural = (await polRes.json()).parameters.find((p) => p.key === 'dibao.rural_monthly_fen')

    await page.locator(tid('simulate-param-0')).click()
    await page.keyboard.type('农村低保标准')
    await page.locator('.el-select-dropdown__item:visible', { hasText: 'dibao.rural_monthly_fen' }).click()
    const value = page.locator(tid('simulate-value-0'))
    // Prefilled with the value in force, in 元.
    await page.waitForFunction(
      ([sel, v]) => document.querySelector(sel)?.value === v,
      [tid('simulate-value-0'), yuan(Number(rural.value)).replace(/\.00$/, '')],
    )
    const raisedFen = Number(rural.value) + 20000
    await value.fill(yuan(raisedFen))

    const res = await clickFor(page, tid('simulate-run'), '/api/v1/policy/simulate', 'POST')
    assert.equal(res.status(), 200, await res.text())
    const sim = await res.json()
    assert.deepEqual(JSON.parse(res.request().postData()).set, { 'dibao.rural_monthly_fen': String(raisedFen) }, 'sent as integer fen')
    assert.ok(sim.towns.length > 0, 'towns in the answer')

    // Totals as the server counted them, money in 元.
    const totals = page.locator(tid('simulate-totals'))
    await totals.waitFor()
    assert.equal(await text(totals.locator(tid('simulate-total-newly'))), String(sim.totals.newly_eligible))
    assert.equal(await text(totals.locator(tid('simulate-total-no-longer'))), String(sim.totals.no_longer_eligible))
    const change = sim.totals.cost_change_fen
    assert.equal(await text(totals.locator(tid('simulate-total-cost'))), `${change > 0 ? '+' : ''}${yuan(change)} 元/月`)
    await page.locator(tid('simulate-changes')).getByText(`${yuan(raisedFen)} 元`).waitFor()

    // The ECharts chart draws on a canvas of real size.
    const canvas = page.locator(`${tid('simulate-chart')} canvas`).first()
    await canvas.waitFor()
    const box = await canvas.boundingBox()
    assert.ok(box && box.width > 200 && box.height > 200, `canvas size ${JSON.stringify(box)}`)

    // One table row per town, with its cost change in 元.
    const rows = page.locator(`${tid('simulate-town-table')} .el-table__body-wrapper tr.el-table__row`)
    await rows.first().waitFor()
    assert.equal(await rows.count(), sim.towns.length)
    for (const town of sim.towns.filter((x) => x.households > 0)) {
      const cost = await text(page.locator(tid(`simulate-town-cost-${town.town_code}`)))
      assert.equal(cost, `${town.cost_change_fen > 0 ? '+' : ''}${yuan(town.cost_change_fen)}`, town.town_name)
    }
    if (sim.towns.some((x) => x.households > 0 && x.eligible_before > 0)) {
      assert.ok(change > 0, 'a higher rural standard costs more when rural households receive dibao')
    }
  })
})

test('phone-sized screen: determinations and parameters fit without sideways scrolling', async () => {
  await withPage('policy-phone', PHONE, async (page) => {
    await login(page, 'village1')
    await page.waitForURL(/\/monitoring\/screening$/)
    // The side menu is folded away on a phone: straight to the registry by its address.
    await page.goto(page.url().replace(/\/monitoring\/screening$/, '/households'))
    await page.waitForURL(/\/households$/)
    await page.locator(`${tid('household-table')} tr.el-table__row`).first().click()
    await page.waitForURL(/\/households\/\d+$/)
    await page.locator(tid('determination-dibao')).getByText('低保', { exact: true }).waitFor()
    let overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `household page is ${overflow}px wider than the screen`)

    await page.goto(new URL('/policy', page.url()).href)
    await page.locator(tid('policy-label-dibao.rural_monthly_fen')).waitFor()
    // Read-only for a village assistant: no edit buttons.
    assert.equal(await page.locator('[data-testid^="policy-edit-"]:not([data-testid="policy-edit-dialog"])').count(), 0)
    overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `policy page is ${overflow}px wider than the screen`)
  })
})
