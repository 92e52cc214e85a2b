// Chinese labels of monitoring data shared by the monitoring pages: categories, severities,
// alert statuses, run origins, job steps, feed sources (names from GET /feeds/sources).
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { fenToYuan } from '@/utils/money'
import { listFeedSources, type AlertCategory, type AlertStatus, type FeedSource, type Severity } from '@/api/monitoring'

type TagType = 'primary' | 'success' | 'warning' | 'info' | 'danger'

/** Previous calendar month (YYYY-MM) in Asia/Shanghai: the month whose department data arrive now. */
export function previousMonth(now: Date = new Date()): string {
  const [y, m] = currentMonth(now).split('-').map(Number) as [number, number]
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`
}

/** Current month (YYYY-MM) in Asia/Shanghai. */
export function currentMonth(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' })
    .format(now)
    .slice(0, 7)
}

export const MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/

export function useMonitoringFormat() {
  const { t, te } = useI18n()

  const categoryLabel = (c: AlertCategory | string) => (te(`monitoring.category.${c}`) ? t(`monitoring.category.${c}`) : c)
  const categoryType = (c: string): TagType => (c === 'missing' ? 'warning' : c === 'duplicate' ? 'primary' : 'danger')
  const severityLabel = (s: Severity | string) => (te(`monitoring.severity.${s}`) ? t(`monitoring.severity.${s}`) : s)
  const severityType = (s: string): TagType => (s === 'high' ? 'danger' : s === 'medium' ? 'warning' : 'info')
  const statusLabel = (s: AlertStatus | string) => (te(`monitoring.alertStatus.${s}`) ? t(`monitoring.alertStatus.${s}`) : s)
  const statusType = (s: string): TagType => (s === 'resolved' ? 'success' : s === 'verifying' ? 'warning' : 'danger')
  const originLabel = (o: string) => (te(`monitoring.origin.${o}`) ? t(`monitoring.origin.${o}`) : o)

  // ---- feed sources (labels and column names) ----
  const sources = ref<FeedSource[]>([])
  const sourcesError = ref('')
  const sourcesLoading = ref(false)
  async function loadSources(): Promise<void> {
    sourcesLoading.value = true
    sourcesError.value = ''
    try {
      sources.value = await listFeedSources()
    } catch (e) {
      sourcesError.value = e instanceof Error ? e.message : String(e)
    } finally {
      sourcesLoading.value = false
    }
  }
  const sourceLabel = (kind: string) => sources.value.find((s) => s.kind === kind)?.label ?? kind

  /** A job step: `registry`, `import`, `feed <source>`. */
  function stepLabel(step: string): string {
    if (!step) return t('monitoring.step.starting')
    if (step.startsWith('feed ')) return t('monitoring.step.feed', { source: sourceLabel(step.slice(5)) })
    return te(`monitoring.step.${step}`) ? t(`monitoring.step.${step}`) : step
  }

  /** Label of a key of an alert's details: its feed column, else a known key, else the key. */
  function detailLabel(source: string, key: string): string {
    if (te(`monitoring.detail.${key}`)) return t(`monitoring.detail.${key}`)
    const col = sources.value.find((s) => s.kind === source)?.columns.find((c) => c.key === key)
    return col?.label ?? key
  }

  function detailValue(key: string, v: unknown): string {
    if (v === null || v === undefined || v === '') return t('common.none')
    if (key === 'source' && typeof v === 'string') return sourceLabel(v)
    if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no')
    if (key.endsWith('_fen') && typeof v === 'number') return `${fenToYuan(v)} ${t('common.yuan')}`
    if (typeof v === 'object') return JSON.stringify(v)
    return String(v)
  }

  return {
    categoryLabel,
    categoryType,
    severityLabel,
    severityType,
    statusLabel,
    statusType,
    originLabel,
    sources,
    sourcesError,
    sourcesLoading,
    loadSources,
    sourceLabel,
    stepLabel,
    detailLabel,
    detailValue,
  }
}
