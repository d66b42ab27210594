// The multiuser engine, continued: the environment and credentials task users get, config's
// runAfterUserCreation, chain-of-trust additional data read as the task user, and when task
// users are kept or removed.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generateKeyPair, verifyDetached } from '../../src/lib/ed25519.js'

import { MULTIUSER_POOL, multiuserHarness, userExists } from '../helpers/multiuser.js'

describe('multiuser engine (root): the task user’s environment, credentials and lifetime', function () {
  this.timeout(60_000)
  const mu = multiuserHarness()

  // generic-worker multiuser_posix.go:151-154: DISPLAY=:0 and XDG_RUNTIME_DIR=/run/user/<task uid>
  // unless headlessTasks; the worker's own XDG_RUNTIME_DIR never reaches the task
  it('gives tasks generic-worker’s multiuser environment: PATH and identity as defaults, DISPLAY and the task user’s XDG_RUNTIME_DIR unless headless', async () => {
    const show = ['sh', '-c', 'echo "path=$PATH"; echo "display=${DISPLAY-unset}"; echo "xdg=${XDG_RUNTIME_DIR-unset}"; echo "user=$USER"']
    process.env.XDG_RUNTIME_DIR = '/run/user/0'
    try {
      const desktop = await mu.run({ command: [show], maxRunTime: 60 })
      assert.equal(desktop.state, 'completed', desktop.log)
      assert.match(desktop.log, /^path=\/usr\/local\/bin:\/usr\/bin:\/bin:\/usr\/sbin:\/sbin$/m)
      assert.match(desktop.log, /^display=:0$/m)
      assert.match(desktop.log, /^xdg=\/run\/user\/[1-9]\d*$/m)
      assert.match(desktop.log, /^user=task_[\w-]+$/m)
      // the payload overrides the defaults, but not DISPLAY
      const own = await mu.run({ command: [show], maxRunTime: 60, env: { PATH: '/opt/bin:/usr/bin:/bin', USER: 'someone', DISPLAY: ':7' } })
      assert.match(own.log, /^path=\/opt\/bin:\/usr\/bin:\/bin$/m)
      assert.match(own.log, /^user=someone$/m)
      assert.match(own.log, /^display=:0$/m)
      const headless = await mu.run({ command: [show], maxRunTime: 60 }, [], { headlessTasks: true })
      assert.match(headless.log, /^display=unset$/m)
      assert.match(headless.log, /^xdg=unset$/m)
    } finally {
      delete process.env.XDG_RUNTIME_DIR
    }
  })

  // generic-worker run_task_as_current_user_posix.go:31-41 and its testdata/check-task-user-credentials.go:
  // TASK_USER_CREDENTIALS is $TASK_WORKDIR/task-user-credentials.json, which exists; written as
  // fileutil.WriteToFileAsJSON does (two-space indent, newline), mode 0600, the worker's
  it('hands runTaskAsCurrentUser tasks the task user’s credentials in $TASK_WORKDIR/task-user-credentials.json, never in the log', async () => {
    const scope = `generic-worker:run-task-as-current-user:${MULTIUSER_POOL}`
    const check = '[ "$TASK_USER_CREDENTIALS" = "$TASK_WORKDIR/task-user-credentials.json" ] && [ -e "$TASK_USER_CREDENTIALS" ] && echo "TASK_USER_CREDENTIALS = $TASK_USER_CREDENTIALS (verified)"'
    const o = await mu.run(
      {
        // the worker's user (root) reads the file; the test keeps its content as a private artifact
        command: [['sh', '-c', check], ['sh', '-c', 'cat "$TASK_USER_CREDENTIALS" > creds.json; stat -c "mode=%a owner=%U" "$TASK_USER_CREDENTIALS"']],
        maxRunTime: 60,
        features: { runTaskAsCurrentUser: true },
        artifacts: [{ type: 'file', path: 'creds.json', name: 'private/creds.json' }],
      },
      [scope],
      { enableRunTaskAsCurrentUser: true },
    )
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, /^TASK_USER_CREDENTIALS = \/.*\/task_[\w-]+_0\/task-user-credentials\.json \(verified\)$/m)
    assert.match(o.log, /^mode=600 owner=root$/m)
    const text = mu.fake.artifacts(o.id).get('private/creds.json')!.content!.toString()
    const creds = JSON.parse(text) as { name: string; password: string }
    assert.equal(text, `{\n  "name": "${creds.name}",\n  "password": "${creds.password}"\n}\n`)
    assert.match(creds.name, /^task_[\w-]+$/)
    // runtime/runtime.go:22-24: pWd0_ and 24 letters and digits
    assert.match(creds.password, /^pWd0_[A-Za-z0-9]{24}$/)
    assert.ok(!o.log.includes(creds.password), 'the password is not in the task log')
    // the user is gone now; its password was a real one while it existed (checked in the next test's way)
    assert.equal(userExists(creds.name), false)
  })

  // multiuser_posix.go:139-141 (HOME and USER stay the task user's), run_task_as_current_user_posix.go:47-58
  // (no XDG_RUNTIME_DIR, not even the payload's), os_groups_multiuser.go:22-24 (groups skipped),
  // run_task_as_current_user_feature.go:19-29 (refused with capacity > 1)
  it('runTaskAsCurrentUser keeps the task user’s HOME and USER, drops XDG_RUNTIME_DIR, skips osGroups, and is refused with capacity > 1', async () => {
    const scopes = [`generic-worker:run-task-as-current-user:${MULTIUSER_POOL}`, `generic-worker:os-group:${MULTIUSER_POOL}/no-such-group-here`]
    const payload = {
      command: [['sh', '-c', 'echo "user=$USER home=$HOME xdg=${XDG_RUNTIME_DIR-unset} me=$(whoami)"']],
      maxRunTime: 60,
      env: { XDG_RUNTIME_DIR: '/run/user/12345' },
      osGroups: ['no-such-group-here'],
      features: { runTaskAsCurrentUser: true },
    }
    const o = await mu.run(payload, scopes, { enableRunTaskAsCurrentUser: true })
    assert.equal(o.state, 'completed', o.log)
    assert.match(o.log, /Not adding task user to group\(s\) \[no-such-group-here\] since we are running as current user\./)
    const m = /^user=(task_[\w-]+) home=(\S+) xdg=unset me=(\S+)$/m.exec(o.log)
    assert.ok(m, o.log)
    assert.equal(m[3], os.userInfo().username)
    // the task user is named like its task directory, which is its HOME (generic-worker main.go:648-658)
    assert.equal(path.basename(m[2]!), m[1], 'USER is the task user')
    assert.notEqual(m[2], os.userInfo().homedir, 'HOME is the task user’s')
    const wide = await mu.run(payload, scopes, { enableRunTaskAsCurrentUser: true, capacity: 2, headlessTasks: true })
    assert.deepEqual([wide.state, wide.reason], ['exception', 'malformed-payload'])
    assert.match(wide.log, /feature "Run Task As Current User" is not compatible with capacity > 1 \(current capacity: 2\) because it would bypass per-task user isolation/)
  })

  it('sets a task user password that its shadow entry verifies', async () => {
    // the same function the executor uses, on a user made for the test
    const { createTaskUser, removeTaskUser } = await import('../../executors/native/task-user.js')
    mkdirSync(String(mu.config.tasksDir), { recursive: true })
    const dir = mkdtempSync(path.join(String(mu.config.tasksDir), 'task_pw'))
    const user = await createTaskUser(dir)
    try {
      // set when the user is made, for every task (runtime/runtime_linux.go:20), in generic-worker's form (runtime/runtime.go:13-24)
      const password = user.password
      assert.match(password, /^pWd0_[A-Za-z0-9]{24}$/)
      const hash = execFileSync('getent', ['shadow', user.name]).toString().split(':')[1]!
      const verified = execFileSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? "yes" : "no"', password, hash]).toString()
      assert.equal(verified, 'yes')
    } finally {
      await removeTaskUser(user.name, dir)
    }
  })

  it('runs config’s runAfterUserCreation as the new task user before the task, and a failing one is an internal error', async () => {
    const hookDir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-hook-'))
    chmodSync(hookDir, 0o755)
    const hook = path.join(hookDir, 'after-user')
    writeFileSync(hook, '#!/bin/sh\necho "hook ran as $(whoami) in $(pwd)" > hook.txt\n', { mode: 0o755 })
    const o = await mu.run({ command: [['sh', '-c', 'cat hook.txt; echo "task as $(whoami)"; rm hook.txt && echo removable']], maxRunTime: 60 }, [], { runAfterUserCreation: hook })
    assert.equal(o.state, 'completed', o.log)
    const m = /^hook ran as (task_[\w-]+) in (\S+)$/m.exec(o.log)
    assert.ok(m, o.log)
    assert.match(o.log, new RegExp(`^task as ${m[1]}$`, 'm'))
    assert.match(o.log, /^removable$/m)
    const failing = path.join(hookDir, 'failing')
    writeFileSync(failing, '#!/bin/sh\necho secret-setup-output\nexit 3\n', { mode: 0o755 })
    const bad = await mu.run({ command: [['sh', '-c', 'echo SHOULD-NOT-RUN']], maxRunTime: 60 }, [], { runAfterUserCreation: failing })
    assert.deepEqual([bad.state, bad.reason], ['exception', 'internal-error'])
    assert.match(bad.log, /runAfterUserCreation \(.*failing\) failed for task user task_[\w-]+: exit code 3/)
    assert.doesNotMatch(bad.log, /SHOULD-NOT-RUN|secret-setup-output/)
    const users = readFileSync('/etc/passwd', 'utf8').split('\n').filter((l) => l.startsWith('task_') && l.includes(String(mu.config.tasksDir)))
    assert.deepEqual(users, [], 'the task user of the failed hook was removed')
  })

  // multiuser.go:89-110: process.NewCommand([]string{script}, ctx.TaskDir, nil, pdTaskUser) — a nil
  // Env is the worker's own environment, to which Go's exec adds PWD=<dir> (os/exec environ());
  // megalodon leaves out only what generic-worker's environment would not hold (env.ts isPrivate)
  it('runs runAfterUserCreation with the worker’s environment and PWD its task directory, not the task’s environment', async () => {
    const hookDir = mkdtempSync(path.join(os.tmpdir(), 'megalodon-hook-'))
    chmodSync(hookDir, 0o755)
    const hook = path.join(hookDir, 'after-user')
    writeFileSync(hook, '#!/bin/sh\n{ env; echo "cwd=$(pwd)"; } > hook-env.txt\n', { mode: 0o755 })
    const saved = { ...process.env }
    Object.assign(process.env, { GW_HOOK_PROBE: 'from-the-worker', TASKCLUSTER_ACCESS_TOKEN: 'worker-secret-token', MEGALODON_HOOK_PROBE: 'megalodon-own' })
    try {
      const o = await mu.run({ command: [['cat', 'hook-env.txt']], env: { PROBE_FROM_PAYLOAD: 'payload' }, maxRunTime: 60 }, [], { runAfterUserCreation: hook })
      assert.equal(o.state, 'completed', o.log)
      assert.match(o.log, /^GW_HOOK_PROBE=from-the-worker$/m)
      assert.ok(o.log.split('\n').includes(`PATH=${process.env.PATH}`), 'the worker’s PATH')
      const cwd = /^cwd=(\S+)$/m.exec(o.log)
      assert.ok(cwd, o.log)
      assert.match(o.log, new RegExp(`^PWD=${cwd[1]}$`, 'm'))
      assert.doesNotMatch(o.log, /PROBE_FROM_PAYLOAD|^TASK_ID=|worker-secret-token|megalodon-own/m)
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })

  // process/multiuser_posix.go:89 exec.Command: a bare name is found on the worker's PATH. Node
  // would search the payload's PATH for megalodon's own setpriv, which runs as root.
  it('finds commands, and the setpriv that runs them, with the worker’s PATH: a task cannot put its own setpriv first on PATH', async () => {
    const plant = 'mkdir -p bin && for f in bin/setpriv bin/mine; do echo "#!/bin/sh" > $f; echo "echo PLANTED-RAN-AS-\\$(id -u)" >> $f; chmod 755 $f; done'
    const o = await mu.run({ command: [['sh', '-c', plant], ['sh', '-c', 'echo "second as $(whoami) zero=$0"'], ['mine']], env: { PATH: 'bin:/usr/bin:/bin' }, maxRunTime: 60 })
    assert.deepEqual([o.state, o.reason], ['failed', 'failed'], o.log)
    // the task's PATH starts with a relative entry: setpriv is handed the resolved path
    assert.match(o.log, /^second as task_[\w-]+ zero=\/\S+\/sh$/m)
    assert.doesNotMatch(o.log, /^PLANTED-RAN-AS-\d+$/m)
    assert.match(o.log, /\n\[taskcluster:error\] exec: "mine": executable file not found in \$PATH\n$/)
    // with generic-worker's default task PATH, sh is found where the worker finds it: argv[0] stays "sh"
    const plain = await mu.run({ command: [['sh', '-c', 'echo "zero=$0"']], maxRunTime: 60 })
    assert.match(plain.log, /^zero=sh$/m)
  })

  it('accepts features.chainOfTrust, as the multiuser schema does', async () => {
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-key-')), 'key')
    const pair = generateKeyPair()
    writeFileSync(keyFile, pair.privateKeyBase64)
    const o = await mu.run({ command: [['true']], maxRunTime: 60, features: { chainOfTrust: true } }, [], { ed25519SigningKeyLocation: keyFile })
    assert.equal(o.state, 'completed', o.log)
    const a = mu.fake.artifacts(o.id)
    assert.ok(verifyDetached(pair.publicKeyBase64, a.get('public/chain-of-trust.json')!.content!, a.get('public/chain-of-trust.json.sig')!.content!))
  })

  it('refuses chain of trust when the task’s user can read the signing key, e.g. runTaskAsCurrentUser (chain_of_trust_feature.go:21-24,126-137)', async () => {
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-key-')), 'key')
    writeFileSync(keyFile, generateKeyPair().privateKeyBase64)
    const payload = { command: [['true']], maxRunTime: 60, features: { chainOfTrust: true, runTaskAsCurrentUser: true } }
    const o = await mu.run(payload, [`generic-worker:run-task-as-current-user:${MULTIUSER_POOL}`], { ed25519SigningKeyLocation: keyFile })
    assert.deepEqual([o.state, o.reason], ['exception', 'malformed-payload'], o.log)
    assert.match(o.log, /was expecting attempt to read private chain of trust key as task user to fail - however, it did not/)
    assert.equal(mu.fake.artifacts(o.id).has('public/chain-of-trust.json'), false)
  })

  it('adds the task’s chain-of-trust-additional-data.json to the certificate, read as the task user', async () => {
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'megalodon-key-')), 'key')
    const pair = generateKeyPair()
    writeFileSync(keyFile, pair.privateKeyBase64)
    const cot = (command: string) => mu.run({ command: [['sh', '-c', command]], maxRunTime: 60, features: { chainOfTrust: true } }, [], { ed25519SigningKeyLocation: keyFile })
    const o = await cot(`echo '{"buildSignature": {"tool": "x", "digest": "abc"}, "note": "<from the task>"}' > chain-of-trust-additional-data.json`)
    assert.equal(o.state, 'completed', o.log)
    const a = mu.fake.artifacts(o.id)
    const bytes = a.get('public/chain-of-trust.json')!.content!
    assert.ok(verifyDetached(pair.publicKeyBase64, bytes, a.get('public/chain-of-trust.json.sig')!.content!))
    const cert = JSON.parse(bytes.toString()) as Record<string, unknown>
    assert.deepEqual(cert.buildSignature, { digest: 'abc', tool: 'x' })
    assert.equal(cert.note, '<from the task>')
    assert.ok(bytes.toString().includes('"\\u003cfrom the task\\u003e"'), 'Go’s escaping applies to the added data too')
    assert.equal(cert.taskId, o.id)

    // a link to a file only root can read publishes nothing of it
    // a copy that fails, or JSON that does not parse, panics upstream's Stop: internal-error
    // (chain_of_trust_feature.go:203-206,262-281)
    const shadow = await cot('ln -s /etc/shadow chain-of-trust-additional-data.json')
    assert.deepEqual([shadow.state, shadow.reason], ['exception', 'internal-error'], shadow.log)
    assert.match(shadow.log, /chain of trust: cannot read chain-of-trust-additional-data\.json: the task user cannot read/)
    assert.equal(mu.fake.artifacts(shadow.id).has('public/chain-of-trust.json'), false)
    assert.doesNotMatch(shadow.log, /root:/)

    // the certificate is merged over the task's data: the worker's values win, nested objects
    // merge key by key (chain_of_trust_feature.go:286-292, mergemap v0.0.1)
    const forged = await cot(`echo '{"workerId": "someone-else", "environment": {"note": "task"}, "task": {"tags": {"extra": "x"}}}' > chain-of-trust-additional-data.json`)
    assert.equal(forged.state, 'completed', forged.log)
    const merged = JSON.parse(mu.fake.artifacts(forged.id).get('public/chain-of-trust.json')!.content!.toString()) as { workerId: string; environment: Record<string, unknown>; task: { tags: Record<string, string> } }
    assert.notEqual(merged.workerId, 'someone-else')
    assert.equal(merged.environment.note, 'task')
    assert.ok('privateIpAddress' in merged.environment)
    assert.equal(merged.task.tags.extra, 'x')
    assert.deepEqual(Object.keys(merged), [...Object.keys(merged)].sort(), 'a Go map: keys sorted')
    const broken = await cot(`echo '{not json' > chain-of-trust-additional-data.json`)
    assert.deepEqual([broken.state, broken.reason], ['exception', 'internal-error'])
    assert.match(broken.log, /chain-of-trust-additional-data\.json is not valid JSON/)
  })

  it('keeps the task user (without its processes) when cleanUpTaskDirs is false, as it keeps the directory', async () => {
    const o = await mu.run({ command: [['sh', '-c', 'echo "me=$(whoami)"; setsid sleep 300 >/dev/null 2>&1 < /dev/null &']], maxRunTime: 60 }, [], { cleanUpTaskDirs: false })
    assert.equal(o.state, 'completed', o.log)
    const user = /^me=(task_[\w-]+)$/m.exec(o.log)![1]!
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
    execFileSync('useradd', ['--no-create-home', '--home-dir', path.join(String(mu.config.tasksDir), 'task_x_0'), leftover])
    // one as generic-worker (or this worker with another tasksDir) makes them, home /home/<name>
    const homed = `task_${Date.now()}homed`
    execFileSync('useradd', ['-m', '-d', `/home/${homed}`, homed])
    const other = `task_${Date.now()}other`
    execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent/elsewhere/task_y_0', other])
    try {
      await mu.run({ command: [['true']], maxRunTime: 60 })
      assert.equal(userExists(leftover), false, 'this worker’s leftover was removed')
      // multiuser.go:270-300: old task users and /home/task_* go at start
      assert.equal(userExists(homed), false, 'a user with a /home/<name> home was removed')
      assert.equal(existsSync(`/home/${homed}`), false, 'with its home')
      assert.equal(userExists(other), true, 'a user of another tasksDir is not this worker’s')
    } finally {
      execFileSync('userdel', [other])
    }
  })
})
