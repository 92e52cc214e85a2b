// zh-CN messages: the app shell: product name, shared words, error texts, menu, layout, roles, 404.
// Combined with the other areas in ../zh-CN.ts; vue-i18n syntax as noted there.

export const app = {
  name: '兜底 · 社会救助综合服务平台',
  shortName: '兜底',
}

export const common = {
  search: '搜索',
  select: '请选择',
  save: '保存',
  saved: '已保存',
  cancel: '取消',
  confirm: '确定',
  edit: '编辑',
  remove: '移除',
  back: '返回',
  reload: '刷新',
  actions: '操作',
  yes: '是',
  no: '否',
  yuan: '元',
  moneyFormat: '请输入金额（元），最多两位小数',
  date: '日期',
  none: '—',
  townFilter: '全部镇街',
  villageFilter: '全部村（社区）',
}

export const error = {
  network: '无法连接服务器，请检查网络后重试',
  networkWrite: '网络中断，无法确认是否已保存，请刷新页面查看后再操作，勿重复提交',
  badResponse: '服务器返回了无法识别的内容',
  unauthenticated: '请先登录',
  sessionExpired: '登录已过期，请重新登录',
  forbidden: '您没有权限执行此操作',
  notFound: '记录不存在或不在您的管辖范围内',
  server: '服务器内部错误，请稍后重试',
  unknown: '请求失败（HTTP {status}）',
  tooManyRequests: '操作过于频繁，请稍后再试',
  unexpected: '发生未知错误，请稍后重试',
  versionConflict: '该记录已被他人修改，请刷新后重试',
}

export const menu = {
  households: '户籍家庭',
  regions: '区划',
  users: '用户管理',
  audit: '审计日志',
  policy: '政策参数',
  policySimulate: '政策模拟',
  cases: '救助申请',
  emergency: '急难救助',
  referrals: '转办事项',
  verification: '异地协查',
  lists: '信用与备案',
  calendar: '节假日',
  monitoringScreening: '月排查',
  monitoringAlerts: '预警处置',
  monitoringRuns: '月度比对',
  monitoringFeeds: '数据导入',
  monitoringRectification: '整改台账',
}

export const layout = {
  logout: '退出登录',
  openMenu: '打开菜单',
}

export const role = {
  county_admin: '县级管理员',
  county_reviewer: '县级审核员',
  town_clerk: '镇街经办员',
  town_reviewer: '镇街审核员',
  village_assistant: '村级协理员',
  department_liaison: '部门联络员',
  supervisor: '监督员',
  auditor: '审计员',
}

export const notFound = {
  title: '页面不存在',
  description: '您访问的页面不存在或已被移除',
  back: '返回首页',
}
