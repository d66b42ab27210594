// The checks generic-worker makes on a decoded config before it starts (exit 73): capacity,
// the port ranges of concurrent tasks (gwconfig/config.go:146-252), and the multiuser engine's
// one-desktop rule (multiuser.go:29-34).

import { ConfigError } from '../contract/errors.js'
import type { WorkerConfig } from './config.js'

/** Ports each concurrent task takes above a feature's base port (gwconfig/config.go:159-162). */
export const PORTS_PER_TASK = 4

export function validateSettings(c: WorkerConfig): void {
  if (c.capacity === 0) throw new ConfigError('capacity must be at least 1 (got 0)')
  validatePorts(c)
  if (c.engine === 'multiuser' && c.capacity > 1 && !c.headlessTasks) {
    throw new ConfigError(`capacity > 1 requires headlessTasks to be enabled in multiuser mode (capacity=${c.capacity}, headlessTasks=${c.headlessTasks})`)
  }
}

/**
 * Each enabled feature's ports, base to base + (capacity-1)*4 (the live log one more), must stay
 * below 65536 and not overlap (gwconfig/config.go:173-252). A base of 0 is megalodon's "any free
 * port" and takes no range.
 */
function validatePorts(c: WorkerConfig): void {
  const maxOffset = (c.capacity - 1) * PORTS_PER_TASK
  const ranges: Array<{ name: string; start: number; end: number }> = []
  if (c.enableLiveLog && c.livelogPortBase > 0) ranges.push({ name: 'livelogPortBase', start: c.livelogPortBase, end: c.livelogPortBase + maxOffset + 1 })
  if (c.enableInteractive && c.interactivePort > 0) ranges.push({ name: 'interactivePort', start: c.interactivePort, end: c.interactivePort + maxOffset })
  if (c.enableTaskclusterProxy && c.taskclusterProxyPort > 0) ranges.push({ name: 'taskclusterProxyPort', start: c.taskclusterProxyPort, end: c.taskclusterProxyPort + maxOffset })
  for (const r of ranges) {
    if (r.end > 65535) {
      throw new ConfigError(`port range for ${r.name} exceeds maximum port number with capacity=${c.capacity}: ${r.name} needs ports ${r.start}-${r.end} but max port is 65535; use a lower base port or reduce capacity`)
    }
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [a, b] = [ranges[i]!, ranges[j]!]
      if (a.start <= b.end && b.start <= a.end) {
        const spacing = Math.max(a.end - a.start, b.end - b.start) + 1
        throw new ConfigError(
          `port range overlap detected with capacity=${c.capacity}: ${a.name} [${a.start}-${a.end}] overlaps with ${b.name} [${b.start}-${b.end}]; ` +
            `ensure base ports are spaced at least ${spacing} apart ` +
            `(configured: livelogPortBase=${c.livelogPortBase}, interactivePort=${c.interactivePort}, taskclusterProxyPort=${c.taskclusterProxyPort})`,
        )
      }
    }
  }
}
