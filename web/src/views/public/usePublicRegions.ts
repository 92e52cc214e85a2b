// Town → village choices of the county for the public pages (GET /api/v1/public/regions, no
// login), as the lazy options of an el-cascader.
import { i18n } from '@/locales'
import { publicRegions } from '@/api/public'
import type { CascaderProps } from 'element-plus'

/** The county these public pages serve (昌乐县 unless VITE_DOUDI_COUNTY says otherwise). */
export const PUBLIC_COUNTY: string = (import.meta.env.VITE_DOUDI_COUNTY as string | undefined) || '370725'

/** Lazy cascader: the first level lists the county's towns, the second a town's villages. */
export function regionCascaderProps(onError: (message: string) => void): CascaderProps {
  return {
    lazy: true,
    value: 'code',
    label: 'name',
    lazyLoad(node, resolve) {
      const parent = node.level === 0 ? PUBLIC_COUNTY : String(node.value)
      publicRegions(parent)
        .then((items) => resolve(items.map((r) => ({ code: r.code, name: r.name, leaf: r.level === 'village' }))))
        .catch((e: unknown) => {
          onError(e instanceof Error ? e.message : i18n.global.t('error.unexpected'))
          resolve([])
        })
    },
  }
}

/** The name of village `code` (looked up among its town's villages), '' when unknown. */
export async function villageName(code: string): Promise<string> {
  if (!/^\d{12}$/.test(code)) return ''
  try {
    const items = await publicRegions(code.slice(0, 9))
    return items.find((r) => r.code === code)?.name ?? ''
  } catch {
    return ''
  }
}
