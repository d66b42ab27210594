// The output pipe of a native command (executors/native/output-pipe.ts): FIFOs are made ahead
// of need, a batch (32) per mkfifo run (issue #18: one mkfifo process per command was on every
// command's critical path). More commands starting at once than the stock holds still get a
// pipe each, and each pipe carries only its own command's bytes.
import assert from 'node:assert/strict'
import { writeSync } from 'node:fs'
import { outputPipe } from '../../executors/native/output-pipe.js'

async function readAll(socket: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of socket) text += (chunk as Buffer).toString()
  return text
}

describe('native output pipe', () => {
  it('forty pipes at once (more than one batch of FIFOs), each its own', async () => {
    const pipes = await Promise.all(Array.from({ length: 40 }, () => outputPipe()))
    assert.equal(new Set(pipes.map((p) => p.writer)).size, 40)
    for (const [i, p] of pipes.entries()) writeSync(p.writer, `pipe ${i}\n`)
    const texts = await Promise.all(pipes.map((p) => readAll(p.started())))
    assert.deepEqual(texts, pipes.map((_p, i) => `pipe ${i}\n`))
  })

  it('an abandoned pipe closes both ends, and the next pipe works', async () => {
    ;(await outputPipe()).abandon()
    const p = await outputPipe()
    writeSync(p.writer, 'after\n')
    assert.equal(await readAll(p.started()), 'after\n')
  })
})
