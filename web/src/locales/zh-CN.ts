// Simplified Chinese, the only locale. Every user-visible string of the app lives in zh-CN/,
// one file per area; this file combines them into the one messages object, its top-level keys
// in the order they have always had. vue-i18n syntax: {name} interpolates; avoid bare @ $ | { }
// in texts.
import { app, common, error, menu, layout, role, notFound } from './zh-CN/shell'
import { login, account } from './zh-CN/account'
import {
  area,
  relation,
  disability,
  selfCare,
  sex,
  income,
  regionLevel,
  household,
  member,
  region,
} from './zh-CN/registry'
import { user } from './zh-CN/users'
import { audit, auditAction, auditEntity } from './zh-CN/audit'
import {
  program,
  channel,
  caseState,
  dueStatus,
  caseAction,
  noticeKind,
  cases,
  caseTimeline,
  attachments,
} from './zh-CN/cases'
import { verification } from './zh-CN/verification'
import { referralTask } from './zh-CN/referrals'
import { emergency } from './zh-CN/emergency'
import { creditLists } from './zh-CN/credit'
import { holidays } from './zh-CN/calendar'
import { publicSite } from './zh-CN/public'
import {
  programme,
  policyRule,
  approver,
  coverage,
  temporaryItem,
  referralKind,
  referralTrigger,
  paramSource,
  paramOrigin,
  paramGroup,
  paramValue,
  paramUnit,
  paramSuffix,
  fact,
  determination,
  policy,
  simulate,
} from './zh-CN/policy'
import { enrollmentStatus, householdFile } from './zh-CN/enrollments'
import { monitoring } from './zh-CN/monitoring'

export default {
  app, common, error, menu, layout, role,
  login, account,
  notFound,
  area, relation, disability, selfCare, sex, income, regionLevel, household, member, region,
  user,
  audit,
  program, channel, caseState, dueStatus, caseAction, noticeKind, cases, caseTimeline,
  verification,
  referralTask,
  emergency,
  creditLists,
  holidays,
  publicSite,
  programme, policyRule, approver, coverage, temporaryItem, referralKind, referralTrigger,
  paramSource, paramOrigin, paramGroup, paramValue, paramUnit, paramSuffix, fact, determination,
  policy, simulate,
  auditAction, auditEntity,
  enrollmentStatus, householdFile,
  attachments,
  monitoring,
}
