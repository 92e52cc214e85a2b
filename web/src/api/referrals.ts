// Referrals to other departments (转介) that a determination raises (docs/api.md § Enrollments and
// referrals). Dates YYYY-MM-DD.
import { http, type Page, type PageQuery } from './http'
import type { DueStatus } from './calendar'

export const REFERRAL_STATUSES = ['open', 'accepted', 'closed'] as const
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number]

/** A referral as its case lists it (Application.referrals). */
export interface ReferralRef {
  id: number
  kind: string
  department: string
  department_label: string
  status: ReferralStatus
  due_date: string
}

export interface Referral {
  id: number
  version: number
  application_id: number
  household_id: number
  kind: string
  department: string
  department_label: string
  status: ReferralStatus
  due_date: string
  due_status: DueStatus
  note: string
  triggers: string[]
  head_name: string
  village_name: string
  /** The case, its applicant and how to reach them. */
  case_no: string
  applicant_name: string
  applicant_citizen_id_masked: string
  applicant_phone: string
}

export function listReferrals(query: PageQuery & { status?: ReferralStatus | '' }): Promise<Page<Referral>> {
  return http.get<Page<Referral>>('/api/v1/referrals', { ...query })
}

export function actOnReferral(
  id: number,
  action: 'accept' | 'close',
  note: string,
): Promise<{ id: number; status: ReferralStatus; note: string }> {
  return http.post(`/api/v1/referrals/${id}/actions`, { action, note })
}
