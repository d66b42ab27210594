// Every configuration key megalodon accepts: generic-worker's keys (same names, same defaults)
// plus a few of our own. `applies: false` marks generic-worker keys that are accepted so that
// an existing config file (or worker-runner's generated one) loads, but are not acted on yet;
// the worker logs them at start-up. The README's configuration table is this table.

export interface ConfigKeySpec<T = unknown, Applies extends boolean = boolean> {
  type: 'string' | 'integer' | 'boolean' | 'object' | 'any'
  default?: T
  applies: Applies
  /** Allowed values (a string key with a fixed set). */
  oneOf?: readonly string[]
  min?: number
  max?: number
  /** The width of generic-worker's unsigned Go field (uint8, uint16, uint32; default 64): a larger number does not decode. */
  uintBits?: 8 | 16 | 32
  /** A net.IP field: a string that must parse as an IP address (or be empty). */
  ip?: boolean
  doc: string
}

/** A generic-worker key accepted so that existing config files load, but not acted on. */
const accepted = (type: ConfigKeySpec['type'], doc: string): ConfigKeySpec<unknown, false> => ({ type, applies: false, doc })
const str = (doc: string, def: string): ConfigKeySpec<string, true> => ({ type: 'string', default: def, applies: true, doc })
const optionalStr = (doc: string): ConfigKeySpec<string | undefined, true> => ({ type: 'string', applies: true, doc })
const oneOf = <const T extends string>(values: readonly T[], doc: string, def: T): ConfigKeySpec<T, true> => ({ type: 'string', oneOf: values, default: def, applies: true, doc })
const int = (doc: string, def: number, min = 0, max?: number, uintBits?: 8 | 16 | 32): ConfigKeySpec<number, true> => ({ type: 'integer', default: def, applies: true, doc, min, max, uintBits })
const port = (doc: string, def: number, max = 65535): ConfigKeySpec<number, true> => int(doc, def, 0, max, 16)
const ip = (doc: string): ConfigKeySpec<string, true> => ({ ...str(doc, ''), ip: true })
/** generic-worker's default on Linux (gwconfig/config_linux.go:36-38), false elsewhere. */
const onLinux = process.platform === 'linux'
const bool = (doc: string, def: boolean): ConfigKeySpec<boolean, true> => ({ type: 'boolean', default: def, applies: true, doc })
const obj = <T>(doc: string, def: T): ConfigKeySpec<T, true> => ({ type: 'object', default: def, applies: true, doc })
const optionalObj = <T>(doc: string): ConfigKeySpec<T | undefined, true> => ({ type: 'object', applies: true, doc })

/**
 * generic-worker's d2gConfig defaults on Linux (gwconfig/config_linux.go:18-34; none elsewhere,
 * gwconfig/config_other.go:7-12). A config file's d2gConfig is merged over them key by key, as
 * generic-worker overlays the file on its defaults (gwconfig/config.go:297-299, mergeconfig.go).
 */
export const D2G_DEFAULTS: D2gConfig = process.platform === 'linux'
  ? { enableD2G: false, allowChainOfTrust: true, allowDisableSeccomp: true, allowGPUs: false, allowHostSharedMemory: true, allowInteractive: true, allowKVM: true, allowLoopbackAudio: true, allowLoopbackVideo: true, allowPrivileged: true, allowPtrace: true, allowTaskclusterProxy: true, gpus: 'all', logTranslation: true }
  : {}

/** generic-worker's d2gConfig: the switches docker-worker payloads' capabilities and devices need. */
export type D2gConfig = Record<string, unknown>

