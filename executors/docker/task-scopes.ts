// The scopes docker-worker checked a payload's caches and devices against: the task's scopes
// expanded through auth.expandScopes (docker-worker src/task.js:408, then buildDeviceBindings
// :160-170 and buildVolumeBindings :95-105 check the expansion). Privileged mode and
// allowPtrace were checked against the task's own scopes (src/task.js:140,
// src/features/allow_ptrace.js:18), so only these two use the expansion.
//
// docker-worker asked Auth for every task, whatever it held. megalodon asks only when the answer
// can change a decision: the payload wants a cache or a device and the task holds a scope that
// can assume a role. Otherwise the expansion is the task's scopes themselves, and the worker's
// credentials need `auth:expand-scopes` only for tasks that use roles.

import { mayAssumeRoles } from '../../src/lib/scopes.js'
import type { DockerPayload } from './payload.js'

export function needsExpansion(payload: DockerPayload, scopes: readonly string[]): boolean {
  // every listed device, whatever its value (src/task_listener.js:445-452)
  const devices = Object.keys(payload.capabilities?.devices ?? {}).length > 0
  const caches = Object.keys(payload.cache ?? {}).length > 0
  return (devices || caches) && mayAssumeRoles(scopes)
}

/** The scopes caches and devices are checked against. */
export async function hostCheckScopes(payload: DockerPayload, scopes: readonly string[], expand: (scopes: readonly string[]) => Promise<string[]>): Promise<readonly string[]> {
  return needsExpansion(payload, scopes) ? expand(scopes) : scopes
}
