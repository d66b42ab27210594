// Interactive shell as the current Taskcluster UI opens it: the link in the task's private shell
// artifact (generic-worker's `v=2` link, interactive_feature.go:158-185) is read by a client
// that sends exactly what ui/src/components/Shell/index.jsx sends (test/helpers/shell-client.ts
// cites its lines), over generic-worker's framing (interactive/interactivejob.go:14-17,82,119-137):
// a native task (node-pty in the task directory) here, a docker task in interactive-docker.test.ts.
import assert from 'node:assert/strict'
import { slugid } from 'taskcluster-client'
import WebSocket from 'ws'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { openShellPage, shellPageOf } from '../helpers/shell-client.js'
import { backingLog, submitAndRun, until } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'

const ARTIFACT = 'private/generic-worker/shell.html'

describe('interactive shell (generic payloads, the current UI’s v=2)', function () {
  let fake: FakeQueue
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
  })
  afterEach(async () => fake?.stop())

  it('publishes generic-worker’s link, and a UI session resizes, types and reads in the task directory', async () => {
    const taskId = slugid()
    // no scope: generic-worker asks none for a shell (interactive_feature.go:52-54)
    await fake.createTask(taskId, {
      payload: { command: [['sh', '-c', 'while [ ! -f done ]; do sleep 0.1; done; echo the task saw done']], maxRunTime: 60, features: { interactive: true } },
    })
    const before = Date.now()
    const worker = runWorker(fake, { numberOfTasksToRun: 1, enableInteractive: true })
    await until(() => shellPageOf(fake, taskId, ARTIFACT) !== undefined)
    const after = Date.now()
    const artifact = fake.artifacts(taskId).get(ARTIFACT)!
    // interactive_feature.go:174-185: a hidden redirect, text/html; charset=utf-8, maxRunTime + 900 s
    assert.equal(artifact.storageType, 'reference')
    assert.equal(artifact.contentType, 'text/html; charset=utf-8')
    const expires = Date.parse(artifact.expires)
    assert.ok(expires >= before + (60 + 900) * 1000 - 1000 && expires <= after + (60 + 900) * 1000, artifact.expires)
    // :158-172: url.Values, keys sorted, Go's escaping of the socket URL
    const socketUrl = shellPageOf(fake, taskId, ARTIFACT)!.get('socketUrl')!
    assert.match(socketUrl, /^ws:\/\/[^/]+\/shell\/[A-Za-z0-9_-]+$/)
    assert.equal(artifact.url, `${fake.rootUrl}/shell/?runId=0&socketUrl=${encodeURIComponent(socketUrl)}&taskId=${taskId}&v=2`)

    // a wrong secret: generic-worker's 401 "Access denied" (interactive/interactive.go:53-56)
    const wrong = new WebSocket(socketUrl.replace(/\/shell\/[^/]+$/, '/shell/not-the-secret'))
    await assert.rejects(new Promise((resolve, reject) => wrong.on('open', resolve).on('error', reject)), /Unexpected server response: 401/)

    // the page's terminal is 100x30: the size it sends on open is the shell's (index.jsx:92-96)
    const shell = await openShellPage(artifact.url!, { width: 100, height: 30 })
    // a v1 (docker-exec) stdin message, type 0, is no v=2 message: ignored (interactivejob.go:135-136)
    shell.ws.send(Buffer.from('\x00touch v1-was-read\r'))
    shell.type('stty size; echo "hello-$((6*7)) in $PWD as task $TASK_ID, TERM=$TERM"\r')
    await until(() => /hello-42 in /.test(shell.output))
    assert.match(shell.output, /^30 100\r?$/m, 'the terminal has the size the page sent')
    assert.match(shell.output, new RegExp(`hello-42 in \\S*task_[^ ]* as task ${taskId}, TERM=xterm-256color`), 'in the task directory, with the task environment')
    assert.ok(!shell.output.includes('v1-was-read'), 'the type-0 message was not typed')

    // the page resizes; then raw pty bytes, not UTF-8, arrive as they are, in binary messages
    shell.terminalResize(120, 40)
    shell.type(`stty size; printf 'raw:\\377\\376:end\\n'; touch done\r`)
    await until(() => /^40 120\r?$/m.test(shell.output) && Buffer.concat(shell.received).includes(Buffer.from('raw:\xff\xfe:end', 'latin1')))
    assert.ok(shell.output.includes('raw:\ufffd\ufffd:end'), 'the page shows invalid UTF-8 as replacement characters')

    assert.equal((await worker).exitCode, 0)
    await shell.closed
    const log = backingLog(fake, taskId)
    assert.equal(fake.state.get(taskId).runs[0]!.state, 'completed', log)
    assert.match(log, /the task saw done/)
    assert.ok(!log.includes(new URL(socketUrl).pathname), 'the secret URL is not in the public log')
    // generic-worker writes nothing about the shell in the task log (interactive_feature.go:62-116)
    assert.doesNotMatch(log, /shell\.html|interactive shell/i)
  })

  it('warns and runs the task on when the link cannot be published (interactive_feature.go:100-103)', async () => {
    // no live log, so the shell's link is the task's first artifact: the Queue refuses it
    fake.injectFault({ method: 'createArtifact', status: 400 })
    const o = await submitAndRun(fake, { command: [['sh', '-c', 'echo the task ran']], maxRunTime: 60, features: { interactive: true, liveLog: false } }, { config: { enableInteractive: true } })
    assert.deepEqual([o.state, o.reason], ['completed', 'completed'], o.log)
    assert.match(o.log, /\[interactive\] could not upload interactive artifact: /)
    assert.match(o.log, /^the task ran$/m)
    assert.equal(fake.artifacts(o.taskId).has(ARTIFACT), false)
  })

  it('is refused when the worker does not offer it, and off unless asked for', async () => {
    const off = await submitAndRun(fake, { command: [['true']], maxRunTime: 60, features: { interactive: true } })
    assert.deepEqual([off.state, off.reason], ['exception', 'malformed-payload'])
    assert.match(off.log, /this task is attempting to use feature "Interactive", but it's not enabled on this worker pool/)

    const plain = await submitAndRun(fake, { command: [['true']], maxRunTime: 60 }, { config: { enableInteractive: true } })
    assert.equal(plain.state, 'completed')
    assert.equal(fake.artifacts(plain.taskId).has(ARTIFACT), false, 'off unless asked for')
  })
})
