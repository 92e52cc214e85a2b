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
  | 'policy.read'
  | 'policy.edit'
  | 'policy.simulate'
  // the application workflow (docs/workflow.md)
  | 'cases.read'
  | 'cases.create'
  | 'emergency.read'
  | 'emergency.create'
  | 'emergency.countyApprove'
  | 'emergency.conference'
  | 'emergency.paperwork'
  | 'reserve.deposit'
  | 'referrals.read'
  | 'referrals.act'
  | 'lists.manage'
  | 'calendar.read'
  | 'calendar.edit'
  | 'enrollments.manage'
  | 'verification.read'
  | 'verification.create'
  | 'verification.answer'
  // dynamic monitoring (动态监测); viewing runs, alerts, the report and the screening is 'registry.read'
  | 'feeds.upload'
  | 'monitor.run'

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
  'policy.read': ALL.filter((r) => r !== 'department_liaison'),
  'policy.edit': ['county_admin'],
  'policy.simulate': ['county_admin', 'county_reviewer', 'supervisor'],
  'cases.read': ALL.filter((r) => r !== 'department_liaison'),
  'cases.create': ['town_clerk', 'town_reviewer', 'village_assistant'],
  'emergency.read': ['county_admin', 'county_reviewer', 'town_clerk', 'town_reviewer', 'supervisor'],
  'emergency.create': ['county_admin', 'county_reviewer', 'town_clerk', 'town_reviewer'],
  'emergency.countyApprove': ['county_admin', 'county_reviewer'],
  'emergency.conference': ['county_admin', 'county_reviewer', 'town_reviewer'],
  'emergency.paperwork': ['county_admin', 'county_reviewer', 'town_clerk', 'town_reviewer'],
  'reserve.deposit': ['county_admin'],
  'referrals.read': ALL,
  'referrals.act': ['department_liaison'],
  'lists.manage': ['county_admin', 'county_reviewer'],
  'calendar.read': ALL.filter((r) => r !== 'department_liaison'),
  'calendar.edit': ['county_admin'],
  // dynamic management (docs/workflow.md § Dynamic management): town and county staff
  'enrollments.manage': ['county_admin', 'county_reviewer', 'town_clerk', 'town_reviewer'],
  // residence-permit applications: the hukou county's staff answer
  'verification.read': ['county_admin', 'county_reviewer', 'town_clerk', 'town_reviewer'],
  // a residence-permit application sent from this page: the town window staff who may also read the list
  'verification.create': ['town_clerk', 'town_reviewer'],
  'verification.answer': ['county_admin', 'county_reviewer'],
  'feeds.upload': ['county_admin', 'county_reviewer', 'department_liaison'],
  'monitor.run': ['county_admin', 'county_reviewer'],
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
