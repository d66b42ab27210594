// Audit H4: on a worker that runs docker and multiuser native tasks, a docker task left a
// setuid-root binary in its cache (a 0755 host directory under a 0755 cachesDir), and a later
// native task with no scopes ran it as euid 0. docker-worker had no local task users; the
// operator config follows generic-worker, which keeps cachesDir 0700 (mounts_feature.go:314-316):
// no task user reaches any cache directory.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { BUSYBOX_IMAGE, dockerForTests, dockerTestsEnabled } from '../helpers/docker.js'
import { canaries, isRoot, runTasks } from './harness.js'

describe('security H4: a docker cache is out of every native task user’s reach', function () {
  this.timeout(120_000)
  const image = 'megalodon-test/sec-h4-hostcat:1'
  before(async function () {
    if (!isRoot() || !dockerTestsEnabled()) this.skip()
    await dockerForTests()
    // the audit's image: busybox plus the host's cat (busybox itself drops setuid rights)
    const id = execFileSync('docker', ['create', BUSYBOX_IMAGE, 'true'], { encoding: 'utf8' }).trim()
    try {
      execFileSync('docker', ['cp', '/bin/cat', `${id}:/hostcat`])
      execFileSync('docker', ['commit', id, image], { stdio: 'ignore' })
    } finally {
      execFileSync('docker', ['rm', id], { stdio: 'ignore' })
    }
  })
  after(() => {
    try {
      execFileSync('docker', ['rmi', image], { stdio: 'ignore' })
    } catch {
      // already gone
    }
  })
  // the docker task's image is the audit's (Appendix C): the host's /bin/cat, made 4755 in the cache
  it('the setuid binary a container leaves in its cache cannot be run by a later multiuser task', async () => {
    const c = canaries()
    const [d, n] = await runTasks(
      [
        {
          scopes: ['docker-worker:cache:c2'],
          payload: { image, maxRunTime: 30, cache: { c2: '/cache' }, command: ['sh', '-c', 'cp /hostcat /cache/suidcat && chmod 4755 /cache/suidcat && ls -la /cache'] },
        },
        { payload: { maxRunTime: 30, command: [['sh', '-c', `C=$(dirname $(dirname $TASK_WORKDIR))/caches; ls -la $C/c2/* 2>&1; for f in $C/c2/*/suidcat; do "$f" ${c.secret}; done; echo done-trying`]] } },
      ],
      { engine: 'multiuser' },
    )
    assert.equal(d!.state, 'completed', d!.log)
    assert.match(d!.log, /suidcat/)
    assert.match(n!.log, /done-trying/)
    assert.doesNotMatch(n!.log, new RegExp(c.secretText))
    assert.equal(statSync(String(d!.config.cachesDir)).mode & 0o777, 0o700)
  })
})
