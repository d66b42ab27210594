// What a run publishes, independent of where it goes (the Queue, or a directory for
// `megalodon local`). Executors describe artifacts; publishers store them.

export type ArtifactErrorReason =
  | 'file-missing-on-worker'
  | 'invalid-resource-on-worker'
  | 'too-large-file-on-worker'
  | 'file-not-readable-on-worker'

export type ArtifactSpec =
  | {
      kind: 'file'
      name: string
      /** Absolute path of the file on the worker. */
      path: string
      /**
       * Where its bytes are read from, when not `path`: the multiuser engine's copy made by the
       * task user (generic-worker's S3Artifact.ContentPath).
       */
      contentPath?: string
      contentType: string
      contentEncoding: 'gzip' | 'identity'
      expires: string
      /** The payload marked it optional: a failure to store it decides nothing. */
      optional?: boolean
    }
  | {
      kind: 'error'
      name: string
      reason: ArtifactErrorReason
      message: string
      expires: string
      /** The payload marked it optional: it is still stored, but does not fail the task. */
      optional?: boolean
      /** The path it stands for, as the payload (or the directory walk) gave it. */
      path?: string
    }
  | { kind: 'link'; name: string; artifact: string; contentType?: string; expires: string }
  | { kind: 'reference'; name: string; url: string; contentType: string; expires: string }

export interface ArtifactPublisher {
  /** Store one artifact; throws a WorkerError when the artifact cannot be stored. */
  publish(spec: ArtifactSpec, signal?: AbortSignal): Promise<void>
}
