// Household list: search, region filter and server-side paging, kept in the URL query so that
// "back" from a detail page returns to the same page of results.
import { computed, onMounted, reactive, ref } from 'vue'
import { ElMessage } from 'element-plus'
import { useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { downloadHouseholdRoster, listHouseholds, type HouseholdSummary } from '@/api/households'
import { apiErrorMessage } from '@/api/http'
import { useSessionStore } from '@/stores/session'
import { useRegionChoices } from '@/composables/useRegionChoices'
import { queryString, useQueryPagedList } from '@/composables/useQueryPagedList'

export function useHouseholdList() {
  const { t } = useI18n()
  const router = useRouter()
  const session = useSessionStore()
  const regions = useRegionChoices()

  const filters = reactive({ q: '', town: '', village: '' })
  // The filters of the list on screen (not what is typed but not yet searched): the export's too.
  let shown: { q?: string; region?: string } = {}
  const { list, search } = useQueryPagedList<HouseholdSummary>(
    'households',
    (q) => {
      shown = { q: filters.q.trim() || undefined, region: filters.village || filters.town || undefined }
      return listHouseholds({ ...shown, ...q })
    },
    {
      read(q) {
        filters.q = queryString(q.q)
        filters.town = queryString(q.town)
        filters.village = queryString(q.village)
      },
      write() {
        const q: Record<string, string> = {}
        if (filters.q.trim()) q.q = filters.q.trim()
        if (filters.town) q.town = filters.town
        if (filters.village) q.village = filters.village
        return q
      },
    },
  )

  const canCreate = computed(() => session.can('registry.write'))
  const filtered = computed(() => !!(filters.q || filters.town || filters.village))
  const emptyText = computed(() => {
    if (filtered.value) return t('household.list.noMatch')
    return canCreate.value ? t('household.list.emptyWithHint') : t('household.list.empty')
  })

  function onTownChange(): void {
    filters.village = ''
    void regions.loadVillages(filters.town)
    search()
  }

  function openRow(row: HouseholdSummary): void {
    void router.push({ name: 'household-detail', params: { id: row.id } })
  }

  // The roster of what the list shows (all its pages), as an Excel file.
  const exporting = ref(false)
  async function exportRoster(): Promise<void> {
    exporting.value = true
    try {
      const name = await downloadHouseholdRoster(shown)
      ElMessage.success(t('household.list.exported', { name }))
    } catch (e) {
      ElMessage.error(apiErrorMessage(e))
    } finally {
      exporting.value = false
    }
  }

  function create(): void {
    void router.push({ name: 'household-new' })
  }

  onMounted(() => {
    void regions.loadTowns()
    if (regions.chooseVillage.value) void regions.loadVillages(filters.town)
  })

  return { filters, list, canCreate, emptyText, regions, search, onTownChange, openRow, create, exporting, exportRoster }
}
