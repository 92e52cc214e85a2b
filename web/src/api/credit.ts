// The trust and dishonesty lists and the declared relatives of staff (docs/api.md § Credit and
// relatives; county_admin, county_reviewer). Money is integer fen.
import { http, type Page, type PageQuery } from './http'

export type CreditList = 'trust' | 'dishonesty'

export interface CreditEntry {
  id: number
  citizen_id: string
  name: string
  list: CreditList
  reason: string
  owed_fen: number
  repaid_at: string | null
  created_at?: string
}

export interface CreditInput {
  citizen_id: string
  name: string
  list: CreditList
  reason: string
  owed_fen: number
}

export function listCredit(query: PageQuery): Promise<Page<CreditEntry>> {
  return http.get<Page<CreditEntry>>('/api/v1/credit', { ...query })
}

export function addCredit(input: CreditInput, idempotencyKey?: string): Promise<CreditEntry> {
  return http.post<CreditEntry>('/api/v1/credit', input, { idempotencyKey })
}

export function repayCredit(id: number): Promise<{ id: number; repaid_at: string }> {
  return http.post(`/api/v1/credit/${id}/repay`, {})
}

export interface StaffRelative {
  id: number
  citizen_id: string
  name: string
  staff_name: string
  relation: string
  created_at?: string
}

export type StaffRelativeInput = Omit<StaffRelative, 'id' | 'created_at'>

export function listRelatives(query: PageQuery): Promise<Page<StaffRelative>> {
  return http.get<Page<StaffRelative>>('/api/v1/staff-relatives', { ...query })
}

export function addRelative(input: StaffRelativeInput, idempotencyKey?: string): Promise<StaffRelative> {
  return http.post<StaffRelative>('/api/v1/staff-relatives', input, { idempotencyKey })
}
