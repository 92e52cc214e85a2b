// Case list: state, search and region filters, sort by due date or newest, server-side paging,
// all kept in the URL query so that "back" from a case returns to the same page.
import { computed, onMounted, reactive } from 'vue'
import { useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { CASE_STATES, listApplications, type ApplicationSummary, type CaseState } from '@/api/applications'
import { useSessionStore } from '@/stores/session'
import { useRegionChoices } from '@/composables/useRegionChoices'
import { queryString, useQueryPagedList } from '@/composables/useQueryPagedList'

export type StateFilter = CaseState | 'open' | ''
export type SortKey = 'due' | 'new'

export function useCaseList() {
  const { t } = useI18n()
  const router = useRouter()
  const session = useSessionStore()
  const regions = useRegionChoices()

  const filters = reactive({ q: '', state: '' as StateFilter, town: '', village: '', sort: 'due' as SortKey })
  const { list, search } = useQueryPagedList<ApplicationSummary>(
    'cases',
    (q) =>
      listApplications({
        q: filters.q.trim() || undefined,
        state: filters.state || undefined,
        village: filters.village || filters.town || undefined,
        sort: filters.sort,
        ...q,
      }),
    {
      read(q) {
        filters.q = queryString(q.q)
        const s = queryString(q.state)
        filters.state = s === 'open' || (CASE_STATES as readonly string[]).includes(s) ? (s as StateFilter) : ''
        filters.town = queryString(q.town)
        filters.village = queryString(q.village)
        filters.sort = queryString(q.sort) === 'new' ? 'new' : 'due'
      },
      write() {
        const q: Record<string, string> = {}
        if (filters.q.trim()) q.q = filters.q.trim()
        if (filters.state) q.state = filters.state
        if (filters.town) q.town = filters.town
        if (filters.village) q.village = filters.village
        if (filters.sort !== 'due') q.sort = filters.sort
        return q
      },
    },
  )

  const canCreate = computed(() => session.can('cases.create'))
  const stateOptions = computed(() => [
    { value: 'open', label: t('caseState.open') },
    ...CASE_STATES.map((s) => ({ value: s, label: t(`caseState.${s}`) })),
  ])
  const filtered = computed(() => !!(filters.q || filters.state || filters.town || filters.village))
  const emptyText = computed(() => (filtered.value ? t('cases.list.noMatch') : t('cases.list.empty')))

  function onTownChange(): void {
    filters.village = ''
    void regions.loadVillages(filters.town)
    search()
  }

  function openRow(row: ApplicationSummary): void {
    void router.push({ name: 'case-detail', params: { id: row.id } })
  }

  onMounted(() => {
    void regions.loadTowns()
    if (regions.chooseVillage.value) void regions.loadVillages(filters.town)
  })

  return { filters, list, canCreate, stateOptions, emptyText, regions, search, onTownChange, openRow }
}
