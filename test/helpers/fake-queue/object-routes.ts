// The Object service's upload API (createUpload / finishUpload) and the data plane the fake
// hands out as URLs: s3-style PUT/GET targets and object PUT targets.
import { FakeAuth, HttpError } from './auth.js'
import { route, sendJson, type Route } from './http.js'
import { sha256, sha512, type QueueState } from './state.js'

export function objectRoutes(state: QueueState, baseUrl: () => string, pieceDelayMs: () => number = () => 0): Route[] {
  return [
    route('createUpload', 'PUT', '/api/object/v1/upload/:name+', (r) => {
      const name = decodeURIComponent(r.params[0]!)
      const body = r.json<{ projectId: string; uploadId: string; expires: string; proposedUploadMethods: { dataInline?: { contentType: string; objectData: string }; putUrl?: { contentType: string; contentLength: number } } }>(
        'object/v1/create-upload-request',
      )
      FakeAuth.require(r.caller, `object:upload:${body.projectId}:${name}`)
      const obj = state.objects.get(name)
      if (!obj || obj.uploadId !== body.uploadId || obj.projectId !== body.projectId) throw new HttpError(409, 'RequestConflict', 'upload does not match the one the Queue started')
      if (Date.parse(body.expires) !== Date.parse(obj.expires)) throw new HttpError(409, 'RequestConflict', 'expires does not match')
      const { dataInline, putUrl } = body.proposedUploadMethods
      let uploadMethod: Record<string, unknown> = {}
      if (dataInline) {
        obj.body = Buffer.from(dataInline.objectData, 'base64')
        obj.contentType = dataInline.contentType
        uploadMethod = { dataInline: true }
      } else if (putUrl) {
        obj.contentType = putUrl.contentType
        uploadMethod = {
          putUrl: {
            url: `${baseUrl()}/_objects/${obj.uploadId}`,
            expires: new Date(Date.now() + 3600_000).toISOString(),
            headers: { 'Content-Type': putUrl.contentType, 'Content-Length': String(putUrl.contentLength) },
          },
        }
      }
      sendJson(r.res, 200, { projectId: obj.projectId, uploadId: obj.uploadId, expires: new Date(obj.expires).toISOString(), uploadMethod }, 'object/v1/create-upload-response')
    }),
    route('finishUpload', 'POST', '/api/object/v1/finish-upload/:name+', (r) => {
      const name = decodeURIComponent(r.params[0]!)
      const body = r.json<{ projectId: string; uploadId: string; hashes?: Record<string, string> }>('object/v1/finish-upload-request')
      FakeAuth.require(r.caller, `object:upload:${body.projectId}:${name}`)
      const obj = state.objects.get(name)
      if (!obj || obj.uploadId !== body.uploadId) throw new HttpError(404, 'ResourceNotFound', 'no such upload')
      if (!obj.body) throw new HttpError(400, 'InputError', 'no data was uploaded')
      if (body.hashes?.sha256 && body.hashes.sha256 !== sha256(obj.body)) throw new HttpError(400, 'InputError', 'sha256 does not match the uploaded data')
      if (body.hashes?.sha512 && body.hashes.sha512 !== sha512(obj.body)) throw new HttpError(400, 'InputError', 'sha512 does not match the uploaded data')
      obj.hashes = body.hashes
      obj.finished = true
      sendJson(r.res, 200, {})
    }),
    route('startDownload', 'PUT', '/api/object/v1/start-download/:name+', (r) => {
      const name = decodeURIComponent(r.params[0]!)
      FakeAuth.require(r.caller, `object:download:${name}`)
      const { acceptDownloadMethods } = r.json<{ acceptDownloadMethods: { getUrl?: boolean; simple?: boolean } }>('object/v1/download-object-request')
      const obj = state.objects.get(name)
      if (!obj?.finished) throw new HttpError(404, 'ResourceNotFound', `object ${name} not found`)
      const url = `${baseUrl()}/_objects/get/${obj.uploadId}`
      if (acceptDownloadMethods.getUrl) {
        return sendJson(r.res, 200, { method: 'getUrl', url, expires: new Date(Date.now() + 3600_000).toISOString(), hashes: obj.hashes ?? {} }, 'object/v1/download-object-response')
      }
      if (acceptDownloadMethods.simple) return sendJson(r.res, 200, { method: 'simple', url }, 'object/v1/download-object-response')
      throw new HttpError(406, 'NoMatchingMethod', 'no acceptable download method')
    }),
    route('objectGet', 'GET', '/_objects/get/:uploadId', (r) => {
      const obj = [...state.objects.values()].find((o) => o.uploadId === r.params[0])
      if (!obj?.body) throw new HttpError(404, 'ResourceNotFound', 'no data')
      r.res.writeHead(200, { 'content-type': obj.contentType ?? 'application/octet-stream', 'content-length': obj.body.length }).end(obj.body)
    }),
    // --- data plane (what putUrl / url point at) ---
    route('objectPut', 'PUT', '/_objects/:uploadId', (r) => {
      const obj = [...state.objects.values()].find((o) => o.uploadId === r.params[0])
      if (!obj) throw new HttpError(404, 'ResourceNotFound', 'unknown upload')
      checkLength(r.req.headers['content-length'], r.body)
      obj.body = r.body
      r.res.writeHead(200).end()
    }),
    route('s3Put', 'PUT', '/_s3/:taskId/:runId/:name+', (r) => {
      const [taskId, runId, rawName] = r.params as [string, string, string]
      const a = state.get(taskId).artifacts[Number(runId)]?.get(decodeURIComponent(rawName))
      if (!a || a.storageType !== 's3') throw new HttpError(404, 'ResourceNotFound', 'no such s3 artifact')
      checkLength(r.req.headers['content-length'], r.body)
      // createArtifact's contentLength is only stored by the Queue (services/queue/src/artifacts.js:176,335),
      // never compared with the PUT: generic-worker reports the size before gzip there.
      if (r.req.headers['content-type'] !== a.contentType) throw new HttpError(400, 'InputError', `content-type ${r.req.headers['content-type']} differs from ${a.contentType}`)
      a.body = r.body
      a.contentEncoding = r.req.headers['content-encoding'] ?? 'identity'
      a.present = true
      r.res.writeHead(200).end()
    }),
    route('s3Get', 'GET', '/_s3/:taskId/:runId/:name+', (r) => {
      const [taskId, runId, rawName] = r.params as [string, string, string]
      const a = state.get(taskId).artifacts[Number(runId)]?.get(decodeURIComponent(rawName))
      const body = a?.storageType === 'object' ? state.objects.get(a.objectName!)?.body : a?.body
      if (!a || !body) throw new HttpError(404, 'ResourceNotFound', 'no data')
      const headers: Record<string, string | number> = { 'content-type': a.contentType ?? 'application/octet-stream', 'content-length': body.length }
      if (a.contentEncoding && a.contentEncoding !== 'identity') headers['content-encoding'] = a.contentEncoding
      const delay = pieceDelayMs()
      if (delay === 0) return void r.res.writeHead(200, headers).end(body)
      // a slow download: ten pieces, `delay` apart
      r.res.writeHead(200, headers)
      const piece = Math.ceil(body.length / 10)
      let at = 0
      const next = () => {
        r.res.write(body.subarray(at, at + piece))
        at += piece
        if (at >= body.length) r.res.end()
        else setTimeout(next, delay)
      }
      next()
    }),
  ]
}

function checkLength(header: string | undefined, body: Buffer): void {
  if (header === undefined || Number(header) !== body.length) throw new HttpError(400, 'InputError', `content-length ${header} does not match the ${body.length} bytes received`)
}
