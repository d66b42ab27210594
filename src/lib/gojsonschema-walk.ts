// The error list generic-worker prints for a payload its schema refuses, as gojsonschema v1.2.0
// (the validator it links, go.mod) builds it: the same walk over the schema, the same order of
// checks, and the same *score* with which a failed `oneOf` or `anyOf` picks the branch whose
// errors it reports (validation.go:304-326). A payload without `image` that fits neither the
// generic nor the docker branch of the posix schemas can get the docker branch's errors
// (`(root): image is required`), and megalodon has to print that too.
//
// Only the error messages come from here: ajv still decides whether a payload is valid. The walk
// follows gojsonschema's steps (v1.2.0's validation.go, cited per function) with these limits:
// - properties are visited in the schema's key order and an object's keys in the document's;
//   Go iterates both maps in random order, so upstream's order among sibling errors varies from
//   run to run and any fixed order is one upstream can print;
// - `format` knows date-time and uri as gojsonschema does (format_checkers.go), others pass;
// - only `$ref`s inside the schema (`#/…`) are followed; any other makes the walk give up
//   (UnsupportedSchema) so the caller can fall back to its own messages.

type Schema = boolean | Record<string, unknown>

interface Result {
  errors: string[]
  /** How well the document matched: +1 per passed step, net -1 per error (result.go:205-220). */
  score: number
}

export class UnsupportedSchema extends Error {}

/** `(root)`, `artifacts`, `artifacts.0.path` (jsonContext.go; Field() drops the `(root).` prefix). */
function fieldOf(context: readonly string[]): string {
  return context.length === 0 ? '(root)' : context.join('.')
}

function addError(result: Result, context: readonly string[], description: string): void {
  result.errors.push(`${fieldOf(context)}: ${description}`)
  result.score -= 2 // result.go:209: with the +1 every step ends with, a net -1
}

function merge(into: Result, from: Result): void {
  into.errors.push(...from.errors)
  into.score += from.score
}

/**
 * Go's encoding/json, as the values enums, consts and uniqueItems compare are encoded
 * (utils.go:73-110): object keys sorted, and <, >, & and the line separators escaped.
 */
function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v
  return JSON.stringify(sorted(value)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** big.Float's String(), Text('g', 10), for the limits numeric errors quote (big/ftoa.go). */
export function goFloatString(n: number): string {
  if (n === 0) return '0'
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf'
  const sign = n < 0 ? '-' : ''
  const [m, e] = Math.abs(n).toExponential(9).split('e') as [string, string]
  const mant = m.replace('.', '').replace(/0+$/, '')
  const exp = Number(e) + 1 // the decimal point's position after the first `exp` digits
  let prec = 10
  const eprec = prec > mant.length && mant.length >= exp ? mant.length : prec
  if (exp - 1 < -4 || exp - 1 >= eprec) {
    prec = Math.min(prec, mant.length)
    const frac = mant.slice(1, prec).padEnd(prec - 1, '0')
    const x = exp - 1
    return `${sign}${mant[0]}${frac ? `.${frac}` : ''}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`
  }
  if (prec > exp) prec = mant.length
  const fracDigits = Math.max(prec - exp, 0)
  const digits = exp <= 0 ? '0'.repeat(1 - exp) + mant : mant.padEnd(exp, '0')
  const point = Math.max(exp, 1)
  const whole = digits.slice(0, point)
  const frac = digits.slice(point, point + fracDigits).padEnd(fracDigits, '0')
  return `${sign}${whole}${fracDigits > 0 ? `.${frac}` : ''}`
}

function typesOf(schema: Record<string, unknown>): string[] {
  const t = schema.type
  return t === undefined ? [] : Array.isArray(t) ? (t as string[]) : [t as string]
}

/** schemaType.go:70-83: one type by name, several as `[a,b]`. */
function typesString(types: readonly string[]): string {
  return types.length > 1 ? `[${types.join(',')}]` : types[0]!
}

// format_checkers.go (v1.2.0): date-time tries these Go layouts in turn; uri needs url.Parse to
// succeed with a scheme, and no backslash.
const DATE_TIME_LAYOUTS = [
  /^\d{2}:\d{2}:\d{2}$/, // 15:04:05
  /^\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})$/, // 15:04:05Z07:00
  /^\d{4}-\d{2}-\d{2}$/, // 2006-01-02
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/, // RFC3339 and RFC3339Nano
]

