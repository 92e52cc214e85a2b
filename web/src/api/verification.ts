// Cross-region verification requests (异地协查): an application registered with a `hukou_county`
// other than its own county opens a request to that county; the hukou county's staff answer it
// (docs/api.md § Enrollments and referrals, GET|POST /verification-requests).
import { http, type Page, type PageQuery } from './http'

export type VerificationDirection = 'incoming' | 'outgoing'
export type VerificationStatus = 'open' | 'answered'

export interface VerificationRequest {
  id: number
  application_id: number
  from_county: string
  to_county: string
  direction: VerificationDirection
  citizen_id: string
  applicant_name: string
  status: VerificationStatus
  answer: string
  created_at: string
  answered_at: string
  /** What the hukou county is asked to verify. */
  subject: string
  case_no: string
}

/**
 * Requests sent by (a town: of its own applications) or, for county staff, to the user's
 * county, newest first; `direction` keeps one side.
 */
export function listVerificationRequests(query: PageQuery & { direction?: VerificationDirection }): Promise<Page<VerificationRequest>> {
  return http.get<Page<VerificationRequest>>('/api/v1/verification-requests', { ...query })
}

/** County staff of the hukou county answer an open request. */
export function answerVerificationRequest(id: number, answer: string): Promise<{ id: number; status: VerificationStatus; answer: string }> {
  return http.post(`/api/v1/verification-requests/${id}/answer`, { answer })
}
