// 月度比对: county staff start the month's comparison of the registry with the department feeds
// (a background job); everyone sees the history of runs and the indicators the run applies.
import { computed, onMounted, ref, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { listIndicators, listRuns, startRun, type Indicator, type Job, type MonitorRun, type RunReport } from '@/api/monitoring'
import { apiErrorMessage, isApiError } from '@/api/http'
import { usePagedList } from '@/composables/usePagedList'
import { useSessionStore } from '@/stores/session'
import { useJob } from './useJob'
import { MONTH_RE, previousMonth, useMonitoringFormat } from './useMonitoringFormat'

/** Starting the month's run (a background job) and following it to its report. */
function useRunStart(finished: () => void) {
  const { t } = useI18n()
  const month = ref(previousMonth())
  const monthError = ref('')
  const starting = ref(false)
  const { job, running, percent, pollError, follow, reset } = useJob<RunReport>()
  const report = ref<RunReport | null>(null)
  const failure = ref('')
  const busy = computed(() => starting.value || running.value)

  /** The job's end: its report, or its error (at the month, and above the form). */
  function finish(final: Job<RunReport> | null): void {
    if (final?.status === 'done' && final.result) {
      report.value = final.result
      ElMessage.success(t('monitoring.runs.doneMessage', { n: final.result.alerts_raised }))
      finished()
    } else if (final?.error) {
      if (final.error.field === 'month') monthError.value = final.error.message
      failure.value = final.error.message || t('monitoring.job.failedUnknown')
    } else {
      failure.value = pollError.value || t('monitoring.job.failedUnknown')
    }
  }

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
    finish(await follow(started))
  }

  return { month, monthError, starting, busy, job, percent, report, failure, start }
}

/** The indicators the run applies, and the last report's alerts counted by indicator. */
function useIndicatorTable(report: Ref<RunReport | null>) {
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
  return { indicators, indicatorsLoading, indicatorsError, loadIndicators, byIndicatorRows }
}

export function useRuns() {
  const session = useSessionStore()
  const fmt = useMonitoringFormat()
  const canRun = computed(() => session.can('monitor.run'))
  const list = usePagedList<MonitorRun>(listRuns, { pageSize: 10 })
  const run = useRunStart(() => list.search())
  const { indicators, indicatorsLoading, indicatorsError, loadIndicators, byIndicatorRows } = useIndicatorTable(run.report)

  onMounted(() => {
    void list.load()
    void loadIndicators()
    void fmt.loadSources()
  })

  return {
    fmt,
    canRun,
    ...run,
    indicators,
    indicatorsLoading,
    indicatorsError,
    byIndicatorRows,
    list,
  }
}
