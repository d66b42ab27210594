// The Queue's and Object service's published JSON schemas, compiled for the fake's request
// and response checks: a worker whose requests do not match what the real services accept
// fails the tests.

import type { Ajv, ValidateFunction } from 'ajv'
import { loadJsonSchema, newAjv } from '../../../src/lib/json-schema.js'
import { upstreamSchemas } from '../upstream.js'

// ajv is imported on first use (FamilyProfile.load); the fake checks requests synchronously
await loadJsonSchema()

const BASE = 'https://fake.taskcluster.invalid'

let ajv: Ajv | undefined

function registry(): Ajv {
  if (ajv) return ajv
  ajv = newAjv({ validateSchema: false })
  for (const schema of upstreamSchemas()) {
    const copy = { ...schema }
    delete copy.$schema
    copy.$id = BASE + String(copy.$id).replace(/#$/, '')
    ajv.addSchema(copy)
  }
  return ajv
}

const compiled = new Map<string, ValidateFunction>()

/** e.g. checkSchema('queue/v1/claim-work-request', body) → list of problems (empty when valid). */
export function checkSchema(name: string, value: unknown): string[] {
  let validate = compiled.get(name)
  if (!validate) {
    const found = registry().getSchema(`${BASE}/schemas/${name}.json`)
    if (!found) throw new Error(`fake queue: no upstream schema ${name}`)
    validate = found
    compiled.set(name, validate)
  }
  if (validate(value)) return []
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`)
}
