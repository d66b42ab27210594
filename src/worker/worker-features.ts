// The features a worker offers, built once per worker from its config: the live log and
// interactive servers (one port each for every task), the chain of trust signing key, and the
// taskcluster-proxy (a server per task).

import type { FeatureTable } from '../contract/feature.js'
import { liveLogFeature } from '../../features/live-log.js'
import { chainOfTrustFeature } from '../../features/chain-of-trust.js'
import { taskclusterProxyFeature } from '../../features/taskcluster-proxy.js'
import { loadSigningKey } from './signing-key.js'
import type { WorkerConfig } from '../config/config.js'
import { LiveLogServer } from '../servers/livelog-server.js'
import type { Logger } from '../lib/logger.js'

export interface WorkerFeatures {
  table: FeatureTable
  close(): Promise<void>
}

export async function startWorkerFeatures(config: WorkerConfig, logger: Logger): Promise<WorkerFeatures> {
  const table: FeatureTable = {}
  const closers: Array<() => Promise<void>> = []
  // first: a key that stops the worker (exit 82 or 69) does so before any server listens
  const key = await loadSigningKey(config, logger)
  if (key) {
    table.chainOfTrust = chainOfTrustFeature(key)
    logger.info({ publicKey: key.publicKeyBase64 }, 'signing chain of trust certificates')
  }
  if (config.enableLiveLog) {
    const server = new LiveLogServer()
    // Readers come from outside when the host has a public IP; otherwise keep it on loopback.
    const host = config.publicIP ? '0.0.0.0' : '127.0.0.1'
    // generic-worker's readers reach the live log through an exposer listening on
    // livelogExposePort (expose/local.go:56-63, main.go:355-356), the port in the URL
    // (expose/local.go:40-47); megalodon serves it there itself. With 0 upstream takes a fresh
    // ephemeral port per task; megalodon keeps livelogPortBase + 1, the port livelog reads on.
    const wanted = config.livelogExposePort > 0 ? config.livelogExposePort : config.livelogPortBase > 0 ? config.livelogPortBase + 1 : 0
    // Another worker on this host may hold the port: any free port still works.
    const port = await server.start(host, wanted, (err) => logger.warn({ err, port: wanted }, 'live log port busy; serving live logs on a free port'))
    const baseUrl = `http://${config.publicIP || '127.0.0.1'}:${port}`
    table.liveLog = liveLogFeature({ server, baseUrl })
    closers.push(() => server.stop())
    logger.info({ baseUrl }, 'serving live logs')
  }
  if (config.enableInteractive) {
    // The websocket server (ws) is loaded only on workers that offer interactive shells (off by default).
    const [{ InteractiveServer }, { interactiveFeature }] = await Promise.all([import('../servers/interactive-server.js'), import('../../features/interactive.js')])
    const server = new InteractiveServer()
    const host = config.publicIP ? '0.0.0.0' : '127.0.0.1'
    const port = await server.start(host, config.interactivePort, (err) => logger.warn({ err, port: config.interactivePort }, 'interactive port busy; serving interactive shells on a free port'))
    const baseUrl = `ws://${config.publicIP || '127.0.0.1'}:${port}`
    table.interactive = interactiveFeature({ server, baseUrl })
    closers.push(() => server.stop())
    logger.info({ baseUrl }, 'serving interactive shells')
  }
  if (config.enableTaskclusterProxy) table.taskclusterProxy = taskclusterProxyFeature({ port: config.taskclusterProxyPort })
  return {
    table,
    close: async () => {
      await Promise.all(closers.map((c) => c()))
    },
  }
}
