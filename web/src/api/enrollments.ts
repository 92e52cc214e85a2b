// Enrollments and their dynamic management (review, change of amount, suspension, resumption,
// termination), and a household's whole file, 一户一案 (docs/api.md § Enrollments and referrals,
// § Applications for GET /households/{id}/file). Money is integer fen; dates YYYY-MM-DD.
import { http, type Page, type PageQuery } from './http'
import type { ApplicationSummary, EnrollmentRef, NoticeKind, Visit } from './applications'

/** A row of GET /enrollments: the terms its case lists, with where it belongs. */
export interface Enrollment extends EnrollmentRef {
  household_id: number
  application_id: number
  village_name: string
  head_name: string
}

export function listEnrollments(query: PageQuery & { status?: string }): Promise<Page<Enrollment>> {
  return http.get<Page<Enrollment>>('/api/v1/enrollments', { ...query })
}

// ---------------------------------------------------------------- 一户一案 and dynamic management

export type EnrollmentStatus = 'active' | 'suspended' | 'terminated' | 'paid'

export interface FileEnrollment {
  id: number
  application_id: number | null
  program: string
  covered: string[]
  monthly_fen: number
  one_off_fen: number
  first_paid_month: string
  status: EnrollmentStatus | (string & {})
  next_review_date: string
  ends_on: string | null
  status_reason: string
  version: number
}

export interface FileNotice {
  id: number
  kind: NoticeKind | (string & {})
  created_at: string
  /** null for a notice of an enrollment not decided in doudi (no case). */
  application_id: number | null
  case_no: string | null
}

export interface FileVisit {
  application_id: number
  case_no: string
  visit: Visit | null
}

export interface FileDetermination {
  application_id: number
  case_no: string
  date: string
  dibao: boolean
  dibao_monthly_fen: number
  tekun: boolean
  marginal: boolean
  temporary_fen: number
}

/** GET /api/v1/households/{id}/file (一户一案). */
export interface HouseholdFile {
  household_id: number
  applications: ApplicationSummary[]
  notices: FileNotice[]
  visits: FileVisit[]
  determinations: FileDetermination[]
  enrollments: FileEnrollment[]
}

export function getHouseholdFile(householdId: number | string): Promise<HouseholdFile> {
  return http.get<HouseholdFile>(`/api/v1/households/${householdId}/file`)
}

export const ENROLLMENT_ACTIONS = ['review', 'change_amount', 'suspend', 'resume', 'terminate'] as const
export type EnrollmentAction = (typeof ENROLLMENT_ACTIONS)[number]

export interface EnrollmentActionPayload {
  monthly_fen?: number
  reason?: string
  stable?: boolean
  gradual_exit?: boolean
}

export interface EnrollmentActionResult {
  id: number
  status: string
  monthly_fen: number
  next_review_date: string
  ends_on: string | null
  reason: string
  version: number
  program: string
}

/** Always sends the version the page read; a stale one answers 409 version_conflict. */
export function actOnEnrollment(
  id: number,
  action: EnrollmentAction,
  version: number,
  payload: EnrollmentActionPayload = {},
): Promise<EnrollmentActionResult> {
  return http.post<EnrollmentActionResult>(`/api/v1/enrollments/${id}/actions`, { ...payload, action, version })
}
