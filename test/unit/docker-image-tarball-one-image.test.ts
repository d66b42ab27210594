// Row 98: a `docker save` tarball naming more than one image is refused before `docker load`
// finishes, with docker-worker's words (docker-worker src/docker/artifact_image.js:270-272 for
// manifest.json, 286-288 for the legacy `repositories` file). A single-image tarball is retagged.

import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import { retagImageTarball } from '../../executors/docker/image-tarball.js'

async function tarball(files: Record<string, string>): Promise<Readable> {
  const pack = tar.pack()
  for (const [name, body] of Object.entries(files)) pack.entry({ name }, body)
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c)
  return Readable.from([Buffer.concat(chunks)])
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

describe('docker image tarball: one image only (docker-worker artifact_image.js:270-272,286-288)', function () {
  it('a manifest.json with two entries fails with "Image tarballs must only contain one image"', async () => {
    const input = await tarball({ 'manifest.json': JSON.stringify([{ RepoTags: ['a:1'] }, { RepoTags: ['b:1'] }]) })
    await assert.rejects(drain(await retagImageTarball(input, 'abc:latest')), /^Error: Image tarballs must only contain one image$/)
  })

  it('a legacy repositories file naming two repositories fails the same way', async () => {
    const input = await tarball({ repositories: JSON.stringify({ a: { '1': 'id1' }, b: { '1': 'id2' } }) })
    await assert.rejects(drain(await retagImageTarball(input, 'abc:latest')), /Image tarballs must only contain one image/)
  })

  it('a single-image manifest is rewritten to the worker’s name only', async () => {
    const input = await tarball({ 'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['ubuntu:22.04'] }]) })
    const out = tar.extract()
    let manifest = ''
    out.on('entry', (header, stream, next) => {
      const parts: Buffer[] = []
      stream.on('data', (c: unknown) => { parts.push(c as Buffer) })
      stream.on('end', () => { if (header.name === 'manifest.json') manifest = Buffer.concat(parts).toString(); next() })
    })
    const done = new Promise<void>((resolve, reject) => { out.on('finish', () => resolve()); out.on('error', reject) })
    ;(await retagImageTarball(input, 'abc:latest')).pipe(out)
    await done
    assert.deepEqual(JSON.parse(manifest), [{ Config: 'c.json', RepoTags: ['abc:latest'] }])
  })
})
