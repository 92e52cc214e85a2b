// 预警处置: the alerts of the user's region (the server scopes them), filtered by status and
// indicator. Staff who may write the registry verify an alert (new → verifying) and resolve it
// with a finding: a confirmed need starts a discovery application, a confirmed wrong or duplicate
// payment suspends the household's dibao/tekun enrollments. A village assistant's confirmation of a
// wrong payment is only a proposal: the town (or county) confirms it, or sends it back.
import { computed, onMounted, reactive, ref, type Ref } from 'vue'
import { useRoute } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import {
  confirmAlert,
  listAlerts,
  rejectAlert,
  listIndicators,
  resolveAlert,
  verifyAlert,
  type Alert,
  type AlertActionResult,
  type AlertStatusFilter,
  type Indicator,
} from '@/api/monitoring'
import { apiErrorMessage, isApiError } from '@/api/http'
import { usePagedList } from '@/composables/usePagedList'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { useSessionStore } from '@/stores/session'
import { useMonitoringFormat } from './useMonitoringFormat'

/** Status filter choices; 'all' stands for no filter (an empty value would show as unselected). */
export const STATUS_FILTERS = ['open', 'new', 'verifying', 'proposed', 'resolved', 'all'] as const
export type StatusChoice = (typeof STATUS_FILTERS)[number]

type Translate = ReturnType<typeof useI18n>['t']
/** The list the actions reload after a change (or a conflict). */
type AlertList = { load: () => Promise<void> }
/** What the last resolution or confirmation did, for the banner above the list. */
type LastResult = Ref<(AlertActionResult & { person: string }) | null>

/** The filters (from the route's query at first) and the alert list they select. */
function useAlertList() {
  const { t } = useI18n()
  const route = useRoute()
  const q = (k: string) => (typeof route.query[k] === 'string' ? (route.query[k] as string) : undefined)
  const initialStatus = q('status') as StatusChoice | undefined
  const filters = reactive({
    status: (initialStatus && STATUS_FILTERS.includes(initialStatus) ? initialStatus : 'open') as StatusChoice,
    indicator: q('indicator') ?? '',
  })
  const list = usePagedList<Alert>((q) =>
    listAlerts({ status: (filters.status === 'all' ? '' : filters.status) as AlertStatusFilter, indicator: filters.indicator, ...q }),
  )
  const emptyText = computed(() =>
    filters.status === 'open' && !filters.indicator ? t('monitoring.alerts.emptyOpen') : t('monitoring.alerts.empty'),
  )
  return { filters, list, emptyText }
}

/** The indicators offered by the filter. */
function useIndicatorOptions() {
  const indicators = ref<Indicator[]>([])
  async function loadIndicators(): Promise<void> {
    try {
      indicators.value = await listIndicators()
    } catch {
      // The filter then offers no indicator; the list still works.
    }
  }
  return { indicators, loadIndicators }
}

/** Verify an alert, and confirm or send back a village assistant's proposal: actions on a row. */
function useRowActions(list: AlertList, lastResult: LastResult) {
  const { t } = useI18n()
  const acting = ref<number | null>(null)
  /** One action on a row from the list: runs it, says what it did, reloads the list. */
  async function rowAction(row: Alert, act: () => Promise<unknown>, done: string): Promise<void> {
    acting.value = row.id
    try {
      await act()
      ElMessage.success(done)
      await list.load()
    } catch (e) {
      ElMessage.error(apiErrorMessage(e, t('monitoring.alerts.versionConflict')))
      if (isApiError(e) && (e.code === 'version_conflict' || e.code === 'invalid_transition')) void list.load()
    } finally {
      acting.value = null
    }
  }
  function verify(row: Alert): Promise<void> {
    return rowAction(row, () => verifyAlert(row.id, row.version), t('monitoring.alerts.verified', { name: row.person_name }))
  }
  function confirmProposal(row: Alert): Promise<void> {
    return rowAction(
      row,
      async () => {
        const res = await confirmAlert(row.id, row.version)
        lastResult.value = { ...res, person: row.person_name }
      },
      t('monitoring.alerts.resolvedMessage', { name: row.person_name }),
    )
  }
  async function rejectProposal(row: Alert): Promise<void> {
    let note: string
    try {
      const r = await ElMessageBox.prompt(t('monitoring.alerts.rejectPrompt'), t('monitoring.alerts.rejectTitle'), {
        confirmButtonText: t('monitoring.alerts.reject'),
        inputValidator: (v: string) => (v && v.trim() ? true : t('monitoring.alerts.rejectRequired')),
      })
      note = (r as { value: string }).value.trim()
    } catch {
      return // cancelled
    }
    await rowAction(row, () => rejectAlert(row.id, row.version, note), t('monitoring.alerts.rejectedMessage', { name: row.person_name }))
  }
  return { acting, verify, confirmProposal, rejectProposal }
}

