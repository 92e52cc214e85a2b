// Audit log (changes, with before/after), read log, and verification of the hash chain.
import { onMounted, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { downloadAuditExport, listAudit, listReads, verifyAudit, type AuditEntry, type ReadEntry, type VerifyResult } from '@/api/audit'
import { apiErrorMessage } from '@/api/http'
import { usePagedList } from '@/composables/usePagedList'

/** A paged list loaded the first time its tab is shown. */
function useTabList<T>(fetch: Parameters<typeof usePagedList<T>>[0]) {
  let loaded = false
  const list = usePagedList<T>(fetch, { onLoaded: () => (loaded = true) })
  return Object.assign(list, {
    ensureLoaded(): void {
      if (!loaded) void list.load()
    },
  })
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

  const changes = useTabList<AuditEntry>((q) =>
    listAudit({ ...q, entity: filters.entity.trim() || undefined, actor: filters.actor.trim() || undefined }),
  )
  const reads = useTabList<ReadEntry>(listReads)

  const search = changes.search

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
      verifyError.value = apiErrorMessage(e)
    } finally {
      verifying.value = false
    }
  }

  // The export takes the list's filters; the server logs each exported entry as a read.
  const exporting = ref(false)
  async function exportAudit(): Promise<void> {
    exporting.value = true
    try {
      const name = await downloadAuditExport({
        entity: filters.entity.trim() || undefined,
        actor: filters.actor.trim() || undefined,
      })
      ElMessage.success(t('audit.exported', { name }))
    } catch (e) {
      ElMessage.error(apiErrorMessage(e))
    } finally {
      exporting.value = false
    }
  }

  onMounted(() => changes.load())

  return {
    actionLabel, entityLabel, tab, filters, changes, reads, search, onTabChange, verifying, verifyResult, verifyError, verify,
    exporting, exportAudit,
  }
}
