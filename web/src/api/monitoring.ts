// Dynamic monitoring (动态监测): department feeds, monthly runs, alerts, the rectification report,
// monthly screening with its Excel exports, and the background jobs long requests run as
// (docs/api.md § Dynamic monitoring, docs/feeds.md). Months are YYYY-MM, dates YYYY-MM-DD.
import { ApiError, buildUrl, connectionLost, downloadFile, http, type Page, type PageQuery } from './http'
import { i18n } from '@/locales'

// ---------------------------------------------------------------- jobs

export type JobStatus = 'running' | 'done' | 'failed'

export interface JobError {
  code: string
  message: string
  field?: string
}

/** A background job (GET /api/v1/jobs/{id}); `result` once done, `error` once failed. */
export interface Job<R = unknown> {
  id: string
  kind: string
  status: JobStatus
  step: string
  done: number
  total: number
  result: R | null
  error: JobError | null
  started_at: string
  finished_at: string | null
}

export function getJob<R>(id: string): Promise<Job<R>> {
  return http.get<Job<R>>(`/api/v1/jobs/${encodeURIComponent(id)}`)
}

// ---------------------------------------------------------------- feeds

export interface FeedColumn {
  key: string
  label: string
  required: boolean
}

export interface FeedSource {
  kind: string
  label: string
  department: string
  columns: FeedColumn[]
}

export interface RowProblem {
  line: number
  field: string
  message: string
}

/** What an import did (the job result of an async upload). */
export interface FeedReport {
  file_id: number
  already_imported: boolean
  encoding: string
  rows: number
  imported: number
  invalid: number
  problems: RowProblem[]
}

export interface FeedFile {
  id: number
  source: string
  month: string
  filename: string
  encoding: string
  rows: number
  imported: number
  invalid: number
  problems: RowProblem[] | null
  imported_by: string
  imported_at: string
}

export interface FeedUpload {
  source: string
  month: string
  filename: string
  csv_text?: string
  content_base64?: string
}

export async function listFeedSources(): Promise<FeedSource[]> {
  return (await http.get<{ items: FeedSource[] }>('/api/v1/feeds/sources')).items
}

export function listFeeds(query: PageQuery): Promise<Page<FeedFile>> {
  return http.get<Page<FeedFile>>('/api/v1/feeds', { ...query })
}

/**
 * POST /api/v1/feeds with `async: true` → the import job. Sent with XMLHttpRequest so that the
 * upload of a large file reports its progress (`onProgress(sentBytes, totalBytes)`).
 */
export async function uploadFeed(
  input: FeedUpload,
  csrfToken: string,
  onProgress?: (loaded: number, total: number) => void,
): Promise<Job<FeedReport>> {
  const body = JSON.stringify({ ...input, async: true })
  const res = await xhrPost<{ job: Job<FeedReport> }>('/api/v1/feeds', body, csrfToken, onProgress)
  return res.job
}

function xhrPost<T>(
  path: string,
  body: string,
  csrfToken: string,
  onProgress?: (loaded: number, total: number) => void,
): Promise<T> {
  const t = i18n.global.t
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', path)
    xhr.withCredentials = true
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.setRequestHeader('Content-Type', 'application/json')
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken)
    if (onProgress) {
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded, e.total)
      }
    }
    xhr.onerror = () => reject(connectionLost('POST'))
    xhr.onload = () => {
      let data: unknown = undefined
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : undefined
      } catch {
        data = undefined
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        if (data === undefined) reject(new ApiError(xhr.status, 'bad_response', t('error.badResponse')))
        else resolve(data as T)
        return
      }
      const e = (data as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error
      if (xhr.status === 401) {
        // Let the common wrapper notice the lost session (it sends the user to the login page).
        void http.get('/api/v1/session').catch(() => {})
      }
      if (e && typeof e.code === 'string') {
        reject(
          new ApiError(
            xhr.status,
            e.code,
            typeof e.message === 'string' && e.message ? e.message : t('error.unknown', { status: xhr.status }),
            typeof e.field === 'string' ? e.field : '',
          ),
        )
      } else if (xhr.status === 413) {
        reject(new ApiError(413, 'payload_too_large', t('monitoring.feeds.tooLarge')))
      } else {
        reject(
          new ApiError(xhr.status, xhr.status >= 500 ? 'internal' : 'bad_response',
            xhr.status >= 500 ? t('error.server') : t('error.unknown', { status: xhr.status })),
        )
      }
    }
    xhr.send(body)
  })
}

// ---------------------------------------------------------------- runs and indicators

export type AlertCategory = 'missing' | 'duplicate' | 'improper'
export const ALERT_CATEGORIES: readonly AlertCategory[] = ['missing', 'duplicate', 'improper']
export type Severity = 'high' | 'medium' | 'low'

export interface RunReport {
  run_id: number
  persons: number
  feed_rows: number
  matched: number
  alerts_raised: number
  alerts_existing: number
  by_indicator: Record<string, number>
}

export interface MonitorRun {
  id: number
  month: string
  started_at: string
  finished_at: string
  persons: number
  feed_rows: number
  matched: number
  alerts_raised: number
  actor: string
  origin: 'manual' | 'schedule' | string
}

export interface Indicator {
  id: string
  category: AlertCategory
  severity: Severity
  deadline_working_days: number
  description: string
  cite: string
}

