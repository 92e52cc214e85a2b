// Browser test of the public progress lookup (进度查询, no login; issue 17 #1): it asks for the
// last four digits of the phone given with the application, shows one message for any miss, and
// shows the server's 429 message once the case's failed tries are used up (default 5).
//
//   DOUDI_URL=http://127.0.0.1:18080 node --test tests/e2e/public.test.mjs
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, DESKTOP, PHONE, close, launch, randInt, randomCitizenId, randomName, tid, withPage } from './lib.mjs'

before(launch)
after(close)

async function apply() {
  const input = {
    name: randomName(),
    citizen_id: randomCitizenId(1960, 1975),
    phone: `139${String(randInt(0, 99_999_999)).padStart(8, '0')}`,
    village_code: '370725107202',
    area: 'rural',
    programs: ['dibao'],
    description: '测试：进度查询页面',
  }
  const res = await fetch(`${BASE}/api/v1/public/applications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  })
  const text = await res.text()
  assert.equal(res.status, 201, text)
  return { input, case_no: JSON.parse(text).case_no }
}

async function lookUp(page, caseNo, citizenId, digits) {
  await page.locator(tid('progress-case-no')).fill(caseNo)
  await page.locator(tid('progress-citizen-id')).fill(citizenId)
  await page.locator(tid('progress-phone-last4')).fill(digits)
  await page.locator(tid('progress-submit')).click()
}

test('progress lookup: the phone digits are asked for; a miss says so; too many failures show the 429 message', async () => {
  const a = await apply()
  const digits = a.input.phone.slice(-4)
  const wrong = String((Number(digits) + 1) % 10000).padStart(4, '0')
  await withPage('public-progress', DESKTOP, async (page) => {
    await page.goto(`${BASE}/progress`)
    await page.locator(tid('field-phone_last4')).getByText('联系电话后四位').waitFor()
    // four digits are required before anything is sent
    await lookUp(page, a.case_no, a.input.citizen_id, '12')
    await page.locator(tid('field-phone_last4')).getByText('请输入联系电话后四位数字').waitFor()
    // the right answer
    await lookUp(page, a.case_no, a.input.citizen_id, digits)
    await page.locator(tid('progress-result')).waitFor()
    assert.equal(await page.locator(tid('progress-state')).innerText(), '已提交，待受理')
    // the right id with wrong digits: the one message for any miss
    await lookUp(page, a.case_no, a.input.citizen_id, wrong)
    const miss = await page.locator(tid('progress-error')).innerText()
    assert.match(miss, /没有找到该申请/)
    assert.equal(await page.locator(tid('progress-result')).count(), 0)
  })
  // four more failures on the case (five in all, the default limit), then the right answer is refused
  for (let i = 0; i < 4; i++) {
    const r = await fetch(`${BASE}/api/v1/public/applications/${encodeURIComponent(a.case_no)}?citizen_id=${a.input.citizen_id}&phone_last4=${wrong}`)
    assert.equal(r.status, 404)
  }
  await withPage('public-progress-429', PHONE, async (page) => {
    await page.goto(`${BASE}/progress?case_no=${encodeURIComponent(a.case_no)}`)
    await page.locator(tid('progress-citizen-id')).fill(a.input.citizen_id)
    await page.locator(tid('progress-phone-last4')).fill(digits)
    await page.locator(tid('progress-submit')).click()
    const text = await page.locator(tid('progress-error')).innerText()
    assert.match(text, /查询失败次数过多/)
    assert.match(text, /分钟后可再试/)
    assert.equal(await page.locator(tid('progress-result')).count(), 0)
  })
})
