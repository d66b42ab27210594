// The differences between docker-worker's and megalodon's normalised observations of one payload,
// one line each: `resolution: …`, `log - …` / `log + …` (a line only docker-worker / only
// megalodon wrote), `artifact NAME: …`, `call - …` / `call + …`.

import type { ObservedArtifact, Observation } from './observe.js'

/** Lines of `a` and `b` not in their longest common subsequence. */
function lineDiff(a: string[], b: string[]): { onlyA: string[]; onlyB: string[] } {
  const n = a.length
  const m = b.length
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
  const onlyA: string[] = []
  const onlyB: string[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      i++
      j++
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) onlyA.push(a[i++]!)
    else onlyB.push(b[j++]!)
  }
  return { onlyA: [...onlyA, ...a.slice(i)], onlyB: [...onlyB, ...b.slice(j)] }
}

const lines = (t: string) => t.split('\n').filter((l) => l.trim() !== '')

function artifactDiff(name: string, d: ObservedArtifact | undefined, m: ObservedArtifact | undefined): string[] {
  if (!d) return [`artifact ${name}: only megalodon made it (${m!.storageType})`]
  if (!m) return [`artifact ${name}: only docker-worker made it (${d.storageType})`]
  const out: string[] = []
  for (const key of ['storageType', 'contentType', 'contentEncoding', 'reason', 'artifact'] as const) {
    if (d[key] !== m[key]) out.push(`artifact ${name}: ${key} ${String(d[key])} ≠ ${String(m[key])}`)
  }
  if (d.content !== m.content) {
    const { onlyA, onlyB } = lineDiff(lines(d.content ?? ''), lines(m.content ?? ''))
    out.push(...onlyA.map((l) => `artifact ${name}: content - ${l}`), ...onlyB.map((l) => `artifact ${name}: content + ${l}`))
    if (onlyA.length + onlyB.length === 0) out.push(`artifact ${name}: content differs in blank lines`)
  }
  return out
}

export function differences(dw: Observation, mg: Observation): string[] {
  const out: string[] = []
  if (dw.resolution !== mg.resolution) out.push(`resolution: ${dw.resolution} ≠ ${mg.resolution}`)
  const log = lineDiff(lines(dw.log), lines(mg.log))
  out.push(...log.onlyA.map((l) => `log - ${l}`), ...log.onlyB.map((l) => `log + ${l}`))
  const names = [...new Set([...dw.artifacts, ...mg.artifacts].map((a) => a.name))].sort()
  for (const name of names) out.push(...artifactDiff(name, dw.artifacts.find((a) => a.name === name), mg.artifacts.find((a) => a.name === name)))
  const calls = lineDiff(dw.calls, mg.calls)
  out.push(...calls.onlyA.map((c) => `call - ${c}`), ...calls.onlyB.map((c) => `call + ${c}`))
  return out
}
