// Case page: the application with its household, step records, notices and the timeline from
// the audit chain; which actions this user may take now (`allowed_actions`, narrowed by the
// rules the server checks on top of the transition table).
import { computed, ref, watch } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import {
  getApplication,
  getTimeline,
  noticePrintUrl,
  type Application,
  type CaseAction,
  type TimelineEntry,
} from '@/api/applications'
import { isApiError } from '@/api/http'
import { useSessionStore } from '@/stores/session'

export const STEP_KEYS = ['accept', 'visit', 'verify', 'town', 'notice', 'decide', 'result'] as const
export type StepKey = (typeof STEP_KEYS)[number]
export type StepStatus = 'wait' | 'process' | 'finish' | 'error' | 'success'

/** Index of the step a case in `state` is working on (7 = all done). */
const STATE_STEP: Record<string, number> = {
  received: 0,
  documents_requested: 0,
  accepted: 1,
  visited: 2,
  verified: 3,
  public_notice: 4,
  awaiting_decision: 5,
  enrolled: 7,
  refused: 7,
}

const COUNTY_ROLES = ['county_admin', 'county_reviewer']

export function useCaseDetail() {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const session = useSessionStore()

  const id = computed(() => String(route.params.id ?? ''))
  const app = ref<Application | null>(null)
  const timeline = ref<TimelineEntry[]>([])
  const loading = ref(false)
  const loadError = ref('')
  const timelineError = ref('')

  async function loadTimeline(): Promise<void> {
    timelineError.value = ''
    try {
      timeline.value = await getTimeline(id.value)
    } catch (e) {
      timeline.value = []
      timelineError.value = isApiError(e) ? e.message : t('error.unexpected')
    }
  }

  async function load(): Promise<void> {
    loading.value = true
    loadError.value = ''
    try {
      const [a] = await Promise.all([getApplication(id.value), loadTimeline()])
      app.value = a
    } catch (e) {
      app.value = null
      loadError.value =
        isApiError(e) && e.status === 404 ? t('cases.detail.notFound') : isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loading.value = false
    }
  }

  /** After an action: the server answers the whole application; the timeline has one more entry. */
  function applyUpdate(a: Application): void {
    app.value = a
    void loadTimeline()
  }

  const isCounty = computed(() => COUNTY_ROLES.includes(session.user?.role ?? ''))

  /**
   * Whether the authorization and the commitment are on record. The application does not carry
   * them (yet): cases registered at the window or online are signed when created; leads turned
   * into applications (channel `discovery`) are signed once `record_signatures` is in the timeline.
   */
  const signed = computed(() => {
    const a = app.value as (Application & { authorization_signed?: boolean; commitment_signed?: boolean }) | null
    if (!a) return true
    if (typeof a.authorization_signed === 'boolean') return a.authorization_signed && !!a.commitment_signed
    return a.channel !== 'discovery' || timeline.value.some((e) => e.action === 'record_signatures')
  })

  /**
   * What the action panel offers. `allowed_actions` comes from the transition table (state and
   * role); the server additionally refuses town confirmation of escalated, staff-relative or
   * non-delegated cases and a town home visit of a staff relative, so those are not offered.
   */
  const actions = computed<CaseAction[]>(() => {
    const a = app.value
    if (!a) return []
    return a.allowed_actions.filter((x) => {
      if (x === 'link_household') return !a.household_id
      if (x === 'record_signatures') return !signed.value
      if ((x === 'approve' || x === 'refuse') && !isCounty.value) return a.delegated && !a.escalated && !a.staff_relative
      if (x === 'record_visit' && !isCounty.value) return !a.staff_relative
      if (x === 'answer_objection') return a.objections.some((o) => o.answer === null)
      return true
    })
  })

  /** Why a decision this role could take by the table is reserved to the county. */
  const countyOnlyHint = computed(() => {
    const a = app.value
    if (!a || isCounty.value) return ''
    const decides = a.allowed_actions.includes('approve') && !actions.value.includes('approve')
    const visits = a.allowed_actions.includes('record_visit') && !actions.value.includes('record_visit')
    if (visits) return t('cases.detail.visitByCounty')
    if (!decides) return ''
    return a.escalated ? t('cases.detail.escalatedToCounty') : t('cases.detail.decidedByCounty')
  })

  /** Status of each step for the step bar. */
  const steps = computed<{ key: StepKey; status: StepStatus; description: string }[]>(() => {
    const a = app.value
    if (!a) return []
    let current = STATE_STEP[a.state] ?? 0
    if (a.state === 'withdrawn') {
      current = !a.accepted_at ? 0 : !a.visit ? 1 : !a.verification ? 2 : 3
    }
    const noticeSkipped = a.town_opinion?.recommend === 'refuse'
    const desc: Record<StepKey, string> = {
      accept: a.accepted_at ? a.accepted_at.slice(0, 10) : a.state === 'documents_requested' ? t('caseState.documents_requested') : '',
      visit: a.visit?.visited_on ?? '',
      verify: a.verification?.date ?? '',
      town: a.town_opinion ? a.town_opinion.at.slice(0, 10) : '',
      notice: noticeSkipped
        ? t('cases.steps.skipped')
        : a.notice_starts
          ? t('cases.steps.noticePeriod', { from: a.notice_starts, to: a.notice_ends ?? '' })
          : '',
      decide: a.decided_at && a.state !== 'withdrawn' ? a.decided_at.slice(0, 10) : '',
      result: a.state === 'enrolled' || a.state === 'refused' || a.state === 'withdrawn' ? a.state_label : '',
    }
    return STEP_KEYS.map((key, i) => {
      let status: StepStatus = i < current ? 'success' : i === current ? 'process' : 'wait'
      if (a.state === 'withdrawn' && i === current) status = 'error'
      if (key === 'result' && a.state === 'refused') status = 'error'
      if (key === 'result' && a.state === 'enrolled') status = 'success'
      return { key, status, description: desc[key] }
    })
  })
  const activeStep = computed(() => {
    const i = steps.value.findIndex((s) => s.status === 'process' || s.status === 'error')
    return i < 0 ? STEP_KEYS.length : i
  })

  /** Members by citizen id, for showing covered members by name. */
  const nameById = computed(() => {
    const m = new Map<string, string>()
    for (const p of app.value?.household?.members ?? []) m.set(p.citizen_id, p.name)
    return m
  })

  function openNotice(noticeId: number, print = false): void {
    const w = window.open(noticePrintUrl(noticeId), '_blank')
    if (w && print) w.addEventListener('load', () => w.print(), { once: true })
  }

  function back(): void {
    if (window.history.state?.back) router.back()
    else void router.push({ name: 'cases' })
  }

  watch(
    id,
    (v) => {
      if (v && route.name === 'case-detail') void load()
    },
    { immediate: true },
  )

  return {
    app,
    timeline,
    timelineError,
    loading,
    loadError,
    load,
    applyUpdate,
    actions,
    countyOnlyHint,
    steps,
    activeStep,
    nameById,
    openNotice,
    back,
  }
}
