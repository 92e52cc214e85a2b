// GET /api/v1/audit, /audit/export, /audit/reads, /audit/verify (docs/api.md § Audit).
import { buildUrl, downloadFile, http, type Page, type PageQuery } from './http'

export interface AuditEntry {
  id: number
  at: string
  actor: string
  action: string
  entity: string
  entity_id: string | number
  region_code: string
  before: unknown
  after: unknown
  hash: string
}

export interface ReadEntry {
  id: number
  at: string
  actor: string
  entity: string
  entity_id: string | number
  region_code: string
}

export interface AuditQuery extends PageQuery {
  entity?: string
  actor?: string
}

export type VerifyResult =
  | { ok: true; entries: number; reads: number; anchors: number }
  | {
      ok: false
      entries: number
      reads: number
      anchors: number
      first_broken_id: number
      first_broken_read_id: number
      problem: string
    }

export function listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
  return http.get<Page<AuditEntry>>('/api/v1/audit', { ...query })
}

export function listReads(query: PageQuery): Promise<Page<ReadEntry>> {
  return http.get<Page<ReadEntry>>('/api/v1/audit/reads', { ...query })
}

export function verifyAudit(): Promise<VerifyResult> {
  return http.get<VerifyResult>('/api/v1/audit/verify')
}

/** Downloads the filtered audit log (newest entries first, at most 10,000) as .xlsx; resolves with the file name. */
export function downloadAuditExport(query: Pick<AuditQuery, 'entity' | 'actor'>): Promise<string> {
  return downloadFile(buildUrl('/api/v1/audit/export', { ...query }), 'audit.xlsx')
}
