// An in-memory DockerEngine for fast specs of the docker executor: images it has or can pull,
// containers whose output and exit code a script decides, networks, and an engine that can go
// away in the middle of a task and come back.
import { PassThrough, Readable } from 'node:stream'
import tar from 'tar-stream'
import type { Terminal } from '../../src/contract/terminal.js'
import type { ContainerSpec, DockerEngine } from '../../executors/docker/engine.js'

/** What a container does when started. */
export interface ContainerScript {
  output?: string
  exitCode?: number
  /** Runs until killed. */
  hang?: boolean
  /** The engine dies once the output is written (its wait never answers, pings fail). */
  engineDies?: boolean
}

interface FakeContainer {
  id: string
  spec: ContainerSpec
  output: PassThrough
  exited: Promise<number>
  exit: (code: number) => void
  state: 'created' | 'running' | 'exited'
}

export class FakeDockerEngine implements DockerEngine {
  alive = true
  /** Images the engine has. */
  readonly images_ = new Set<string>()
  /** Images a pull finds, by name; anything else fails to pull with the engine's "not found". */
  readonly pullable = new Set<string>()
  readonly containers_ = new Map<string, FakeContainer>()
  readonly networks_ = new Map<string, Record<string, string>>()
  /** Files the containers have, by path (what `containers.archive` finds). */
  readonly files = new Map<string, string>()
  /** Every call made, in order (`containers.create`, `networks.remove`…). */
  readonly calls: string[] = []
  private next = 0

  constructor(private readonly script: (spec: ContainerSpec) => ContainerScript = () => ({ exitCode: 0 })) {}

  private check(call: string): void {
    this.calls.push(call)
    if (!this.alive) throw Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' })
  }

  private container(id: string): FakeContainer {
    const c = this.containers_.get(id)
    if (!c) throw Object.assign(new Error(`No such container: ${id}`), { statusCode: 404 })
    return c
  }

  async ping(): Promise<boolean> {
    this.calls.push('ping')
    return this.alive
  }

  images: DockerEngine['images'] = {
    exists: async (ref) => {
      this.check('images.exists')
      return this.images_.has(ref)
    },
    id: async (ref) => {
      this.check('images.id')
      if (!this.images_.has(ref)) throw new Error(`No such image: ${ref}`)
      return `sha256:${Buffer.from(ref).toString('hex').padEnd(64, '0').slice(0, 64)}`
    },
    config: async (ref) => {
      this.check('images.config')
      if (!this.images_.has(ref)) throw new Error(`No such image: ${ref}`)
      return { entrypoint: [], cmd: [] }
    },
    pull: async (ref, _auth, progress) => {
      this.check('images.pull')
      if (!this.pullable.has(ref)) throw new Error(`pull access denied for ${ref}, repository does not exist`)
      // the events a registry pull of a one-layer image reports, in order
      for (const event of [
        { status: `Pulling from ${ref.split(':')[0]}`, id: ref.split(':')[1] ?? 'latest' },
        { status: 'Pulling fs layer', id: 'layer1' },
        { status: 'Downloading', id: 'layer1' },
        { status: 'Downloading', id: 'layer1' },
        { status: 'Verifying Checksum', id: 'layer1' },
        { status: 'Download complete', id: 'layer1' },
        { status: 'Extracting', id: 'layer1' },
        { status: 'Pull complete', id: 'layer1' },
        { status: 'Digest: sha256:0000' },
        { status: `Status: Downloaded newer image for ${ref}` },
      ])
        progress(event)
      this.images_.add(ref)
    },
    load: async (tar) => {
      this.check('images.load')
      for await (const chunk of tar as Readable) void chunk
      const ref = `sha256:${(this.next++).toString(16).padStart(64, '0')}`
      this.images_.add(ref)
      return ref
    },
    remove: async (ref) => {
      this.check('images.remove')
      const name = [...this.images_].find((i) => i === ref || `sha256:${Buffer.from(i).toString('hex').padEnd(64, '0').slice(0, 64)}` === ref)
      if (!name) throw Object.assign(new Error(`No such image: ${ref}`), { statusCode: 404 })
      this.images_.delete(name)
    },
  }

  containers: DockerEngine['containers'] = {
    create: async (spec) => {
      this.check('containers.create')
      if (!this.images_.has(spec.image)) throw new Error(`No such image: ${spec.image}`)
      const id = `c${this.next++}`
      let exit!: (code: number) => void
      const exited = new Promise<number>((resolve) => (exit = resolve))
      this.containers_.set(id, { id, spec, output: new PassThrough(), exited, exit, state: 'created' })
      return id
    },
    attach: async (id) => {
      this.check('containers.attach')
      return this.container(id).output
    },
    start: async (id) => {
      this.check('containers.start')
      const c = this.container(id)
      c.state = 'running'
      const script = this.script(c.spec)
      if (script.output) c.output.write(script.output)
      if (script.engineDies) {
        this.alive = false
        c.output.end()
        return
      }
      if (script.hang) return
      c.state = 'exited'
      c.output.end()
      c.exit(script.exitCode ?? 0)
    },
    // a dead engine's wait never answers
    wait: (id) => (this.alive ? this.container(id).exited : new Promise<number>(() => undefined)),
    kill: async (id) => {
      this.check('containers.kill')
      const c = this.container(id)
      if (c.state !== 'running') return
      c.state = 'exited'
      c.output.end()
      c.exit(137)
    },
    remove: async (id) => {
      this.check('containers.remove')
      const c = this.containers_.get(id)
      if (!c) return
      c.output.end()
      c.exit(137)
      this.containers_.delete(id)
    },
    archive: async (id, path) => {
      this.check('containers.archive')
      this.container(id)
      const content = this.files.get(path)
      if (content === undefined) throw new Error(`Could not find the file ${path} in container ${id}`)
      // as the engine archives one file: a single entry named by the path's last component
      const pack = tar.pack()
      pack.entry({ name: path.split('/').pop()!, type: 'file' }, content)
      pack.finalize()
      return pack as unknown as Readable
    },
    exec: async (): Promise<Terminal> => {
      this.check('containers.exec')
      throw new Error('the fake engine has no terminals')
    },
    listByLabel: async (label, value) => {
      this.check('containers.listByLabel')
      return [...this.containers_.values()].filter((c) => c.spec.labels[label] === value).map((c) => c.id)
    },
    imageIds: async () => {
      this.check('containers.imageIds')
      return new Set([...this.containers_.values()].map((c) => `sha256:${Buffer.from(c.spec.image).toString('hex').padEnd(64, '0').slice(0, 64)}`))
    },
  }

  networks: DockerEngine['networks'] = {
    create: async (name, labels) => {
      this.check('networks.create')
      if (this.networks_.has(name)) throw new Error(`network with name ${name} already exists`)
      this.networks_.set(name, labels)
      return { name, gateway: '172.31.0.1' }
    },
    remove: async (name) => {
      this.check('networks.remove')
      this.networks_.delete(name)
    },
    listByLabel: async (label, value) => {
      this.check('networks.listByLabel')
      return [...this.networks_.entries()].filter(([, l]) => l[label] === value).map(([n]) => n)
    },
  }
}
