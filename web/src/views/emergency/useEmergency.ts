// Act-first emergency help (急难型临时救助, 先行救助): the town pays at once from its reserve fund up
// to its ceiling and completes the paperwork afterwards; above the ceiling the county approves or
// a case conference (一事一议) decides. Reserve fund balances per town; the county admin deposits.
import { computed, onMounted, reactive, ref, useTemplateRef, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox, type FormInstance, type FormItemRule, type FormRules } from 'element-plus'
import {
  actOnEmergency,
  createEmergency,
  depositReserve,
  listEmergency,
  listReserveFunds,
  townCeilingFen,
  type EmergencyAction,
  type EmergencyAid,
  type EmergencyKind,
  type ReserveFund,
} from '@/api/emergency'
import { apiErrorMessage, isApiError, newIdempotencyKey } from '@/api/http'
import { usePagedList } from '@/composables/usePagedList'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { submitForm } from '@/composables/submitForm'
import { useRegionChoices } from '@/composables/useRegionChoices'
import { useSessionStore } from '@/stores/session'
import { citizenIdAdvice, normalizeCitizenId } from '@/utils/citizenId'
import { fenToYuan, isValidYuan, yuanToFen } from '@/utils/money'

export const CONFERENCE_MIN = 3

const CREATE_FIELDS = ['town_code', 'person_name', 'citizen_id', 'hukou_division', 'kind', 'loss_fen', 'amount_fen', 'description']

type Translate = ReturnType<typeof useI18n>['t']

/** An amount in yuan: required, well formed and, when `positive`, above zero. */
function moneyRule(t: Translate, requiredKey: string, positive: boolean): FormItemRule {
  return {
    required: true,
    validator: (_r, v: string, cb) => {
      if (!v.trim()) return cb(new Error(t(requiredKey)))
      if (!isValidYuan(v)) return cb(new Error(t('common.moneyFormat')))
      if (positive && yuanToFen(v) <= 0) return cb(new Error(t('emergency.amountPositive')))
      cb()
    },
    trigger: 'blur',
  }
}

/** The towns' reserve fund balances. */
function useReserveFunds() {
  const funds = ref<ReserveFund[]>([])
  const fundsLoading = ref(false)
  const fundsError = ref('')
  async function loadFunds(): Promise<void> {
    fundsLoading.value = true
    fundsError.value = ''
    try {
      funds.value = await listReserveFunds()
    } catch (e) {
      fundsError.value = apiErrorMessage(e)
    } finally {
      fundsLoading.value = false
    }
  }
  return { funds, fundsLoading, fundsError, loadFunds }
}

/** The create form's rules; the town is asked for only of a county user (`chooseTown`). */
function createAidRules(t: Translate, chooseTown: boolean): FormRules {
  return {
    town_code: chooseTown ? [{ required: true, message: t('emergency.townRequired'), trigger: 'change' }] : [],
    person_name: [{ required: true, whitespace: true, message: t('emergency.nameRequired'), trigger: 'blur' }],
    citizen_id: [{ required: true, whitespace: true, message: t('member.citizenIdRequired'), trigger: 'blur' }],
    hukou_division: [
      {
        required: true,
        validator: (_r, v: string, cb) => (/^(\d{6}|\d{12})$/.test(v.trim()) ? cb() : cb(new Error(t('emergency.hukouFormat')))),
        trigger: 'blur',
      },
    ],
    loss: [moneyRule(t, 'emergency.lossRequired', false)],
    amount: [moneyRule(t, 'emergency.amountRequired', true)],
  }
}

