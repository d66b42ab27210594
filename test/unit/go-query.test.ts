// Go's url.QueryEscape and url.Values.Encode, which generic-worker builds the shell link with
// (interactive_feature.go:159-171). Expected values: Go's net/url tests (url_test.go,
// queryEscapeTests; ExampleValues_Encode's sorted keys).
import assert from 'node:assert/strict'
import { goQueryEscape, goValuesEncode } from '../../src/lib/go-query.js'
import { shellPageUrl } from '../../features/interactive.js'

describe('Go query encoding', () => {
  it('escapes as url.QueryEscape does', () => {
    assert.equal(goQueryEscape(''), '')
    assert.equal(goQueryEscape('abc'), 'abc')
    assert.equal(goQueryEscape('one two'), 'one+two')
    assert.equal(goQueryEscape('10%'), '10%25')
    assert.equal(
      goQueryEscape(' ?&=#+%!<>#"{}|\\^[]`☺\t:/@$\'()*,;'),
      '+%3F%26%3D%23%2B%25%21%3C%3E%23%22%7B%7D%7C%5C%5E%5B%5D%60%E2%98%BA%09%3A%2F%40%24%27%28%29%2A%2C%3B',
    )
    assert.equal(goQueryEscape('-_.~'), '-_.~')
  })

  it('encodes url.Values with the keys sorted', () => {
    assert.equal(goValuesEncode({ name: 'Ava', friend: 'Jess' }), 'friend=Jess&name=Ava')
  })

  it('builds generic-worker’s shell link: runId, socketUrl, taskId, v=2 (interactive_feature.go:158-172)', () => {
    assert.equal(
      shellPageUrl('https://tc.example.com', 'ws://203.0.113.7:53654/shell/abc_DEF-1', 'fN1SbArXTPSVFNUvaOlinQ', 3),
      'https://tc.example.com/shell/?runId=3&socketUrl=ws%3A%2F%2F203.0.113.7%3A53654%2Fshell%2Fabc_DEF-1&taskId=fN1SbArXTPSVFNUvaOlinQ&v=2',
    )
  })
})
