// Region tree: lazily loads children through GET /api/v1/regions?parent=; a county_admin may
// edit a town's population (PATCH with version).
import { computed, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { getRegion, listRegions, updateRegionPopulation, type Region } from '@/api/regions'
import { isApiError } from '@/api/http'
import { useSessionStore } from '@/stores/session'

export interface RegionNode extends Region {
  leaf: boolean
}

/** Minimal view of el-tree's lazy-load node. */
interface LazyNode {
  level: number
  data: unknown
}

function toNode(r: Region): RegionNode {
  return { ...r, leaf: r.level === 'village' }
}

export function useRegions() {
  const { t } = useI18n()
  const session = useSessionStore()
  const canEdit = computed(() => session.can('regions.editPopulation'))
  const error = ref('')

  async function loadNode(node: LazyNode, resolve: (data: RegionNode[]) => void): Promise<void> {
    error.value = ''
    try {
      if (node.level === 0) {
        const code = session.user?.region_code
        resolve(code ? [toNode(await getRegion(code))] : [])
      } else {
        const parent = node.data as RegionNode
        resolve((await listRegions(parent.code)).map(toNode))
      }
    } catch (e) {
      error.value = isApiError(e) ? e.message : t('error.unexpected')
      resolve([])
    }
  }

  const dialog = reactive({
    visible: false,
    saving: false,
    target: null as RegionNode | null,
    population: 0,
    error: '',
  })

  function openEdit(r: RegionNode): void {
    dialog.target = r
    dialog.population = r.population
    dialog.error = ''
    dialog.visible = true
  }

  async function save(): Promise<void> {
    const target = dialog.target
    if (!target) return
    if (!Number.isInteger(dialog.population) || dialog.population < 0) {
      dialog.error = t('region.populationInvalid')
      return
    }
    dialog.saving = true
    dialog.error = ''
    try {
      const updated = await updateRegionPopulation(target.code, dialog.population, target.version)
      Object.assign(target, updated)
      dialog.visible = false
      ElMessage.success(t('common.saved'))
    } catch (e) {
      if (isApiError(e) && e.code === 'version_conflict') {
        dialog.error = t('error.versionConflict')
        // Refresh the row so that a second try uses the current version.
        try {
          Object.assign(target, await getRegion(target.code))
        } catch {
          /* keep the old row */
        }
      } else {
        dialog.error = isApiError(e) ? e.message : t('error.unexpected')
      }
    } finally {
      dialog.saving = false
    }
  }

  return { canEdit, error, loadNode, dialog, openEdit, save }
}
