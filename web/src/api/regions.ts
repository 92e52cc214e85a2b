// GET/PATCH /api/v1/regions (docs/api.md § Regions).
import { http } from './http'

export type RegionLevel = 'county' | 'town' | 'village'

export interface Region {
  code: string
  parent_code: string
  level: RegionLevel
  name: string
  population: number
  version: number
  /** Names from the county down; only on GET /regions/{code}. */
  path?: string[]
}

/** Children of `parent` (default: the children of the user's own region). */
export async function listRegions(parent?: string): Promise<Region[]> {
  const res = await http.get<{ items: Region[] }>('/api/v1/regions', { parent })
  return res.items
}

export function getRegion(code: string): Promise<Region> {
  return http.get<Region>(`/api/v1/regions/${encodeURIComponent(code)}`)
}

/** Town population; county_admin only. */
export function updateRegionPopulation(code: string, population: number, version: number): Promise<Region> {
  return http.patch<Region>(`/api/v1/regions/${encodeURIComponent(code)}`, { population, version })
}
