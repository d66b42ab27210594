// The multiuser engine (root only, as CI runs): each task as a fresh OS user, osGroups and
// runTaskAsCurrentUser with their config switches and scopes, the worker's own files out of the
// task's reach, artifacts only what the task user can read, the user gone afterwards.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { generateKeyPair, verifyDetached } from '../../src/lib/ed25519.js'
import { taskDirName } from '../../src/lib/task-dir.js'
import type { RawConfig } from '../../src/config/config.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { backingLog } from '../helpers/tasks.js'
import { runWorker, workerConfig } from '../helpers/worker.js'

const POOL = 'test-provisioner/test-worker-type'
const GROUP = 'megalodon-test-group'

function userExists(name: string): boolean {
  try {
    execFileSync('getent', ['passwd', name], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('multiuser engine (root)', function () {
  this.timeout(60_000)
  let fake: FakeQueue
  let config: RawConfig
  before(function () {
    if (process.getuid?.() !== 0) this.skip()
    try {
      execFileSync('getent', ['group', GROUP], { stdio: 'ignore' })
    } catch {
      execFileSync('groupadd', [GROUP])
    }
  })
  beforeEach(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    config = await workerConfig(fake, { engine: 'multiuser' })
    // the task user must be able to reach its directory under the test's private temp dir (the
    // worker opens tasksDir itself, not what an operator put above it)
    chmodSync(path.dirname(String(config.tasksDir)), 0o755)
  })
  afterEach(async () => fake?.stop())

  async function run(payload: unknown, scopes: string[] = [], extra: RawConfig = {}) {
    const id = slugid()
    await fake.createTask(id, { payload, scopes })
    await runWorker(fake, { ...config, ...extra, numberOfTasksToRun: 1 })
    const r = fake.state.get(id).runs[0]!
    return { id, state: r.state, reason: r.reasonResolved, log: backingLog(fake, id) }
  }

  it('runs the task as a fresh user who owns what it writes, cannot touch the worker’s files, and is removed afterwards', async () => {
    const o = await run({
      command: [
        ['sh', '-c', 'echo "me=$(whoami) uid=$(id -u) home=$HOME pwd=$(pwd)"; echo data > out.txt; stat -c "owner=%U" out.txt'],
        ['sh', '-c', 'ls generic-worker >/dev/null 2>&1 && echo LOG-READABLE; mv generic-worker moved 2>/dev/null && echo LOG-MOVED; rm -rf generic-worker 2>/dev/null; test -d generic-worker && echo "log dir intact"'],
      ],
      maxRunTime: 60,
      artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }],
    })
    assert.equal(o.state, 'completed', o.log)
    const m = /^me=(task_\w+) uid=(\d+) home=(\S+) pwd=(\S+)$/m.exec(o.log)
    assert.ok(m, o.log)
    const [, user, uid, home, pwd] = m
    assert.notEqual(uid, '0')
    assert.equal(home, pwd, 'HOME is the task directory')
    assert.match(o.log, new RegExp(`^owner=${user}$`, 'm'))
    assert.doesNotMatch(o.log, /^LOG-(READABLE|MOVED)$/m)
    assert.match(o.log, /^log dir intact$/m)
    assert.match(o.log, new RegExp(`Running as task user ${user}`))
    assert.equal(fake.artifacts(o.id).get('public/out.txt')!.content!.toString(), 'data\n')
    assert.equal(userExists(user!), false, 'the task user was removed')
  })

  it('runs concurrent tasks as distinct users who cannot read each other’s task directories', async () => {
    const [a, b] = [slugid(), slugid()]
    const aDir = path.join(String(config.tasksDir), taskDirName(a, 0))
    await fake.createTask(a, { payload: { command: [['sh', '-c', 'echo "uid=$(id -u)"; echo secret-of-a > secret; sleep 3']], maxRunTime: 60 } })
    await fake.createTask(b, {
      payload: { command: [['sh', '-c', `echo "uid=$(id -u)"; sleep 1; cat ${aDir}/secret 2>&1 || echo "CANNOT READ"; ls ${String(config.tasksDir)} 2>&1 || echo "CANNOT LIST"`]], maxRunTime: 60 },
    })
    await runWorker(fake, { ...config, capacity: 2, numberOfTasksToRun: 2 })
    const [logA, logB] = [backingLog(fake, a), backingLog(fake, b)]
    assert.equal(fake.state.get(a).runs[0]!.state, 'completed', logA)
    const uidA = /^uid=(\d+)$/m.exec(logA)?.[1]
    const uidB = /^uid=(\d+)$/m.exec(logB)?.[1]
    assert.ok(uidA && uidB && uidA !== uidB, `distinct uids: ${uidA} ${uidB}`)
    assert.doesNotMatch(logB, /^secret-of-a$/m)
    assert.match(logB, /^CANNOT READ$/m)
    assert.match(logB, /^CANNOT LIST$/m)
  })

  it('uploads only what the task user can read: a link to /etc/shadow is an error artifact', async () => {
    const o = await run({ command: [['ln', '-s', '/etc/shadow', 'shadow.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'shadow.txt', name: 'public/shadow.txt' }] })
    const a = fake.artifacts(o.id).get('public/shadow.txt')!
    assert.equal(a.storageType, 'error')
    assert.equal(a.reason, 'file-not-readable-on-worker')
    assert.equal(o.state, 'failed', 'an error artifact fails a generic-worker task')
  })

  it('checks every file of a directory artifact as the task user, whatever its name', async () => {
    const o = await run({
      command: [['sh', '-c', 'mkdir -p out/sub && echo a > out/a.txt && echo b > "out/sub/b with space" && echo c > "$(printf "out/c\\nline")" && chmod 000 "out/sub/b with space" && ln -s /etc/shadow out/z-shadow']],
      maxRunTime: 60,
      artifacts: [{ type: 'directory', path: 'out', name: 'public/out' }],
    })
    const a = fake.artifacts(o.id)
    assert.equal(a.get('public/out/a.txt')!.content!.toString(), 'a\n')
    assert.equal(a.get('public/out/c\nline')!.content!.toString(), 'c\n')
    assert.equal(a.get('public/out/sub/b with space')!.storageType, 'error', 'mode 000: not even its owner may read it')
    assert.equal(a.get('public/out/z-shadow')!.storageType, 'error')
    assert.equal(o.state, 'failed')
  })

  it('stops what the task left running before its artifacts are checked, so a checked file cannot be swapped', async function () {
    this.timeout(180_000) // 1500 uploads: slow on a loaded machine
    // 1500 files take the worker seconds to upload; half a second after the commands end, a
    // process the task left behind replaces each with a link to /etc/shadow
    const swap = 'sleep 0.5; for f in out/*; do ln -sf /etc/shadow "$f"; done'
    const o = await run({
      command: [['sh', '-c', `mkdir out && for i in $(seq 1000 2499); do echo data > out/$i; done; setsid sh -c '${swap}' >/dev/null 2>&1 < /dev/null &`]],
      maxRunTime: 60,
      artifacts: [{ type: 'directory', path: 'out', name: 'public/out' }],
    })
    const uploaded = [...fake.artifacts(o.id).entries()].filter(([name]) => name.startsWith('public/out/'))
    assert.equal(uploaded.length, 1500)
    // (no content in the message: a failure would print /etc/shadow)
    for (const [name, a] of uploaded) assert.ok(a.content?.toString() === 'data\n', `${name} is not the file that was checked`)
  })

  it('mounts outside the task directory only where the task user may write, as the task user', async () => {
    const shared = mkdtempSync(path.join(os.tmpdir(), 'megalodon-shared-'))
    chmodSync(shared, 0o1777)
    const rootOnly = mkdtempSync(path.join(os.tmpdir(), 'megalodon-rootonly-'))
    chmodSync(rootOnly, 0o755)
    const scope = 'generic-worker:cache:mu-outside'
    const o = await run(
      {
        command: [['sh', '-c', `stat -c "file=%U" ${shared}/f.txt; stat -c "cache=%U" ${shared}/cache; echo "me=$(whoami)"; echo w > ${shared}/cache/written && echo cache-writable`]],
        maxRunTime: 60,
        mounts: [
          { file: `${shared}/f.txt`, content: { raw: 'x' } },
          { directory: `${shared}/cache`, cacheName: 'mu-outside' },
        ],
      },
      [scope],
    )
    assert.equal(o.state, 'completed', o.log)
    const me = /^me=(task_\w+)$/m.exec(o.log)![1]
    assert.match(o.log, new RegExp(`^file=${me}$`, 'm'))
    assert.match(o.log, new RegExp(`^cache=${me}$`, 'm'))
    assert.match(o.log, /^cache-writable$/m)

    const refused = await run({ command: [['echo', 'SHOULD-NOT-RUN']], maxRunTime: 60, mounts: [{ file: `${rootOnly}/sub/f.txt`, content: { raw: 'x' } }] })
    assert.equal(refused.state, 'failed', refused.log)
    assert.match(refused.log, /\[mounts\] Cannot mount at .*megalodon-rootonly-\w+\/sub\/f\.txt with the task's rights: .*Permission denied/)
    assert.equal(existsSync(path.join(rootOnly, 'sub')), false, 'root made nothing there for the task')
    assert.doesNotMatch(refused.log, /^SHOULD-NOT-RUN$/m)
  })

  it('puts the task user in its osGroups with the scope, and refuses them without it', async () => {
    const scope = `generic-worker:os-group:${POOL}/${GROUP}`
    const ok = await run({ command: [['id', '-Gn']], maxRunTime: 60, osGroups: [GROUP] }, [scope])
    assert.equal(ok.state, 'completed', ok.log)
    assert.match(ok.log, new RegExp(`\\b${GROUP}\\b`))
    const noScope = await run({ command: [['true']], maxRunTime: 60, osGroups: [GROUP] })
    assert.deepEqual([noScope.state, noScope.reason], ['exception', 'malformed-payload'])
    assert.ok(noScope.log.includes(scope), noScope.log)
    const unknown = await run({ command: [['true']], maxRunTime: 60, osGroups: ['no-such-group-here'] }, [`generic-worker:os-group:${POOL}/no-such-group-here`])
    assert.deepEqual([unknown.state, unknown.reason], ['exception', 'malformed-payload'])
    assert.match(unknown.log, /no-such-group-here do not exist on this worker/)
  })

  it('runs as the worker’s user with runTaskAsCurrentUser, only when config and scope allow', async () => {
    const scope = `generic-worker:run-task-as-current-user:${POOL}`
    const payload = { command: [['sh', '-c', 'echo "me=$(whoami)"']], maxRunTime: 60, features: { runTaskAsCurrentUser: true } }
    const ok = await run(payload, [scope], { enableRunTaskAsCurrentUser: true })
    assert.equal(ok.state, 'completed', ok.log)
    assert.match(ok.log, new RegExp(`^me=${os.userInfo().username}$`, 'm'))
    const off = await run(payload, [scope])
    assert.deepEqual([off.state, off.reason], ['exception', 'malformed-payload'])
    assert.match(off.log, /requires the feature "runTaskAsCurrentUser", which is not enabled/)
    const noScope = await run(payload, [], { enableRunTaskAsCurrentUser: true })
    assert.deepEqual([noScope.state, noScope.reason], ['exception', 'malformed-payload'])
    assert.ok(noScope.log.includes(scope))
  })

  // generic-worker multiuser_posix.go:151-154: DISPLAY=:0 and XDG_RUNTIME_DIR=/run/user/<task uid>
  // unless headlessTasks; the worker's own XDG_RUNTIME_DIR never reaches the task
  it('gives tasks generic-worker’s multiuser environment: PATH and identity as defaults, DISPLAY and the task user’s XDG_RUNTIME_DIR unless headless', async () => {
    const show = ['sh', '-c', 'echo "path=$PATH"; echo "display=${DISPLAY-unset}"; echo "xdg=${XDG_RUNTIME_DIR-unset}"; echo "user=$USER"']
    process.env.XDG_RUNTIME_DIR = '/run/user/0'
    try {
      const desktop = await run({ command: [show], maxRunTime: 60 })
      assert.equal(desktop.state, 'completed', desktop.log)
      assert.match(desktop.log, /^path=\/usr\/local\/bin:\/usr\/bin:\/bin:\/usr\/sbin:\/sbin$/m)
      assert.match(desktop.log, /^display=:0$/m)
      assert.match(desktop.log, /^xdg=\/run\/user\/[1-9]\d*$/m)
      assert.match(desktop.log, /^user=task_\w+$/m)
      // the payload overrides the defaults, but not DISPLAY
      const own = await run({ command: [show], maxRunTime: 60, env: { PATH: '/opt/bin:/usr/bin:/bin', USER: 'someone', DISPLAY: ':7' } })
      assert.match(own.log, /^path=\/opt\/bin:\/usr\/bin:\/bin$/m)
      assert.match(own.log, /^user=someone$/m)
      assert.match(own.log, /^display=:0$/m)
      const headless = await run({ command: [show], maxRunTime: 60 }, [], { headlessTasks: true })
      assert.match(headless.log, /^display=unset$/m)
      assert.match(headless.log, /^xdg=unset$/m)
    } finally {
      delete process.env.XDG_RUNTIME_DIR
    }
  })

  it('hands runTaskAsCurrentUser tasks the task user’s credentials in TASK_USER_CREDENTIALS, never in the log', async () => {
    const scope = `generic-worker:run-task-as-current-user:${POOL}`
    const o = await run(
      {
        // the worker's user (root) reads the file; the test keeps its content as a private artifact
        command: [['sh', '-c', 'cat "$TASK_USER_CREDENTIALS" > creds.json; stat -c "mode=%a owner=%U" "$TASK_USER_CREDENTIALS"']],
        maxRunTime: 60,
        features: { runTaskAsCurrentUser: true },
        artifacts: [{ type: 'file', path: 'creds.json', name: 'private/creds.json' }],
      },
      [scope],
      { enableRunTaskAsCurrentUser: true },
    )
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, /^mode=600 owner=root$/m)
    const creds = JSON.parse(fake.artifacts(o.id).get('private/creds.json')!.content!.toString()) as { name: string; password: string }
    assert.match(creds.name, /^task_\w+$/)
    assert.match(o.log, new RegExp(`task user ${creds.name}\\)`))
    assert.ok(creds.password.length >= 20)
    assert.ok(!o.log.includes(creds.password), 'the password is not in the task log')
    // the user is gone now; its password was a real one while it existed (checked in the next test's way)
    assert.equal(userExists(creds.name), false)
  })

  it('sets a task user password that its shadow entry verifies', async () => {
    // the same function the executor uses, on a user made for the test
    const { createTaskUser, removeTaskUser, setRandomPassword } = await import('../../executors/native/task-user.js')
    mkdirSync(String(config.tasksDir), { recursive: true })
    const dir = mkdtempSync(path.join(String(config.tasksDir), 'pw-'))
    const user = await createTaskUser(dir, [])
    try {
      const password = await setRandomPassword(user)
      const hash = execFileSync('getent', ['shadow', user.name]).toString().split(':')[1]!
      const verified = execFileSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? "yes" : "no"', password, hash]).toString()
      assert.equal(verified, 'yes')
    } finally {
      await removeTaskUser(user.name)
    }
  })

  it('runs config’s runAfterUserCreation as the new task user before the task, and a failing one is an internal error', async () => {
    const hookDir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-hook-'))
    chmodSync(hookDir, 0o755)
    const hook = path.join(hookDir, 'after-user')
    writeFileSync(hook, '#!/bin/sh\necho "hook ran as $(whoami) in $(pwd)" > hook.txt\n', { mode: 0o755 })
    const o = await run({ command: [['sh', '-c', 'cat hook.txt; echo "task as $(whoami)"; rm hook.txt && echo removable']], maxRunTime: 60 }, [], { runAfterUserCreation: hook })
    assert.equal(o.state, 'completed', o.log)
    const m = /^hook ran as (task_\w+) in (\S+)$/m.exec(o.log)
    assert.ok(m, o.log)
    assert.match(o.log, new RegExp(`^task as ${m[1]}$`, 'm'))
    assert.match(o.log, /^removable$/m)
    const failing = path.join(hookDir, 'failing')
    writeFileSync(failing, '#!/bin/sh\necho secret-setup-output\nexit 3\n', { mode: 0o755 })
    const bad = await run({ command: [['sh', '-c', 'echo SHOULD-NOT-RUN']], maxRunTime: 60 }, [], { runAfterUserCreation: failing })
    assert.deepEqual([bad.state, bad.reason], ['exception', 'internal-error'])
    assert.match(bad.log, /runAfterUserCreation \(.*failing\) failed for task user task_\w+: exit code 3/)
    assert.doesNotMatch(bad.log, /SHOULD-NOT-RUN|secret-setup-output/)
    const users = readFileSync('/etc/passwd', 'utf8').split('\n').filter((l) => l.startsWith('task_') && l.includes(String(config.tasksDir)))
    assert.deepEqual(users, [], 'the task user of the failed hook was removed')
  })

  it('accepts features.chainOfTrust, as the multiuser schema does', async () => {
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-key-')), 'key')
    const pair = generateKeyPair()
    writeFileSync(keyFile, pair.privateKeyBase64)
    const o = await run({ command: [['true']], maxRunTime: 60, features: { chainOfTrust: true } }, [], { ed25519SigningKeyLocation: keyFile })
    assert.equal(o.state, 'completed', o.log)
    const a = fake.artifacts(o.id)
    assert.ok(verifyDetached(pair.publicKeyBase64, a.get('public/chain-of-trust.json')!.content!, a.get('public/chain-of-trust.json.sig')!.content!))
  })

  it('adds the task’s chain-of-trust-additional-data.json to the certificate, read as the task user', async () => {
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-key-')), 'key')
    const pair = generateKeyPair()
    writeFileSync(keyFile, pair.privateKeyBase64)
    const cot = (command: string) => run({ command: [['sh', '-c', command]], maxRunTime: 60, features: { chainOfTrust: true } }, [], { ed25519SigningKeyLocation: keyFile })
    const o = await cot(`echo '{"buildSignature": {"tool": "x", "digest": "abc"}, "note": "<from the task>"}' > chain-of-trust-additional-data.json`)
    assert.equal(o.state, 'completed', o.log)
    const a = fake.artifacts(o.id)
    const bytes = a.get('public/chain-of-trust.json')!.content!
    assert.ok(verifyDetached(pair.publicKeyBase64, bytes, a.get('public/chain-of-trust.json.sig')!.content!))
    const cert = JSON.parse(bytes.toString()) as Record<string, unknown>
    assert.deepEqual(cert.buildSignature, { digest: 'abc', tool: 'x' })
    assert.equal(cert.note, '<from the task>')
    assert.ok(bytes.toString().includes('"\\u003cfrom the task\\u003e"'), 'Go’s escaping applies to the added data too')
    assert.equal(cert.taskId, o.id)

    // a link to a file only root can read publishes nothing of it
    const shadow = await cot('ln -s /etc/shadow chain-of-trust-additional-data.json')
    assert.deepEqual([shadow.state, shadow.reason], ['failed', 'failed'], shadow.log)
    assert.match(shadow.log, /chain of trust: cannot read chain-of-trust-additional-data\.json: the task user cannot read/)
    assert.equal(fake.artifacts(shadow.id).has('public/chain-of-trust.json'), false)
    assert.doesNotMatch(shadow.log, /root:/)

    // what the worker vouches for is not the task's to say
    const forged = await cot(`echo '{"workerId": "someone-else"}' > chain-of-trust-additional-data.json`)
    assert.equal(forged.state, 'failed', forged.log)
    assert.match(forged.log, /may not set what the worker vouches for: workerId/)
    const broken = await cot(`echo '{not json' > chain-of-trust-additional-data.json`)
    assert.equal(broken.state, 'failed')
    assert.match(broken.log, /chain-of-trust-additional-data\.json is not valid JSON/)
  })

  it('keeps the task user (without its processes) when cleanUpTaskDirs is false, as it keeps the directory', async () => {
    const o = await run({ command: [['sh', '-c', 'echo "me=$(whoami)"; setsid sleep 300 >/dev/null 2>&1 < /dev/null &']], maxRunTime: 60 }, [], { cleanUpTaskDirs: false })
    assert.equal(o.state, 'completed', o.log)
    const user = /^me=(task_\w+)$/m.exec(o.log)![1]!
    try {
      assert.equal(userExists(user), true, 'the user stays for a look afterwards')
      let left = ''
      try {
        left = execFileSync('pgrep', ['-u', user]).toString()
      } catch {
        // pgrep exits 1: no process
      }
      assert.equal(left, '', 'no process of the task outlives it, even one that left its process group')
    } finally {
      execFileSync('userdel', [user])
    }
  })

  it('a restarted worker removes the task users a crashed one left', async () => {
    const leftover = `task_${Date.now()}left`
    execFileSync('useradd', ['--no-create-home', '--home-dir', path.join(String(config.tasksDir), 'task_x_0'), leftover])
    const other = `task_${Date.now()}other`
    execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent/elsewhere/task_y_0', other])
    try {
      await run({ command: [['true']], maxRunTime: 60 })
      assert.equal(userExists(leftover), false, 'this worker’s leftover was removed')
      assert.equal(userExists(other), true, 'a user of another tasksDir is not this worker’s')
    } finally {
      execFileSync('userdel', [other])
    }
  })
})
