// Audit M2: downloadsDir and cachesDir were 0755 and their files 0644, so any task user read
// other tasks' mount content, the download index (URLs) and scope-protected caches.
// generic-worker makes both directories 0700 (mounts_feature.go:193-195, :314-316, called for
// config.CachesDir and config.DownloadsDir at :360-361) and writes downloads 0600
// (mounts_feature.go:1357, :1441).
import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { isRoot, runTasks } from './harness.js'

describe('security M2: the worker’s downloads and caches are its own (0700, files 0600)', function () {
  this.timeout(90_000)
  before(function () {
    if (!isRoot()) this.skip()
  })
  it('a later task user reads neither another task’s mount content nor its cache', async () => {
    const [a, b] = await runTasks(
      [
        {
          scopes: ['generic-worker:cache:secret-cache'],
          payload: {
            maxRunTime: 30,
            command: [['sh', '-c', 'echo CACHE-SECRET-of-task-A > cache/secret.txt']],
            mounts: [{ file: 'priv.txt', content: { raw: 'PRIVATE-MOUNT-CONTENT-task-A' } }, { directory: 'cache', cacheName: 'secret-cache' }],
          },
        },
        {
          payload: {
            maxRunTime: 30,
            command: [['sh', '-c', 'W=$(dirname $(dirname $TASK_WORKDIR)); cat $W/downloads/index.json $W/downloads/* 2>&1; find $W/caches -type f -exec cat {} + 2>&1; true']],
          },
        },
      ],
      { engine: 'multiuser' },
    )
    assert.equal(a!.state, 'completed', a!.log)
    assert.doesNotMatch(b!.log, /PRIVATE-MOUNT-CONTENT-task-A/)
    assert.doesNotMatch(b!.log, /CACHE-SECRET-of-task-A/)
    assert.doesNotMatch(b!.log, /raw:/)
    const downloads = String(a!.config.downloadsDir)
    assert.equal(statSync(downloads).mode & 0o777, 0o700)
    assert.equal(statSync(String(a!.config.cachesDir)).mode & 0o777, 0o700)
    for (const f of readdirSync(downloads)) assert.equal(statSync(path.join(downloads, f)).mode & 0o777, 0o600, f)
  })
})
