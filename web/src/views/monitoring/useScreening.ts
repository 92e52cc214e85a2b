// 月排查: the households to visit this month (open alerts, reviews falling due), the visits
// recorded, a visit form, and the month's Excel exports (清单 / 公示名单 / 月报告).
import { computed, onMounted, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import {
  downloadScreeningExport,
  listScreening,
  recordVisit,
  VISIT_RESULTS,
  type ScreeningExportKind,
  type ScreeningItem,
  type ScreeningPage,
  type ScreeningSummary,
  type VisitResult,
} from '@/api/monitoring'
import { apiErrorMessage, isApiError } from '@/api/http'
import { usePagedList } from '@/composables/usePagedList'
import { useFieldErrors } from '@/composables/useFieldErrors'
import { useRegionChoices } from '@/composables/useRegionChoices'
import { useSessionStore } from '@/stores/session'
import { todayIso } from '@/utils/format'
import { currentMonth, MONTH_RE } from './useMonitoringFormat'

export { VISIT_RESULTS }

const VISIT_FIELDS = ['result', 'note', 'visited_on', 'month', 'household_id']

type Translate = ReturnType<typeof useI18n>['t']
type ScreeningFilters = { month: string }
/** The list the visit form reloads after a change (or a conflict). */
type ScreeningList = { load: () => Promise<void> }

/** The month, region and status filters, the households they select and the month's figures. */
function useScreeningList(regions: ReturnType<typeof useRegionChoices>) {
  const filters = reactive({
    month: currentMonth(),
    town: '',
    village: '',
    status: 'all' as 'all' | 'pending' | 'visited',
  })
  const summary = ref<ScreeningSummary>({ households: 0, visited: 0, changed: 0, pending: 0 })
  const list = usePagedList<ScreeningItem, ScreeningPage>(
    (q) =>
      listScreening({
        month: filters.month,
        village: regions.chooseVillage.value ? filters.village : undefined,
        status: filters.status === 'all' ? '' : filters.status,
        ...q,
      }),
    { when: () => MONTH_RE.test(filters.month ?? ''), onLoaded: (res) => (summary.value = res.summary) },
  )

  const completion = computed(() =>
    summary.value.households ? Math.floor((summary.value.visited * 100) / summary.value.households) : 0,
  )
  /** Visits cannot be recorded for a month that has not begun. */
  const futureMonth = computed(() => filters.month > currentMonth())

  function onTownChange(): void {
    filters.village = ''
    void regions.loadVillages(filters.town)
    list.search()
  }

  return { filters, summary, list, completion, futureMonth, onTownChange }
}

/** The visit form's problems by field: the date within [first day of the month, today], the note. */
function visitProblems(t: Translate, visitedOn: string, firstDay: string, note: string | null): Record<string, string> {
  const problems: Record<string, string> = {}
  if (!visitedOn) problems.visited_on = t('monitoring.screening.visitedOnRequired')
  else if (visitedOn > todayIso() || visitedOn < firstDay)
    problems.visited_on = t('monitoring.screening.visitedOnRange', { from: firstDay })
  if (note !== null && !note.trim()) problems.note = t('monitoring.screening.noteRequired')
  return problems
}

/** The visit dialog: records a household's visit for the month, or corrects the one recorded. */
function useVisitDialog(filters: ScreeningFilters, list: ScreeningList) {
  const { t } = useI18n()
  const visitErrors = useFieldErrors((f) => VISIT_FIELDS.includes(f))
  const visit = reactive({
    visible: false,
    row: null as ScreeningItem | null,
    result: 'no_change' as VisitResult,
    note: '',
    visited_on: '',
    /** The existing visit's version when correcting it. */
    version: undefined as number | undefined,
    saving: false,
  })
  const noteRequired = computed(() => visit.result !== 'no_change')
  const firstDay = computed(() => `${filters.month}-01`)

  /** Dates outside [first day of the month, today] cannot be chosen. */
  function disabledVisitDate(d: Date): boolean {
    const iso = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
    return iso > todayIso() || iso < firstDay.value
  }

  function openVisit(row: ScreeningItem): void {
    visitErrors.clear()
    visit.row = row
    const v = row.visit
    visit.result = v ? v.result : 'no_change'
    visit.note = v ? v.note : ''
    visit.visited_on = v ? v.visited_on : todayIso()
    visit.version = v ? v.version : undefined
    visit.visible = true
  }

  async function submitVisit(): Promise<void> {
    const row = visit.row
    if (!row) return
    visitErrors.clear()
    const problems = visitProblems(t, visit.visited_on, firstDay.value, noteRequired.value ? visit.note : null)
    Object.assign(visitErrors.fields, problems)
    if (Object.keys(problems).length) return
    visit.saving = true
    try {
      const res = await recordVisit({
        month: filters.month,
        household_id: row.household_id,
        result: visit.result,
        note: visit.note.trim(),
        visited_on: visit.visited_on,
        ...(visit.version !== undefined ? { version: visit.version } : {}),
      })
      visit.visible = false
      ElMessage.success(
        visit.version !== undefined
          ? t('monitoring.screening.corrected', { name: row.head_name })
          : t('monitoring.screening.recorded', { name: row.head_name, result: res.result_label }),
      )
      await list.load()
    } catch (e) {
      visitErrors.show(e)
      if (isApiError(e) && e.code === 'version_conflict') {
        visitErrors.general.value = t('monitoring.screening.versionConflict')
        void list.load()
      }
    } finally {
      visit.saving = false
    }
  }

  return { visit, visitErrors, noteRequired, disabledVisitDate, openVisit, submitVisit }
}

/** The month's Excel exports (清单 / 公示名单 / 月报告). */
function useScreeningExports(filters: ScreeningFilters) {
  const { t } = useI18n()
  const exporting = ref<ScreeningExportKind | null>(null)
  async function exportXlsx(kind: ScreeningExportKind): Promise<void> {
    if (!MONTH_RE.test(filters.month ?? '')) return
    exporting.value = kind
    try {
      const name = await downloadScreeningExport(filters.month, kind)
      ElMessage.success(t('monitoring.screening.exported', { name }))
    } catch (e) {
      ElMessage.error(apiErrorMessage(e))
    } finally {
      exporting.value = null
    }
  }
  return { exporting, exportXlsx }
}

export function useScreening() {
  const session = useSessionStore()
  const regions = useRegionChoices()
  const canVisit = computed(() => session.can('registry.write'))
  const screeningList = useScreeningList(regions)
  const { filters, list } = screeningList

  onMounted(() => {
    void regions.loadTowns()
    if (regions.scopeLevel.value === 'town') void regions.loadVillages()
    void list.load()
  })

  return {
    regions,
    canVisit,
    ...screeningList,
    ...useVisitDialog(filters, list),
    ...useScreeningExports(filters),
  }
}
