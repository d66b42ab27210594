// taskcluster-client ships no types; this declares the small part megalodon uses.
declare module 'taskcluster-client' {
  export interface ClientOptions {
    rootUrl: string
    credentials?: { clientId: string; accessToken: string; certificate?: string | object }
    authorizedScopes?: string[]
    retries?: number
    timeout?: number
  }
  type Json = Record<string, unknown>
  export class Queue {
    constructor(options: ClientOptions)
    claimWork(taskQueueId: string, body: Json): Promise<{ tasks: Json[] }>
    reclaimTask(taskId: string, runId: number): Promise<Json>
    reportCompleted(taskId: string, runId: number): Promise<Json>
    reportFailed(taskId: string, runId: number): Promise<Json>
    reportException(taskId: string, runId: number, body: { reason: string }): Promise<Json>
    createArtifact(taskId: string, runId: number, name: string, body: Json): Promise<Json>
    finishArtifact(taskId: string, runId: number, name: string, body: Json): Promise<void>
    task(taskId: string): Promise<Json>
    status(taskId: string): Promise<Json>
    /** The latest run's artifact: how to get its content (`storageType`, and `url` for s3 and reference). */
    latestArtifact(taskId: string, name: string): Promise<{ storageType: string; url?: string; reason?: string; message?: string }>
  }
  export class Object {
    constructor(options: ClientOptions)
  }
  export class Index {
    constructor(options: ClientOptions)
    findTask(indexPath: string): Promise<{ taskId: string; namespace: string }>
  }
  export class PurgeCache {
    constructor(options: ClientOptions)
    purgeRequests(workerPoolId: string, query?: { since?: string }): Promise<{ requests: Array<{ cacheName: string; before: string }> }>
    purgeCache(workerPoolId: string, body: { cacheName: string }): Promise<unknown>
  }
  export class Auth {
    constructor(options: ClientOptions)
    expandScopes(body: { scopes: string[] }): Promise<{ scopes: string[] }>
  }
  export class WorkerManager {
    constructor(options: ClientOptions)
    registerWorker(body: Json): Promise<Json>
    reregisterWorker(body: Json): Promise<Json>
  }
  /** A client class for an API reference (`{ serviceName, apiVersion, entries }`); its methods are the entries' names. */
  export function createClient(reference: Json, name?: string): new (options: ClientOptions) => Record<string, (...args: unknown[]) => Promise<Json>>
  export function upload(options: {
    projectId: string
    name: string
    contentType: string
    contentLength: number
    expires: Date | string
    object: Object
    streamFactory: () => Promise<NodeJS.ReadableStream>
    uploadId?: string
    retries?: number
  }): Promise<{ hashes: Record<string, string> }>
  /** Downloads an artifact (s3, reference, object with hash checks); resolves to its content type. */
  export function downloadArtifact(options: {
    taskId: string
    runId?: number
    name: string
    queue: Queue
    streamFactory: () => Promise<NodeJS.WritableStream>
    retries?: number
    delayFactor?: number
    randomizationFactor?: number
    maxDelay?: number
  }): Promise<string>
  export function createTemporaryCredentials(options: {
    clientId?: string
    start: Date
    expiry: Date
    scopes: string[]
    credentials: { clientId: string; accessToken: string }
  }): { clientId: string; accessToken: string; certificate: string }
  export function slugid(): string
  const _default: {
    Queue: typeof Queue
    Object: typeof Object
    WorkerManager: typeof WorkerManager
    createClient: typeof createClient
    Index: typeof Index
    PurgeCache: typeof PurgeCache
    Auth: typeof Auth
    upload: typeof upload
    createTemporaryCredentials: typeof createTemporaryCredentials
    slugid: typeof slugid
  }
  export default _default
}
