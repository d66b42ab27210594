// The generic-worker payload schemas (ours, equivalent to upstream's; see
// test/unit/native-schema.test.ts): the insecure engine's, and the multiuser engine's, which is the
// same with two more features (chainOfTrust, runTaskAsCurrentUser). Validation never fills in
// defaults: an explicit `true` must stay distinguishable from a default.
import type { ValidateFunction } from 'ajv'
import { newAjv, projectSchema } from '../../src/lib/json-schema.js'

const { schema, validator } = projectSchema('generic-worker-payload.json')

export const payloadSchema = schema
export const payloadValidator = validator

function multiuserSchema(): Record<string, unknown> {
  const s = structuredClone(schema) as { $id?: string; title?: string; description?: string; properties: { features: { properties: Record<string, unknown> } } }
  s.$id = 'megalodon/generic-worker-payload-multiuser.json#'
  s.title = 'generic-worker payload (Linux, multiuser engine)'
  s.description = "megalodon's schema for generic-worker payloads on the multiuser engine; equivalent to the generic-worker branch of upstream multiuser_posix.json (checked by test/unit/native-schema.test.ts)."
  s.properties.features.properties.chainOfTrust = {
    type: 'boolean',
    default: false,
    title: 'Enable generation of signed Chain of Trust artifacts',
    description: 'public/chain-of-trust.json and public/chain-of-trust.json.sig, signed with the worker\'s ed25519 key.',
  }
  s.properties.features.properties.runTaskAsCurrentUser = {
    type: 'boolean',
    default: false,
    title: 'Run task as current user',
    description: "Run the task's commands as the worker's user instead of the task user (which is still created).",
  }
  return s as unknown as Record<string, unknown>
}

export const multiuserPayloadSchema = multiuserSchema()
let multiuserCompiled: ValidateFunction | undefined
export const multiuserPayloadValidator = (): ValidateFunction => (multiuserCompiled ??= newAjv().compile(multiuserPayloadSchema))

/**
 * Windows (generic-worker's multiuser_windows): commands are cmd.exe lines (strings), no
 * loopback devices, and runAsAdministrator, hideCmdWindow and rdpInfo.
 */
function windowsSchema(): Record<string, unknown> {
  const s = structuredClone(multiuserPayloadSchema) as {
    $id?: string
    title?: string
    description?: string
    properties: Record<string, unknown> & { command: Record<string, unknown>; features: { properties: Record<string, unknown> } }
  }
  s.$id = 'megalodon/generic-worker-payload-windows.json#'
  s.title = 'generic-worker payload (Windows, multiuser engine)'
  s.description = "megalodon's schema for generic-worker payloads on Windows; equivalent to upstream multiuser_windows.json (checked by test/unit/native-schema.test.ts)."
  s.properties.command = { title: 'Commands to run', description: 'One cmd.exe command line per entry, each run through its own .bat file.', type: 'array', minItems: 1, uniqueItems: false, items: { type: 'string' } }
  delete s.properties.features.properties.loopbackAudio
  delete s.properties.features.properties.loopbackVideo
  s.properties.features.properties.runAsAdministrator = { type: 'boolean', title: 'Run commands with UAC elevation' }
  s.properties.features.properties.hideCmdWindow = { type: 'boolean', default: false, title: 'Hide the cmd.exe window of each command' }
  s.properties.rdpInfo = { type: 'string', title: 'RDP Info', description: 'An artifact name for publishing RDP connection information.' }
  return s as unknown as Record<string, unknown>
}

export const windowsPayloadSchema = windowsSchema()
let windowsCompiled: ValidateFunction | undefined
export const windowsPayloadValidator = (): ValidateFunction => (windowsCompiled ??= newAjv().compile(windowsPayloadSchema))

/**
 * The schema a generic-worker payload is validated against on this worker: Windows', or the
 * multiuser or insecure engine's (what `megalodon show-payload-schema` prints; generic-worker's
 * prints its engine's, main.go:131-132).
 */
export function payloadSchemaFor(engine: 'insecure' | 'multiuser', platform: string): Record<string, unknown> {
  if (platform === 'windows') return windowsPayloadSchema
  return engine === 'multiuser' ? multiuserPayloadSchema : (payloadSchema as Record<string, unknown>)
}

let posixDocuments: Map<string, Record<string, unknown>> | undefined

/** A schema as a branch of another: no `$id`, `$schema` or `definitions` of its own. */
function asBranch(schema: Record<string, unknown>): Record<string, unknown> {
  const branch = { ...schema }
  delete branch.$id
  delete branch.$schema
  delete branch.definitions
  return branch
}

/**
 * The schema document generic-worker validates a payload against, prints above a refused
 * payload's errors (main.go:935) and `show-payload-schema` prints (main.go:131-132): on Linux and
 * macOS `oneOf: [generic, docker]` with the definitions at the root (insecure_posix.yml:5,
 * multiuser_posix.yml:5), on Windows the generic schema alone. ajv decides validity on the
 * generic schema (docker payloads go to the docker family); this document gives the words.
 * Built on first use (the docker schema is read then).
 */
export function payloadDocumentFor(engine: 'insecure' | 'multiuser', platform: string): Record<string, unknown> {
  const generic = payloadSchemaFor(engine, platform)
  if (platform === 'windows') return generic
  posixDocuments ??= new Map()
  let document = posixDocuments.get(engine)
  if (!document) {
    const docker = projectSchema('docker-worker-payload.json').schema
    document = {
      $schema: generic.$schema,
      $id: `megalodon/generic-worker-payload-${engine}-posix.json#`,
      title: 'Payload',
      description: `megalodon's schema for payloads on generic-worker's ${engine} engine on Linux and macOS: a generic-worker payload or a docker-worker one, as upstream ${engine}_posix.json.`,
      oneOf: [asBranch(generic), asBranch(docker)],
      definitions: generic.definitions,
    }
    posixDocuments.set(engine, document)
  }
  return document
}
