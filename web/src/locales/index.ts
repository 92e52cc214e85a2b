import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'

export type MessageSchema = typeof zhCN

export const i18n = createI18n<[MessageSchema], 'zh-CN', false>({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN },
  missingWarn: import.meta.env.DEV,
  fallbackWarn: import.meta.env.DEV,
})
