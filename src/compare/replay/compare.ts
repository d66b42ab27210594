// Production's artifacts beside the local run's: presence, size and sha256 (logs, signatures
// and shell links differ on every run by nature: presence only).

import path from 'node:path'
import { DirectoryPublisher } from '../../run/local.js'
import { sha256File } from '../../lib/sha256.js'
import { productionFacts, type QueueClient } from './production.js'
import type { ArtifactFacts, ArtifactVerdict } from './report.js'

/** Artifacts whose bytes are different on every run by nature: only their presence is compared. */
export const runSpecific = [/^public\/logs\//, /^public\/chain-of-trust\.json(\.sig)?$/, /^private\/(docker|generic)-worker\/shell\.html$/]

export async function compareArtifacts(
  queue: QueueClient,
  taskId: string,
  runId: number,
  production: Array<{ name: string; storageType: string }>,
  publisher: DirectoryPublisher,
): Promise<ArtifactVerdict[]> {
  const local = new Map(publisher.index.map((e) => [String(e.name), e]))
  const names = [...new Set([...production.map((a) => a.name), ...local.keys()])].sort()
  const verdicts: ArtifactVerdict[] = []
  for (const name of names) {
    const p = production.find((a) => a.name === name)
    const l = local.get(name)
    if (!l) {
      verdicts.push({ name, status: 'missing', production: { storageType: p!.storageType } })
      continue
    }
    const localSide: ArtifactFacts = { storageType: String(l.storageType), ...(l.reason ? { reason: String(l.reason) } : {}) }
    if (!p) {
      verdicts.push({ name, status: 'extra', local: localSide })
      continue
    }
    const prodSide: ArtifactFacts = { storageType: p.storageType }
    const verdict: ArtifactVerdict = { name, status: 'same', production: prodSide, local: localSide }
    verdicts.push(verdict)
    const bytes = (t: string) => t === 's3' || t === 'object'
    if (bytes(p.storageType) !== bytes(localSide.storageType) || (p.storageType === 'error') !== (localSide.storageType === 'error')) {
      Object.assign(verdict, { status: 'differs', note: `storage type ${p.storageType} in production, ${localSide.storageType} here` })
      continue
    }
    if (runSpecific.some((re) => re.test(name)) || !bytes(p.storageType)) {
      verdict.status = 'not-compared'
      verdict.note = bytes(p.storageType) ? 'differs on every run by nature (logs, signatures)' : `${p.storageType} artifact`
      continue
    }
    try {
      Object.assign(prodSide, await productionFacts(queue, taskId, runId, name))
    } catch (err) {
      Object.assign(verdict, { status: 'not-compared', note: `cannot download the production artifact: ${(err as Error).message}` })
      continue
    }
    Object.assign(localSide, await sha256File(path.join(publisher.dir, String(l.path))))
    if (prodSide.sha256 !== localSide.sha256) {
      Object.assign(verdict, { status: 'differs', note: `sha256 ${prodSide.sha256!.slice(0, 12)}… (${prodSide.size} bytes) in production, ${localSide.sha256!.slice(0, 12)}… (${localSide.size} bytes) here` })
    }
  }
  return verdicts
}

/** The human-readable comparison `megalodon replay` prints. */
