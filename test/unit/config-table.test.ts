// The README's configuration table and the config key table (src/config/config-keys.ts) say
// the same: every key the worker acts on has a row, every key a row names exists, and a key
// the table calls "accepted" is one the worker does not act on.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { configKeys, type ConfigKeySpec } from '../../src/config/config-keys.js'
import { projectPath } from '../../src/lib/paths.js'

const table = configKeys as Record<string, ConfigKeySpec>

function readmeRows(): Array<{ keys: string[]; status: string }> {
  const text = readFileSync(projectPath('README.md'), 'utf8')
  const start = text.indexOf('| key | default | status |')
  assert.ok(start >= 0, 'the README has a configuration table')
  const lines = text.slice(start).split('\n').slice(2)
  const rows: Array<{ keys: string[]; status: string }> = []
  for (const line of lines) {
    if (!line.startsWith('|')) break
    const [, first = '', , status = ''] = line.split('|').map((c) => c.trim())
    // a row names its keys in its first cell; "(megalodon)" marks our own, prose words are not keys
    const words = first.replace(/\([^)]*\)/g, ' ').match(/[A-Za-z][A-Za-z0-9]*/g) ?? []
    rows.push({ keys: words.filter((w) => w in table || /[A-Z]/.test(w)), status })
  }
  return rows
}

describe('README configuration table', () => {
  const rows = readmeRows()
  const named = new Set(rows.flatMap((r) => r.keys))

  it('has a row for every key the worker acts on', () => {
    const missing = Object.entries(table).filter(([k, spec]) => spec.applies && !named.has(k)).map(([k]) => k)
    assert.deepEqual(missing, [])
  })

  it('names only keys that exist', () => {
    assert.deepEqual([...named].filter((k) => !(k in table)), [])
  })

  it('calls "accepted" only keys the worker does not act on', () => {
    const wrong = rows.filter((r) => r.status === 'accepted').flatMap((r) => r.keys.filter((k) => table[k]!.applies))
    assert.deepEqual(wrong, [])
  })
})
