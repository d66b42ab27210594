// Small gzip artifacts are read on the event loop (issue #18: the thread pool's round trips made
// a directory of small files CPU-bound). What the task may have put at the path must not hold
// the loop: a FIFO is opened non-blocking and left to the asynchronous way.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { readRegularFileSync } from '../../src/taskcluster/artifact-upload.js'
import { useTempDir } from '../helpers/temp-dir.js'

describe('small artifact reads on the event loop', () => {
  const dir = useTempDir('megalodon-small-read-')

  it('reads a regular file, never past the size it had when stat-ed', async () => {
    const file = path.join(dir(), 'f')
    await writeFile(file, 'hello, world')
    assert.equal(readRegularFileSync(file, 5)?.toString(), 'hello')
    assert.equal(readRegularFileSync(file, 100)?.toString(), 'hello, world')
  })

  it('a FIFO (no writer) gives undefined at once instead of blocking in open(2)', () => {
    const fifo = path.join(dir(), 'p')
    execFileSync('mkfifo', [fifo])
    assert.equal(readRegularFileSync(fifo, 10), undefined)
  })
})
