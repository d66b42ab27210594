// The docker-worker payload schema (ours, equivalent to upstream's; see test/unit/docker-schema.test.ts).
import { projectSchema } from '../../src/lib/json-schema.js'

const { schema, validator } = projectSchema('docker-worker-payload.json')

export const dockerPayloadSchema = schema
export const dockerPayloadValidator = validator
