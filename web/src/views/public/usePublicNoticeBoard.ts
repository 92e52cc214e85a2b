// The public notice board of a village (公示, no login): the cases in public notice with name,
// household size, programmes and proposed monthly amount; citizen ids only masked.
import { computed, ref, watch } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { publicNotices, type PublicNotice } from '@/api/public'
import { isApiError } from '@/api/http'
import { maskCitizenId } from '@/utils/format'
import { regionCascaderProps, villageName } from './usePublicRegions'

/** Never a full id on this page, whatever the server sends. */
export function safeMasked(id: string): string {
  return /^\d{17}[\dXx]$/.test(id) ? maskCitizenId(id) : id
}

export function usePublicNoticeBoard() {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const village = computed(() => (typeof route.query.village === 'string' ? route.query.village : ''))
  const region = ref<string[]>([])
  const name = ref('')
  const items = ref<PublicNotice[]>([])
  const loading = ref(false)
  const error = ref('')
  const regionError = ref('')
  const cascaderProps = regionCascaderProps((m) => (regionError.value = m))

  async function load(code: string): Promise<void> {
    items.value = []
    error.value = ''
    name.value = ''
    if (!code) return
    loading.value = true
    try {
      const [list, n] = await Promise.all([publicNotices(code), villageName(code)])
      items.value = list
      name.value = n || list[0]?.village_name || code
    } catch (e) {
      error.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loading.value = false
    }
  }

  function onRegionChange(v: unknown): void {
    const code = Array.isArray(v) && typeof v[1] === 'string' ? v[1] : ''
    if (code) void router.replace({ query: { village: code } })
  }

  watch(village, (v) => void load(v), { immediate: true })

  return { village, region, name, items, loading, error, regionError, cascaderProps, onRegionChange }
}
