// ajv errors rewritten in the words of gojsonschema, the validator generic-worker uses, so a
// malformed payload produces the lines users know (`- artifacts.0.contentEncoding: …`). The
// native family reports gojsonschema-walk.ts's list, which follows gojsonschema's own walk;
// these words are its fallback, where ajv refuses a payload that walk finds nothing wrong with.

import type { ErrorObject } from 'ajv'

/** `/artifacts/0/contentEncoding` → `artifacts.0.contentEncoding`; the root is `(root)`. */
export function fieldOf(instancePath: string): string {
  if (!instancePath) return '(root)'
  return instancePath
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.')
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (Number.isInteger(value)) return 'integer'
  return typeof value
}

function valueAt(root: unknown, instancePath: string): unknown {
  let v = root
  for (const part of instancePath.split('/').slice(1)) {
    if (typeof v !== 'object' || v === null) return undefined
    v = (v as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return v
}

export function describeSchemaError(err: ErrorObject, data: unknown): string {
  const field = fieldOf(err.instancePath)
  const p = err.params as Record<string, unknown>
  switch (err.keyword) {
    case 'required':
      return `${field}: ${String(p.missingProperty)} is required`
    case 'type':
      return `${field}: Invalid type. Expected: ${String(p.type)}, given: ${typeName(valueAt(data, err.instancePath))}`
    case 'enum':
      return `${field}: ${field} must be one of the following: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'additionalProperties':
      return `${field}: Additional property ${String(p.additionalProperty)} is not allowed`
    case 'minItems':
      return `${field}: Array must have at least ${String(p.limit)} items`
    case 'minimum':
      return `${field}: Must be greater than or equal to ${String(p.limit)}`
    case 'maxLength':
      return `${field}: String length must be less than or equal to ${String(p.limit)}`
    case 'uniqueItems':
      return `${field}: array items[${String(p.j)},${String(p.i)}] must be unique`
    case 'pattern':
      return `${field}: Does not match pattern '${String(p.pattern)}'`
    case 'format':
      return `${field}: Does not match format '${String(p.format)}'`
    case 'oneOf':
      return `${field}: Must validate one and only one schema (oneOf)`
    case 'dependencies':
      return `${field}: Has a dependency on ${String(p.missingProperty)}`
    default:
      return `${field}: ${err.message ?? err.keyword}`
  }
}