function inRange(s: string): boolean {
  // time.Parse refuses out-of-range fields (month 13, hour 24, day 32…)
  const date = /(\d{4})-(\d{2})-(\d{2})/.exec(s)
  if (date && (Number(date[2]) < 1 || Number(date[2]) > 12 || Number(date[3]) < 1 || Number(date[3]) > new Date(Date.UTC(Number(date[1]), Number(date[2]), 0)).getUTCDate())) return false
  const time = /(?:^|T)(\d{2}):(\d{2}):(\d{2})/.exec(s)
  if (time && (Number(time[1]) > 23 || Number(time[2]) > 59 || Number(time[3]) > 59)) return false
  return true
}

function isFormat(format: string, value: string): boolean {
  switch (format) {
    case 'date-time':
      return DATE_TIME_LAYOUTS.some((re) => re.test(value)) && inRange(value)
    case 'uri':
      // url.Parse refuses ASCII control characters and bad %-escapes; a scheme is letters first
      // eslint-disable-next-line no-control-regex
      return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) && !/[\u0000-\u001f\u007f]/.test(value) && !/%(?![0-9A-Fa-f]{2})/.test(value) && !value.includes('\\')
    default:
      return true // format_checkers.go: an unknown format always passes
  }
}

class Walk {
  private readonly regexps = new Map<string, RegExp>()

  constructor(private readonly root: Schema) {}

  private regexp(pattern: string): RegExp {
    let re = this.regexps.get(pattern)
    if (!re) this.regexps.set(pattern, (re = new RegExp(pattern, 'u')))
    return re
  }

