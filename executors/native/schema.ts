// The generic-worker payload schema (ours, equivalent to upstream's; see
// test/native-schema.test.ts). Validation never fills in defaults: an explicit `true` must stay
// distinguishable from a default.
import { projectSchema } from '../../src/json-schema.js'

const { schema, validator } = projectSchema('generic-worker-payload.json')

export const payloadSchema = schema
export const payloadValidator = validator
