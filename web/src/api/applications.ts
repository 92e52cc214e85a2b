// Applications: the five-in-one application and its workflow — list, detail, create, timeline,
// actions — with its notices and its scanned signed pages (docs/api.md § Applications, § Notices,
// and the attachments of § Enrollments and referrals; states and transitions: docs/workflow.md).
// Money is integer fen; dates YYYY-MM-DD.
import { http, type Page, type PageQuery } from './http'
import type { DueStatus } from './calendar'
import type { Household } from './households'
import type { ReferralRef } from './referrals'

/** The five programmes of one application (五合一), in the order the app shows them. */
export const PROGRAMS = ['dibao', 'tekun', 'temporary', 'marginal', 'illness_poverty'] as const
export type Program = (typeof PROGRAMS)[number]

/** Channels a staff member may record; `online` arrives from the public form only. */
export const STAFF_CHANNELS = ['window', 'assistant', 'hotline', 'discovery'] as const
export type Channel = (typeof STAFF_CHANNELS)[number] | 'online'

export const CASE_STATES = [
  'received',
  'documents_requested',
  'accepted',
  'visited',
  'verified',
  'public_notice',
  'awaiting_decision',
  'enrolled',
  'refused',
  'withdrawn',
] as const
export type CaseState = (typeof CASE_STATES)[number]
export const FINAL_STATES: readonly CaseState[] = ['enrolled', 'refused', 'withdrawn']

export const CASE_ACTIONS = [
  'link_household',
  'record_signatures',
  'request_documents',
  'accept',
  'record_visit',
  'record_verification',
  'town_opinion',
  'record_objection',
  'answer_objection',
  'close_notice',
  'approve',
  'refuse',
  'extend',
  'withdraw',
] as const
export type CaseAction = (typeof CASE_ACTIONS)[number]

export interface ApplicationSummary {
  id: number
  version: number
  case_no: string
  state: CaseState
  state_label: string
  channel: Channel
  programs: Program[]
  household_id: number | null
  village_code: string
  village_name: string
  town_name: string
  applicant_name: string
  applicant_citizen_id_masked: string
  staff_relative: boolean
  escalated: boolean
  delegated: boolean
  received_at: string
  accepted_at: string | null
  due_date: string | null
  due_status: DueStatus
  extended: boolean
  missing_items: string[]
  notice_ends: string | null
  decided_at: string | null
  decision: 'approved' | 'refused' | 'withdrawn' | null
  created_by: string
}

export interface Visit {
  visited_on: string
  staff: string[]
  findings: string
  recorded_by: string
}

export interface Verification {
  date: string
  findings: string
  recorded_by: string
}

export interface TownOpinion {
  recommend: 'approve' | 'refuse'
  opinion: string
  escalate: boolean
  by: string
  at: string
}

export interface Objection {
  id: number
  content: string
  by: string
  recorded_by: string
  recorded_at: string
  answer: string | null
  answered_by: string
  answered_at: string
}

/** An enrollment's terms as its case lists them (Application.enrollments). */
export interface EnrollmentRef {
  id: number
  program: string
  covered: string[]
  monthly_fen: number
  one_off_fen: number
  first_paid_month: string
  status: string
  next_review_date: string
}

export type NoticeKind = 'acceptance' | 'missing_items' | 'refusal' | 'termination' | 'approval'

export interface NoticeRef {
  id: number
  kind: NoticeKind | (string & {})
  created_at: string
  sha256: string
}

/** The part of the policy engine's output the case page shows (docs/policy-rules.md § 11). */
export interface CaseDeterminations {
  date: string
  dibao?: {
    eligible: boolean
    monthly_fen?: number
    coverage?: string | null
    covered?: string[]
    base_monthly_fen?: number
    supplement_monthly_fen?: number
    rule?: string | null
  }
  tekun?: { eligible: boolean; monthly_fen?: number; covered?: string[] }
  marginal?: { eligible: boolean }
  temporary?: { eligible: boolean; amount_fen?: number; approver?: string | null }
  expenditure_hardship?: { eligible: boolean }
  illness_poverty?: { eligible: boolean; covered?: string[] }
  referrals?: { kind: string; department: string; department_label: string; triggers: string[] }[]
}

