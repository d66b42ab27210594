// One differential run: every case through docker-worker, then through megalodon, against one
// fake Queue (HTTPS for uploads, Auth with the cases' roles), each copy of a task observed.

import { mkdtemp, rm } from 'node:fs/promises'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { FakeQueue } from '../../helpers/fake-queue/index.js'
import { selfSignedCertificate } from '../../helpers/fake-queue/tls.js'
import { slugid } from 'taskcluster-client'
import { observe, type Observation } from './observe.js'
import { normalise } from './normalise.js'
import { runMegalodon, startDockerWorker } from './workers.js'

export interface Case {
  name: string
  /** Where the payload comes from: a docker-worker integration test, a d2g test case, an edge case. */
  source: string
  payload: Record<string, unknown>
  scopes?: string[]
  /** Roles the fake Auth knows while this case runs. */
  roles?: Record<string, string[]>
  /** docker-worker leaves this task running (it never resolves it): wait this long, then move on. */
  dockerWorkerLeavesRunning?: boolean
}

export interface Result {
  case: Case
  dw: Observation
  mg: Observation
  /** docker-worker's stdout and stderr while the case ran (its `task error` lines). */
  dwOutput: string
}

async function submit(fake: FakeQueue, c: Case): Promise<string> {
  const taskId = slugid()
  for (const [roleId, scopes] of Object.entries(c.roles ?? {})) fake.auth.roles.set(roleId, scopes)
  await fake.createTask(taskId, { payload: c.payload, scopes: c.scopes ?? [] })
  return taskId
}

export async function runCases(cases: Case[], log: (line: string) => void = () => {}): Promise<Result[]> {
  const cert = selfSignedCertificate()
  // megalodon runs in this process: it trusts the fake's certificate as docker-worker does
  // through NODE_EXTRA_CA_CERTS (https.request with no agent uses the global one)
  https.globalAgent.options.ca = [cert.cert]
  const fake = await new FakeQueue({ tls: cert, claimWaitMs: 500 }).start()
  const cachesDir = await mkdtemp(path.join(os.tmpdir(), 'megalodon-differential-caches-'))
  try {
    const dwRuns = new Map<Case, { taskId: string; observed: Observation; output: string }>()
    const dw = startDockerWorker(fake, cert.certFile)
    // a task docker-worker never resolves may keep its only slot (no command): those go last
    const order = [...cases.filter((c) => !c.dockerWorkerLeavesRunning), ...cases.filter((c) => c.dockerWorkerLeavesRunning)]
    try {
      for (const c of order) {
        const from = fake.requests.length
        const outFrom = dw.output().length
        const taskId = await submit(fake, c)
        if (c.dockerWorkerLeavesRunning) {
          await new Promise((r) => setTimeout(r, 8000))
        } else {
          await fake.waitForResolution(taskId, 0, Number(process.env.DIFFERENTIAL_TASK_TIMEOUT_MS ?? 120_000)).catch((err: Error) => {
            throw new Error(`${c.name}: ${err.message}\ndocker-worker said:\n${dw.output().slice(outFrom)}`)
          })
        }
        // observed now: what docker-worker does to a task it left running once it is stopped is not this case's
        dwRuns.set(c, { taskId, observed: normalise(observe(fake, taskId, from, fake.requests.length), taskId), output: dw.output().slice(outFrom) })
        // a run left running, or a retry run (intermittent-task), must not reach the next worker
        await fake.cancelTask(taskId).catch(() => {})
        fake.auth.roles.clear()
        log(`docker-worker: ${c.name} → ${fake.state.get(taskId).runs[0]!.state}`)
      }
    } finally {
      await dw.stop()
    }
    // a retry run (intermittent-task, worker-shutdown) of docker-worker's copy must not reach megalodon
    for (const { taskId } of dwRuns.values()) await fake.cancelTask(taskId).catch(() => {})
    const results: Result[] = []
    // in docker-worker's order, with one cachesDir for all cases: what earlier cases left there
    // decides what a worker asks (purge-cache) as it did for docker-worker
    for (const c of order) {
      const from = fake.requests.length
      const taskId = await submit(fake, c)
      let timer: NodeJS.Timeout | undefined
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${c.name}: megalodon did not finish; its last calls: ${fake.requests.slice(from).slice(-15).map((r) => `${r.method} ${r.status}`).join(', ')}`)), Number(process.env.DIFFERENTIAL_TASK_TIMEOUT_MS ?? 120_000))
      })
      await Promise.race([runMegalodon(fake, 1, cachesDir), stuck]).finally(() => clearTimeout(timer))
      fake.auth.roles.clear()
      await fake.cancelTask(taskId).catch(() => {})
      const d = dwRuns.get(c)!
      results.push({
        case: c,
        dw: d.observed,
        mg: normalise(observe(fake, taskId, from, fake.requests.length), taskId),
        dwOutput: d.output,
      })
      log(`megalodon: ${c.name} → ${fake.state.get(taskId).runs[0]!.state}`)
    }
    return results
  } finally {
    await fake.stop()
    await rm(cachesDir, { recursive: true, force: true })
  }
}
