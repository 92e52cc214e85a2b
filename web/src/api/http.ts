// The one HTTP wrapper of the app. Every call to the doudi server goes through `request`.
//
// - same origin, cookies sent (`credentials: 'same-origin'`), JSON in and out;
// - POST/PUT/PATCH/DELETE carry the session's CSRF token in `X-CSRF-Token`;
// - an error body `{"error":{"code","message","field"}}` becomes an `ApiError`
//   (message is the server's Chinese text, field a JSON path such as `members[1].citizen_id`);
// - a 401 `unauthenticated` answer (session gone) calls the unauthenticated handler, which
//   sends the user to the login page.
import { i18n } from '@/locales'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** Error codes of docs/api.md plus two client-side ones (`network`, `bad_response`). */
export type ApiErrorCode =
  | 'malformed_json'
  | 'invalid_argument'
  | 'unauthenticated'
  | 'invalid_credentials'
  | 'csrf_failed'
  | 'permission_denied'
  | 'not_found'
  | 'method_not_allowed'
  | 'version_conflict'
  | 'conflict'
  | 'failed_precondition'
  | 'payload_too_large'
  | 'account_locked'
  | 'internal'
  | 'outcome_unknown'
  | 'committed_unread'
  | 'unavailable'
  | 'network'
  | 'bad_response'
  | (string & {})

export class ApiError extends Error {
  readonly status: number
  readonly code: ApiErrorCode
  /** JSON path of the offending input, '' when no single field is at fault. */
  readonly field: string
  /** A write (POST/PUT/PATCH/DELETE) that was sent but whose answer never came. */
  readonly unansweredWrite: boolean

  constructor(status: number, code: ApiErrorCode, message: string, field = '', unansweredWrite = false) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.unansweredWrite = unansweredWrite
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}

/**
 * A write that may have been saved although it answered an error (`committed_unread`: saved,
 * its result not readable; `outcome_unknown`: the connection broke after the commit was sent;
 * a write whose answer never arrived, or a gateway's 502/504 in front of the server).
 * The page must not offer to send it again as it is: it reloads instead.
 */
export function writeMayHaveLanded(e: unknown): boolean {
  return (
    isApiError(e) &&
    (e.code === 'committed_unread' || e.code === 'outcome_unknown' || e.unansweredWrite || e.status === 502 ||
      e.status === 504)
  )
}

/**
 * The Chinese text to show for an error thrown by an api call: the server's message, the
 * "modified by someone else" text for a version conflict (`conflictMessage` when the page has
 * a more specific one), and a generic text for anything that is not an ApiError.
 */
export function apiErrorMessage(e: unknown, conflictMessage?: string): string {
  if (!isApiError(e)) return i18n.global.t('error.unexpected')
  if (e.code === 'version_conflict') return conflictMessage ?? i18n.global.t('error.versionConflict')
  return e.message
}

/** Paged list answer shared by every list endpoint. */
export interface Page<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

export interface PageQuery {
  page?: number
  page_size?: number
}

interface HttpConfig {
  csrfToken: () => string
  onUnauthenticated: () => void
}

let config: HttpConfig = {
  csrfToken: () => '',
  onUnauthenticated: () => {},
}

/** Wires the wrapper to the session store and the router (done once in main.ts). */
export function configureHttp(c: HttpConfig): void {
  config = c
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null>
  body?: unknown
  /** Do not treat a 401 as "session expired" (login and session restore). */
  noAuthRedirect?: boolean
  /**
   * Idempotency-Key of a create: one per form, made when the form opens and sent again by every
   * resubmit of it, so the server writes the record once and answers a repeat with the first
   * answer (docs/api.md "Conventions").
   */
  idempotencyKey?: string
}

/** A fresh Idempotency-Key (128 random bits, hex; crypto.getRandomValues works without HTTPS). */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

const UNSAFE: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue
    params.append(k, String(v))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

/**
 * The error of a request whose connection failed before its whole answer arrived. A write may
 * have reached the server all the same: the user is told to look before sending it again.
 */
