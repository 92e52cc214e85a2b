// Department files in the browser: a .csv is sent as its raw bytes (base64; the server tells
// UTF-8 from GB18030), an .xlsx/.xls is converted here with exceljs — first worksheet → CSV text
// with its header row; dates as YYYY-MM-DD, numbers as plain digits, fields quoted when they hold
// a comma, a quote or a line break. exceljs is loaded only when a workbook is converted.
import type { CellValue, Workbook } from 'exceljs'

export type FileKind = 'csv' | 'xlsx' | 'unknown'

export function fileKind(name: string): FileKind {
  const n = name.toLowerCase()
  if (n.endsWith('.csv') || n.endsWith('.txt')) return 'csv'
  if (n.endsWith('.xlsx') || n.endsWith('.xls')) return 'xlsx'
  return 'unknown'
}

/** Base64 of the bytes, in chunks (String.fromCharCode on a whole large file overflows the stack). */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = ''
  const CHUNK = 0x8000
  for (let i = 0; i < bytes.length; i += CHUNK) {
    bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK))
  }
  return btoa(bin)
}

const pad2 = (n: number) => String(n).padStart(2, '0')

/**
 * A date cell. exceljs gives Excel dates as Date objects whose UTC fields are the calendar date
 * of the sheet (there is no time zone in a workbook), so the UTC fields are read.
 */
function dateText(d: Date): string {
  if (Number.isNaN(d.getTime())) return ''
  const ymd = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`
  const hasTime = d.getUTCHours() || d.getUTCMinutes() || d.getUTCSeconds()
  return hasTime ? `${ymd} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}` : ymd
}

/** A number as plain text: no exponent, no grouping; integers exactly as stored. */
export function numberText(n: number): string {
  if (!Number.isFinite(n)) return ''
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? n.toFixed(0) : String(n)
  const s = String(n)
  if (!/e/i.test(s)) return s
  // Very small or very large fractions: fixed notation, trailing zeros trimmed.
  return n.toFixed(20).replace(/\.?0+$/, '')
}

/** The text of one cell value, whatever exceljs made of it. */
export function cellText(v: CellValue | undefined): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number') return numberText(v)
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (v instanceof Date) return dateText(v)
  if (typeof v === 'object') {
    const o = v as unknown as Record<string, unknown>
    if (Array.isArray(o.richText)) return (o.richText as { text?: string }[]).map((r) => r.text ?? '').join('')
    if ('result' in o || 'formula' in o || 'sharedFormula' in o) return cellText(o.result as CellValue | undefined)
    if ('hyperlink' in o && 'text' in o) return cellText(o.text as CellValue)
    if ('error' in o) return ''
    if ('text' in o) return String(o.text ?? '')
  }
  return String(v)
}

/** One CSV field: quoted when it holds a comma, a quote or a line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** The first worksheet of a workbook as CSV lines (trailing empty rows dropped). */
export function worksheetToCsv(wb: Workbook): string {
  const ws = wb.worksheets[0]
  if (!ws) return ''
  const lines: string[] = []
  const width = ws.columnCount
  for (let r = 1; r <= ws.rowCount; r++) {
    const row = ws.getRow(r)
    const cells: string[] = []
    for (let c = 1; c <= width; c++) cells.push(csvField(cellText(row.getCell(c).value).trim()))
    // Keep the row's own trailing columns short: empty cells at the end of the sheet width.
    lines.push(cells.join(','))
  }
  while (lines.length && /^,*$/.test(lines[lines.length - 1] ?? '')) lines.pop()
  return lines.length ? `${lines.join('\n')}\n` : ''
}

/** Reads an .xlsx workbook (bytes) into CSV text. Throws when the bytes are not a workbook. */
export async function xlsxToCsv(bytes: ArrayBuffer): Promise<string> {
  const mod = await import('exceljs')
  const ExcelJS = (mod as unknown as { default?: typeof mod }).default ?? mod
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load(bytes)
  return worksheetToCsv(wb)
}
