// The task log file: formats, sinks, flushing.
import assert from 'node:assert/strict'
import { mkdtemp, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { genericWorkerLogFormat } from '../../executors/native/log.js'
import { TaskLog } from '../../src/lib/task-log.js'

describe('task log', () => {
  it('prefixes every line of worker messages, keeps task output raw and in order, starts worker lines on a new line (by default)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'log-'))
    const now = new Date('2026-11-23T10:00:00.000Z')
    const log = await TaskLog.open(path.join(dir, 'l.log'), { ...genericWorkerLogFormat, ownLine: true }, { now: () => now })
    const seen: Buffer[] = []
    log.addSink((c) => seen.push(c))
    log.info('one\ntwo')
    log.write('raw output without newline')
    log.error('bad')
    log.warn('careful')
    await log.close()
    const expected = [
      '[taskcluster 2026-11-23T10:00:00.000Z] one',
      '[taskcluster 2026-11-23T10:00:00.000Z] two',
      'raw output without newline',
      '[taskcluster:error] bad',
      '[taskcluster:warn 2026-11-23T10:00:00.000Z] careful',
      '',
    ].join('\n')
    assert.equal(await readFile(path.join(dir, 'l.log'), 'utf8'), expected)
    assert.equal(Buffer.concat(seen).toString(), expected)
  })

  it('generic-worker: a worker line follows output without a newline on the same line (main.go:1056-1065)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'log-'))
    const now = new Date('2026-11-23T10:00:00.000Z')
    const log = await TaskLog.open(path.join(dir, 'l.log'), genericWorkerLogFormat, { now: () => now })
    log.write('no newline')
    log.error('bad')
    await log.close()
    assert.equal(await readFile(path.join(dir, 'l.log'), 'utf8'), 'no newline[taskcluster:error] bad\n')
  })
})
