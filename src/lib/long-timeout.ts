// setTimeout takes at most 2^31-1 ms (about 24.8 days); a longer delay fires at once (Node
// warns TimeoutOverflowWarning and uses 1 ms). A maxRunTime may be longer once an operator
// raises maxTaskRunTime, so long delays are waited out in steps that fit.

/** Node's largest timer delay. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** Calls `fn` after `ms` (any length); `clear` cancels it. `step` is the longest single timer (tests shrink it). */
export function setLongTimeout(fn: () => void, ms: number, step = MAX_TIMER_MS): { clear(): void } {
  const due = Date.now() + ms
  let timer: NodeJS.Timeout
  const arm = () => {
    const left = due - Date.now()
    timer = setTimeout(left > step ? arm : fn, Math.max(0, Math.min(left, step)))
  }
  arm()
  return { clear: () => clearTimeout(timer) }
}