/** The create form (on the page, not in a dialog); `created` reloads what the new aid changes. */
function useEmergencyCreate(regions: ReturnType<typeof useRegionChoices>, created: () => Promise<void>) {
  const { t } = useI18n()
  const ceilingFen = ref<number | null>(null)
  const ceilingHint = computed(() =>
    ceilingFen.value === null ? t('emergency.ceilingHintUnknown') : t('emergency.ceilingHint', { amount: fenToYuan(ceilingFen.value) }),
  )
  const createRef = useTemplateRef<FormInstance>('createFormRef')
  const creating = ref(false)
  const emptyCreate = () => ({
    town_code: '',
    person_name: '',
    citizen_id: '',
    hukou_division: '',
    kind: 'accident' as EmergencyKind,
    loss: '',
    amount: '',
    description: '',
  })
  const createForm = reactive(emptyCreate())
  const createErrors = useFieldErrors((f) => CREATE_FIELDS.includes(f))
  const lastCreated = ref<EmergencyAid | null>(null)
  function dismissLast(): void {
    lastCreated.value = null
  }

  /** Advisory only: the server decides (README § Rules). */
  const citizenIdHint = computed(() => citizenIdAdvice(t, createForm.citizen_id))

  const createRules = computed(() => createAidRules(t, regions.chooseTown.value))

  // The create form stays on the page: its Idempotency-Key is renewed after each success (and
  // reused by a resubmit of the same form), so the same aid cannot be paid twice.
  let createKey = newIdempotencyKey()
  async function submitCreate(): Promise<void> {
    await submitForm({
      form: createRef.value,
      errors: createErrors,
      busy: (on) => (creating.value = on),
      save: async () => {
        const aid = await createEmergency({
          town_code: regions.chooseTown.value ? createForm.town_code : undefined,
          person_name: createForm.person_name.trim(),
          citizen_id: normalizeCitizenId(createForm.citizen_id),
          hukou_division: createForm.hukou_division.trim(),
          kind: createForm.kind,
          loss_fen: yuanToFen(createForm.loss),
          amount_fen: yuanToFen(createForm.amount),
          description: createForm.description.trim(),
        }, createKey)
        createKey = newIdempotencyKey()
        lastCreated.value = aid
        ElMessage.success(aid.state === 'paid' ? t('emergency.createdPaid') : t('emergency.createdAwaiting'))
        Object.assign(createForm, emptyCreate())
        createRef.value?.clearValidate()
        await created()
      },
    })
  }
  function loadCeiling(): void {
    townCeilingFen().then((v) => (ceilingFen.value = v), () => (ceilingFen.value = null))
  }

  return { createForm, createRules, createErrors, citizenIdHint, ceilingHint, creating, lastCreated, dismissLast, submitCreate, loadCeiling }
}

/** The actions on one aid from the list; `changed` reloads what an action changes. */
function useEmergencyActions(list: { load: () => Promise<void> }, changed: () => Promise<void>) {
  const { t } = useI18n()
  const acting = ref<number | null>(null)
  async function act(row: EmergencyAid, action: EmergencyAction, extra: Parameters<typeof actOnEmergency>[3] = {}) {
    acting.value = row.id
    try {
      await actOnEmergency(row.id, action, row.version, extra)
      ElMessage.success(t('emergency.done', { action: t(`emergency.action.${action}`) }))
      await changed()
      return true
    } catch (e) {
      ElMessage.error(apiErrorMessage(e))
      if (isApiError(e) && (e.code === 'version_conflict' || e.code === 'invalid_transition')) void list.load()
      return false
    } finally {
      acting.value = null
    }
  }

  async function confirmAndAct(row: EmergencyAid, action: 'approve_county' | 'complete_paperwork'): Promise<void> {
    const ok = await ElMessageBox.confirm(
      t(`emergency.confirm.${action}`, { name: row.person_name }),
      t(`emergency.action.${action}`),
      { type: 'warning', confirmButtonText: t('common.confirm'), cancelButtonText: t('common.cancel') },
    ).catch(() => false)
    if (ok) await act(row, action)
  }

  // The county's refusal keeps its reason (required by the server).
  async function reject(row: EmergencyAid): Promise<void> {
    const res = await ElMessageBox.prompt(t('emergency.confirm.reject', { name: row.person_name }), t('emergency.action.reject'), {
      type: 'warning',
      inputPlaceholder: t('emergency.rejectReason'),
      inputValidator: (v: string) => (v && v.trim() ? true : t('emergency.rejectReason')),
      confirmButtonText: t('common.confirm'),
      cancelButtonText: t('common.cancel'),
    }).catch(() => null)
    if (res) await act(row, 'reject', { note: res.value.trim() })
  }

  return { acting, act, confirmAndAct, reject }
}

