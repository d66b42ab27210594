// generic-worker's multiuser engine on Linux: each task runs as a fresh OS user, created before
// the task as generic-worker creates it (home /home/<name> with the skeleton files, a password),
// given what is in the task directory (see giveTaskDirectory for why not the directory itself),
// and removed with all its processes after the task. Commands run through util-linux's `setpriv`, which sets the
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
  /** /home/<name>, as generic-worker's (runtime/runtime_linux.go:15); the task directory when tasksDir is /home. */
  home: string
  taskDir: string
  /** Set with chpasswd when the user is made (runtime/runtime_linux.go:20); TASK_USER_CREDENTIALS tells it. */
  password: string
}

/** Where task users' homes are (gwruntime.UserHomeDirectoriesParent on Linux: runtime/runtime_other.go:40-42). */
export const USER_HOMES = '/home'


/** Prefix of every task user's name: a worker removes only users it could have made. */
export const TASK_USER_PREFIX = 'task_'

/**
 * A new user named like the task directory, made as generic-worker makes one
 * (runtime/runtime_linux.go:7-24): `useradd -m -d /home/<name>` (the host's default shell and
 * skeleton files), `chfn -f <name>`, and a `pWd0_…` password through chpasswd. Its home is
 * then private (0700): other task users, who may run beside it, cannot read what the task
 * keeps there. When the task directory is that home (tasksDir /home, the default) it exists
 * already, so useradd copies nothing and the skeleton files are copied here, as the
 * directory would have held them. osGroups come later (addTaskUserToGroups).
 */
export async function createTaskUser(taskDir: string): Promise<TaskUser> {
  const name = path.basename(taskDir)
  if (!name.startsWith(TASK_USER_PREFIX)) throw new Error(`a task user is named like its task directory (task_…), not ${name}`)
  const home = path.join(USER_HOMES, name)
  const homeIsTaskDir = home === path.resolve(taskDir)
  await run('/usr/sbin/useradd', ['-m', '-d', home, name])
  const uid = Number((await run('id', ['-u', name])).stdout.trim())
  const gid = Number((await run('id', ['-g', name])).stdout.trim())
  const user: TaskUser = { name, uid, gid, home, taskDir, password: '' }
  await run('/usr/bin/chfn', ['-f', name, name])
  user.password = await setRandomPassword(user)
  if (homeIsTaskDir) await copySkeleton(taskDir)
  else await chmod(home, 0o700)
  await giveTaskDirectory(user)
  return user
}

/** /etc/skel's files, as `useradd -m` copies them into a home it makes (owners are set by giveTaskDirectory). */
async function copySkeleton(dir: string): Promise<void> {
  const entries = await readdir(SKELETON).catch(() => [] as string[])
  if (entries.length > 0) await run('cp', ['-a', '--', ...entries.map((e) => path.join(SKELETON, e)), dir])
}
const SKELETON = '/etc/skel'

/**
 * What is in the task directory (mounts included) belongs to the task user; the directory itself
 * stays root's, group-writable for the task user's group and sticky (mode 1770), so the task can
 * create and remove its own files there but can never rename or replace the worker's
 * `generic-worker/` directory (the task log, chain of trust files), which root then writes to.
 */
export async function giveTaskDirectory(user: TaskUser): Promise<void> {
  // tasksDir must let task users through to their own directory (0711: through, not listing)
  const parent = path.dirname(user.taskDir)
  const mode = (await stat(parent)).mode & 0o7777
  if ((mode & 0o011) !== 0o011) await chmod(parent, mode | 0o711)
  await run('chown', [`0:${user.gid}`, user.taskDir])
  await run('chmod', ['1770', user.taskDir])
  const entries = (await readdir(user.taskDir)).filter((e) => e !== 'generic-worker').map((e) => path.join(user.taskDir, e))
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

/** Gives the task user a fresh random password (runtime/runtime.go:13-24) and returns it. */
export async function setRandomPassword(user: TaskUser): Promise<string> {
  const password = generatePassword()
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/usr/sbin/chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] })
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
  const password = user.password
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

/**
 * Kill every process of the user, then remove it and its home, unless that home is the task
 * directory, which is the worker's to remove once the task log is uploaded (generic-worker's
 * `userdel --force -r`: runtime/runtime_linux.go:26-28).
 */
export async function removeTaskUser(name: string, taskDir?: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await killTaskUserProcesses(name)
    try {
      await run('/usr/sbin/userdel', [name])
      break
    } catch (err) {
      // "user is currently used by process": the kill has not landed yet
      if (attempt === 19) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const home = path.join(USER_HOMES, name)
  if (taskDir === undefined || path.resolve(taskDir) !== home) await rm(home, { recursive: true, force: true })
}

/**
 * What a previous run of a worker (crashed, or generic-worker before it) left: task users whose
 * home is /home/<name> or <tasksDir>/<name>, with their homes, and the task_* directories in
 * /home (generic-worker's purgeOldTasks at start: multiuser.go:270-300). Removed at start.
 */
export async function removeLeftoverTaskUsers(tasksDir: string): Promise<string[]> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '')
  const homes = new Set([USER_HOMES, path.resolve(tasksDir)])
  const leftovers = passwd
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f[0]?.startsWith(TASK_USER_PREFIX) && f[5] !== undefined && homes.has(path.dirname(f[5])))
    .map((f) => f[0]!)
  for (const name of leftovers) await removeTaskUser(name).catch(() => undefined)
  for (const entry of await readdir(USER_HOMES).catch(() => [] as string[])) {
    if (entry.startsWith(TASK_USER_PREFIX)) await rm(path.join(USER_HOMES, entry), { recursive: true, force: true }).catch(() => undefined)
  }
  return leftovers
}
