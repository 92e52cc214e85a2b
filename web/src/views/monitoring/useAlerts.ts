// 预警处置: the alerts of the user's region (the server scopes them), filtered by status and
// indicator. Staff who may write the registry verify an alert (new → verifying) and resolve it
// with a finding: a confirmed need starts a discovery application, a confirmed wrong or duplicate
// payment suspends the household's dibao/tekun enrollments.
import { computed, onMounted, reactive, ref } from 'vue'
import { useRoute } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import {
  listAlerts,
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
export const STATUS_FILTERS = ['open', 'new', 'verifying', 'resolved', 'all'] as const
export type StatusChoice = (typeof STATUS_FILTERS)[number]

export function useAlerts() {
  const { t } = useI18n()
  const route = useRoute()
  const session = useSessionStore()
  const fmt = useMonitoringFormat()
  const canAct = computed(() => session.can('registry.write'))

  // ---- list ----
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

  // ---- indicators (filter options) ----
  const indicators = ref<Indicator[]>([])
  async function loadIndicators(): Promise<void> {
    try {
      indicators.value = await listIndicators()
    } catch {
      // The filter then offers no indicator; the list still works.
    }
  }

  // ---- verify ----
  const acting = ref<number | null>(null)
  async function verify(row: Alert): Promise<void> {
    acting.value = row.id
    try {
      await verifyAlert(row.id, row.version)
      ElMessage.success(t('monitoring.alerts.verified', { name: row.person_name }))
      await list.load()
    } catch (e) {
      ElMessage.error(apiErrorMessage(e, t('monitoring.alerts.versionConflict')))
      if (isApiError(e) && (e.code === 'version_conflict' || e.code === 'invalid_transition')) void list.load()
    } finally {
      acting.value = null
    }
  }

  // ---- resolve ----
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
    return row.category === 'missing' ? t('monitoring.alerts.effectMissing') : t('monitoring.alerts.effectSuspend')
  })
  const lastResult = ref<(AlertActionResult & { person: string }) | null>(null)

  async function submitResolve(): Promise<void> {
    const row = resolving.row
    if (!row) return
    resolveErrors.clear()
    let ok = true
    if (resolving.confirmed === undefined) {
      resolveErrors.fields.confirmed = t('monitoring.alerts.confirmedRequired')
      ok = false
    }
    if (!resolving.note.trim()) {
      resolveErrors.fields.note = t('monitoring.alerts.noteRequired')
      ok = false
    }
    if (!ok) return
    resolving.saving = true
    try {
      const res = await resolveAlert(row.id, row.version, resolving.confirmed === true, resolving.note.trim())
      resolving.visible = false
      lastResult.value = { ...res, person: row.person_name }
      ElMessage.success(t('monitoring.alerts.resolvedMessage', { name: row.person_name }))
      await list.load()
    } catch (e) {
      resolveErrors.show(e)
      if (isApiError(e) && e.code === 'version_conflict') resolveErrors.general.value = t('monitoring.alerts.versionConflict')
      if (isApiError(e) && (e.code === 'version_conflict' || e.code === 'invalid_transition')) void list.load()
    } finally {
      resolving.saving = false
    }
  }
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
    filters,
    list,
    emptyText,
    indicators,
    acting,
    verify,
    resolving,
    resolveErrors,
    resolveEffect,
    openResolve,
    submitResolve,
    lastResult,
    dismissLast,
  }
}
