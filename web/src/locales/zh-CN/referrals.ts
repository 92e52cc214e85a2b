// zh-CN messages: the referrals inbox (转介).
// Combined with the other areas in ../zh-CN.ts; vue-i18n syntax as noted there. The kinds and
// triggers are the policy engine's (policy.ts), shown the same on the referrals page.
import { referralKind, referralTrigger } from './policy'

export const referralTask = {
  department: '承办部门：{name}',
  departmentLabel: '承办部门',
  person: '救助对象',
  caseNo: '案号',
  phone: '联系电话',
  kindLabel: '救助事项',
  triggers: '转办原因',
  dueDate: '办理时限',
  dueOn: '{date} 前办结',
  statusLabel: '状态',
  result: '办理结果',
  case: '申请',
  openCase: '查看申请',
  all: '全部',
  empty: '暂无转办事项',
  acceptNote: '接收说明（可选）',
  resultNote: '办理结果',
  noteRequired: '请填写办理结果',
  done: '已{action}',
  action: {
    accept: '接收',
    close: '办结',
  },
  status: {
    open: '待接收',
    accepted: '办理中',
    closed: '已办结',
  },
  kind: { ...referralKind },
  trigger: { ...referralTrigger },
}
