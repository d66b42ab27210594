// The docker-worker payload schema (ours, equivalent to upstream's; see
// test/docker-schema.test.ts), compiled once. The docker executor validates with it; until that
// executor lands, `megalodon validate` uses it to tell a docker-worker payload's problems.

import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { projectPath } from '../../src/paths.js'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

export const dockerPayloadSchema: Record<string, unknown> = JSON.parse(readFileSync(projectPath('schemas', 'docker-worker-payload.json'), 'utf8'))

let compiled: ValidateFunction | undefined

export function dockerPayloadValidator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false })
    addFormats(ajv)
    compiled = ajv.compile(dockerPayloadSchema)
  }
  return compiled
}
