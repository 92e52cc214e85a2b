// Case list: state, search and region filters, sort by due date or newest, server-side paging,
// all kept in the URL query so that "back" from a case returns to the same page.
import { computed, onMounted, reactive, ref, watch } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { CASE_STATES, listApplications, type ApplicationSummary, type CaseState } from '@/api/cases'
import { isApiError } from '@/api/http'
import { useSessionStore } from '@/stores/session'
import { useRegionChoices } from '@/composables/useRegionChoices'

export const PAGE_SIZES = [10, 20, 50, 100]
export type StateFilter = CaseState | 'open' | ''
export type SortKey = 'due' | 'new'

function str(v: LocationQuery[string]): string {
  return typeof v === 'string' ? v : ''
}

function positiveInt(v: LocationQuery[string], fallback: number): number {
  const n = Number(str(v))
  return Number.isInteger(n) && n > 0 ? n : fallback
}

export function useCaseList() {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const session = useSessionStore()
  const regions = useRegionChoices()

  const filters = reactive({ q: '', state: '' as StateFilter, town: '', village: '', sort: 'due' as SortKey })
  const page = ref(1)
  const pageSize = ref(20)
  const rows = ref<ApplicationSummary[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref('')

  const canCreate = computed(() => session.can('cases.create'))
  const stateOptions = computed(() => [
    { value: 'open', label: t('caseState.open') },
    ...CASE_STATES.map((s) => ({ value: s, label: t(`caseState.${s}`) })),
  ])
  const filtered = computed(() => !!(filters.q || filters.state || filters.town || filters.village))
  const emptyText = computed(() => (filtered.value ? t('cases.list.noMatch') : t('cases.list.empty')))

  function readQuery(q: LocationQuery): void {
    filters.q = str(q.q)
    const s = str(q.state)
    filters.state = s === 'open' || (CASE_STATES as readonly string[]).includes(s) ? (s as StateFilter) : ''
    filters.town = str(q.town)
    filters.village = str(q.village)
    filters.sort = str(q.sort) === 'new' ? 'new' : 'due'
    page.value = positiveInt(q.page, 1)
    const size = positiveInt(q.size, 20)
    pageSize.value = PAGE_SIZES.includes(size) ? size : 20
  }

  function currentQuery(): Record<string, string> {
    const q: Record<string, string> = {}
    if (filters.q.trim()) q.q = filters.q.trim()
    if (filters.state) q.state = filters.state
    if (filters.town) q.town = filters.town
    if (filters.village) q.village = filters.village
    if (filters.sort !== 'due') q.sort = filters.sort
    if (page.value > 1) q.page = String(page.value)
    if (pageSize.value !== 20) q.size = String(pageSize.value)
    return q
  }

  let requestNo = 0
  async function load(): Promise<void> {
    const mine = ++requestNo
    loading.value = true
    error.value = ''
    try {
      const res = await listApplications({
        q: filters.q.trim() || undefined,
        state: filters.state || undefined,
        village: filters.village || filters.town || undefined,
        sort: filters.sort,
        page: page.value,
        page_size: pageSize.value,
      })
      if (mine !== requestNo) return
      rows.value = res.items
      total.value = res.total
    } catch (e) {
      if (mine !== requestNo) return
      rows.value = []
      total.value = 0
      error.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      if (mine === requestNo) loading.value = false
    }
  }

  function apply(): void {
    const next = currentQuery()
    if (JSON.stringify(next) === JSON.stringify(route.query)) void load()
    else void router.replace({ query: next })
  }

  function search(): void {
    page.value = 1
    apply()
  }

  function onTownChange(): void {
    filters.village = ''
    void regions.loadVillages(filters.town)
    search()
  }

  function onPageChange(p: number): void {
    page.value = p
    apply()
  }

  function onSizeChange(size: number): void {
    pageSize.value = size
    page.value = 1
    apply()
  }

  function openRow(row: ApplicationSummary): void {
    void router.push({ name: 'case-detail', params: { id: row.id } })
  }

  watch(
    () => route.query,
    (q) => {
      if (route.name !== 'cases') return
      readQuery(q)
      void load()
    },
    { immediate: true },
  )

  onMounted(() => {
    void regions.loadTowns()
    if (regions.chooseVillage.value) void regions.loadVillages(filters.town)
  })

  return {
    filters,
    page,
    pageSize,
    rows,
    total,
    loading,
    error,
    canCreate,
    stateOptions,
    emptyText,
    regions,
    search,
    onTownChange,
    onPageChange,
    onSizeChange,
    openRow,
  }
}
