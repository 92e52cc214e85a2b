import { onBeforeUnmount, ref } from 'vue'

/** Phone-width screens (below 768px): drawer menu, compact pagination, stacked forms. */
export const MOBILE_QUERY = '(max-width: 767px)'

export function useIsMobile() {
  const mql = window.matchMedia(MOBILE_QUERY)
  const isMobile = ref(mql.matches)
  const onChange = (e: MediaQueryListEvent) => {
    isMobile.value = e.matches
  }
  mql.addEventListener('change', onChange)
  onBeforeUnmount(() => mql.removeEventListener('change', onChange))
  return { isMobile }
}
