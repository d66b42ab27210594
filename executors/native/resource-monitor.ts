// generic-worker's resource monitor: while a command runs, the host's memory is sampled every
// 500 ms (/proc/meminfo). The result block then reports average available, average and peak
// used, and total memory; and if used memory stays above maxMemoryUsagePercent while available
// memory is below minAvailableMemoryBytes for longer than allowedHighMemoryDurationSecs, the
// command is aborted and the task fails.

import { readFileSync } from 'node:fs'

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
}

export function readMeminfo(text = readFileSync('/proc/meminfo', 'utf8')): MemorySample {
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024
  return { totalBytes: kib('MemTotal'), availableBytes: kib('MemAvailable') }
}

/** Bytes as generic-worker's monitor prints them (SI units, one decimal). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`
}

export class ResourceMonitor {
  private samples: MemorySample[] = []
  private highSince: number | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly limits: MonitorLimits,
    private readonly onExceeded: (message: string) => void,
    private readonly sample: () => MemorySample = () => readMeminfo(),
    private readonly intervalMs = 500,
  ) {}

  start(): this {
    this.take()
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
    if (Date.now() - this.highSince >= this.limits.allowedHighMemoryDurationSecs * 1000 && this.timer) {
      this.onExceeded(
        `Aborting task: memory usage ${usedPercent.toFixed(1)}% exceeds ${this.limits.maxMemoryUsagePercent}% with only ${formatBytes(s.availableBytes)} available ` +
          `(less than ${formatBytes(this.limits.minAvailableMemoryBytes)}) for over ${this.limits.allowedHighMemoryDurationSecs} s`,
      )
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
    return {
      averageAvailableBytes: Math.round(this.samples.reduce((a, s) => a + s.availableBytes, 0) / this.samples.length),
      averageUsedBytes: Math.round(used.reduce((a, b) => a + b, 0) / used.length),
      peakUsedBytes: Math.max(...used),
      totalBytes: this.samples[this.samples.length - 1]!.totalBytes,
    }
  }
}
