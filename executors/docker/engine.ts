// The Docker Engine calls the docker executor makes, as one narrow interface: images,
// containers and networks. dockerode-engine.ts implements it over the real engine; the tests
// have an in-memory one. No dockerode type goes past dockerode-engine.ts.

import type { Readable } from 'node:stream'
import type { Terminal, TerminalSize } from '../../src/contract/terminal.js'

export interface RegistryCredentials {
  username: string
  password: string
}

/** A line of `docker pull` progress as the engine reports it. */
export interface PullProgress {
  status?: string
  id?: string
  /** The engine's error text (the pull fails after it). */
  error?: string
}

export interface DeviceMapping {
  PathOnHost: string
  PathInContainer: string
  CgroupPermissions: string
}

export interface ContainerSpec {
  image: string
  /** Absent: the image's own entrypoint. */
  entrypoint?: string[]
  /** Empty: the image's own command. */
  command: string[]
  env: Record<string, string>
  labels: Record<string, string>
  /** `host-dir:container-path` bind mounts. */
  binds: string[]
  privileged: boolean
  devices: DeviceMapping[]
  capAdd: string[]
  /** `name:address` lines for the container's /etc/hosts. */
  extraHosts: string[]
  shmSizeBytes: number
  /** A network to join instead of the default bridge. */
  network?: string
}

export interface DockerEngine {
  /** Whether the engine answers within a few seconds. */
  ping(): Promise<boolean>
  images: {
    exists(ref: string): Promise<boolean>
    /** The image's id (`sha256:…`). */
    id(ref: string): Promise<string>
    /** The image's entrypoint and command, as argv arrays (empty when it has none). */
    config(ref: string): Promise<{ entrypoint: string[]; cmd: string[] }>
    /** Pulls `ref`; rejects with the engine's error (a failed layer included). */
    pull(ref: string, auth: (RegistryCredentials & { serveraddress: string }) | undefined, progress: (event: PullProgress) => void): Promise<void>
    /** `docker load` of a tarball; returns what the engine says it loaded (a name or an id). */
    load(tar: Readable): Promise<string>
    /** `docker rmi` without force: the engine refuses an image a container uses or several names share. */
    remove(ref: string): Promise<void>
  }
  containers: {
    /** Creates a TTY container (stdout and stderr as one stream, as docker-worker ran them); returns its id. */
    create(spec: ContainerSpec): Promise<string>
    /** The container's output, from now until it stops. */
    attach(id: string): Promise<Readable>
    start(id: string): Promise<void>
    /** Resolves with the exit code once the container stops. */
    wait(id: string): Promise<number>
    kill(id: string): Promise<void>
    /** Removes the container and its volumes; a container that is already gone counts as removed. */
    remove(id: string): Promise<void>
    /** A tar stream of `path` inside the container; rejects with the engine's message when it is not there. */
    archive(id: string, path: string): Promise<Readable>
    /** A `docker exec` with a TTY in the running container. */
    exec(id: string, command: string[], size: TerminalSize): Promise<Terminal>
    listByLabel(label: string, value: string): Promise<string[]>
    /** The image ids (`sha256:…`) of every container the engine has, running or not. */
    imageIds(): Promise<Set<string>>
  }
  networks: {
    /** A bridge network; returns the host's address on it. */
    create(name: string, labels: Record<string, string>): Promise<{ name: string; gateway: string }>
    /** A network that is already gone counts as removed. */
    remove(name: string): Promise<void>
    listByLabel(label: string, value: string): Promise<string[]>
  }
}
