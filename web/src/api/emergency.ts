// Act-first emergency help (先行救助) and the towns' reserve funds (docs/api.md § Emergency help).
// Money is integer fen.
import { http, type Page, type PageQuery } from './http'

export const EMERGENCY_KINDS = ['accident', 'fire', 'illness', 'disaster', 'other'] as const
export type EmergencyKind = (typeof EMERGENCY_KINDS)[number]
export type EmergencyState = 'paid' | 'awaiting_county' | 'rejected'
export type EmergencyApprover = 'town' | 'county' | 'case_conference'

export interface EmergencyAid {
  id: number
  version: number
  town_code: string
  town_name: string
  person_name: string
  citizen_id_masked: string
  hukou_division: string
  kind: EmergencyKind
  loss_fen: number
  amount_fen: number
  description: string
  state: EmergencyState
  approver: EmergencyApprover | null
  paid_at: string | null
  paperwork_completed: boolean
  case_conference: { members: string[]; decision: 'approve' | 'reject'; note?: string } | null
  created_at: string
}

export interface EmergencyInput {
  town_code?: string
  household_id?: number
  person_name: string
  citizen_id: string
  hukou_division: string
  kind: EmergencyKind
  loss_fen: number
  amount_fen: number
  description: string
}

export type EmergencyAction = 'approve_county' | 'reject' | 'case_conference' | 'complete_paperwork'

/**
 * The town's act-first ceiling in force today (`temporary.town_ceiling_fen` of the county's pack,
 * GET /api/v1/policy); null when it cannot be read.
 */
export async function townCeilingFen(): Promise<number | null> {
  const res = await http.get<{ parameters: { key: string; value: string | number }[] }>('/api/v1/policy')
  const v = res.parameters.find((p) => p.key === 'temporary.town_ceiling_fen')?.value
  const n = Number(v)
  return v !== undefined && Number.isInteger(n) ? n : null
}

export function createEmergency(input: EmergencyInput, idempotencyKey?: string): Promise<EmergencyAid> {
  return http.post<EmergencyAid>('/api/v1/emergency-aid', input, { idempotencyKey })
}

export function listEmergency(query: PageQuery): Promise<Page<EmergencyAid>> {
  return http.get<Page<EmergencyAid>>('/api/v1/emergency-aid', { ...query })
}

export function actOnEmergency(
  id: number,
  action: EmergencyAction,
  version: number,
  extra: { members?: string[]; decision?: 'approve' | 'reject'; note?: string } = {},
): Promise<EmergencyAid> {
  return http.post<EmergencyAid>(`/api/v1/emergency-aid/${id}/actions`, { ...extra, action, version })
}

export interface ReserveFund {
  town_code: string
  town_name: string
  population?: number
  balance_fen: number
  required_fen: number
}

export async function listReserveFunds(): Promise<ReserveFund[]> {
  return (await http.get<{ items: ReserveFund[] }>('/api/v1/reserve-funds')).items
}

/** county_admin; answers the funds afresh. */
export async function depositReserve(town: string, amountFen: number, note: string, idempotencyKey?: string): Promise<ReserveFund[]> {
  const res = await http.post<{ items: ReserveFund[] }>(
    `/api/v1/reserve-funds/${encodeURIComponent(town)}/deposits`,
    { amount_fen: amountFen, note },
    { idempotencyKey },
  )
  return res.items
}
