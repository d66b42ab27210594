// generic-worker's rules, for every generic-worker payload whichever executor runs it.

import type { FamilyProfile } from '../../src/contract/family.js'
import type { FeatureRequest } from '../../src/contract/feature.js'
import { loadJsonSchema } from '../../src/lib/json-schema.js'
import { goMarshalIndent, goMarshalIndentMap } from '../../src/lib/go-json.js'
import { featureNotEnabledProblem } from '../../src/lib/scopes.js'
import { genericWorkerLogFormat, writeArtifactLines, writeFooter, writeHeader } from './log.js'
import { validateNativePayload, type NativePayload } from './payload.js'

export const genericFamily: FamilyProfile<NativePayload> = {
  name: 'generic',

  // docker-worker payloads name an `image`; everything else is generic-worker's to validate,
  // unless this pool runs docker-worker payloads only
  accepts: (payload, config) => config?.disableNativePayloads !== true && (typeof payload !== 'object' || payload === null || !('image' in payload)),

  // a disableNativePayloads pool never sends a payload here: accepts() declines them all
  validate: validateNativePayload,
  load: loadJsonSchema,

  requestedFeatures(payload) {
    const f = payload.features ?? {}
    const wanted: FeatureRequest[] = []
    // liveLog is on unless the payload turns it off (livelog_feature.go:33-35), backingLog false
    // included: the reference then stays, with no link (:135); it is best effort.
    if (f.liveLog !== false) wanted.push({ name: 'liveLog', required: false })
    if (f.taskclusterProxy === true) wanted.push({ name: 'taskclusterProxy', required: true })
    if (f.interactive === true) wanted.push({ name: 'interactive', required: true })
    // Only the multiuser schemas allow chainOfTrust; the insecure one refuses it in validation.
    if (f.chainOfTrust === true) wanted.push({ name: 'chainOfTrust', required: true })
    return wanted
  },

  // generic-worker starts the live log before its Mounts feature (main.go:82-94), so live.log is
  // readable while mounts download; the proxy and the rest need what prepare makes (the task user)
  featuresBeforePrepare: ['liveLog'],

  log: {
    format: genericWorkerLogFormat,
    header: writeHeader,
    footer: writeFooter,
    artifact: writeArtifactLines,
    // generic-worker validates the payload in a feature that starts before the live log's
    // (main.go:82-87); only a started live log links itself to the backing log
    // (livelog_feature.go:135-147): after a malformed payload, the backing log alone.
    unvalidatedLogs: () => ({ live: null, backing: 'public/logs/live_backing.log' }),
  },

  outcomes: {
    featureNotOffered: { resolution: { state: 'exception', reason: 'malformed-payload' }, problem: featureNotEnabledProblem },
    // a missing non-optional artifact fails a generic-worker task
    missingArtifactFails: true,
    // a failed log upload or live-log link joins the run's errors (backing_log_feature.go:80, livelog_feature.go:137)
    logUploadDecides: true,
    // generic-worker's artifact step runs whatever stopped the commands (not after a cancel:
    // the Queue no longer takes them)
    uploadsArtifactsAfter: (reason) => reason.code !== 'TASK_CANCELLED',
    // generic-worker kills the commands on any reclaim error; the aborted command fails the
    // task (taskstatus.go:166-173, process/posix.go:33-35)
    reclaimFailureFails: true,
  },

  featureFacts: {
    // livelog_feature.go:186-187: maxRunTime plus 15 minutes (megalodon also caps it at the
    // task's expiry, which the Queue refuses to exceed: services/queue/src/artifacts.js:220-228)
    liveLog: { expiresAfterMaxRunTimeSecs: 900 },
    // interactive_feature.go:48 (name), :52-54 (no scope), :174-185 (content type, expiry),
    // :100-103 (an upload that fails is a warning)
    interactive: {
      artifactName: 'private/generic-worker/shell.html',
      contentType: 'text/html; charset=utf-8',
      expiresAfterMaxRunTimeSecs: 900,
      publishFailureWarning: (err) => `[interactive] could not upload interactive artifact: ${err instanceof Error ? err.message : String(err)}`,
      requiredScopes: () => [],
    },
    // task scopes cannot name the run's own artifacts: taskcluster_proxy_feature.go:166-168
    taskclusterProxy: {
      extraScopes: (taskId, runId) => [`queue:create-artifact:${taskId}/${runId}`],
      // taskcluster_proxy_feature.go:285, once the proxy has the reclaim's credentials
      refreshedLine: (clientId) => `[taskcluster-proxy] Successfully refreshed taskcluster-proxy credentials: ${clientId}`,
    },
    chainOfTrust: {
      contentTypes: { log: 'text/plain; charset=utf-8', json: 'text/plain; charset=utf-8', sig: 'application/octet-stream' },
      // the ChainOfTrustData struct (environment a CoTEnvironment struct, in field order); with
      // a task's additional data, a map re-marshalled with every key sorted (chain_of_trust_feature.go:198,253-292)
      certificateBytes: (cert, withAdditionalData) => (withAdditionalData ? goMarshalIndentMap({ ...cert }) : goMarshalIndent({ ...cert }, ['environment'])),
      // generic-worker 81.0.0
      additionalDataFile: 'chain-of-trust-additional-data.json',
      // CoTEnvironment (chain_of_trust_feature.go:46-52,186-196): publicIpAddress only when
      // set; privateIpAddress is net.IP.String(), "<nil>" when unset; the rest always, maybe "".
      environment: (config, provenance) => ({
        ...(config.publicIP ? { publicIpAddress: config.publicIP } : {}),
        privateIpAddress: config.privateIP || '<nil>',
        instanceId: config.instanceID,
        instanceType: config.instanceType,
        region: config.region,
        ...provenance,
      }),
    },
  },

  replay: {
    backingLogName: (payload) => (payload as { logs?: { backing?: string } } | undefined)?.logs?.backing ?? 'public/logs/live_backing.log',
  },
}
