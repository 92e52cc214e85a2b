// 月度比对: county staff start the month's comparison of the registry with the department feeds
// (a background job); everyone sees the history of runs and the indicators the run applies.
import { computed, onMounted, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { listIndicators, listRuns, startRun, type Indicator, type MonitorRun, type RunReport } from '@/api/monitoring'
import { apiErrorMessage, isApiError } from '@/api/http'
import { usePagedList } from '@/composables/usePagedList'
import { useSessionStore } from '@/stores/session'
import { useJob } from './useJob'
import { MONTH_RE, previousMonth, useMonitoringFormat } from './useMonitoringFormat'

export function useRuns() {
  const { t } = useI18n()
  const session = useSessionStore()
  const fmt = useMonitoringFormat()
  const canRun = computed(() => session.can('monitor.run'))

  // ---- start a run ----
  const month = ref(previousMonth())
  const monthError = ref('')
  const starting = ref(false)
  const { job, running, percent, pollError, follow, reset } = useJob<RunReport>()
  const report = ref<RunReport | null>(null)
  const failure = ref('')
  const busy = computed(() => starting.value || running.value)

  async function start(): Promise<void> {
    if (busy.value) return
    monthError.value = ''
    failure.value = ''
    if (!MONTH_RE.test(month.value ?? '')) {
      monthError.value = t('monitoring.monthRequired')
      return
    }
    report.value = null
    reset()
    starting.value = true
    let started
    try {
      started = await startRun(month.value)
    } catch (e) {
      if (isApiError(e) && e.code === 'conflict') failure.value = t('monitoring.runs.busy')
      else if (isApiError(e) && e.field === 'month') monthError.value = e.message
      else failure.value = apiErrorMessage(e)
      return
    } finally {
      starting.value = false
    }
    const final = await follow(started)
    if (final?.status === 'done' && final.result) {
      report.value = final.result
      ElMessage.success(t('monitoring.runs.doneMessage', { n: final.result.alerts_raised }))
      list.search()
    } else if (final?.error) {
      if (final.error.field === 'month') monthError.value = final.error.message
      failure.value = final.error.message || t('monitoring.job.failedUnknown')
    } else {
      failure.value = pollError.value || t('monitoring.job.failedUnknown')
    }
  }

  // ---- indicators ----
  const indicators = ref<Indicator[]>([])
  const indicatorsLoading = ref(false)
  const indicatorsError = ref('')
  async function loadIndicators(): Promise<void> {
    indicatorsLoading.value = true
    indicatorsError.value = ''
    try {
      indicators.value = await listIndicators()
    } catch (e) {
      indicatorsError.value = apiErrorMessage(e)
    } finally {
      indicatorsLoading.value = false
    }
  }
  const indicatorText = (id: string) => indicators.value.find((i) => i.id === id)?.description ?? id
  const byIndicatorRows = computed(() =>
    Object.entries(report.value?.by_indicator ?? {})
      .map(([id, count]) => ({ id, count, description: indicatorText(id) }))
      .sort((a, b) => b.count - a.count),
  )

  // ---- history ----
  const list = usePagedList<MonitorRun>(listRuns, { pageSize: 10 })

  onMounted(() => {
    void list.load()
    void loadIndicators()
    void fmt.loadSources()
  })

  return {
    fmt,
    canRun,
    month,
    monthError,
    starting,
    busy,
    job,
    percent,
    report,
    failure,
    start,
    indicators,
    indicatorsLoading,
    indicatorsError,
    byIndicatorRows,
    list,
  }
}
