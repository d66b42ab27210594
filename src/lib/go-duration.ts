// Durations printed the way Go's time.Duration.String() prints them, because generic-worker's
// logs show them that way ("Task Duration: 1.234567s", "Wall Time: 12.5ms", "1m2.5s").

function trimFraction(n: string): string {
  return n.includes('.') ? n.replace(/0+$/, '').replace(/\.$/, '') : n
}

/** Format a duration given in nanoseconds (a bigint keeps full precision). */
export function formatGoDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s'
  const neg = nanos < 0n
  let n = neg ? -nanos : nanos
  let out: string
  if (n < 1_000n) out = `${n}ns`
  else if (n < 1_000_000n) out = `${trimFraction((Number(n) / 1e3).toFixed(3))}µs`
  else if (n < 1_000_000_000n) out = `${trimFraction((Number(n) / 1e6).toFixed(6))}ms`
  else {
    const hours = n / 3_600_000_000_000n
    n -= hours * 3_600_000_000_000n
    const minutes = n / 60_000_000_000n
    n -= minutes * 60_000_000_000n
    const secs = n / 1_000_000_000n
    const frac = (n % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '')
    const s = `${secs}${frac ? `.${frac}` : ''}s`
    out = hours > 0n ? `${hours}h${minutes}m${s}` : minutes > 0n ? `${minutes}m${s}` : s
  }
  return neg ? `-${out}` : out
}

export function formatGoDurationMs(ms: number): string {
  return formatGoDuration(BigInt(Math.round(ms * 1e6)))
}
