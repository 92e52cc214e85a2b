// Household list: search, region filter and server-side paging, kept in the URL query so that
// "back" from a detail page returns to the same page of results.
import { computed, onMounted, reactive, ref, watch } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { listHouseholds, type HouseholdSummary } from '@/api/households'
import { isApiError } from '@/api/http'
import { useSessionStore } from '@/stores/session'
import { useRegionChoices } from '@/composables/useRegionChoices'

export const PAGE_SIZES = [10, 20, 50, 100]

function str(v: LocationQuery[string]): string {
  return typeof v === 'string' ? v : ''
}

function positiveInt(v: LocationQuery[string], fallback: number): number {
  const n = Number(str(v))
  return Number.isInteger(n) && n > 0 ? n : fallback
}

export function useHouseholdList() {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const session = useSessionStore()
  const regions = useRegionChoices()

  const filters = reactive({ q: '', town: '', village: '' })
  const page = ref(1)
  const pageSize = ref(20)
  const rows = ref<HouseholdSummary[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref('')

  const canCreate = computed(() => session.can('registry.write'))
  const filtered = computed(() => !!(filters.q || filters.town || filters.village))
  const emptyText = computed(() => {
    if (filtered.value) return t('household.list.noMatch')
    return canCreate.value ? t('household.list.emptyWithHint') : t('household.list.empty')
  })

  function readQuery(q: LocationQuery): void {
    filters.q = str(q.q)
    filters.town = str(q.town)
    filters.village = str(q.village)
    page.value = positiveInt(q.page, 1)
    const size = positiveInt(q.size, 20)
    pageSize.value = PAGE_SIZES.includes(size) ? size : 20
  }

  function currentQuery(): Record<string, string> {
    const q: Record<string, string> = {}
    if (filters.q.trim()) q.q = filters.q.trim()
    if (filters.town) q.town = filters.town
    if (filters.village) q.village = filters.village
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
      const res = await listHouseholds({
        q: filters.q.trim() || undefined,
        region: filters.village || filters.town || undefined,
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

  /** Puts the filters into the URL; the route watcher then loads. Same query → reload now. */
  function apply(): void {
    const next = currentQuery()
    if (JSON.stringify(next) === JSON.stringify(route.query)) {
      void load()
    } else {
      void router.replace({ query: next })
    }
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

  function openRow(row: HouseholdSummary): void {
    void router.push({ name: 'household-detail', params: { id: row.id } })
  }

  function create(): void {
    void router.push({ name: 'household-new' })
  }

  watch(
    () => route.query,
    (q) => {
      if (route.name !== 'households') return
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
    emptyText,
    regions,
    search,
    onTownChange,
    onPageChange,
    onSizeChange,
    openRow,
    create,
  }
}