export const configKeys = {
  // --- identity and credentials ---
  rootURL: str('Taskcluster deployment root URL', ''),
  clientId: str('worker client id', ''),
  accessToken: str('worker access token', ''),
  certificate: str('certificate, when the worker credentials are temporary', ''),
  provisionerId: str('first half of the worker pool id', 'test-provisioner'),
  workerType: str('second half of the worker pool id', ''),
  workerGroup: str('worker group', 'test-worker-group'),
  workerId: str('worker id', ''),
  // --- claiming ---
  // 0 decodes, then fails generic-worker's check (gwconfig/config.go:146-148)
  capacity: int('tasks run at once', 1, 0, 255, 8),
  numberOfTasksToRun: int('exit after this many tasks (0 = never)', 0),
  idleTimeoutSecs: int('exit after this long without a task (0 = never)', 0),
  // --- directories ---
  // the default is the engine's: `/home` on multiuser Linux (multiuser_linux.go:12-14), see config.ts
  tasksDir: str('parent of the per-task directories', 'tasks'),
  cachesDir: str('writable directory caches', 'caches'),
  downloadsDir: str('downloaded mount content', 'downloads'),
  cleanUpTaskDirs: bool('remove task directories after the task', true),
  // --- artifacts and tasks ---
  createObjectArtifacts: bool('upload artifacts to the Object service instead of s3 artifacts', false),
  maxTaskRunTime: int('largest payload.maxRunTime accepted, in seconds', 86400, 1, undefined, 32),
  // --- host facts (task env, chain of trust, log header) ---
  publicIP: ip('public IP of the host'),
  privateIP: ip('private IP of the host'),
  instanceType: str('cloud instance type (TASKCLUSTER_INSTANCE_TYPE)', ''),
  instanceID: str('cloud instance id', ''),
  region: str('cloud region', ''),
  availabilityZone: str('cloud availability zone', ''),
  workerLocation: str('RFC 148 worker location JSON (TASKCLUSTER_WORKER_LOCATION)', ''),
  workerTypeMetadata: obj<Record<string, unknown>>('printed at the top of every task log', {}),
  // --- megalodon's own ---
  engine: oneOf(['insecure', 'multiuser'], 'how native tasks are isolated: "insecure" (as the worker\'s user) or "multiuser" (a fresh OS user per task; the worker must run as root). Unset, `megalodon run` as root on Linux is multiuser, otherwise insecure', 'insecure'),
  abortGraceSecs: int('seconds between SIGTERM and SIGKILL when a native command is aborted (0: SIGKILL at once, as generic-worker)', 0, 0, 300),
  uploadConcurrency: int('parallel artifact uploads per task', 10, 1, 100),
  metricsPort: port('serve /metrics and /status on this port (0 = off)', 0),
  metricsHost: str('address the /metrics and /status server binds to', '127.0.0.1'),
  workerManager: optionalObj<{ providerId: string; workerIdentityProof: Record<string, unknown> }>('standalone worker-manager registration: {providerId, workerIdentityProof}'),
  dockerConfig: obj<{ maxAttempts?: number; delayFactor?: number; randomizationFactor?: number; defaultRegistry?: string }>(
    "docker-worker's image pull retries: {maxAttempts (5), delayFactor ms (15000), randomizationFactor (0.25)}; attempt n waits 2^(n-1)×delayFactor ±randomizationFactor; defaultRegistry (registry.hub.docker.com), where a `user/image` name's credentials are looked up",
    {},
  ),
  dockerRegistries: obj<Record<string, { username: string; password: string }>>('credentials for pulling docker-worker images, as docker-worker\'s `registries`: {"<registry host>" or "<host>/<user>": {username, password}}; a task pulling with them needs docker-worker:image:<repository>:<tag>', {}),
  // --- the rest of generic-worker's keys ---
  allowedHighMemoryDurationSecs: int('resource monitor: seconds memory may stay too high before the command is aborted', 5),
  d2gConfig: obj<D2gConfig>('docker-worker capability switches: allowPrivileged, allowKVM, allowHostSharedMemory, allowLoopbackAudio and allowLoopbackVideo gate those capabilities (on by default on Linux); its other keys are accepted. Merged key by key over the defaults', D2G_DEFAULTS),
  disableNativePayloads: bool('refuse generic-worker payloads (a pool that runs docker-worker payloads only): they resolve exception/malformed-payload', false),
  disableOOMProtection: bool('resource monitor: sustained high memory only warns, the command is not aborted (process/process.go:255-265)', false),
  disableReboots: accepted('boolean', 'stops the reboot after exit 67; megalodon never reboots the host (it has no exit 67), so there is nothing to stop'),
  ed25519SigningKeyLocation: str('ed25519 key file signing chain of trust certificates (megalodon new-ed25519-keypair makes one); without it the feature is not offered', ''),
  enableChainOfTrust: bool('offer the chain of trust feature (needs ed25519SigningKeyLocation)', true),
  enableInteractive: bool('offer the interactive shell feature (websocket served by the worker itself)', false),
  enableLiveLog: bool('serve live logs (megalodon serves them itself, no livelog binary)', true),
  enableLoopbackAudio: bool('offer features.loopbackAudio (snd-aloop card loopbackAudioDeviceNumber)', onLinux),
  enableLoopbackVideo: bool('offer features.loopbackVideo (v4l2loopback device /dev/video<loopbackVideoDeviceNumber>)', onLinux),
  enableMetadata: bool('`megalodon run` writes generic-worker-metadata.json ({lastTaskUrl}) in its working directory after each task', true),
  enableMounts: bool('offer payload mounts (files, read-only directories, writable caches)', true),
  enableOSGroups: bool('let multiuser tasks join the OS groups their payload names (osGroups)', true),
  enableResourceMonitor: bool('sample memory while commands run, report it, abort on exhaustion (features.resourceMonitor)', true),
  // the default is the engine's: true on multiuser (gwconfig/config_multiuser.go:11-14), see config.ts
  enableRunTaskAsCurrentUser: bool('let multiuser tasks run as the worker user (features.runTaskAsCurrentUser)', false),
  enableTaskclusterProxy: bool('offer the taskcluster-proxy feature (in process, no helper binary)', true),
  headlessTasks: bool('multiuser engine: false gives tasks DISPLAY=:0, as generic-worker\'s desktop-session mode does (megalodon itself never reboots or logs the task user in)', false),
  interactivePort: port('port of the interactive shell websocket server (taken, or 0: any free port)', 53654),
  livelogExecutable: accepted('string', 'livelog binary (megalodon serves live logs itself)'),
  livelogExposePort: port('port in live log URLs, when a proxy or NAT maps it (0 = the port served)', 0),
  livelogPortBase: port('live logs are served on livelogPortBase + 1, as generic-worker serves GET (0 = any free port)', 60098, 65534),
  loopbackAudioDeviceNumber: int('the snd-aloop card number (/dev/snd/*C<n>*); a task asking for loopbackAudio fails with internal-error above 31', 16, 0, 255, 8),
  loopbackVideoDeviceNumber: int('the v4l2loopback device number (/dev/video<n>)', 0, 0, 255, 8),
  maxMemoryUsagePercent: int('resource monitor: used memory percentage above which memory counts as too high', 90),
  minAvailableMemoryBytes: int('resource monitor: available bytes below which memory counts as too high', 524288000),
  requiredDiskSpaceMegabytes: int('claim only while tasksDir has this much free space (MiB); a full disk pauses claiming until space returns', 10240),
  runAfterUserCreation: optionalStr('multiuser engine: an executable run as each new task user, in its task directory, before the task; failing, it resolves the task exception/internal-error'),
  sentryProject: str('the Sentry project a worker crash is reported to, with a DSN from auth.sentryDSN (scope auth:sentry:<project>); empty: no report (sentry.go:9-31)', 'generic-worker'),
  shutdownMachineOnIdle: bool('after the idle timeout (exit 68), send worker-runner `shutdown` (standalone: power the host off)', false),
  shutdownMachineOnInternalError: bool('after an internal error (exit 69), send worker-runner `shutdown` (standalone: power the host off)', false),
  taskclusterProxyExecutable: accepted('string', 'taskcluster-proxy binary (megalodon proxies itself)'),
  taskclusterProxyPort: port('taskcluster-proxy port on 127.0.0.1, + 4 for each further concurrent task (0: any free port)', 80),
  wstAudience: str('websocktunnel audience: with wstServerURL, live logs and interactive shells are reached through websocktunnel (token scope auth:websocktunnel-token:<wstAudience>/<workerGroup>.<workerId>.<port>)', ''),
  wstServerURL: str('websocktunnel server URL (with wstAudience: see there)', ''),
} as const satisfies Record<string, ConfigKeySpec>
