// docker-worker's own payload validation (src/validate.js:95-139): its ajv major (7) and
// ajv-formats major (2), so a payload is accepted or refused exactly as docker-worker did
// (ajv-formats 3 refuses a date-time without a time zone that 2 accepts) and the errors read in
// ajv 7's words (`data/maxRunTime should be integer`). Options as docker-worker set them:
// useDefaults (the schema's defaults are written into the payload), formats, verbose, allErrors,
// no meta-schema check.

import type { ErrorObject, ValidateFunction } from 'ajv7'

/** What is used of an ajv 7 instance. */
interface Ajv7 {
  compile(schema: object): ValidateFunction
  errorsText(errors: ErrorObject[], options: { separator: string }): string
}
import { dockerPayloadSchema } from './schema.js'

let modules: { AjvClass: new (options: Record<string, unknown>) => Ajv7; addFormats: (ajv: Ajv7) => Ajv7 } | undefined

/**
 * Imports ajv 7 and ajv-formats 2, once, when the first docker payload comes (an idle worker
 * does without them: issue #18, idle RSS); dockerWorkerSchemaError needs it to have resolved.
 */
export async function loadDockerWorkerAjv(): Promise<void> {
  if (modules) return
  const [ajv7Module, addFormatsModule] = await Promise.all([import('ajv7'), import('ajv-formats2')])
  // both packages are CommonJS: `default` is module.exports, whose own `default` is the export
  const exported = (m: { default: unknown }): unknown => (m.default as { default?: unknown }).default ?? m.default
  modules = {
    AjvClass: exported(ajv7Module) as new (options: Record<string, unknown>) => Ajv7,
    addFormats: exported(addFormatsModule) as (ajv: Ajv7) => Ajv7,
  }
}

let compiled: { ajv: Ajv7; validate: ValidateFunction } | undefined

function compile(): { ajv: Ajv7; validate: ValidateFunction } {
  if (compiled) return compiled
  if (!modules) throw new Error('a docker payload was validated before loadDockerWorkerAjv() resolved')
  const { AjvClass, addFormats } = modules
  const ajv = new AjvClass({ useDefaults: true, validateFormats: true, verbose: true, validateSchema: false, allErrors: true, strict: false })
  addFormats(ajv)
  compiled = { ajv, validate: ajv.compile(dockerPayloadSchema) }
  return compiled
}

/**
 * Validates (and fills in the defaults of) `payload` in place. Returns null when valid, else
 * docker-worker's one error text for the whole payload, naming the schema by `schemaId`
 * (`<rootUrl>/schemas/docker-worker/v1/payload.json#`).
 */
export function dockerWorkerSchemaError(payload: unknown, schemaId: string): string | null {
  const { ajv, validate } = compile()
  if (validate(payload)) return null
  const errors: ErrorObject[] = (validate.errors ?? []).map((e) => {
    const extra = (e.params as { additionalProperty?: unknown }).additionalProperty
    return extra === undefined ? e : { ...e, message: `${e.message ?? ''}: ${JSON.stringify(extra)}` }
  })
  return ['\nSchema Validation Failed!', '\nRejecting Schema: ', schemaId, '\nErrors:\n  * ', ajv.errorsText(errors, { separator: '\n  * ' })].join('')
}

/** The id docker-worker validated against (libUrls.schema, then src/validate.js:121-126). */
export function dockerWorkerSchemaId(rootUrl: string): string {
  return `${rootUrl.replace(/\/+$/, '')}/schemas/docker-worker/v1/payload.json#`
}
