// Town and village choices inside the user's region scope, fed by GET /api/v1/regions?parent=.
// A county user picks a town, then a village; a town user picks a village of the town; a village
// assistant has exactly one village.
import { computed, ref } from 'vue'
import { listRegions } from '@/api/regions'
import { useSessionStore } from '@/stores/session'
import { levelOfCode } from '@/utils/permissions'

export interface RegionOption {
  code: string
  name: string
}

export function useRegionChoices() {
  const session = useSessionStore()
  const scope = computed(() => session.user?.region_code ?? '')
  const scopeName = computed(() => session.user?.region_name ?? '')
  const scopeLevel = computed(() => levelOfCode(scope.value))

  const towns = ref<RegionOption[]>([])
  const villages = ref<RegionOption[]>([])
  const loadingTowns = ref(false)
  const loadingVillages = ref(false)
  const loadError = ref('')

  /** A county user chooses the town; below that the town is fixed. */
  const chooseTown = computed(() => scopeLevel.value === 'county')
  /** A village assistant's village is fixed. */
  const chooseVillage = computed(() => scopeLevel.value === 'county' || scopeLevel.value === 'town')

  async function loadTowns(): Promise<void> {
    if (scopeLevel.value !== 'county') {
      towns.value = scopeLevel.value === 'town' ? [{ code: scope.value, name: scopeName.value }] : []
      return
    }
    loadingTowns.value = true
    try {
      towns.value = (await listRegions(scope.value)).map((r) => ({ code: r.code, name: r.name }))
    } catch (e) {
      loadError.value = e instanceof Error ? e.message : String(e)
    } finally {
      loadingTowns.value = false
    }
  }

  let villageRequest = 0
  /** Villages of `townCode` (ignored for town and village users, whose town is fixed). */
  async function loadVillages(townCode?: string): Promise<void> {
    const mine = ++villageRequest
    if (scopeLevel.value === 'village') {
      villages.value = [{ code: scope.value, name: scopeName.value }]
      return
    }
    const town = scopeLevel.value === 'town' ? scope.value : townCode
    if (!town) {
      villages.value = []
      return
    }
    loadingVillages.value = true
    try {
      const list = await listRegions(town)
      if (mine === villageRequest) villages.value = list.map((r) => ({ code: r.code, name: r.name }))
    } catch (e) {
      if (mine === villageRequest) {
        villages.value = []
        loadError.value = e instanceof Error ? e.message : String(e)
      }
    } finally {
      if (mine === villageRequest) loadingVillages.value = false
    }
  }

  return {
    scope,
    scopeName,
    scopeLevel,
    towns,
    villages,
    loadingTowns,
    loadingVillages,
    loadError,
    chooseTown,
    chooseVillage,
    loadTowns,
    loadVillages,
  }
}
