// One ajv setup for the project's schemas: formats on, strict off (the schemas carry
// Taskcluster's annotations), compiled once, on first use.
// ajv is imported when the first payload comes, not at start: an idle worker does without it
// (issue #18, idle RSS). Dynamic import(), which the release's esbuild bundle follows (a runtime
// require it could not). Whatever validates awaits loadJsonSchema() first (FamilyProfile.load).

import { readFileSync } from 'node:fs'
import type { Ajv, Options, ValidateFunction } from 'ajv'
import { projectPath } from './paths.js'

let ajvModules: { Ajv: typeof Ajv; addFormats: (ajv: Ajv) => Ajv } | undefined

/** Imports ajv 8 and ajv-formats 3, once. */
export async function loadJsonSchema(): Promise<void> {
  if (ajvModules) return
  const [{ Ajv }, formats] = await Promise.all([import('ajv'), import('ajv-formats')])
  // ajv-formats is CommonJS; under NodeNext its default export is the module object.
  ajvModules = { Ajv, addFormats: formats.default as unknown as (ajv: Ajv) => Ajv }
}

export function newAjv(options: Options = {}): Ajv {
  if (!ajvModules) throw new Error('a JSON schema was compiled before loadJsonSchema() resolved')
  const ajv = new ajvModules.Ajv({ allErrors: true, strict: false, ...options })
  ajvModules.addFormats(ajv)
  return ajv
}

/** A schema from `schemas/`, and a validator compiled on first use (no defaults filled in). */
export function projectSchema(file: string): { schema: Record<string, unknown>; validator: () => ValidateFunction } {
  const schema = JSON.parse(readFileSync(projectPath('schemas', file), 'utf8')) as Record<string, unknown>
  let compiled: ValidateFunction | undefined
  return { schema, validator: () => (compiled ??= newAjv().compile(schema)) }
}
