// The generic-worker payload schema (ours, equivalent to upstream's; see
// test/native-schema.test.ts) compiled once.

import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { projectPath } from '../../src/paths.js'

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

export const payloadSchemaPath = projectPath('schemas', 'generic-worker-payload.json')
export const payloadSchema: Record<string, unknown> = JSON.parse(readFileSync(payloadSchemaPath, 'utf8'))

let compiled: ValidateFunction | undefined

/** Validates without filling in defaults: an explicit `true` must stay distinguishable from a default. */
export function payloadValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false })
    addFormats(ajv)
    compiled = ajv.compile(payloadSchema)
  }
  return compiled
}
