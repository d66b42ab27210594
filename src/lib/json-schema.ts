// One ajv setup for the project's schemas: formats on, strict off (the schemas carry
// Taskcluster's annotations), compiled once, on first use.
// (Loaded statically: the release is one esbuild bundle, which cannot follow a runtime require.)

import { readFileSync } from 'node:fs'
import { Ajv, type Options, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { projectPath } from './paths.js'

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

export function newAjv(options: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, ...options })
  addFormats(ajv)
  return ajv
}

/** A schema from `schemas/`, and a validator compiled on first use (no defaults filled in). */
export function projectSchema(file: string): { schema: Record<string, unknown>; validator: () => ValidateFunction } {
  const schema = JSON.parse(readFileSync(projectPath('schemas', file), 'utf8')) as Record<string, unknown>
  let compiled: ValidateFunction | undefined
  return { schema, validator: () => (compiled ??= newAjv().compile(schema)) }
}