export async function startRun(month: string): Promise<Job<RunReport>> {
  return (await http.post<{ job: Job<RunReport> }>('/api/v1/monitor/runs', { month, async: true })).job
}

export function listRuns(query: PageQuery): Promise<Page<MonitorRun>> {
  return http.get<Page<MonitorRun>>('/api/v1/monitor/runs', { ...query })
}

export async function listIndicators(): Promise<Indicator[]> {
  return (await http.get<{ items: Indicator[] }>('/api/v1/monitor/indicators')).items
}

// ---------------------------------------------------------------- alerts

export type AlertStatus = 'new' | 'verifying' | 'proposed' | 'resolved'
export type AlertStatusFilter = '' | 'open' | AlertStatus

export interface Alert {
  id: number
  version: number
  indicator: string
  description: string
  cite: string
  category: AlertCategory
  severity: Severity
  citizen_id_masked: string
  person_name: string
  household_id: number | null
  village_code: string
  village_name: string
  month: string
  details: Record<string, unknown> | null
  status: AlertStatus
  due_date: string
  overdue: boolean
  resolution: string | null
  confirmed: boolean | null
  application_id: number | null
  created_at: string
  /** A village assistant's confirmation awaiting the town (status `proposed`). */
  proposed_by: string | null
  proposed_at: string | null
}

/** The alert after an action; `suspended_enrollments` after a resolution. */
export interface AlertActionResult extends Alert {
  suspended_enrollments?: number
}

export interface AlertQuery extends PageQuery {
  status?: AlertStatusFilter
  indicator?: string
}

export function listAlerts(query: AlertQuery): Promise<Page<Alert>> {
  return http.get<Page<Alert>>('/api/v1/alerts', { ...query })
}

export function verifyAlert(id: number, version: number): Promise<AlertActionResult> {
  return http.post<AlertActionResult>(`/api/v1/alerts/${id}/actions`, { action: 'verify', version })
}

/** The town (or county) confirms a village assistant's proposal: the benefit is suspended now. */
export function confirmAlert(id: number, version: number): Promise<AlertActionResult> {
  return http.post<AlertActionResult>(`/api/v1/alerts/${id}/actions`, { action: 'confirm', version })
}

/** The town (or county) sends a proposal back to verification, with its reason. */
export function rejectAlert(id: number, version: number, note: string): Promise<AlertActionResult> {
  return http.post<AlertActionResult>(`/api/v1/alerts/${id}/actions`, { action: 'reject', version, note })
}

export function resolveAlert(id: number, version: number, confirmed: boolean, note: string): Promise<AlertActionResult> {
  return http.post<AlertActionResult>(`/api/v1/alerts/${id}/actions`, { action: 'resolve', version, confirmed, note })
}

// ---------------------------------------------------------------- rectification

export interface RectificationCounts {
  found: number
  resolved: number
  confirmed: number
  overdue: number
}

export interface RectificationTown {
  town_code: string
  town_name: string
  missing: RectificationCounts
  duplicate: RectificationCounts
  improper: RectificationCounts
}

export interface Rectification {
  month: string
  items: RectificationTown[]
}

export function getRectification(month?: string): Promise<Rectification> {
  return http.get<Rectification>('/api/v1/monitor/rectification', { month })
}

// ---------------------------------------------------------------- screening

export const VISIT_RESULTS = ['no_change', 'changed', 'absent', 'moved', 'deceased'] as const
export type VisitResult = (typeof VISIT_RESULTS)[number]

export type ScreeningReason =
  | { kind: 'alert'; alert_id: number; indicator: string; description: string; status: AlertStatus; due_date: string }
  | { kind: 'review'; program: string; description: string; due_date: string }

export interface ScreeningVisit {
  result: VisitResult
  result_label: string
  note: string
  visited_on: string
  visited_by: string
  version: number
}

export interface ScreeningItem {
  household_id: number
  head_name: string
  members: number
  town_name: string
  village_code: string
  village_name: string
  reasons: ScreeningReason[]
  visit: ScreeningVisit | null
}

export interface ScreeningSummary {
  households: number
  visited: number
  changed: number
  pending: number
}

export interface ScreeningPage extends Page<ScreeningItem> {
  month: string
  summary: ScreeningSummary
}

export interface ScreeningQuery extends PageQuery {
  month: string
  village?: string
  status?: '' | 'pending' | 'visited'
}

export interface VisitInput {
  month: string
  household_id: number
  result: VisitResult
  note: string
  visited_on: string
  version?: number
}

export interface VisitRecord {
  id: number
  version: number
  result: VisitResult
  result_label: string
  note: string
  visited_on: string
}

export function listScreening(query: ScreeningQuery): Promise<ScreeningPage> {
  return http.get<ScreeningPage>('/api/v1/screening', { ...query })
}

export function recordVisit(input: VisitInput): Promise<VisitRecord> {
  return http.post<VisitRecord>('/api/v1/screening/visits', input)
}

export type ScreeningExportKind = 'list' | 'notice' | 'report'

export function screeningExportUrl(month: string, kind: ScreeningExportKind): string {
  return buildUrl('/api/v1/screening/export', { month, kind })
}

/** Downloads an export and saves it; the file name saved. */
export function downloadScreeningExport(month: string, kind: ScreeningExportKind): Promise<string> {
  return downloadFile(screeningExportUrl(month, kind), `screening-${kind}-${month}.xlsx`)
}
