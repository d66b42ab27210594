// The multiuser engine (root only, as CI runs): each task as a fresh OS user, osGroups and
// runTaskAsCurrentUser with their config switches and scopes, the worker's own files out of the
// task's reach, artifacts only what the task user can read, the user gone afterwards.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { slugid } from 'taskcluster-client'
import { taskDirName } from '../../src/lib/task-dir.js'
import { backingLog } from '../helpers/tasks.js'
import { runWorker } from '../helpers/worker.js'

import { MULTIUSER_POOL, MULTIUSER_TEST_GROUP, multiuserHarness, userExists } from '../helpers/multiuser.js'

describe('multiuser engine (root)', function () {
  this.timeout(60_000)
  const mu = multiuserHarness()

  it('runs the task as a fresh user who owns what it writes, cannot touch the worker’s files, and is removed afterwards', async () => {
    const o = await mu.run({
      command: [
        ['sh', '-c', 'echo "me=$(whoami) uid=$(id -u) home=$HOME pwd=$(pwd)"; echo data > out.txt; stat -c "owner=%U" out.txt'],
        ['sh', '-c', 'ls generic-worker >/dev/null 2>&1 && echo LOG-READABLE; mv generic-worker moved 2>/dev/null && echo LOG-MOVED; rm -rf generic-worker 2>/dev/null; test -d generic-worker && echo "log dir intact"'],
      ],
      maxRunTime: 60,
      artifacts: [{ type: 'file', path: 'out.txt', name: 'public/out.txt' }],
    })
    assert.equal(o.state, 'completed', o.log)
    const m = /^me=(task_[\w-]+) uid=(\d+) home=(\S+) pwd=(\S+)$/m.exec(o.log)
    assert.ok(m, o.log)
    const [, user, uid, home, pwd] = m
    assert.notEqual(uid, '0')
    // HOME is /home/<user> whatever tasksDir is (multiuser_posix.go:139, runtime/runtime_linux.go:15)
    assert.equal(home, `/home/${user}`)
    assert.notEqual(home, pwd, 'this tasksDir is not /home')
    // generic-worker main.go:648-658, multiuser.go:136-147: the user is named like the task directory
    assert.equal(user, path.basename(pwd!))
    assert.equal(path.basename(pwd!), taskDirName(o.id, 0))
    assert.match(o.log, new RegExp(`^owner=${user}$`, 'm'))
    assert.doesNotMatch(o.log, /^LOG-(READABLE|MOVED)$/m)
    assert.match(o.log, /^log dir intact$/m)
    // generic-worker writes no line naming the task user in the task log
    assert.doesNotMatch(o.log, /Running as task user/)
    assert.equal(mu.fake.artifacts(o.id).get('public/out.txt')!.content!.toString(), 'data\n')
    assert.equal(userExists(user!), false, 'the task user was removed')
  })

  it('runs concurrent tasks as distinct users who cannot read each other’s task directories', async () => {
    const [a, b] = [slugid(), slugid()]
    const aDir = path.join(String(mu.config.tasksDir), taskDirName(a, 0))
    await mu.fake.createTask(a, { payload: { command: [['sh', '-c', 'echo "uid=$(id -u)"; echo secret-of-a > secret; sleep 3']], maxRunTime: 60 } })
    await mu.fake.createTask(b, {
      payload: { command: [['sh', '-c', `echo "uid=$(id -u)"; sleep 1; cat ${aDir}/secret 2>&1 || echo "CANNOT READ"; ls ${String(mu.config.tasksDir)} 2>&1 || echo "CANNOT LIST"`]], maxRunTime: 60 },
    })
    // capacity > 1 needs headlessTasks on multiuser (multiuser.go:29-34)
    await runWorker(mu.fake, { ...mu.config, capacity: 2, headlessTasks: true, numberOfTasksToRun: 2 })
    const [logA, logB] = [backingLog(mu.fake, a), backingLog(mu.fake, b)]
    assert.equal(mu.fake.state.get(a).runs[0]!.state, 'completed', logA)
    const uidA = /^uid=(\d+)$/m.exec(logA)?.[1]
    const uidB = /^uid=(\d+)$/m.exec(logB)?.[1]
    assert.ok(uidA && uidB && uidA !== uidB, `distinct uids: ${uidA} ${uidB}`)
    assert.doesNotMatch(logB, /^secret-of-a$/m)
    assert.match(logB, /^CANNOT READ$/m)
    assert.match(logB, /^CANNOT LIST$/m)
  })

  it('uploads only what the task user can read: a link to /etc/shadow is an error artifact', async () => {
    const o = await mu.run({ command: [['ln', '-s', '/etc/shadow', 'shadow.txt']], maxRunTime: 60, artifacts: [{ type: 'file', path: 'shadow.txt', name: 'public/shadow.txt' }] })
    const a = mu.fake.artifacts(o.id).get('public/shadow.txt')!
    assert.equal(a.storageType, 'error')
    assert.equal(a.reason, 'file-not-readable-on-worker')
    // artifact_feature.go:316 around artifacts_multiuser.go:21 (copy-to-temp-file exits 76)
    assert.match(a.message!, /^Could not copy file '(\/.*\/shadow\.txt)' to temporary location as task user: failed to copy file \1 to temporary location as task user: exit status 76$/)
    assert.equal(o.state, 'failed', 'an error artifact fails a generic-worker task')
  })

  // (a name with a newline is no longer used here: the Queue takes printable ASCII names only,
  // services/queue/src/api.js:142, and the fake now refuses others as it does)
  it('checks every file of a directory artifact as the task user, whatever its name', async () => {
    const o = await mu.run({
      command: [['sh', '-c', 'mkdir -p out/sub && echo a > out/a.txt && echo b > "out/sub/b with space" && echo c > "out/c;line" && chmod 000 "out/sub/b with space" && ln -s /etc/shadow out/z-shadow']],
      maxRunTime: 60,
      artifacts: [{ type: 'directory', path: 'out', name: 'public/out' }],
    })
    const a = mu.fake.artifacts(o.id)
    assert.equal(a.get('public/out/a.txt')!.content!.toString(), 'a\n')
    assert.equal(a.get('public/out/c;line')!.content!.toString(), 'c\n')
    assert.equal(a.get('public/out/sub/b with space')!.storageType, 'error', 'mode 000: not even its owner may read it')
    assert.equal(a.get('public/out/z-shadow')!.storageType, 'error')
    assert.equal(o.state, 'failed')
  })

  it('stops what the task left running before its artifacts are checked, so a checked file cannot be swapped', async function () {
    this.timeout(180_000) // 1500 uploads: slow on a loaded machine
    // 1500 files take the worker seconds to upload; half a second after the commands end, a
    // process the task left behind replaces each with a link to /etc/shadow
    const swap = 'sleep 0.5; for f in out/*; do ln -sf /etc/shadow "$f"; done'
    const o = await mu.run({
      command: [['sh', '-c', `mkdir out && for i in $(seq 1000 2499); do echo data > out/$i; done; setsid sh -c '${swap}' >/dev/null 2>&1 < /dev/null &`]],
      maxRunTime: 60,
      artifacts: [{ type: 'directory', path: 'out', name: 'public/out' }],
    })
    const uploaded = [...mu.fake.artifacts(o.id).entries()].filter(([name]) => name.startsWith('public/out/'))
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
    const o = await mu.run(
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
    const me = /^me=(task_[\w-]+)$/m.exec(o.log)![1]
    assert.match(o.log, new RegExp(`^file=${me}$`, 'm'))
    assert.match(o.log, new RegExp(`^cache=${me}$`, 'm'))
    assert.match(o.log, /^cache-writable$/m)

    const refused = await mu.run({ command: [['echo', 'SHOULD-NOT-RUN']], maxRunTime: 60, mounts: [{ file: `${rootOnly}/sub/f.txt`, content: { raw: 'x' } }] })
    assert.equal(refused.state, 'failed', refused.log)
    assert.match(refused.log, /\[mounts\] Cannot mount at .*megalodon-rootonly-\w+\/sub\/f\.txt with the task's rights: .*Permission denied/)
    assert.equal(existsSync(path.join(rootOnly, 'sub')), false, 'root made nothing there for the task')
    assert.doesNotMatch(refused.log, /^SHOULD-NOT-RUN$/m)
  })

  it('makes the task user as generic-worker does: useradd -m -d /home/<user> (skeleton files, default shell), chfn -f, a password; its home goes with it (runtime/runtime_linux.go:7-28)', async () => {
    const script = 'me=$(whoami); echo "me=$me"; getent passwd "$me"; stat -c "home=%U %a" "$HOME"; ls -A "$HOME" | tr "\\n" " "; echo'
    const o = await mu.run({ command: [['sh', '-c', script]], maxRunTime: 60 })
    assert.equal(o.state, 'completed', o.log)
    const user = /^me=(task_[\w-]+)$/m.exec(o.log)![1]!
    const shell = /^SHELL=(.*)$/m.exec(readFileSync('/etc/default/useradd', 'utf8'))?.[1] ?? '/bin/sh'
    // chfn -f <user> on Debian leaves the other GECOS fields empty
    assert.match(o.log, new RegExp(`^${user}:x:\\d+:\\d+:${user},,,:/home/${user}:${shell}$`, 'm'))
    assert.match(o.log, new RegExp(`^home=${user} 700$`, 'm'), 'a private home: other task users may run beside it')
    for (const f of readdirSync('/etc/skel')) assert.ok(o.log.includes(f), `${f} copied from /etc/skel`)
    assert.equal(existsSync(`/home/${user}`), false, 'its home went with it')
    assert.equal(userExists(user), false)
  })

  it('with tasksDir /home, the task directory is the home, with the skeleton files (multiuser.go:56-80, multiuser_linux.go:12-14)', async () => {
    const script = 'echo "home=$HOME pwd=$(pwd)"; ls -A | tr "\\n" " "; echo'
    const o = await mu.run({ command: [['sh', '-c', script]], maxRunTime: 60 }, [], { tasksDir: '/home' })
    assert.equal(o.state, 'completed', o.log)
    const [, home, pwd] = /^home=(\S+) pwd=(\S+)$/m.exec(o.log)!
    assert.equal(home, pwd)
    assert.equal(path.dirname(home!), '/home')
    for (const f of readdirSync('/etc/skel')) assert.ok(o.log.includes(f), `${f} in the task directory`)
    assert.equal(existsSync(home!), false, 'the task directory is removed after the task')
  })

  it('prints the multiuser engine’s schema for a payload that fails it (generated_multiuser_linux.go JSONSchema, main.go:935)', async () => {
    const o = await mu.run({ command: 'not a list', maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'])
    assert.match(o.log, /Task payload for this worker type must conform to the following jsonschema:/)
    assert.match(o.log, /"runTaskAsCurrentUser": \{/)
  })

  it('puts the task user in its osGroups with the scope, and refuses them without it', async () => {
    const scope = `generic-worker:os-group:${MULTIUSER_POOL}/${MULTIUSER_TEST_GROUP}`
    const ok = await mu.run({ command: [['id', '-Gn']], maxRunTime: 60, osGroups: [MULTIUSER_TEST_GROUP] }, [scope])
    assert.equal(ok.state, 'completed', ok.log)
    assert.match(ok.log, new RegExp(`\\b${MULTIUSER_TEST_GROUP}\\b`))
    const noScope = await mu.run({ command: [['true']], maxRunTime: 60, osGroups: [MULTIUSER_TEST_GROUP] })
    assert.deepEqual([noScope.state, noScope.reason], ['exception', 'malformed-payload'])
    assert.ok(noScope.log.includes(scope), noScope.log)
    // usermod -aG fails for a group the host lacks (exit status 6): a line per group, then the
    // payload is at fault (os_groups_multiuser.go:28-45, os_groups_multiuser_linux.go:9-11)
    const groups = ['no-such-group-here', MULTIUSER_TEST_GROUP, 'nor-this-one']
    const unknown = await mu.run({ command: [['echo', 'SHOULD-NOT-RUN']], maxRunTime: 60, osGroups: groups }, groups.map((g) => `generic-worker:os-group:${MULTIUSER_POOL}/${g}`))
    assert.deepEqual([unknown.state, unknown.reason], ['exception', 'malformed-payload'])
    assert.match(unknown.log, /^\[taskcluster:error\] \[osGroups\] Could not add task user to OS group no-such-group-here: exit status 6$/m)
    assert.match(unknown.log, /^\[taskcluster:error\] \[osGroups\] Could not add task user to OS group nor-this-one: exit status 6$/m)
    assert.match(unknown.log, /could not add task user to OS group\(s\) \[no-such-group-here nor-this-one\]/)
    assert.doesNotMatch(unknown.log, /SHOULD-NOT-RUN/)
  })

  it('takes the task user out of its osGroups after the task with gpasswd -d (os_groups_multiuser.go:48-61)', async () => {
    const scope = `generic-worker:os-group:${MULTIUSER_POOL}/${MULTIUSER_TEST_GROUP}`
    // cleanUpTaskDirs false keeps the task user, so its groups can be read afterwards
    const o = await mu.run({ command: [['sh', '-c', 'echo "me=$(whoami) groups=$(id -Gn)"']], maxRunTime: 60, osGroups: [MULTIUSER_TEST_GROUP] }, [scope], { cleanUpTaskDirs: false })
    assert.equal(o.state, 'completed', o.log)
    const [, me, during] = /^me=(task_[\w-]+) groups=(.*)$/m.exec(o.log)!
    try {
      assert.ok(during!.split(' ').includes(MULTIUSER_TEST_GROUP), during)
      const members = execFileSync('getent', ['group', MULTIUSER_TEST_GROUP], { encoding: 'utf8' }).trim().split(':')[3]!.split(',')
      assert.ok(!members.includes(me!), `${me} left ${MULTIUSER_TEST_GROUP}: ${members.join(',')}`)
    } finally {
      execFileSync('userdel', [me!])
    }
  })

  it('runs as the worker’s user with runTaskAsCurrentUser, only when mu.config and scope allow', async () => {
    const scope = `generic-worker:run-task-as-current-user:${MULTIUSER_POOL}`
    const payload = { command: [['sh', '-c', 'echo "me=$(whoami)"']], maxRunTime: 60, features: { runTaskAsCurrentUser: true } }
    const ok = await mu.run(payload, [scope], { enableRunTaskAsCurrentUser: true })
    assert.equal(ok.state, 'completed', ok.log)
    assert.match(ok.log, new RegExp(`^me=${os.userInfo().username}$`, 'm'))
    // on by default on multiuser (gwconfig/config_multiuser.go:11-14): only an explicit false turns it off
    const byDefault = await mu.run(payload, [scope])
    assert.equal(byDefault.state, 'completed', byDefault.log)
    const off = await mu.run(payload, [scope], { enableRunTaskAsCurrentUser: false })
    assert.deepEqual([off.state, off.reason], ['exception', 'malformed-payload'])
    assert.match(off.log, /this task is attempting to use feature "Run Task As Current User", but it's not enabled on this worker pool/)
    const noScope = await mu.run(payload, [], { enableRunTaskAsCurrentUser: true })
    assert.deepEqual([noScope.state, noScope.reason], ['exception', 'malformed-payload'])
    assert.ok(noScope.log.includes(scope))
  })
})
