// One test per row of the resolution table, for both payload families' profiles. The generic
// column follows generic-worker (MaxRunTime, CommandExecutor, artifact errors); the docker
// column docker-worker.
import assert from 'node:assert/strict'
import { FeatureNotOffered, InternalError, MalformedPayload, MaxRunTimeExceeded, ResourceUnavailable, TaskCancelled, TaskFailure, WorkerShutdown } from '../../src/contract/errors.js'
import type { FamilyName } from '../../src/contract/family.js'
import type { Resolution } from '../../src/contract/outcome.js'
import { localExitCode, resolve, type RunOutcome } from '../../src/run/resolution.js'
import { dockerFamily } from '../../executors/docker/family.js'
import { genericFamily } from '../../executors/native/family.js'

const profiles = { generic: genericFamily, docker: dockerFamily }

const rows: Array<[string, RunOutcome, Record<FamilyName, Resolution>]> = [
  ['exit code 0', { exitCode: 0 }, { generic: { state: 'completed' }, docker: { state: 'completed' } }],
  ['exit code ≠ 0', { exitCode: 1 }, { generic: { state: 'failed' }, docker: { state: 'failed' } }],
  ['exit code -2 (command could not start)', { exitCode: -2 }, { generic: { state: 'failed' }, docker: { state: 'failed' } }],
  ['exit code in onExitStatus.retry', { exitCode: 3, retryExitCodes: [3] }, { generic: { state: 'exception', reason: 'intermittent-task' }, docker: { state: 'exception', reason: 'intermittent-task' } }],
  ['exit code not in onExitStatus.retry', { exitCode: 4, retryExitCodes: [3] }, { generic: { state: 'failed' }, docker: { state: 'failed' } }],
  ['maxRunTime exceeded', { error: new MaxRunTimeExceeded(5), exitCode: -4 }, { generic: { state: 'failed' }, docker: { state: 'failed' } }],
  ['payload fails schema', { error: new MalformedPayload('bad') }, { generic: { state: 'exception', reason: 'malformed-payload' }, docker: { state: 'exception', reason: 'malformed-payload' } }],
  ['missing non-optional artifact', { exitCode: 0, artifactErrors: 1 }, { generic: { state: 'failed' }, docker: { state: 'completed' } }],
  ['setup error blamed on the task', { error: new TaskFailure('pull failed') }, { generic: { state: 'failed' }, docker: { state: 'failed' } }],
  ['resource unavailable (upload 5xx after retries)', { error: new ResourceUnavailable('s3 down') }, { generic: { state: 'exception', reason: 'resource-unavailable' }, docker: { state: 'exception', reason: 'resource-unavailable' } }],
  ['worker shutting down mid-task', { error: new WorkerShutdown(), exitCode: -4 }, { generic: { state: 'exception', reason: 'worker-shutdown' }, docker: { state: 'exception', reason: 'worker-shutdown' } }],
  ['reclaim 409 (cancelled / resolved)', { error: new TaskCancelled(), exitCode: -4 }, { generic: { state: 'none' }, docker: { state: 'none' } }],
  ['other reclaim error', { error: new InternalError('reclaim failed') }, { generic: { state: 'exception', reason: 'internal-error' }, docker: { state: 'exception', reason: 'internal-error' } }],
  ['worker bug (a plain Error)', { error: new TypeError('x is undefined') }, { generic: { state: 'exception', reason: 'internal-error' }, docker: { state: 'exception', reason: 'internal-error' } }],
  ['a feature the worker does not offer', { error: new FeatureNotOffered('interactive', 'not enabled') }, { generic: { state: 'exception', reason: 'malformed-payload' }, docker: { state: 'failed' } }],
  ['the first error wins over a later exit code', { error: new MalformedPayload('bad'), exitCode: 1 }, { generic: { state: 'exception', reason: 'malformed-payload' }, docker: { state: 'exception', reason: 'malformed-payload' } }],
]

describe('resolution table', () => {
  for (const [row, outcome, expected] of rows) {
    for (const family of ['generic', 'docker'] as const) {
      it(`${family}: ${row} → ${JSON.stringify(expected[family])}`, () => {
        assert.deepEqual(resolve(profiles[family].outcomes, outcome), expected[family])
      })
    }
  }

  it('uploads artifacts after a timeout for generic-worker payloads, not for docker-worker ones, never after a cancel', () => {
    assert.equal(genericFamily.outcomes.uploadsArtifactsAfter(new MaxRunTimeExceeded(1)), true)
    assert.equal(dockerFamily.outcomes.uploadsArtifactsAfter(new MaxRunTimeExceeded(1)), false)
    assert.equal(genericFamily.outcomes.uploadsArtifactsAfter(new TaskCancelled()), false)
  })

  it('maps resolutions to `megalodon local` exit codes', () => {
    assert.deepEqual(
      [{ state: 'completed' }, { state: 'failed' }, { state: 'exception', reason: 'malformed-payload' }].map((r) => localExitCode(r as Resolution)),
      [0, 1, 2],
    )
  })
})
