// Households and their members (docs/api.md § Households, § Persons). Money is integer fen.
import { buildUrl, downloadFile, http, type Page, type PageQuery } from './http'

export type Area = 'urban' | 'rural'
export const AREAS: readonly Area[] = ['urban', 'rural']

export type Relation = 'head' | 'spouse' | 'child' | 'parent' | 'sibling' | 'grandchild' | 'grandparent' | 'other'
export const RELATIONS: readonly Relation[] = [
  'head',
  'spouse',
  'child',
  'parent',
  'sibling',
  'grandchild',
  'grandparent',
  'other',
]

export type DisabilityKind = 'physical' | 'visual' | 'hearing' | 'speech' | 'intellectual' | 'mental' | 'multiple'
export const DISABILITY_KINDS: readonly DisabilityKind[] = [
  'physical',
  'visual',
  'hearing',
  'speech',
  'intellectual',
  'mental',
  'multiple',
]

export type SelfCare = 'full' | 'partial_loss' | 'full_loss'
export const SELF_CARE: readonly SelfCare[] = ['full', 'partial_loss', 'full_loss']

export interface Disability {
  kind: DisabilityKind
  /** 1 (most severe) .. 4 */
  grade: number
}

export interface MonthlyIncomeFen {
  wage: number
  business: number
  property: number
  transfer: number
  pension: number
  other: number
}
export const INCOME_KINDS: readonly (keyof MonthlyIncomeFen)[] = [
  'wage',
  'business',
  'property',
  'transfer',
  'pension',
  'other',
]

export interface PersonInput {
  citizen_id: string
  name: string
  relation: Relation
  disability: Disability | null
  serious_illness: boolean
  self_care: SelfCare
  in_school: boolean
  employed: boolean
  has_supporter: boolean
  monthly_income_fen: MonthlyIncomeFen
}

export interface Person extends PersonInput {
  id: number
  version: number
  household_id: number
  birth_date: string
  sex: 'male' | 'female'
  age: number
}

export interface Assets {
  deposits_fen: number
  vehicles: number
  extra_properties: number
  business: boolean
}

export interface RigidExpenditureFen {
  medical: number
  education: number
}

export interface HouseholdFields {
  village_code: string
  area: Area
  residence_address: string
  phone: string
  assets: Assets
  annual_rigid_expenditure_fen: RigidExpenditureFen
}

export interface HouseholdCreateInput extends HouseholdFields {
  members: PersonInput[]
}

export interface HouseholdUpdateInput extends HouseholdFields {
  version: number
}

export interface Household extends HouseholdFields {
  id: number
  version: number
  town_code: string
  county_code: string
  village_name: string
  town_name: string
  members: Person[]
  created_at: string
  updated_at: string
}

export interface HouseholdSummary {
  id: number
  version: number
  village_code: string
  village_name: string
  town_name: string
  area: Area
  head_name: string
  head_citizen_id_masked: string
  member_count: number
  updated_at: string
}

export interface HouseholdQuery extends PageQuery {
  /** member name (substring) or citizen id (prefix) */
  q?: string
  /** a region code inside the user's scope */
  region?: string
}

export function listHouseholds(query: HouseholdQuery): Promise<Page<HouseholdSummary>> {
  return http.get<Page<HouseholdSummary>>('/api/v1/households', { ...query })
}

/** Saves the roster (户籍家庭花名册, .xlsx) of the households a query finds, all pages; the file name. */
export function downloadHouseholdRoster(query: Pick<HouseholdQuery, 'q' | 'region'>): Promise<string> {
  return downloadFile(buildUrl('/api/v1/households/export', { ...query }), 'households.xlsx')
}

export function getHousehold(id: number | string): Promise<Household> {
  return http.get<Household>(`/api/v1/households/${id}`)
}

export function createHousehold(input: HouseholdCreateInput, idempotencyKey?: string): Promise<Household> {
  return http.post<Household>('/api/v1/households', input, { idempotencyKey })
}

export function updateHousehold(id: number | string, input: HouseholdUpdateInput): Promise<Household> {
  return http.put<Household>(`/api/v1/households/${id}`, input)
}

export function addMember(householdId: number | string, input: PersonInput, idempotencyKey?: string): Promise<Person> {
  return http.post<Person>(`/api/v1/households/${householdId}/members`, input, { idempotencyKey })
}

export function getPerson(id: number | string): Promise<Person> {
  return http.get<Person>(`/api/v1/persons/${id}`)
}

export function updatePerson(id: number | string, input: PersonInput & { version: number }): Promise<Person> {
  return http.put<Person>(`/api/v1/persons/${id}`, input)
}

export function removePerson(id: number | string, version: number): Promise<void> {
  return http.delete(`/api/v1/persons/${id}`, { version })
}
