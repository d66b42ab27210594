// Every configuration key megalodon accepts: generic-worker's keys (same names, same defaults)
// plus a few of our own. `applies: false` marks generic-worker keys that are accepted so that
// an existing config file (or worker-runner's generated one) loads, but are not acted on yet;
// the worker logs them at start-up. The README's configuration table is this table.

export interface ConfigKeySpec {
  type: 'string' | 'integer' | 'boolean' | 'object' | 'any'
  default?: unknown
  applies: boolean
  min?: number
  max?: number
  doc: string
}

const s = (doc: string, def: string | undefined, applies = true): ConfigKeySpec => ({ type: 'string', default: def, applies, doc })
const i = (doc: string, def: number, applies = true, min = 0, max?: number): ConfigKeySpec => ({ type: 'integer', default: def, applies, doc, min, max })
const b = (doc: string, def: boolean, applies = true): ConfigKeySpec => ({ type: 'boolean', default: def, applies, doc })

export const configKeys: Record<string, ConfigKeySpec> = {
  // --- identity and credentials ---
  rootURL: s('Taskcluster deployment root URL', ''),
  clientId: s('worker client id', ''),
  accessToken: s('worker access token', ''),
  certificate: s('certificate, when the worker credentials are temporary', ''),
  provisionerId: s('first half of the worker pool id', 'test-provisioner'),
  workerType: s('second half of the worker pool id', ''),
  workerGroup: s('worker group', 'test-worker-group'),
  workerId: s('worker id', ''),
  // --- claiming ---
  capacity: i('tasks run at once', 1, true, 1, 255),
  numberOfTasksToRun: i('exit after this many tasks (0 = never)', 0),
  idleTimeoutSecs: i('exit after this long without a task (0 = never)', 0),
  // --- directories ---
  tasksDir: s('parent of the per-task directories', 'tasks'),
  cachesDir: s('writable directory caches', 'caches'),
  downloadsDir: s('downloaded mount content', 'downloads'),
  cleanUpTaskDirs: b('remove task directories after the task', true),
  // --- artifacts and tasks ---
  createObjectArtifacts: b('upload artifacts to the Object service instead of s3 artifacts', false),
  maxTaskRunTime: i('largest payload.maxRunTime accepted, in seconds', 86400, true, 1),
  // --- host facts (task env, chain of trust, log header) ---
  publicIP: s('public IP of the host', ''),
  privateIP: s('private IP of the host', ''),
  instanceType: s('cloud instance type (TASKCLUSTER_INSTANCE_TYPE)', ''),
  instanceID: s('cloud instance id', ''),
  region: s('cloud region', ''),
  availabilityZone: s('cloud availability zone', ''),
  workerLocation: s('RFC 148 worker location JSON (TASKCLUSTER_WORKER_LOCATION)', ''),
  workerTypeMetadata: { type: 'object', default: {}, applies: true, doc: 'printed at the top of every task log' },
  // --- megalodon's own ---
  engine: s('how native tasks are isolated: "insecure" (as the worker\'s user) or "multiuser" (a fresh OS user per task; the worker must run as root)', 'insecure'),
  abortGraceSecs: i('seconds between SIGTERM and SIGKILL when a command is aborted', 3, true, 0, 300),
  uploadConcurrency: i('parallel artifact uploads per task', 10, true, 1, 100),
  metricsPort: i('serve /metrics and /status on this port (0 = off)', 0, true, 0, 65535),
  metricsHost: s('address the /metrics and /status server binds to', '127.0.0.1'),
  workerManager: { type: 'object', applies: true, doc: 'standalone worker-manager registration: {providerId, workerIdentityProof}' },
  dockerRegistries: { type: 'object', default: {}, applies: true, doc: 'credentials for pulling docker-worker images: {"<registry host>": {username, password}}' },
  // --- generic-worker keys accepted but not acted on yet (later issues) ---
  allowedHighMemoryDurationSecs: i('resource monitor: seconds memory may stay too high before the command is aborted', 5),
  d2gConfig: { type: 'object', applies: false, doc: 'docker-worker payload translation' },
  disableNativePayloads: b('refuse generic-worker payloads (a pool that runs docker-worker payloads only): they resolve exception/malformed-payload', false),
  disableOOMProtection: b('OOM score adjustment', false, false),
  disableReboots: b('reboots between tasks', false, false),
  ed25519SigningKeyLocation: s('ed25519 key file signing chain of trust certificates (megalodon new-ed25519-keypair makes one); without it the feature is not offered', ''),
  enableChainOfTrust: b('offer the chain of trust feature (needs ed25519SigningKeyLocation)', true),
  enableInteractive: b('offer the interactive shell feature (websocket served by the worker itself)', false),
  enableLiveLog: b('serve live logs (megalodon serves them itself, no livelog binary)', true),
  enableLoopbackAudio: b('offer features.loopbackAudio (snd-aloop card loopbackAudioDeviceNumber)', false),
  enableLoopbackVideo: b('offer features.loopbackVideo (v4l2loopback device /dev/video<loopbackVideoDeviceNumber>)', false),
  enableMetadata: b('generic-worker-metadata.json', true, false),
  enableMounts: b('offer payload mounts (files, read-only directories, writable caches)', true),
  enableOSGroups: b('let multiuser tasks join the OS groups their payload names (osGroups)', true),
  enableResourceMonitor: b('sample memory while commands run, report it, abort on exhaustion (features.resourceMonitor)', true),
  enableRunTaskAsCurrentUser: b('let multiuser tasks run as the worker user (features.runTaskAsCurrentUser)', false),
  enableTaskclusterProxy: b('offer the taskcluster-proxy feature (in process, no helper binary)', true),
  headlessTasks: b('multiuser engine: false gives tasks DISPLAY=:0, as generic-worker\'s desktop-session mode does (megalodon itself never reboots or logs the task user in)', false),
  interactivePort: i('port of the interactive shell websocket server (taken, or 0: any free port)', 53654, true, 0, 65535),
  livelogExecutable: s('livelog binary (megalodon serves live logs itself)', undefined, false),
  livelogExposePort: i('port in live log URLs, when a proxy or NAT maps it (0 = the port served)', 0),
  livelogPortBase: i('live logs are served on livelogPortBase + 1, as generic-worker serves GET (0 = any free port)', 60098, true, 0, 65534),
  loopbackAudioDeviceNumber: i('the snd-aloop card number (/dev/snd/*C<n>*)', 16, true, 0, 31),
  loopbackVideoDeviceNumber: i('the v4l2loopback device number (/dev/video<n>)', 0, true, 0, 255),
  maxMemoryUsagePercent: i('resource monitor: used memory percentage above which memory counts as too high', 90),
  minAvailableMemoryBytes: i('resource monitor: available bytes below which memory counts as too high', 524288000),
  requiredDiskSpaceMegabytes: i('claim only while tasksDir has this much free space (MiB); a full disk pauses claiming until space returns', 10240),
  runAfterUserCreation: s('multiuser engine: an executable run as each new task user, in its task directory, before the task; failing, it resolves the task exception/internal-error', undefined),
  sentryProject: s('crash reporting', undefined, false),
  shutdownMachineOnIdle: b('power off when idle', false, false),
  shutdownMachineOnInternalError: b('power off on internal error', false, false),
  taskclusterProxyExecutable: s('taskcluster-proxy binary (megalodon proxies itself)', undefined, false),
  taskclusterProxyPort: i('taskcluster-proxy port on localhost (taken, or 0: any free port)', 80, true, 0, 65535),
  wstAudience: s('websocktunnel audience', undefined, false),
  wstServerURL: s('websocktunnel server', undefined, false),
}
