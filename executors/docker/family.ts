// docker-worker's rules, for every docker-worker payload whichever executor runs it.

import type { FamilyProfile } from '../../src/contract/family.js'
import type { FeatureRequest } from '../../src/contract/feature.js'
import { loadJsonSchema } from '../../src/lib/json-schema.js'
import { loadDockerWorkerAjv } from './docker-worker-ajv.js'
import { dockerWorkerLogFormat, writeDockerFooter, writeDockerHeader } from './log.js'
import { backingLogName, dockerLiveLogName, dockerLogNames, validateDockerPayload, type DockerPayload } from './payload.js'

export const dockerFamily: FamilyProfile<DockerPayload> = {
  name: 'docker',

  // a payload names an `image`; on a docker-only pool every payload is docker-worker's, so one
  // without `image` fails docker-worker's schema, as it did there
  accepts: (payload, config) => config?.disableNativePayloads === true || (typeof payload === 'object' && payload !== null && 'image' in payload),

  validate: validateDockerPayload,
  load: async () => {
    await Promise.all([loadJsonSchema(), loadDockerWorkerAjv()])
  },

  // docker-worker's features: the live log unless turned off, the others when asked for.
  // docker-worker made the live log in its link state, before the schema check and the image
  // pull (src/task.js:764-779 before :797-808 and :815)
  liveLogBeforeValidation: true,
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
    unvalidatedLogs: dockerLogNames,
    // docker-worker logged only an artifact's problems, never its upload; a missing artifact is
    // an info line, "not as an error so that other systems do not think it's a fatal issue"
    // (src/features/artifacts.js:51-70)
    quietUploads: true,
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
    // docker-worker reclaimed after (takenUntil - now) / reclaimDivisor, divisor 2
    // (src/task.js:233-247, config.yml:112), so a cancel is noticed within half a claim
    reclaimDelayMs: (remainingMs) => remainingMs / 2,
    // docker-worker wrote one line per failed upload, then the `stopped` hook's error, and
    // failed the run (src/features/artifacts.js:174-181,223-229, src/states.js:50-58,
    // src/task.js:942-954)
    uploadFailure: {
      lines: (failed) => [
        ...failed.map((f) => `Error uploading "${f.name}" artifact. ${f.message}`),
        "Error: Error calling 'stopped' for artifactHandler : Error: Encountered error when uploading artifact(s)",
      ],
    },
    // the chain of trust was uploaded by a `killed` hook; its failure failed the run (src/task.js:961-974)
    featureStopFailureFails: true,
  },

  featureFacts: {
    // docker-worker src/features/local_live_log.js:147-148: the reference expires with the task
    liveLog: { expiresAfterMaxRunTimeSecs: null },
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
      environment: (config, provenance) => ({
        publicIpAddress: config.publicIP,
        privateIpAddress: config.privateIP,
        // imageHash and imageArtifactHash, between the addresses and the instance facts
        ...provenance,
        ...(config.instanceID ? { instanceId: config.instanceID } : {}),
        ...(config.instanceType ? { instanceType: config.instanceType } : {}),
        ...(config.region ? { region: config.region } : {}),
      }),
      // made by a `killed` hook after the log stream ended: certified.log is the whole log
      // (src/task.js:956-962, src/features/chain_of_trust.js:27-44; chain_of_trust.js:87-93 checks
      // its hash equals the live log's); the certificate and signature uploaded without content
      // encoding (src/features/chain_of_trust.js:62-64,106-115)
      afterLog: true,
      certificateEncoding: 'identity',
    },
  },

  replay: {
    backingLogName: (payload) => backingLogName(dockerLiveLogName(payload)),
  },
}
