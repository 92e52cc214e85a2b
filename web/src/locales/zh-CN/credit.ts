// zh-CN messages: the trust and dishonesty lists and the relatives of staff.
// Combined with the other areas in ../zh-CN.ts; vue-i18n syntax as noted there.

export const creditLists = {
  creditTab: '守信/失信名单',
  relativesTab: '工作人员近亲属备案',
  creditIntro: '失信名单中的申请人或家庭成员，须登记退还违规领取的救助金后方可受理新的申请；守信名单中的申请人可以容缺受理。',
  relativesIntro: '备案人员所在家庭的申请须由县级民政部门入户调查，且不能由镇街审批确认。',
  addCredit: '登记名单',
  addRelative: '登记备案',
  list: '名单',
  listName: {
    trust: '守信',
    dishonesty: '失信',
  },
  reason: '事由',
  reasonRequired: '请填写事由',
  owed: '应退还金额（元）',
  repayment: '退还情况',
  repaidAt: '已于 {at} 退还',
  notRepaid: '未退还',
  repay: '登记退还',
  repayConfirm: '确认 {name} 已退还违规领取的救助金？登记后可重新受理其申请。',
  repaid: '已登记退还',
  createdAt: '登记时间',
  staffName: '工作人员',
  staffNameRequired: '请填写工作人员姓名',
  relation: '关系',
  relationRequired: '请填写与工作人员的关系',
  relationPlaceholder: '如：配偶、父母、子女',
  added: '已登记',
  empty: '暂无记录',
}