export function connectionLost(method: HttpMethod): ApiError {
  if (UNSAFE.has(method)) return new ApiError(0, 'network', i18n.global.t('error.networkWrite'), '', true)
  return new ApiError(0, 'network', i18n.global.t('error.network'))
}

export async function request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  let body: string | undefined
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  if (UNSAFE.has(method)) {
    const token = config.csrfToken()
    if (token) headers['X-CSRF-Token'] = token
    if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey
  }

  let res: Response
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
    })
  } catch {
    throw connectionLost(method)
  }

  if (res.status === 204) return undefined as T

  let text: string
  try {
    text = await res.text()
  } catch {
    throw connectionLost(method) // the answer was cut off on the way
  }
  let data: unknown = undefined
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = undefined
    }
  }

  if (!res.ok) {
    const err = toApiError(res.status, data)
    if (res.status === 401 && !opts.noAuthRedirect && err.code !== 'invalid_credentials') {
      config.onUnauthenticated()
    }
    throw err
  }
  if (text && data === undefined) {
    throw new ApiError(res.status, 'bad_response', i18n.global.t('error.badResponse'))
  }
  return data as T
}

function toApiError(status: number, data: unknown): ApiError {
  const e = (data as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error
  if (e && typeof e.code === 'string') {
    const message = typeof e.message === 'string' && e.message ? e.message : fallbackMessage(status)
    return new ApiError(status, e.code, message, typeof e.field === 'string' ? e.field : '')
  }
  return new ApiError(status, status >= 500 ? 'internal' : 'bad_response', fallbackMessage(status))
}

function fallbackMessage(status: number): string {
  const t = i18n.global.t
  if (status === 401) return t('error.unauthenticated')
  if (status === 403) return t('error.forbidden')
  if (status === 404) return t('error.notFound')
  if (status === 429) return t('error.tooManyRequests')
  if (status >= 500) return t('error.server')
  return t('error.unknown', { status })
}

export const http = {
  get: <T>(path: string, query?: RequestOptions['query'], o: Omit<RequestOptions, 'query' | 'body'> = {}) =>
    request<T>('GET', path, { ...o, query }),
  post: <T>(path: string, body?: unknown, o: Omit<RequestOptions, 'body'> = {}) =>
    request<T>('POST', path, { ...o, body }),
  put: <T>(path: string, body?: unknown, o: Omit<RequestOptions, 'body'> = {}) =>
    request<T>('PUT', path, { ...o, body }),
  patch: <T>(path: string, body?: unknown, o: Omit<RequestOptions, 'body'> = {}) =>
    request<T>('PATCH', path, { ...o, body }),
  delete: <T = void>(path: string, query?: RequestOptions['query'], o: Omit<RequestOptions, 'query' | 'body'> = {}) =>
    request<T>('DELETE', path, { ...o, query }),
}

/** The file name of a Content-Disposition header (filename*=UTF-8''… first, then filename="…"). */
export function filenameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1].trim())
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"/i.exec(disposition) ?? /filename\s*=\s*([^;]+)/i.exec(disposition)
  return plain?.[1]?.trim() || fallback
}

/**
 * Downloads a file (a GET: the session cookie suffices, no CSRF token) and saves it under the
 * server's file name; the name saved. Errors are ApiErrors, as for JSON requests.
 */
export async function downloadFile(url: string, fallbackName: string): Promise<string> {
  let res: Response
  try {
    res = await fetch(url, { credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'network', i18n.global.t('error.network'))
  }
  if (!res.ok) {
    let data: unknown = undefined
    try {
      data = await res.json()
    } catch {
      // not JSON: the status's own message
    }
    const err = toApiError(res.status, data)
    if (res.status === 401) config.onUnauthenticated()
    throw err
  }
  const blob = await res.blob()
  const name = filenameOf(res.headers.get('Content-Disposition'), fallbackName)
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10_000)
  return name
}
