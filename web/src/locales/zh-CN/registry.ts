// zh-CN messages: the registry: households, members, regions and the labels of their fields.
// Combined with the other areas in ../zh-CN.ts; vue-i18n syntax as noted there.

export const area = {
  urban: '城镇',
  rural: '农村',
}

export const relation = {
  head: '户主',
  spouse: '配偶',
  child: '子女',
  parent: '父母',
  sibling: '兄弟姐妹',
  grandchild: '孙子女',
  grandparent: '祖父母',
  other: '其他',
}

export const disability = {
  none: '无',
  physical: '肢体',
  visual: '视力',
  hearing: '听力',
  speech: '言语',
  intellectual: '智力',
  mental: '精神',
  multiple: '多重',
  grade: '{n} 级',
}

export const selfCare = {
  full: '完全自理',
  partial_loss: '部分失能',
  full_loss: '完全失能',
}

export const sex = {
  male: '男',
  female: '女',
}

export const income = {
  wage: '工资',
  business: '经营',
  property: '财产',
  transfer: '转移',
  pension: '养老金',
  other: '其他',
}

export const regionLevel = {
  county: '县',
  town: '镇街',
  village: '村（社区）',
}

export const household = {
  backToList: '返回家庭列表',
  fields: {
    headName: '户主',
    citizenId: '身份证号',
    village: '村（社区）',
    town: '镇街',
    area: '城乡',
    memberCount: '人数',
    updatedAt: '更新时间',
    createdAt: '登记时间',
    address: '居住地址',
    phone: '联系电话',
    deposits: '存款',
    vehicles: '车辆（辆）',
    extraProperties: '其他房产（套）',
    business: '经营实体',
    medical: '年度医疗支出',
    education: '年度教育支出',
  },
  list: {
    create: '新增家庭',
    searchPlaceholder: '姓名或身份证号',
    emptyWithHint: '暂无家庭，点击“新增家庭”登记',
    empty: '暂无家庭',
    noMatch: '没有符合条件的家庭',
    export: '导出花名册',
    exported: '已导出 {name}',
  },
  form: {
    createTitle: '新增家庭',
    editTitle: '编辑家庭',
    basic: '基本信息',
    assets: '家庭财产',
    expenditure: '年度刚性支出',
    memberTitle: '成员 {n}',
    addMember: '添加成员',
    addressPlaceholder: '如：乔官镇乔南村 12 号',
    townRequired: '请选择镇街',
    villageRequired: '请选择村（社区）',
    areaRequired: '请选择城乡类别',
    addressRequired: '请输入居住地址',
    created: '家庭已登记',
  },
  detail: {
    title: '家庭详情',
    edit: '编辑家庭',
    addMember: '添加成员',
    members: '家庭成员（{n} 人）',
    notFound: '家庭不存在或不在您的管辖范围内',
  },
}

export const member = {
  citizenId: '身份证号',
  citizenIdPlaceholder: '18 位身份证号',
  citizenIdRequired: '请输入身份证号',
  citizenIdFormat: '身份证号应为 17 位数字加 1 位校验码（数字或 X）',
  citizenIdChecksumHint: '校验码似乎不正确（按前 17 位应为 {expected}），请核对',
  name: '姓名',
  nameRequired: '请输入姓名',
  relation: '与户主关系',
  relationRequired: '请选择与户主关系',
  disability: '残疾',
  disabilityGrade: '残疾等级',
  gradeRequired: '请选择残疾等级',
  seriousIllness: '重病',
  selfCare: '自理能力',
  situation: '其他情况',
  inSchool: '在校',
  employed: '就业',
  hasSupporter: '有赡养人',
  monthlyIncome: '月收入（元）',
  monthlyIncomeTotal: '月收入合计（元）',
  sex: '性别',
  birthDate: '出生日期',
  age: '年龄',
  addTitle: '添加成员',
  editTitle: '编辑成员',
  added: '成员已添加',
  removeTitle: '移除成员',
  removeConfirm: '确定将 {name} 移出该家庭吗？',
  removed: '成员已移除',
}

export const region = {
  population: '人口',
  populationValue: '人口 {n}',
  editPopulation: '修改人口',
  editPopulationTitle: '修改人口：{name}',
  populationInvalid: '人口应为不小于 0 的整数',
}