  private resolve(ref: string): Schema {
    if (!ref.startsWith('#')) throw new UnsupportedSchema(`$ref ${ref} leaves the schema`)
    let node: unknown = this.root
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
      if (typeof node !== 'object' || node === null || !(part in node)) throw new UnsupportedSchema(`$ref ${ref} names nothing`)
      node = (node as Record<string, unknown>)[part]
    }
    return node as Schema
  }

  /** subValidateWithContext (validation.go:64-68): a fresh result for a sub-schema. */
  sub(schema: Schema, node: unknown, context: readonly string[]): Result {
    const result: Result = { errors: [], score: 0 }
    this.recursive(schema, node, result, context)
    return result
  }

  /** validateRecursive (validation.go:71-267). */
  private recursive(schema: Schema, node: unknown, result: Result, context: readonly string[]): void {
    if (typeof schema === 'boolean') {
      if (!schema) addError(result, context, 'False always fails validation')
      return
    }
    if (typeof schema.$ref === 'string') {
      this.recursive(this.resolve(schema.$ref), node, result, context)
      return
    }
    const types = typesOf(schema)
    const wrongType = (given: string) => {
      addError(result, context, `Invalid type. Expected: ${typesString(types)}, given: ${given}`)
    }
    if (node === null) {
      if (types.length > 0 && !types.includes('null')) return wrongType('null')
      this.schemaKeywords(schema, node, result, context)
      this.common(schema, node, result, context)
    } else if (typeof node === 'number') {
      const isInt = Number.isInteger(node)
      if (types.length > 0 && !(types.includes('number') || (isInt && types.includes('integer')))) return wrongType(isInt ? 'integer' : 'number')
      this.schemaKeywords(schema, node, result, context)
      this.number(schema, node, result, context)
      this.common(schema, node, result, context)
    } else if (Array.isArray(node)) {
      if (types.length > 0 && !types.includes('array')) return wrongType('array')
      this.schemaKeywords(schema, node, result, context)
      this.array(schema, node, result, context)
      this.common(schema, node, result, context)
    } else if (typeof node === 'object') {
      if (types.length > 0 && !types.includes('object')) return wrongType('object')
      const object = node as Record<string, unknown>
      this.schemaKeywords(schema, object, result, context)
      this.object(schema, object, result, context)
      this.common(schema, object, result, context)
      for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
        if (Object.hasOwn(object, name)) this.recursive(child, object[name], result, [...context, name])
      }
    } else if (typeof node === 'boolean') {
      if (types.length > 0 && !types.includes('boolean')) return wrongType('boolean')
      this.schemaKeywords(schema, node, result, context)
      this.common(schema, node, result, context)
    } else if (typeof node === 'string') {
      if (types.length > 0 && !types.includes('string')) return wrongType('string')
      this.schemaKeywords(schema, node, result, context)
      this.common(schema, node, result, context)
      this.string(schema, node, result, context)
    }
    result.score++
  }

  /** validateSchema (validation.go:270-399): anyOf, oneOf, allOf, not, dependencies, if. */
  private schemaKeywords(schema: Record<string, unknown>, node: unknown, result: Result, context: readonly string[]): void {
    const anyOf = schema.anyOf as Schema[] | undefined
    if (anyOf?.length) {
      let best: Result | undefined
      let validated = false
      for (const branch of anyOf) {
        if (validated) break
        const r = this.sub(branch, node, context)
        validated = r.errors.length === 0
        if (!validated && (best === undefined || r.score > best.score)) best = r
      }
      if (!validated) {
        addError(result, context, 'Must validate at least one schema (anyOf)')
        if (best) merge(result, best)
      }
    }
    const oneOf = schema.oneOf as Schema[] | undefined
    if (oneOf?.length) {
      let validated = 0
      let best: Result | undefined
      for (const branch of oneOf) {
        const r = this.sub(branch, node, context)
        if (r.errors.length === 0) validated++
        // strictly greater: on a tie the earlier branch stays (validation.go:313)
        else if (validated === 0 && (best === undefined || r.score > best.score)) best = r
      }
      if (validated !== 1) {
        addError(result, context, 'Must validate one and only one schema (oneOf)')
        if (validated === 0 && best) merge(result, best)
      }
    }
    const allOf = schema.allOf as Schema[] | undefined
    if (allOf?.length) {
      let validated = 0
      for (const branch of allOf) {
        const r = this.sub(branch, node, context)
        if (r.errors.length === 0) validated++
        merge(result, r)
      }
      if (validated !== allOf.length) addError(result, context, 'Must validate all the schemas (allOf)')
    }
    if (schema.not !== undefined && this.sub(schema.not as Schema, node, context).errors.length === 0) {
      addError(result, context, 'Must not validate the schema (not)')
    }
    const dependencies = schema.dependencies as Record<string, string[] | Schema> | undefined
    if (dependencies && typeof node === 'object' && node !== null && !Array.isArray(node)) {
      for (const key of Object.keys(node)) {
        const dependency = dependencies[key]
        if (dependency === undefined) continue
        if (Array.isArray(dependency)) {
          for (const needed of dependency) if (!Object.hasOwn(node, needed)) addError(result, context, `Has a dependency on ${needed}`)
        } else {
          this.recursive(dependency, node, result, context)
        }
      }
    }
    if (schema.if !== undefined) {
      const matches = this.sub(schema.if as Schema, node, context).errors.length === 0
      const branch = matches ? schema.then : schema.else
      if (branch !== undefined) {
        const r = this.sub(branch as Schema, node, context)
        if (r.errors.length > 0) {
          addError(result, context, matches ? 'Must validate "then" as "if" was valid' : 'Must validate "else" as "if" was not valid')
          merge(result, r)
        }
      }
    }
    result.score++
  }

  /** validateCommon (validation.go:401-444): const and enum. */
  private common(schema: Record<string, unknown>, value: unknown, result: Result, context: readonly string[]): void {
    const field = fieldOf(context)
    if (schema.const !== undefined && goJson(value) !== goJson(schema.const)) {
      addError(result, context, `${field} does not match: ${goJson(schema.const)}`)
    }
    const allowed = schema.enum as unknown[] | undefined
    if (allowed?.length) {
      const encoded = allowed.map(goJson)
      if (!encoded.includes(goJson(value))) addError(result, context, `${field} must be one of the following: ${encoded.join(', ')}`)
    }
    result.score++
  }

  /** validateArray (validation.go:446-570). */
  private array(schema: Record<string, unknown>, value: unknown[], result: Result, context: readonly string[]): void {
    const items = schema.items as Schema | Schema[] | undefined
    if (items !== undefined && !Array.isArray(items)) {
      value.forEach((item, i) => merge(result, this.sub(items, item, [...context, String(i)])))
    } else if (items?.length) {
      for (let i = 0; i < items.length && i < value.length; i++) merge(result, this.sub(items[i]!, value[i], [...context, String(i)]))
      const additional = schema.additionalItems as Schema | undefined
      if (items.length < value.length) {
        if (additional === false) addError(result, context, 'No additional items allowed on array')
        else if (typeof additional === 'object') for (let i = items.length; i < value.length; i++) merge(result, this.sub(additional, value[i], [...context, String(i)]))
      }
    }
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) addError(result, context, `Array must have at least ${schema.minItems} items`)
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) addError(result, context, `Array must have at most ${schema.maxItems} items`)
    if (schema.uniqueItems === true) {
      const seen = new Map<string, number>()
      value.forEach((item, j) => {
        const key = goJson(item)
        const i = seen.get(key)
        if (i !== undefined) addError(result, context, `array items[${i},${j}] must be unique`)
        seen.set(key, j)
      })
    }
    if (schema.contains !== undefined) {
      let best: Result | undefined
      let found = false
      for (const [i, item] of value.entries()) {
        const r = this.sub(schema.contains as Schema, item, [...context, String(i)])
        if (r.errors.length === 0) {
          found = true
          break
        }
        if (best === undefined || r.score > best.score) best = r
      }
      if (!found) {
        addError(result, context, 'At least one of the items must match')
        if (best) merge(result, best)
      }
    }
    result.score++
  }

  /** validateObject (validation.go:572-667) and validatePatternProperty (669-693). */
  private object(schema: Record<string, unknown>, value: Record<string, unknown>, result: Result, context: readonly string[]): void {
    const count = Object.keys(value).length
    if (typeof schema.minProperties === 'number' && count < schema.minProperties) addError(result, context, `Must have at least ${schema.minProperties} properties`)
    if (typeof schema.maxProperties === 'number' && count > schema.maxProperties) addError(result, context, `Must have at most ${schema.maxProperties} properties`)
    for (const name of (schema.required ?? []) as string[]) {
      if (Object.hasOwn(value, name)) result.score++
      else addError(result, context, `${name} is required`)
    }
    const properties = (schema.properties ?? {}) as Record<string, unknown>
    const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>)
    for (const [key, child] of Object.entries(value)) {
      let matched = false
      for (const [pattern, patternSchema] of patterns) {
        if (!this.regexp(pattern).test(key)) continue
        matched = true
        merge(result, this.sub(patternSchema, child, [...context, key]))
      }
      if (matched) result.score++
      if (Object.hasOwn(properties, key) || matched) continue
      const additional = schema.additionalProperties as Schema | undefined
      if (additional === false) addError(result, context, `Additional property ${key} is not allowed`)
      else if (typeof additional === 'object') merge(result, this.sub(additional, child, [...context, key]))
    }
    if (schema.propertyNames !== undefined) {
      for (const key of Object.keys(value)) {
        const r = this.sub(schema.propertyNames as Schema, key, context)
        if (r.errors.length > 0) {
          addError(result, context, `Property name of "${key}" does not match`)
          merge(result, r)
        }
      }
    }
    result.score++
  }

  /** validateString (validation.go:695-762, where v1.2.0 checks format). */
  private string(schema: Record<string, unknown>, value: string, result: Result, context: readonly string[]): void {
    const length = [...value].length // utf8.RuneCount
    if (typeof schema.minLength === 'number' && length < schema.minLength) addError(result, context, `String length must be greater than or equal to ${schema.minLength}`)
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) addError(result, context, `String length must be less than or equal to ${schema.maxLength}`)
    if (typeof schema.pattern === 'string' && !this.regexp(schema.pattern).test(value)) addError(result, context, `Does not match pattern '${schema.pattern}'`)
    if (typeof schema.format === 'string' && !isFormat(schema.format, value)) addError(result, context, `Does not match format '${schema.format}'`)
    result.score++
  }

  /** validateNumber (validation.go:764-858). */
  private number(schema: Record<string, unknown>, value: number, result: Result, context: readonly string[]): void {
    const multiple = schema.multipleOf
    if (typeof multiple === 'number' && !isMultiple(value, multiple)) addError(result, context, `Must be a multiple of ${goFloatString(multiple)}`)
    const { maximum, minimum, exclusiveMaximum, exclusiveMinimum } = schema
    // a draft-04 boolean exclusiveMaximum/Minimum turns maximum/minimum exclusive (schema.go)
    const max = exclusiveMaximum === true ? undefined : maximum
    const exMax = exclusiveMaximum === true ? maximum : exclusiveMaximum
    const min = exclusiveMinimum === true ? undefined : minimum
    const exMin = exclusiveMinimum === true ? minimum : exclusiveMinimum
    if (typeof max === 'number' && value > max) addError(result, context, `Must be less than or equal to ${goFloatString(max)}`)
    if (typeof exMax === 'number' && value >= exMax) addError(result, context, `Must be less than ${goFloatString(exMax)}`)
    if (typeof min === 'number' && value < min) addError(result, context, `Must be greater than or equal to ${goFloatString(min)}`)
    if (typeof exMin === 'number' && value <= exMin) addError(result, context, `Must be greater than ${goFloatString(exMin)}`)
    result.score++
  }
}

/** multipleOf as big.Rat division would decide it, exactly for integers, to 1e-9 otherwise. */
function isMultiple(value: number, multiple: number): boolean {
  if (Number.isInteger(value) && Number.isInteger(multiple)) return value % multiple === 0
  const q = value / multiple
  return Math.abs(q - Math.round(q)) < 1e-9
}

/**
 * The errors gojsonschema reports for `document` against `schema`, in an order it can report
 * them; empty when the document is valid. Throws UnsupportedSchema for a schema it cannot walk.
 */
export function gojsonschemaErrors(schema: Schema, document: unknown): string[] {
  return new Walk(schema).sub(schema, document, []).errors
}
