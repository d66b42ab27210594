// Every error code has a row in both tables that act on codes: what a task resolves as
// (src/run/resolution.ts) and what the process exits with (src/worker/exit-codes.ts). The
// type checker enforces it too; this fails loudly if a table is widened with a cast.
import assert from 'node:assert/strict'
import { ConfigError, ConfigUnreadable, InternalError, SigningKeyMissing, WORKER_ERROR_CODES } from '../../src/contract/errors.js'
import { resolutionByCode } from '../../src/run/resolution.js'
import { ExitCode, exitCodeByCode, exitCodeFor } from '../../src/worker/exit-codes.js'

describe('error code tables', () => {
  for (const code of WORKER_ERROR_CODES) {
    it(`${code} has a resolution and an exit code`, () => {
      assert.ok(code in resolutionByCode, `no resolution row for ${code}`)
      assert.ok(Object.values(ExitCode).includes(exitCodeByCode[code]), `no exit code for ${code}`)
    })
  }

  it('maps errors to generic-worker’s exit codes: unreadable config 64, invalid config 73, anything else 69', () => {
    assert.equal(exitCodeFor(new ConfigUnreadable('cannot read config file x')), 64)
    assert.equal(exitCodeFor(new ConfigError('config key "capacity" must be an integer')), 73)
    assert.equal(exitCodeFor(new SigningKeyMissing('open /x: no such file or directory')), 82) // usage_multiuser.go:7
    assert.equal(exitCodeFor(new InternalError('bug')), 69)
    assert.equal(exitCodeFor(new TypeError('x is undefined')), 69)
  })
})
