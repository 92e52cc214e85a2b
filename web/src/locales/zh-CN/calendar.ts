// zh-CN messages: the holiday calendar.
// Combined with the other areas in ../zh-CN.ts; vue-i18n syntax as noted there.

export const holidays = {
  add: '添加日期',
  editTitle: '修改日期',
  year: '年份',
  counts: '放假 {holidays} 天，调休上班 {workdays} 天',
  day: '日期',
  dayRequired: '请选择日期',
  kind: '类型',
  kindName: {
    holiday: '放假',
    workday: '调休上班',
  },
  name: '节日',
  nameRequired: '请填写节日名称',
  namePlaceholder: '如：春节',
  removeConfirm: '确定删除 {day}（{name}）吗？',
  removed: '已删除',
  empty: '{year} 年暂无节假日数据，请县级管理员按国务院办公厅通知录入',
  note: '办结时限按工作日计算：跳过周六、周日和放假日，调休上班日计为工作日。',
  calcTitle: '计算办结日期',
  calcFrom: '起算日（受理日）',
  calcDays: '工作日数',
  calc: '计算',
  calcResult: '自 {from} 起 {days} 个工作日，办结日期为',
  calcNote: '起算日当天不计入。',
  weekday: {
    '0': '周日',
    '1': '周一',
    '2': '周二',
    '3': '周三',
    '4': '周四',
    '5': '周五',
    '6': '周六',
  },
}
