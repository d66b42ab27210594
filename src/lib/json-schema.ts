// One ajv setup for the project's schemas: formats on, strict off (the schemas carry
// Taskcluster's annotations), compiled once, on first use. ajv and ajv-formats (CommonJS) are
// required with the first schema compiled, so an idle worker has loaded neither (issue #18).

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Ajv, Options, ValidateFunction } from 'ajv'
import { projectPath } from './paths.js'

const require = createRequire(import.meta.url)

export function newAjv(options: Options = {}): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv')
  const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv
  const ajv = new AjvClass({ allErrors: true, strict: false, ...options })
  addFormats(ajv)
  return ajv
}

/** A schema from `schemas/`, and a validator compiled on first use (no defaults filled in). */
export function projectSchema(file: string): { schema: Record<string, unknown>; validator: () => ValidateFunction } {
  const schema = JSON.parse(readFileSync(projectPath('schemas', file), 'utf8')) as Record<string, unknown>
  let compiled: ValidateFunction | undefined
  return { schema, validator: () => (compiled ??= newAjv().compile(schema)) }
}
