// Audit log (changes, with before/after), read log, and verification of the hash chain.
import { onMounted, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { listAudit, listReads, verifyAudit, type AuditEntry, type ReadEntry, type VerifyResult } from '@/api/audit'
import { isApiError, type Page } from '@/api/http'

function usePaged<T>(fetch: (page: number, pageSize: number) => Promise<Page<T>>) {
  const { t } = useI18n()
  const rows = ref<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const pageSize = ref(20)
  const loading = ref(false)
  const error = ref('')
  let loaded = false

  async function load(): Promise<void> {
    loading.value = true
    error.value = ''
    try {
      const res = await fetch(page.value, pageSize.value)
      rows.value = res.items
      total.value = res.total
      loaded = true
    } catch (e) {
      error.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      loading.value = false
    }
  }
  function onPageChange(p: number): void {
    page.value = p
    void load()
  }
  function onSizeChange(s: number): void {
    pageSize.value = s
    page.value = 1
    void load()
  }
  function ensureLoaded(): void {
    if (!loaded) void load()
  }
  return reactive({ rows, total, page, pageSize, loading, error, load, onPageChange, onSizeChange, ensureLoaded })
}

export const AUDIT_ENTITIES = ['household', 'person', 'region', 'user', 'policy_parameter'] as const

export function useAudit() {
  const { t, te } = useI18n()

  /** Chinese name of a server action code such as `household.create`; unknown codes as they are. */
  function actionLabel(action: string): string {
    const key = `auditAction.${action}`
    return te(key) ? t(key) : action
  }
  function entityLabel(entity: string): string {
    const key = `auditEntity.${entity}`
    return te(key) ? t(key) : entity
  }
  const tab = ref<'changes' | 'reads'>('changes')
  const filters = reactive({ entity: '', actor: '' })

  const changes = usePaged<AuditEntry>((page, page_size) =>
    listAudit({ page, page_size, entity: filters.entity.trim() || undefined, actor: filters.actor.trim() || undefined }),
  )
  const reads = usePaged<ReadEntry>((page, page_size) => listReads({ page, page_size }))

  function search(): void {
    changes.page = 1
    void changes.load()
  }

  function onTabChange(name: string | number): void {
    if (name === 'reads') reads.ensureLoaded()
    else changes.ensureLoaded()
  }

  const verifying = ref(false)
  const verifyResult = ref<VerifyResult | null>(null)
  const verifyError = ref('')
  async function verify(): Promise<void> {
    verifying.value = true
    verifyError.value = ''
    verifyResult.value = null
    try {
      verifyResult.value = await verifyAudit()
    } catch (e) {
      verifyError.value = isApiError(e) ? e.message : t('error.unexpected')
    } finally {
      verifying.value = false
    }
  }

  onMounted(() => changes.load())

  return { actionLabel, entityLabel, tab, filters, changes, reads, search, onTabChange, verifying, verifyResult, verifyError, verify }
}
