// zh-CN messages: the audit log page and the names of audit actions and entities.
// Combined with the other areas in ../zh-CN.ts; vue-i18n syntax as noted there.

export const audit = {
  verify: '校验审计链',
  verifyOk: '审计链完整（共 {n} 条），读取日志链完整，已与全部锚点核对',
  verifyBroken: '审计链校验失败：第 {id} 条或其之前的记录被篡改（共 {n} 条）',
  verifyReadsBroken: '读取日志链校验失败：第 {id} 条被篡改（共 {n} 条）',
  export: '导出 Excel',
  exported: '已导出 {name}（导出已记入读取日志）',
  changesTab: '变更日志',
  readsTab: '查阅日志',
  actorFilter: '操作人',
  at: '时间',
  actor: '操作人',
  action: '操作',
  entity: '对象',
  entityId: '对象编号',
  region: '区划',
  before: '变更前',
  after: '变更后',
  empty: '暂无记录',
  allEntities: '全部对象',
}

// Audit actions and entities as the server names them; unknown ones are shown as they are.
export const auditAction = {
  household: { create: '新增家庭', update: '修改家庭' },
  person: { create: '新增成员', update: '修改成员', delete: '移除成员' },
  region: { update: '修改区划' },
  policy: { entry: '修改政策参数' },
  session: { login: '登录', login_failed: '登录失败', lock: '账号锁定' },
  user: {
    change_password: '修改本人密码',
    change_password_failed: '修改密码失败',
    totp_enrol: '绑定动态验证码',
    reset_totp: '解除动态验证码',
    create: '新增用户',
    update: '修改用户',
    disable: '停用用户',
    enable: '启用用户',
    reset_password: '重置密码',
  },
}

export const auditEntity = {
  household: '家庭',
  person: '成员',
  region: '区划',
  user: '用户',
  policy_parameter: '政策参数',
  household_roster: '家庭花名册',
  person_id_collision: '身份证号重复登记尝试',
  application: '救助申请',
  screening_list: '月排查清单',
  screening_notice: '月公示名单',
  screening_report: '月报告',
  audit_log: '审计日志',
  audit_export: '审计日志导出',
  read_log: '查阅日志',
}
