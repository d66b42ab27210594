// generic-worker's multiuser engine on Linux: each task runs as a fresh OS user, created before
// the task with the task directory as its home (its contents owned by it; see
// giveTaskDirectory for why the directory itself is not), optionally in the payload's osGroups, and removed with all
// its processes after the task. Commands run through util-linux's `setpriv`, which sets the
// user, its group and its supplementary groups, then execs the command (no extra process in
// between, so the process group still reaches everything).

import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, chown, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { execName, goLookPath, workerTool } from './look-path.js'

const run = promisify(execFile)

export interface TaskUser {
  name: string
  uid: number
  gid: number
  home: string
}

/** Prefix of every task user's name: a worker removes only users it could have made. */
export const TASK_USER_PREFIX = 'task_'

/**
 * A new user whose home is the task directory, in no group but its own (osGroups come later:
 * addTaskUserToGroups). Named like the task directory and with that name as its full name, as
 * generic-worker's headless task users are (main.go:648-658, runtime/runtime_linux.go:13-21
 * `useradd`, `chfn -f <name>`).
 */
export async function createTaskUser(taskDir: string): Promise<TaskUser> {
  const name = path.basename(taskDir)
  if (!name.startsWith(TASK_USER_PREFIX)) throw new Error(`a task user is named like its task directory (task_…), not ${name}`)
  const args = ['--no-create-home', '--home-dir', taskDir, '--shell', '/bin/bash', '--user-group', '--comment', name]
  await run('useradd', [...args, name])
  const uid = Number((await run('id', ['-u', name])).stdout.trim())
  const gid = Number((await run('id', ['-g', name])).stdout.trim())
  const user = { name, uid, gid, home: taskDir }
  await giveTaskDirectory(user)
  return user
}

/**
 * What is in the task directory (mounts included) belongs to the task user; the directory itself
 * stays root's, group-writable for the task user's group and sticky (mode 1770), so the task can
 * create and remove its own files there but can never rename or replace the worker's
 * `generic-worker/` directory (the task log, chain of trust files), which root then writes to.
 */
export async function giveTaskDirectory(user: TaskUser): Promise<void> {
  // tasksDir must let task users through to their own directory (0711: through, not listing)
  const parent = path.dirname(user.home)
  const mode = (await stat(parent)).mode & 0o7777
  if ((mode & 0o011) !== 0o011) await chmod(parent, mode | 0o711)
  await run('chown', [`0:${user.gid}`, user.home])
  await run('chmod', ['1770', user.home])
  const entries = (await readdir(user.home)).filter((e) => e !== 'generic-worker').map((e) => path.join(user.home, e))
  if (entries.length > 0) await run('chown', ['-R', '--no-dereference', `${user.uid}:${user.gid}`, ...entries])
}

/** argv that runs `argv` as the task user, with its supplementary groups. */
export function asTaskUser(user: TaskUser, argv: readonly string[]): string[] {
  // setpriv by absolute path: spawned with the task's environment, a bare name would be looked
  // up on the task's PATH, where the task could put a `setpriv` of its own for root to run
  return [workerTool('setpriv'), `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv]
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** generic-worker's task user password: `pWd0_` and 24 random letters and digits (runtime/runtime.go:13-24). */
export function generatePassword(): string {
  let random = ''
  while (random.length < 24) {
    // 62 letters and digits: bytes from 248 up are dropped so each is equally likely
    for (const b of randomBytes(32)) if (b < 248 && random.length < 24) random += ALPHANUMERIC[b % 62]
  }
  return `pWd0_${random}`
}

/**
 * Gives the task user a fresh random password and returns it: runTaskAsCurrentUser tasks are
 * handed the task user's credentials (TASK_USER_CREDENTIALS), which must then be true ones.
 */
export async function setRandomPassword(user: TaskUser): Promise<string> {
  const password = generatePassword()
  await new Promise<void>((resolve, reject) => {
    const child = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd exited ${code}: ${stderr.trim()}`))))
    child.stdin.end(`${user.name}:${password}\n`)
  })
  return password
}

