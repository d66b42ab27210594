// generic-worker's resource monitor: while a command runs, the host's memory is sampled every
// 500 ms (/proc/meminfo). The result block then reports average available, average and peak
// used, and total memory; and if used memory stays above maxMemoryUsagePercent while available
// memory is below minAvailableMemoryBytes for longer than allowedHighMemoryDurationSecs, the
// command is aborted and the task fails.

import { readFileSync } from 'node:fs'
import { formatGoDuration } from '../../src/lib/go-duration.js'

export interface MemorySample {
  totalBytes: number
  availableBytes: number
}

export interface MemorySummary {
  averageAvailableBytes: number
  averageUsedBytes: number
  peakUsedBytes: number
  totalBytes: number
}

export interface MonitorLimits {
  maxMemoryUsagePercent: number
  minAvailableMemoryBytes: number
  allowedHighMemoryDurationSecs: number
  /** config disableOOMProtection: warn once and let the command run on (process/process.go:255-265) */
  disableOOMProtection?: boolean
}

/** process/process.go:263 */
export const OOM_PROTECTION_DISABLED = 'OOM protections are disabled, continuing task...'

export function readMeminfo(text = readFileSync('/proc/meminfo', 'utf8')): MemorySample {
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024
  return { totalBytes: kib('MemTotal'), availableBytes: kib('MemAvailable') }
}

/** Go's %.2f of n / 2^k: round half to even on an exact tie, as Go's strconv does. */
function twoDecimals(n: number, shift: number): string {
  const scaled = (n * 100) / 2 ** shift // exact for any byte count below 2^46
  const floor = Math.floor(scaled)
  const cents = scaled - floor > 0.5 || (scaled - floor === 0.5 && floor % 2 === 1) ? floor + 1 : floor
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
}

/** Bytes as generic-worker prints them: FormatMemoryString, binary units (process/process.go:184-198). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n.toFixed(6)} B`
  if (n < 1024 ** 2) return `${twoDecimals(n, 10)} KiB`
  if (n < 1024 ** 3) return `${twoDecimals(n, 20)} MiB`
  return `${twoDecimals(n, 30)} GiB`
}

/** process/process.go:267-272 */
export function highMemoryWarning(l: MonitorLimits): string {
  return `Memory usage above ${l.maxMemoryUsagePercent}% and available memory less than ${formatBytes(l.minAvailableMemoryBytes)} persisted for over ${formatGoDuration(BigInt(l.allowedHighMemoryDurationSecs) * 1_000_000_000n)}!`
}

/** resource_monitor_feature.go:59-63 */
export function highMemoryFailure(l: MonitorLimits): string {
  return `task aborted due to sustained memory usage above ${l.maxMemoryUsagePercent}% and available memory less than ${formatBytes(l.minAvailableMemoryBytes)}`
}

export class ResourceMonitor {
  private samples: MemorySample[] = []
  private highSince: number | undefined
  private warned = false
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly limits: MonitorLimits,
    /** The warn line, and the failure that ends the task. */
    private readonly onExceeded: (warning: string, failure: string) => void,
    private readonly sample: () => MemorySample = () => readMeminfo(),
    private readonly intervalMs = 500,
    /** With disableOOMProtection: the warn lines, the task goes on. */
    private readonly onWarnOnly?: (warnings: string[]) => void,
  ) {}

  /** The first sample is one interval after the start (a Go ticker: process/process.go:220). */
  start(): this {
    this.timer = setInterval(() => this.take(), this.intervalMs)
    this.timer.unref()
    return this
  }

  private take(): void {
    let s: MemorySample
    try {
      s = this.sample()
    } catch {
      return
    }
    this.samples.push(s)
    const usedPercent = s.totalBytes > 0 ? ((s.totalBytes - s.availableBytes) / s.totalBytes) * 100 : 0
    const high = usedPercent > this.limits.maxMemoryUsagePercent && s.availableBytes < this.limits.minAvailableMemoryBytes
    if (!high) {
      this.highSince = undefined
      return
    }
    this.highSince ??= Date.now()
    // strictly longer than allowed (process/process.go:254)
    if (Date.now() - this.highSince > this.limits.allowedHighMemoryDurationSecs * 1000 && this.timer) {
      if (this.limits.disableOOMProtection) {
        // process/process.go:255-265: both warnings once, then the samples go on and nothing is aborted
        if (!this.warned) this.onWarnOnly?.([highMemoryWarning(this.limits), OOM_PROTECTION_DISABLED])
        this.warned = true
        return
      }
      this.onExceeded(highMemoryWarning(this.limits), highMemoryFailure(this.limits))
      this.stopTimer()
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  stop(): MemorySummary | undefined {
    this.stopTimer()
    if (this.samples.length === 0) return undefined
    const used = this.samples.map((s) => s.totalBytes - s.availableBytes)
    // integer means, as Go's uint64 division (process/process.go:224-227)
    return {
      averageAvailableBytes: Math.floor(this.samples.reduce((a, s) => a + s.availableBytes, 0) / this.samples.length),
      averageUsedBytes: Math.floor(used.reduce((a, b) => a + b, 0) / used.length),
      peakUsedBytes: Math.max(...used),
      totalBytes: this.samples[0]!.totalBytes, // the first sample's (process/process.go:241-243)
    }
  }
}
