// Small HTTP plumbing for the fake services: routes, JSON bodies, Taskcluster-shaped errors.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { HttpError, type Caller } from './auth.js'
import { checkSchema } from './schemas.js'

export interface Request {
  req: IncomingMessage
  res: ServerResponse
  params: string[]
  query: URLSearchParams
  caller: Caller
  body: Buffer
  json<T = Record<string, unknown>>(schema?: string): T
}

export type Handler = (r: Request) => Promise<unknown> | unknown

export interface Route {
  /** taskcluster-client's method name: faults and the request log use it. */
  name: string
  method: string
  pattern: RegExp
  handler: Handler
}

export function route(name: string, method: string, path: string, handler: Handler): Route {
  // `:param` matches one segment; `:param+` the rest of the path (artifact names contain '/').
  const source = path.replace(/:(\w+)\+/g, '(.+)').replace(/:(\w+)/g, '([^/]+)')
  return { name, method, pattern: new RegExp(`^${source}$`), handler }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export function parseJson<T>(body: Buffer, schema?: string): T {
  let value: unknown
  try {
    value = body.length ? JSON.parse(body.toString('utf8')) : {}
  } catch {
    throw new HttpError(400, 'MalformedPayload', 'request body is not JSON')
  }
  if (schema) {
    const problems = checkSchema(schema, value)
    if (problems.length) throw new HttpError(400, 'InputValidationError', `request does not match ${schema}: ${problems.join('; ')}`)
  }
  return value as T
}

/** Send a JSON reply; replies are checked against the real response schema too. */
export function sendJson(res: ServerResponse, status: number, value: unknown, schema?: string): void {
  if (schema) {
    const problems = checkSchema(schema, value)
    if (problems.length) throw new Error(`fake queue bug: reply does not match ${schema}: ${problems.join('; ')}`)
  }
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

export function sendError(res: ServerResponse, err: unknown): void {
  // Anything that is not a deliberate HttpError is a bug in the fake itself: say so loudly.
  if (!(err instanceof HttpError)) process.stderr.write(`fake queue: ${(err as Error).stack ?? String(err)}\n`)
  const e = err instanceof HttpError ? err : new HttpError(500, 'InternalServerError', (err as Error).message ?? String(err))
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, e.status, { code: e.code, message: e.message, requestInfo: {} })
}