/**
 * runTaskAsCurrentUser: the task runs as the worker's user, and is told the task user's
 * credentials in `<taskDir>/task-user-credentials.json`, as generic-worker writes it
 * (run_task_as_current_user_posix.go:31-41, fileutil.go:20-42, fileutil_posix.go:17-50):
 * `{"name", "password"}` indented by two spaces with a newline, owned by the worker, mode 0600.
 */
export async function writeTaskUserCredentials(taskDir: string, user: TaskUser): Promise<string> {
  const password = await setRandomPassword(user)
  const file = path.join(taskDir, 'task-user-credentials.json')
  await rm(file, { force: true })
  await writeFile(file, JSON.stringify({ name: user.name, password }, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  await chown(file, process.getuid?.() ?? 0, process.getgid?.() ?? 0)
  return file
}

/**
 * Config's runAfterUserCreation, as generic-worker runs it (multiuser.go:89-110): as the new task
 * user, in its task directory, with the worker's own environment (a nil exec.Cmd.Env: Go adds
 * PWD=<task dir>, os/exec environ()), the executable found with the worker's PATH, stdout and
 * stderr both to the worker's stdout (DirectOutput(os.Stdout)), not to the task log.
 * Resolves to its exit code (or the signal that ended it, or why it could not start).
 */
export function runAfterUserCreation(user: TaskUser, executable: string, taskDir: string, workerEnv: Record<string, string>): Promise<number | string> {
  const found = goLookPath(executable, workerEnv.PATH)
  if ('error' in found) return Promise.resolve(found.error)
  return new Promise((resolve) => {
    const argv = asTaskUser(user, [execName(executable, found.file, workerEnv.PATH)])
    const child = spawn(argv[0]!, argv.slice(1), { cwd: taskDir, env: { ...workerEnv, PWD: path.resolve(taskDir) }, stdio: ['ignore', 1, 1] })
    child.once('error', (err) => resolve(err.message))
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
}

/**
 * Reads a file as the task user (undefined when it does not exist), at most maxBytes: the
 * worker, root, must not publish a file the task only pointed at (a link to /etc/shadow).
 */
export async function readAsTaskUser(user: TaskUser, file: string, maxBytes: number): Promise<Buffer | undefined> {
  // exit 3: no such file; one byte more than allowed is read to tell "too large"
  const argv = asTaskUser(user, ['sh', '-c', 'test -e "$1" || test -L "$1" || exit 3; exec head -c "$2" -- "$1"', 'sh', file, String(maxBytes + 1)])
  let content: Buffer
  try {
    // no environment: a task-user process must not show the worker's in /proc/<pid>/environ
    content = (await run(argv[0]!, argv.slice(1), { encoding: 'buffer', maxBuffer: maxBytes + 1024, env: {} })).stdout
  } catch (err) {
    const failed = err as { code?: number; stderr?: Buffer }
    if (failed.code === 3) return undefined
    throw new Error(`the task user cannot read ${path.basename(file)}: ${failed.stderr?.toString().trim() || `exit code ${failed.code}`}`)
  }
  if (content.length > maxBytes) throw new Error(`${path.basename(file)} is larger than ${maxBytes} bytes`)
  return content
}

/** Kill every process the user still has (the task is over, whether or not the user stays). */
export async function killTaskUserProcesses(name: string): Promise<void> {
  // a killed process lingers a moment before it is gone: kill until none is left (pkill exits 1)
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = await run('pkill', ['-KILL', '-u', name]).then(
      () => true,
      () => false,
    )
    if (!found) return
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Kill every process of the user, then remove it (its home, the task directory, is the worker's to remove). */
export async function removeTaskUser(name: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await killTaskUserProcesses(name)
    try {
      await run('userdel', [name])
      return
    } catch (err) {
      // "user is currently used by process": the kill has not landed yet
      if (attempt === 19) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** Users a previous run of a worker with this tasksDir left (it crashed): removed at start. */
export async function removeLeftoverTaskUsers(tasksDir: string): Promise<string[]> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '')
  const leftovers = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f[0]?.startsWith(TASK_USER_PREFIX) && f[5] !== undefined && path.dirname(f[5]) === path.resolve(tasksDir))
    .map((f) => f[0]!)
  for (const name of leftovers) await removeTaskUser(name).catch(() => undefined)
  return leftovers
}
