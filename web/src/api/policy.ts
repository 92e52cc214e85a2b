// Policy engine (docs/api.md § Policy engine; output fields: docs/policy-rules.md § 11).
// The county is always the user's county; `date` (YYYY-MM-DD) defaults to today on the server.
// Money is integer fen. Parameter values arrive as text ("98000", "1.5", "true", "a,b").
import { http } from './http'

/** The six programmes, in the order the app shows them. */
export const PROGRAMMES = ['dibao', 'tekun', 'marginal', 'temporary', 'expenditure_hardship', 'illness_poverty'] as const
export type Programme = (typeof PROGRAMMES)[number]

export type ParamSource = 'national' | 'seed' | 'local setting'
/** Values are text on the wire; numbers and booleans are accepted too. */
export type ParamValue = string | number | boolean

/** A parameter a rule used, with where its value comes from. */
export interface ReasonParam {
  key: string
  label: string
  value: ParamValue
  from: string
  source: ParamSource | (string & {})
  cite: string
}

/** One rule applied to the household (GEN-4). */
export interface Reason {
  /** e.g. `DB-1` */
  rule: string
  passed: boolean
  params: ReasonParam[]
  /** computed numbers and inputs; keys ending in `_fen` are money */
  facts: Record<string, unknown>
  cite: string
}

export type Coverage = 'whole_household' | 'single_persons'

export interface ProgrammeDetermination {
  eligible: boolean
  monthly_fen?: number
  coverage?: Coverage | null
  /** citizen ids of the covered members */
  covered?: string[]
  reasons: Reason[]
}

export interface DibaoDetermination extends ProgrammeDetermination {
  /** the rule that made the household eligible (DB-1, DB-2, DB-3) */
  rule?: string | null
  base_monthly_fen?: number
  supplement_monthly_fen?: number
}

export type Approver = 'town' | 'county' | 'case_conference'

export interface TemporaryItem {
  /** `emergency.fire`, `expenditure.medical`, … */
  kind: string
  amount_fen: number
  above_band: boolean
}

export interface TemporaryDetermination {
  eligible: boolean
  amount_fen: number
  approver: Approver | null
  items: TemporaryItem[]
  reasons: Reason[]
}

export interface Referral {
  /** medical, education, housing, employment, legal, disaster, disability */
  kind: string
  department: string
  department_label: string
  triggers: string[]
  priority?: boolean
  measure?: string
}

export interface Determinations {
  county: string
  date: string
  household_id?: number
  dibao: DibaoDetermination
  tekun: ProgrammeDetermination
  marginal: ProgrammeDetermination
  temporary: TemporaryDetermination
  expenditure_hardship: ProgrammeDetermination
  illness_poverty: ProgrammeDetermination
  referrals: Referral[]
  zero_employment_household: boolean
  /** rules shared by the programmes (hukou, assets, income) */
  reasons: Reason[]
}

export function householdDeterminations(id: number | string, date?: string): Promise<Determinations> {
  return http.get<Determinations>(`/api/v1/households/${id}/determinations`, { date })
}

// ---------------------------------------------------------------- parameters

export type ParamUnit =
  | 'fen'
  | 'count'
  | 'months'
  | 'days'
  | 'working_days'
  | 'hours'
  | 'age_years'
  | 'grade'
  | 'multiple'
  | 'ratio'
  | 'bool'
  | 'enum'
  | 'list'
  | 'text'

export interface PolicyHistoryEntry {
  from: string
  value: ParamValue
  source: ParamSource | (string & {})
  cite: string
  basis: string
  note: string
  /** national pack, county pack, or the county admin's edits */
  origin: 'national' | 'county' | 'overlay' | (string & {})
}

export interface PolicyParameter {
  key: string
  label: string
  unit: ParamUnit | (string & {})
  doc: string
  value: ParamValue
  from: string
  source: ParamSource | (string & {})
  cite: string
  basis: string
  note: string
  editable: boolean
  history: PolicyHistoryEntry[]
}

export interface PolicyConstraint {
  id: string
  kind: 'pack' | 'target' | (string & {})
  expr: string
  severity: 'error' | 'warning' | (string & {})
  cite: string
  message: string
  scope?: string
}

export interface PolicyViolation {
  constraint_id: string
  severity: 'error' | 'warning' | (string & {})
  date: string
  message: string
  cite: string
  detail: string
}

export interface PolicyPack {
  county: string
  name: string
  date: string
  parameters: PolicyParameter[]
  constraints: PolicyConstraint[]
  violations: PolicyViolation[]
}

export function getPolicy(date?: string): Promise<PolicyPack> {
  return http.get<PolicyPack>('/api/v1/policy', { date })
}

export interface PolicyEntryInput {
  key: string
  /** YYYY-MM-DD, today or later */
  from: string
  /** value as text: `98000`, `1.5`, `true`, `difference`, `a,b` */
  value: string
  basis: string
  note: string
}

/** county_admin only; 409 failed_precondition when the value breaks an `error` constraint. */
export function addPolicyEntry(input: PolicyEntryInput): Promise<PolicyParameter> {
  return http.post<PolicyParameter>('/api/v1/policy/entries', input)
}

// ---------------------------------------------------------------- simulation

export interface SimulationInput {
  date: string
  /** parameter key → new value as text */
  set: Record<string, string>
}

export interface SimulationCounters {
  households: number
  eligible_before: number
  eligible_after: number
  newly_eligible: number
  no_longer_eligible: number
  cost_before_fen: number
  cost_after_fen: number
  cost_change_fen: number
}

export interface SimulationTown extends SimulationCounters {
  town_code: string
  town_name: string
}

export interface SimulationResult {
  date: string
  changes: { key: string; before: ParamValue; after: ParamValue }[]
  towns: SimulationTown[]
  totals: SimulationCounters
}

/** county_admin, county_reviewer, supervisor. "Eligible" = dibao or tekun; cost = their monthly total. */
export function simulatePolicy(input: SimulationInput): Promise<SimulationResult> {
  return http.post<SimulationResult>('/api/v1/policy/simulate', input)
}
