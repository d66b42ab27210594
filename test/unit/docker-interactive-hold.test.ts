// docker-worker's keep-alive for interactive containers (src/shared_file_lock.js: a counted
// hold; src/features/interactive.js:117-125: held for minTime from the start, and for each
// session until expirationAfterSession after it ends; bin-utils/interactive_wrapper_run.sh).
// The wrapper itself runs in a real container in test/e2e/interactive-docker.test.ts.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { SessionHold, wrappedCommand } from '../../executors/docker/interactive-hold.js'
import { until } from '../helpers/tasks.js'
import { useTempDir } from '../helpers/temp-dir.js'

describe('docker interactive keep-alive', () => {
  const dir = useTempDir('hold-')
  const held = () => existsSync(path.join(dir(), 'interactive-session', 'hold'))

  it('holds from the start for minTime, and is bound read-only into the container', async () => {
    const hold = await SessionHold.start(dir(), { minSecs: 3600, afterSessionSecs: 0 })
    assert.equal(held(), true)
    assert.equal(hold.bind, `${path.join(dir(), 'interactive-session')}:/.taskclusterinteractivesession:ro`)
    await hold.dispose()
    assert.equal(existsSync(path.join(dir(), 'interactive-session')), false, 'nothing is left, and no timer')
  })

  it('is held while any session is open, as a counted lock', async () => {
    const hold = await SessionHold.start(dir(), { minSecs: 0, afterSessionSecs: 0 })
    await until(() => !held())
    const first = await hold.session()
    const second = await hold.session()
    assert.equal(held(), true)
    first()
    first() // a session ends once
    await new Promise((r) => setImmediate(r))
    assert.equal(held(), true, 'the second session still holds it')
    second()
    await until(() => !held())
    await hold.dispose()
  })

  it('a session that ends keeps it for expirationAfterSession', async () => {
    const hold = await SessionHold.start(dir(), { minSecs: 0, afterSessionSecs: 3600 })
    await until(() => !held())
    const end = await hold.session()
    end()
    await new Promise((r) => setImmediate(r))
    assert.equal(held(), true)
    await hold.dispose()
  })

  it('wraps the image’s entrypoint and the command; with no command, the image’s (src/task.js:443-455)', () => {
    const image = { entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] }
    const a = wrappedCommand(image, ['echo', 'hi'])
    assert.deepEqual(a.entrypoint.slice(0, 2), ['/bin/sh', '-c'])
    assert.match(a.entrypoint[2]!, /"\$@" &[\s\S]*sleep 5[\s\S]*\/\.taskclusterinteractivesession\/hold[\s\S]*exit \$status/)
    assert.deepEqual(a.command, ['/docker-entrypoint.sh', 'echo', 'hi'])
    assert.deepEqual(wrappedCommand(image, []).command, ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;'])
  })
})
