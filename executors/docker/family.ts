// docker-worker's rules, for every docker-worker payload whichever executor runs it.

import type { FamilyProfile } from '../../src/contract/family.js'
import type { FeatureRequest } from '../../src/contract/feature.js'
import { dockerWorkerLogFormat, writeDockerFooter, writeDockerHeader } from './log.js'
import { backingLogName, validateDockerPayload, type DockerPayload } from './payload.js'

export const dockerFamily: FamilyProfile<DockerPayload> = {
  name: 'docker',

  accepts: (payload) => typeof payload === 'object' && payload !== null && 'image' in payload,

  validate: validateDockerPayload,

  // docker-worker's features: the live log unless turned off, the others when asked for.
  requestedFeatures(payload) {
    const f = payload.features ?? {}
    const wanted: FeatureRequest[] = []
    if (f.localLiveLog !== false) wanted.push({ name: 'liveLog', required: false })
    if (f.taskclusterProxy === true) wanted.push({ name: 'taskclusterProxy', required: true })
    if (f.interactive === true) wanted.push({ name: 'interactive', required: true })
    if (f.chainOfTrust === true) wanted.push({ name: 'chainOfTrust', required: true })
    return wanted
  },

  log: {
    format: dockerWorkerLogFormat,
    header: writeDockerHeader,
    footer: writeDockerFooter,
    // docker-worker started its features (live log, bulk log) before it validated the payload
    // (src/task.js:774-812), so a malformed payload still got both logs
    unvalidatedLogs: { live: 'public/logs/live.log', backing: 'public/logs/live_backing.log' },
  },

  outcomes: {
    // docker-worker threw "<feature> is not enabled on this worker" while building the task and
    // reported the run failed
    featureNotOffered: { resolution: { state: 'failed' }, problem: (feature) => `${feature} is not enabled on this worker` },
    // docker-worker uploads an error artifact and leaves the resolution alone
    missingArtifactFails: false,
    // docker-worker did not upload the task's artifacts after any abort
    uploadsArtifactsAfter: () => false,
    // docker-worker aborts the run as internal-error on a reclaim error (src/task.js:290)
    reclaimFailureFails: false,
  },

  featureFacts: {
    // docker-worker (src/features/interactive.js:129-150, config.yml:175-176): its artifact name
    // and content type, no scope; expiry min(now + maxRunTime, task expiry), where docker-worker
    // added maxRunTime's seconds as milliseconds (:130) — here they are seconds
    interactive: { artifactName: 'private/docker-worker/shell.html', contentType: 'text/html', expiresAfterMaxRunTimeSecs: 0, requiredScopes: () => [] },
    // docker-worker's proxy could also create the run's artifacts, whatever the task's scopes
    taskclusterProxy: { extraScopes: (taskId, runId) => [`queue:create-artifact:${taskId}/${runId}`] },
    chainOfTrust: {
      contentTypes: { log: 'text/plain', json: 'text/plain', sig: 'application/octet-stream' },
      // docker-worker signed JSON.stringify's bytes
      certificateBytes: (cert) => Buffer.from(JSON.stringify(cert, null, 2)),
      // docker-worker src/features/chain_of_trust.js:83-100: both addresses, then the
      // instance's id, type and region when known
      environment: (config) => ({
        publicIpAddress: config.publicIP,
        privateIpAddress: config.privateIP,
        ...(config.instanceID ? { instanceId: config.instanceID } : {}),
        ...(config.instanceType ? { instanceType: config.instanceType } : {}),
        ...(config.region ? { region: config.region } : {}),
      }),
    },
  },

  replay: {
    backingLogName: (payload) => {
      const log = (payload as { log?: unknown } | undefined)?.log
      return backingLogName(typeof log === 'string' ? log : 'public/logs/live.log')
    },
  },
}