export interface Application extends ApplicationSummary {
  applicant_citizen_id: string
  applicant_phone: string
  description: string
  household: Household | null
  visit: Visit | null
  visits: Visit[]
  verification: Verification | null
  determinations: CaseDeterminations | null
  town_opinion: TownOpinion | null
  notice_starts: string | null
  decision_note: string
  objections: Objection[]
  enrollments: EnrollmentRef[]
  notices: NoticeRef[]
  referrals: ReferralRef[]
  allowed_actions: CaseAction[]
  attachments?: Attachment[]
  authorization_signed?: boolean
  commitment_signed?: boolean
}

export interface ApplicationInput {
  household_id: number
  channel: (typeof STAFF_CHANNELS)[number]
  programs: Program[]
  applicant_person_id?: number
  authorization: boolean
  commitment: boolean
  note?: string
  /** Residence-permit holders: the 6-digit county of the hukou; another county opens a verification request there. */
  hukou_county?: string
  /** With `hukou_county`: what the hukou county is asked to verify. */
  verification_subject?: string
}

export interface ApplicationQuery extends PageQuery {
  /** a state, or `open` for every state not final */
  state?: CaseState | 'open' | ''
  /** case number or applicant name */
  q?: string
  /** a region code inside the user's scope (town or village) */
  village?: string
  sort?: 'due' | 'new'
}

export interface TimelineEntry {
  id: number
  at: string
  actor: string
  action: string
  from: string
  to: string
  note: string
  details?: Record<string, unknown>
}

/** Body of POST /applications/{id}/actions besides `action` and `version`. */
export interface ActionPayload {
  household_id?: number
  authorization?: boolean
  commitment?: boolean
  missing_items?: string[]
  visited_on?: string
  staff?: string[]
  findings?: string
  date?: string
  recommend?: 'approve' | 'refuse'
  opinion?: string
  escalate?: boolean
  content?: string
  by?: string
  objection_id?: number
  answer?: string
  reasons?: string
  reason?: string
}

export function listApplications(query: ApplicationQuery): Promise<Page<ApplicationSummary>> {
  return http.get<Page<ApplicationSummary>>('/api/v1/applications', { ...query })
}

export function getApplication(id: number | string): Promise<Application> {
  return http.get<Application>(`/api/v1/applications/${id}`)
}

export function createApplication(input: ApplicationInput, idempotencyKey?: string): Promise<Application> {
  return http.post<Application>('/api/v1/applications', input, { idempotencyKey })
}

export async function getTimeline(id: number | string): Promise<TimelineEntry[]> {
  return (await http.get<{ items: TimelineEntry[] }>(`/api/v1/applications/${id}/timeline`)).items
}

/** Always sends the version the page read; a stale one answers 409 version_conflict. */
export function actOnApplication(
  id: number | string,
  action: CaseAction,
  version: number,
  payload: ActionPayload = {},
): Promise<Application> {
  return http.post<Application>(`/api/v1/applications/${id}/actions`, { ...payload, action, version })
}

// ---------------------------------------------------------------- notices

/** The archived A4 page (text/html), opened in a new tab. */
export function noticePrintUrl(id: number): string {
  return `/api/v1/notices/${id}/print`
}

// ---------------------------------------------------------------- scanned signed pages (attachments)

export const ATTACHMENT_KINDS = ['authorization', 'commitment', 'other'] as const
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number]
export const ATTACHMENT_TYPES = ['image/jpeg', 'image/png', 'application/pdf'] as const
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number]
/** Base64 grows the file by a third; 700 KB keeps the body under the server's 1 MiB limit. */
export const ATTACHMENT_MAX_BYTES = 700 * 1024

export interface Attachment {
  id: number
  kind: AttachmentKind | (string & {})
  filename: string
  content_type: string
  size_bytes: number
  uploaded_by: string
  uploaded_at: string
}

export interface AttachmentInput {
  kind: AttachmentKind
  filename: string
  content_type: AttachmentType
  data_base64: string
}

export function uploadAttachment(applicationId: number | string, input: AttachmentInput): Promise<unknown> {
  return http.post<unknown>(`/api/v1/applications/${applicationId}/attachments`, input)
}

export function attachmentUrl(id: number): string {
  return `/api/v1/attachments/${id}`
}