/** The resolve form's missing answers, by field (empty when it may be sent). */
function resolveProblems(t: Translate, confirmed: boolean | undefined, note: string): Record<string, string> {
  const problems: Record<string, string> = {}
  if (confirmed === undefined) problems.confirmed = t('monitoring.alerts.confirmedRequired')
  if (!note.trim()) problems.note = t('monitoring.alerts.noteRequired')
  return problems
}

/** The resolve dialog: a finding (confirmed or not) and a note. */
function useResolveDialog(list: AlertList, isVillage: Ref<boolean>, lastResult: LastResult) {
  const { t } = useI18n()
  const resolveErrors = useFieldErrors((f) => ['note', 'confirmed'].includes(f))
  const resolving = reactive({
    visible: false,
    row: null as Alert | null,
    confirmed: undefined as boolean | undefined,
    note: '',
    saving: false,
  })
  function openResolve(row: Alert): void {
    resolveErrors.clear()
    resolving.row = row
    resolving.confirmed = undefined
    resolving.note = ''
    resolving.visible = true
  }
  /** What the chosen finding will do, in words. */
  const resolveEffect = computed(() => {
    const row = resolving.row
    if (!row || resolving.confirmed === undefined) return ''
    if (!resolving.confirmed) return t('monitoring.alerts.effectUnconfirmed')
    if (row.category === 'missing') return t('monitoring.alerts.effectMissing')
    return isVillage.value ? t('monitoring.alerts.effectPropose') : t('monitoring.alerts.effectSuspend')
  })

  async function submitResolve(): Promise<void> {
    const row = resolving.row
    if (!row) return
    resolveErrors.clear()
    const problems = resolveProblems(t, resolving.confirmed, resolving.note)
    Object.assign(resolveErrors.fields, problems)
    if (Object.keys(problems).length) return
    resolving.saving = true
    try {
      const res = await resolveAlert(row.id, row.version, resolving.confirmed === true, resolving.note.trim())
      resolving.visible = false
      lastResult.value = { ...res, person: row.person_name }
      ElMessage.success(
        t(res.status === 'proposed' ? 'monitoring.alerts.proposedMessage' : 'monitoring.alerts.resolvedMessage', { name: row.person_name }),
      )
      await list.load()
    } catch (e) {
      resolveErrors.show(e)
      if (isApiError(e) && e.code === 'version_conflict') resolveErrors.general.value = t('monitoring.alerts.versionConflict')
      if (isApiError(e) && (e.code === 'version_conflict' || e.code === 'invalid_transition')) void list.load()
    } finally {
      resolving.saving = false
    }
  }
  return { resolving, resolveErrors, resolveEffect, openResolve, submitResolve }
}

export function useAlerts() {
  const session = useSessionStore()
  const fmt = useMonitoringFormat()
  const canAct = computed(() => session.can('registry.write'))
  /** Town and county staff confirm what a village assistant proposed. */
  const canConfirm = computed(() => canAct.value && session.user?.role !== 'village_assistant')
  const isVillage = computed(() => session.user?.role === 'village_assistant')

  const { filters, list, emptyText } = useAlertList()
  const { indicators, loadIndicators } = useIndicatorOptions()
  const lastResult: LastResult = ref(null)
  const { acting, verify, confirmProposal, rejectProposal } = useRowActions(list, lastResult)
  const resolve = useResolveDialog(list, isVillage, lastResult)

  function dismissLast(): void {
    lastResult.value = null
  }

  onMounted(() => {
    void list.load()
    void loadIndicators()
    void fmt.loadSources()
  })

  return {
    fmt,
    canAct,
    canConfirm,
    confirmProposal,
    rejectProposal,
    filters,
    list,
    emptyText,
    indicators,
    acting,
    verify,
    ...resolve,
    lastResult,
    dismissLast,
  }
}
