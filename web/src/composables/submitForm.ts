// The submit of a form whose server errors show under its inputs (useFieldErrors): one place for
// the steps every such form takes — clear the last errors, validate the el-form, run the save
// with the form's busy flag on, and show what the save throws.
import type { FormInstance } from 'element-plus'

export interface SubmitErrors {
  clear(): void
  show(e: unknown): boolean
}

export interface SubmitSteps {
  /** The el-form (validated first; nothing is saved while it is absent or invalid). */
  form: FormInstance | null | undefined
  errors: SubmitErrors
  /** Turns the form's busy flag (the submit button's spinner) on and off. */
  busy: (on: boolean) => void
  /** The request and what follows its success; an error it throws goes to `errors.show`. */
  save: () => Promise<void>
}

export async function submitForm({ form, errors, busy, save }: SubmitSteps): Promise<void> {
  errors.clear()
  const ok = await form?.validate().catch(() => false)
  if (!ok) return
  busy(true)
  try {
    await save()
  } catch (e) {
    errors.show(e)
  } finally {
    busy(false)
  }
}
