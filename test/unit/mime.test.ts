// Content types and encodings of generic-worker artifacts.
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { contentEncodingFor, contentTypeFor, goExt, loadHostTypes } from '../../executors/native/mime.js'

describe('content types and encodings (generic-worker rules)', () => {
  it('uses generic-worker’s own map first, then Go’s built-ins', () => {
    assert.equal(contentTypeFor('a/b.log'), 'text/plain')
    assert.equal(contentTypeFor('x.jsonl'), 'application/jsonl')
    assert.equal(contentTypeFor('x.json'), 'application/json')
    assert.equal(contentTypeFor('x.HTML'), 'text/html; charset=utf-8')
    assert.equal(contentTypeFor('no-extension'), 'application/octet-stream')
  })
  it('reads globs2 without overriding built-ins, or else mime.types (which override), adding charset to text types', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mime-'))
    await writeFile(path.join(dir, 'globs2'), '# comment\n50:text/x-foo:*.foo\n50:application/x-json-alt:*.json\n40:text/x-other:*.foo\n')
    await writeFile(path.join(dir, 'mime.types'), 'application/x-bar\tbar baz\ntext/x-qux qux\napplication/x-json-alt json\n')
    const fromGlobs = loadHostTypes({ globs: [path.join(dir, 'globs2')], mimeTypes: [path.join(dir, 'mime.types')] })
    assert.equal(fromGlobs.get('.foo'), 'text/x-foo; charset=utf-8')
    assert.equal(fromGlobs.get('.json'), 'application/json')
    assert.equal(fromGlobs.has('.bar'), false)
    const fromTypes = loadHostTypes({ globs: [path.join(dir, 'missing')], mimeTypes: [path.join(dir, 'mime.types')] })
    assert.equal(fromTypes.get('.baz'), 'application/x-bar')
    assert.equal(fromTypes.get('.qux'), 'text/x-qux; charset=utf-8')
    assert.equal(fromTypes.get('.json'), 'application/x-json-alt')
  })
  it('uploads already-compressed extensions with identity encoding, the rest gzip', () => {
    for (const f of ['a.zip', 'a.tar.gz', 'a.zst', 'a.png', 'a.whl', 'a.lz4']) assert.equal(contentEncodingFor(f), 'identity', f)
    for (const f of ['a.txt', 'a.tar', 'a.json', 'noext']) assert.equal(contentEncodingFor(f), 'gzip', f)
  })
  it('looks the identity list up by the exact extension: b.ZIP is gzipped (artifact_feature.go:377)', () => {
    for (const f of ['b.ZIP', 'a.ZST', 'c.Png']) assert.equal(contentEncodingFor(f), 'gzip', f)
  })
  it('looks its own map up by the lower-cased extension: .LOG is text/plain (artifact_feature.go:326)', () => {
    assert.equal(contentTypeFor('build.LOG'), 'text/plain')
    assert.equal(contentTypeFor('x.JsonL'), 'application/jsonl')
  })
  it('takes the extension as Go’s filepath.Ext does: a leading dot counts (.log is text/plain)', () => {
    assert.equal(goExt('dir/.log'), '.log')
    assert.equal(goExt('a.b/c'), '')
    assert.equal(contentTypeFor('dir/.log'), 'text/plain')
  })
})
