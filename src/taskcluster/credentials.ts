// The worker's credentials as one replaceable value (WorkerCredentials).

import type { WorkerConfig } from '../config/config.js'
import type { Credentials, WorkerCredentials } from '../contract/taskcluster.js'

/** The credentials a worker config names (clientId, accessToken, certificate). */
export function configCredentials(config: Pick<WorkerConfig, 'clientId' | 'accessToken' | 'certificate'>): Credentials {
  return { clientId: config.clientId, accessToken: config.accessToken, ...(config.certificate ? { certificate: config.certificate } : {}) }
}

export function workerCredentials(initial: Credentials): WorkerCredentials {
  let current = initial
  return {
    current: () => current,
    replace: (c) => void (current = c),
  }
}
