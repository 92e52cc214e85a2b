// Chinese display of workflow data: programmes, channels, states, due dates, notices and the
// timeline entries read from the audit chain. Shared by the case, referral and public pages.
import { useI18n } from 'vue-i18n'
import { PROGRAMS, type CaseState, type TimelineEntry } from '@/api/applications'
import type { DueStatus } from '@/api/calendar'
import { fenToYuan } from '@/utils/money'

/** Element Plus tag types by state: finished green, refused red, waiting for others grey. */
const STATE_TAG: Record<string, 'primary' | 'success' | 'warning' | 'danger' | 'info'> = {
  received: 'warning',
  documents_requested: 'warning',
  accepted: 'primary',
  visited: 'primary',
  verified: 'primary',
  public_notice: 'warning',
  awaiting_decision: 'primary',
  enrolled: 'success',
  refused: 'danger',
  withdrawn: 'info',
}

export function useCaseFormat() {
  const { t, te } = useI18n()

  function known(key: string, fallback: string): string {
    return te(key) ? t(key) : fallback
  }

  const programLabel = (p: string) => known(`program.${p}`, p)
  /** All five read 五合一 followed by the names. */
  function programsLabel(programs: readonly string[]): string {
    const names = programs.map(programLabel).join('、')
    const all = PROGRAMS.every((p) => programs.includes(p))
    return all ? t('cases.fiveInOne', { names }) : names
  }
  /** All five read just 五合一 (lists); otherwise the names. */
  function programsShort(programs: readonly string[]): string {
    return PROGRAMS.every((p) => programs.includes(p)) ? t('cases.fiveInOneShort') : programs.map(programLabel).join('、')
  }
  const channelLabel = (c: string) => known(`channel.${c}`, c)
  const stateLabel = (s: string) => known(`caseState.${s}`, s)
  const stateTag = (s: CaseState | string) => STATE_TAG[s] ?? 'info'
  const actionLabel = (a: string) => known(`caseAction.${a}`, a)
  const noticeLabel = (k: string) => known(`noticeKind.${k}`, k)
  const yuan = (fen: number) => t('cases.yuan', { amount: fenToYuan(fen) })

  /** Tag type and text of a due status; null when the deadline is not a concern. */
  function dueTag(s: DueStatus | string | undefined): { type: 'danger' | 'warning'; text: string } | null {
    if (s === 'overdue') return { type: 'danger', text: t('dueStatus.overdue') }
    if (s === 'due_soon') return { type: 'warning', text: t('dueStatus.due_soon') }
    return null
  }

  /** Short lines describing what a timeline entry recorded (who and when are shown apart). */
  function timelineDetails(e: TimelineEntry): string[] {
    const d = (e.details ?? {}) as Record<string, unknown>
    const lines: string[] = []
    const str = (v: unknown) => (typeof v === 'string' ? v : '')
    const list = (v: unknown) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string').join('、') : '')
    switch (e.action) {
      case 'submit':
        if (d.channel) lines.push(t('caseTimeline.channel', { channel: channelLabel(str(d.channel)) }))
        if (Array.isArray(d.programs)) lines.push(t('caseTimeline.programs', { programs: programsLabel(d.programs as string[]) }))
        if (d.staff_relative === true) lines.push(t('cases.flags.staffRelative'))
        break
      case 'request_documents':
        if (list(d.missing_items)) lines.push(t('caseTimeline.missingItems', { items: list(d.missing_items) }))
        break
      case 'accept':
        if (d.due_date) lines.push(t('caseTimeline.due', { date: str(d.due_date), n: String(d.working_days ?? '') }))
        if (list(d.accepted_with_missing_items))
          lines.push(t('caseTimeline.acceptedWithMissing', { items: list(d.accepted_with_missing_items) }))
        break
      case 'record_visit': {
        const v = (d.visit ?? {}) as Record<string, unknown>
        lines.push(t('caseTimeline.visit', { date: str(v.visited_on), staff: list(v.staff) }))
        if (v.findings) lines.push(str(v.findings))
        break
      }
      case 'record_verification': {
        const v = (d.verification ?? {}) as Record<string, unknown>
        lines.push(t('caseTimeline.verification', { date: str(v.date) }))
        if (v.findings) lines.push(str(v.findings))
        break
      }
      case 'town_opinion': {
        const o = (d.opinion ?? {}) as Record<string, unknown>
        lines.push(
          t('caseTimeline.opinion', {
            recommend: o.recommend === 'approve' ? t('cases.record.recommendApprove') : t('cases.record.recommendRefuse'),
            opinion: str(o.opinion),
          }),
        )
        if (o.escalate === true) lines.push(t('cases.flags.escalated'))
        if (d.notice_ends) lines.push(t('caseTimeline.noticeEnds', { date: str(d.notice_ends) }))
        break
      }
      case 'record_objection':
        lines.push(t('caseTimeline.objection', { content: str(d.content) }))
        break
      case 'answer_objection':
        lines.push(t('caseTimeline.answer', { answer: str(d.answer) }))
        break
      case 'approve':
        if (typeof d.enrollments === 'number') lines.push(t('caseTimeline.enrollments', { n: d.enrollments }))
        if (d.first_paid_month) lines.push(t('caseTimeline.firstPaidMonth', { month: str(d.first_paid_month) }))
        break
      case 'refuse':
        if (d.reasons) lines.push(t('caseTimeline.reasons', { reasons: str(d.reasons) }))
        break
      case 'extend':
        if (d.due_date) lines.push(t('caseTimeline.extendedTo', { date: str(d.due_date) }))
        if (d.reason) lines.push(t('caseTimeline.reason', { reason: str(d.reason) }))
        break
      case 'withdraw':
        if (d.reason) lines.push(t('caseTimeline.reason', { reason: str(d.reason) }))
        break
      case 'link_household':
        if (d.household_id) lines.push(t('caseTimeline.household', { id: String(d.household_id) }))
        break
      default:
        if (e.note) lines.push(e.note)
    }
    return lines.filter(Boolean)
  }

  return {
    programLabel,
    programsLabel,
    programsShort,
    channelLabel,
    stateLabel,
    stateTag,
    actionLabel,
    noticeLabel,
    yuan,
    dueTag,
    timelineDetails,
  }
}
