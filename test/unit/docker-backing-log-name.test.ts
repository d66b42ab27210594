// The backing log's name, as docker-worker derived it from `payload.log`
// (src/features/logs_location.js:6-14: POSIX path.parse, then dir + '/' + name + '_backing' + ext).

import assert from 'node:assert/strict'

import { backingLogName } from '../../executors/docker/payload.js'

describe('docker backing log name (docker-worker src/features/logs_location.js:13)', () => {
  it('puts _backing before the extension of the default log', () => {
    assert.equal(backingLogName('public/logs/live.log'), 'public/logs/live_backing.log')
  })
  it('gives a log without a "/" a leading slash, as path.parse\'s empty dir joined with "/" did', () => {
    assert.equal(backingLogName('x.log'), '/x_backing.log')
    assert.equal(backingLogName('x'), '/x_backing')
  })
  it('appends _backing to a name without an extension, and to a dotfile whole', () => {
    assert.equal(backingLogName('public/logs/live'), 'public/logs/live_backing')
    assert.equal(backingLogName('public/.log'), 'public/.log_backing')
  })
})