/** The case conference (一事一议) dialog; its decision is one of the aid's actions (`act`). */
function useConference(act: ReturnType<typeof useEmergencyActions>['act']) {
  const { t } = useI18n()
  const conferenceRef = useTemplateRef<FormInstance>('conferenceForm')
  const conference = reactive({
    visible: false,
    row: null as EmergencyAid | null,
    members: ['', '', ''] as string[],
    decision: 'approve' as 'approve' | 'reject',
    note: '',
    saving: false,
  })
  const conferenceRules = computed<FormRules>(() => ({
    members: [
      {
        required: true,
        validator: (_r, v: string[], cb) =>
          v.filter((s) => s.trim()).length >= CONFERENCE_MIN
            ? cb()
            : cb(new Error(t('emergency.conference.membersMin', { n: CONFERENCE_MIN }))),
        trigger: 'blur',
      },
    ],
  }))
  function openConference(row: EmergencyAid): void {
    conference.row = row
    conference.members = ['', '', '']
    conference.decision = 'approve'
    conference.note = ''
    conference.visible = true
    conferenceRef.value?.clearValidate()
  }
  async function submitConference(): Promise<void> {
    const ok = await conferenceRef.value?.validate().catch(() => false)
    if (!ok || !conference.row) return
    conference.saving = true
    const done = await act(conference.row, 'case_conference', {
      members: conference.members.map((m) => m.trim()).filter(Boolean),
      decision: conference.decision,
      note: conference.note.trim(),
    })
    conference.saving = false
    if (done) conference.visible = false
  }
  return { conference, conferenceRules, openConference, submitConference }
}

/** The county admin's deposit into a town's reserve fund (a dialog); the answer is the new balances. */
function useDeposit(funds: Ref<ReserveFund[]>) {
  const { t } = useI18n()
  const depositRef = useTemplateRef<FormInstance>('depositForm')
  const deposit = reactive({ visible: false, town: '', townName: '', amount: '', note: '', saving: false })
  const depositErrors = useFieldErrors((f) => ['amount_fen', 'note'].includes(f))
  const depositRules = computed<FormRules>(() => ({
    amount: [moneyRule(t, 'emergency.depositAmountRequired', true)],
    note: [{ required: true, whitespace: true, message: t('emergency.depositNoteRequired'), trigger: 'blur' }],
  }))
  let depositKey = newIdempotencyKey()
  function openDeposit(f: ReserveFund): void {
    depositKey = newIdempotencyKey()
    deposit.town = f.town_code
    deposit.townName = f.town_name
    deposit.amount = ''
    deposit.note = ''
    depositErrors.clear()
    deposit.visible = true
    depositRef.value?.clearValidate()
  }
  async function submitDeposit(): Promise<void> {
    await submitForm({
      form: depositRef.value,
      errors: depositErrors,
      busy: (on) => (deposit.saving = on),
      save: async () => {
        funds.value = await depositReserve(deposit.town, yuanToFen(deposit.amount), deposit.note.trim(), depositKey)
        deposit.visible = false
        ElMessage.success(t('emergency.deposited'))
      },
    })
  }
  return { deposit, depositRules, depositErrors, openDeposit, submitDeposit }
}

export function useEmergency() {
  const session = useSessionStore()
  const regions = useRegionChoices()

  const canCreate = computed(() => session.can('emergency.create'))
  const canCountyApprove = computed(() => session.can('emergency.countyApprove'))
  const canConference = computed(() => session.can('emergency.conference'))
  const canPaperwork = computed(() => session.can('emergency.paperwork'))
  const canDeposit = computed(() => session.can('reserve.deposit'))

  const list = usePagedList<EmergencyAid>(listEmergency)
  const reserve = useReserveFunds()
  const reload = async () => {
    await Promise.all([list.load(), reserve.loadFunds()])
  }
  const { loadCeiling, ...create } = useEmergencyCreate(regions, async () => {
    list.page = 1
    await reload()
  })
  const actions = useEmergencyActions(list, reload)

  onMounted(() => {
    if (canCreate.value) loadCeiling()
    void list.load()
    void reserve.loadFunds()
    void regions.loadTowns()
  })

  return {
    regions,
    canCreate,
    canCountyApprove,
    canConference,
    canPaperwork,
    canDeposit,
    list,
    funds: reserve.funds,
    fundsLoading: reserve.fundsLoading,
    fundsError: reserve.fundsError,
    ...create,
    acting: actions.acting,
    confirmAndAct: actions.confirmAndAct,
    reject: actions.reject,
    ...useConference(actions.act),
    ...useDeposit(reserve.funds),
  }
}
