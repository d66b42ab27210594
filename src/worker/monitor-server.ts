// The operator's window into a running worker, on loopback by default: /metrics (Prometheus)
// and /status (JSON: what it runs now, since when). `megalodon status` reads /status.

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { guardServer } from '../servers/guard.js'
import type { RunningTask } from './claim-loop.js'
import type { WorkerMetrics } from './metrics.js'

export interface WorkerStatus {
  workerPoolId: string
  workerGroup: string
  workerId: string
  version: string
  since: string
  tasksResolved: number
  running: Array<RunningTask & { liveLog?: string }>
}

export interface MonitorServer {
  port: number
  close(): Promise<void>
}

export async function startMonitorServer(options: { host: string; port: number; metrics: WorkerMetrics; status: () => WorkerStatus }): Promise<MonitorServer> {
  const server = guardServer(http.createServer((req, res) => {
    void (async () => {
      try {
        if (req.method === 'GET' && req.url === '/metrics') {
          const body = await options.metrics.registry.metrics()
          res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(body)
        } else if (req.method === 'GET' && req.url === '/status') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.status(), null, 2))
        } else {
          res.writeHead(404).end()
        }
      } catch (err) {
        if (!res.headersSent) res.writeHead(500)
        res.end(String(err))
      }
    })().catch(() => res.destroy())
  }))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, resolve)
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Human-readable `megalodon status` output. */
export function formatStatus(s: WorkerStatus, now = Date.now()): string {
  const lines = [`${s.workerPoolId} ${s.workerGroup}/${s.workerId} (megalodon ${s.version}), up since ${s.since}, ${s.tasksResolved} tasks resolved`]
  if (s.running.length === 0) lines.push('idle: no task running')
  for (const t of s.running) {
    const secs = Math.round((now - Date.parse(t.since)) / 1000)
    lines.push(`running ${t.taskId}/${t.runId} for ${secs}s${t.name ? ` — ${t.name}` : ''}${t.liveLog ? ` — live log ${t.liveLog}` : ''}`)
  }
  return lines.join('\n') + '\n'
}
