// Secrets never appear in anything uploaded: scan every artifact body the fake Queue stored.
import assert from 'node:assert/strict'
import type { FakeQueue } from '../helpers/fake-queue/index.js'

/** `extra`: other secrets of the run (the chain of trust signing key, in each spelling it has). */
export function assertNoSecretsUploaded(fake: FakeQueue, extra: string[] = []): void {
  const secrets = [...fake.auth.secrets(), ...extra].filter((s) => s.length >= 16)
  let scanned = 0
  for (const taskId of fake.state.tasks.keys()) {
    const record = fake.state.get(taskId)
    for (let runId = 0; runId < record.runs.length; runId++) {
      for (const [name, a] of fake.artifacts(taskId, runId)) {
        const text = [a.content?.toString('latin1') ?? '', a.message ?? '', a.url ?? ''].join('\n')
        scanned++
        for (const secret of secrets) assert.ok(!text.includes(secret), `a secret appears in ${taskId}/${runId}/${name}`)
      }
    }
  }
  assert.ok(scanned > 0)
}
