// Which role may use which part of the app (docs/api.md § Roles). The server enforces the same
// matrix; the app only hides what a role may not use.
import type { Role } from '@/api/session'

export type Permission =
  | 'registry.read'
  | 'registry.write'
  | 'regions.read'
  | 'regions.editPopulation'
  | 'users.manage'
  | 'audit.read'

const ALL: readonly Role[] = [
  'county_admin',
  'county_reviewer',
  'town_clerk',
  'town_reviewer',
  'village_assistant',
  'department_liaison',
  'supervisor',
  'auditor',
]

const MATRIX: Record<Permission, readonly Role[]> = {
  'registry.read': ALL.filter((r) => r !== 'department_liaison'),
  'registry.write': ['county_admin', 'county_reviewer', 'town_clerk', 'town_reviewer', 'village_assistant'],
  'regions.read': ALL,
  'regions.editPopulation': ['county_admin'],
  'users.manage': ['county_admin'],
  'audit.read': ['auditor', 'county_admin', 'supervisor'],
}

export function roleCan(role: Role | undefined | null, perm: Permission): boolean {
  return !!role && MATRIX[perm].includes(role)
}

/** Level of a division code by its length: 6 county, 9 town, 12 village. */
export function levelOfCode(code: string): 'county' | 'town' | 'village' | null {
  if (/^\d{6}$/.test(code)) return 'county'
  if (/^\d{9}$/.test(code)) return 'town'
  if (/^\d{12}$/.test(code)) return 'village'
  return null
}
