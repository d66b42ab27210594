// megalodon shadow: follow a "production" worker pool and a task group in the fake Queue,
// replay each task, and check the report — totals, Markdown, and the HTML page rendered in a
// real headless Chromium (Debian's), with a screenshot checked for the table's verdict colours.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { chromium } from 'playwright-core'
import { PNG } from 'pngjs'
import { slugid } from 'taskcluster-client'
import { defaultExecutors } from '../../executors/index.js'
import { silentLogger } from '../../src/lib/logger.js'
import { cliEntry } from '../../src/lib/paths.js'
import { shadow } from '../../src/compare/shadow.js'
import { FakeQueue } from '../helpers/fake-queue/index.js'
import { ANONYMOUS_ROLE, genericTask, genericWorkerLog, productionArtifacts } from '../helpers/production.js'

const CHROMIUM = process.env.MEGALODON_CHROMIUM ?? '/usr/bin/chromium'

/** Count pixels close to an RGB colour. */
function pixelsOf(png: PNG, [r, g, b]: [number, number, number]): number {
  let n = 0
  for (let i = 0; i < png.data.length; i += 4) {
    if (Math.abs(png.data[i]! - r) < 6 && Math.abs(png.data[i + 1]! - g) < 6 && Math.abs(png.data[i + 2]! - b) < 6) n++
  }
  return n
}

describe('megalodon shadow', function () {
  this.timeout(120_000)
  let fake: FakeQueue
  let out: string
  const group = slugid()
  const ids = { same: slugid(), differs: slugid(), exitCode: slugid(), creds: slugid(), cancelled: slugid(), other: slugid() }

  before(async () => {
    fake = await new FakeQueue({ claimWaitMs: 200 }).start()
    fake.auth.anonymousScopes = ANONYMOUS_ROLE
    const inGroup = (extra: Record<string, unknown> = {}) => ({ ...genericTask(extra), taskGroupId: group })
    // the pool's worker ran these four
    await fake.seedHistory({ taskId: ids.same, task: inGroup(), state: 'completed', artifacts: productionArtifacts('hello\n', genericWorkerLog(0)) })
    await fake.seedHistory({ taskId: ids.differs, task: inGroup(), state: 'completed', artifacts: productionArtifacts('<b>not</b> hello\n', genericWorkerLog(0)) })
    await fake.seedHistory({ taskId: ids.exitCode, task: inGroup(), state: 'failed', artifacts: productionArtifacts('hello\n', genericWorkerLog(2)) })
    await fake.seedHistory({ taskId: ids.creds, task: inGroup({ features: { taskclusterProxy: true } }), state: 'completed', artifacts: productionArtifacts('hello\n', genericWorkerLog(0)) })
    // a cancelled run says nothing about the task: not replayed
    await fake.seedHistory({ taskId: ids.cancelled, task: inGroup(), state: 'exception', reasonResolved: 'canceled', artifacts: [] })
    // another pool's task, in no group: only reached when listed
    await fake.seedHistory({ taskId: ids.other, task: { ...genericTask(), taskQueueId: 'prod/other' }, state: 'completed', artifacts: productionArtifacts('hello\n', genericWorkerLog(0)) })
    out = await mkdtemp(path.join(os.tmpdir(), 'megalodon-shadow-'))
  })
  after(async () => fake?.stop())

  it('follows a worker pool without claiming anything, and totals the verdicts', async () => {
    const { reports, totals, files } = await shadow({
      config: { rootUrl: fake.rootUrl, workerPoolId: 'test-provisioner/test-worker-type', concurrency: 2, output: out, worker: { tasksDir: path.join(out, 'tasks') } },
      executors: defaultExecutors(),
      logger: silentLogger(),
    })
    assert.deepEqual(
      reports.map((r) => [r.taskId, r.verdict]),
      [
        [ids.same, 'matched'],
        [ids.differs, 'differed'],
        [ids.exitCode, 'differed'],
        [ids.creds, 'could-not-run'],
      ],
      'the worker also ran the cancelled task, but a cancelled run has nothing to compare',
    )
    assert.deepEqual(totals, { tasks: 4, matched: 1, differed: 2, couldNotRun: 1, why: { 'skipped: needs credentials (features.taskclusterProxy); give --with-credentials': 1 } })
    assert.equal(fake.requests.filter((q) => ['claimWork', 'reportCompleted', 'reportFailed', 'reportException', 'createArtifact'].includes(q.method)).length, 0)
    const md = readFileSync(files.markdown, 'utf8')
    assert.match(md, /\*\*4 tasks: 1 matched, 2 differed, 1 could not run\.\*\*/)
    assert.match(md, new RegExp(`\\| ${ids.exitCode} \\| 0 \\| test task \\| generic \\| differed \\| failed \\(exit 2\\) \\| completed \\(exit 0\\) \\|`))
    assert.ok(existsSync(files.json))
  })

  it('renders a report people can sort and filter, checked in a real Chromium', async function () {
    // CI installs it (test/helpers/browser-up.sh); elsewhere the test needs it too, unless absent
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) assert.fail(`no Chromium at ${CHROMIUM}: run test/helpers/browser-up.sh`)
      this.skip()
    }
    const html = path.join(out, 'report.html')
    assert.ok(existsSync(html))
    assert.doesNotMatch(readFileSync(html, 'utf8'), /<b>not<\/b>/, 'task-controlled text is escaped')
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
      await page.goto(`file://${html}`)
      assert.equal(await page.locator('#total-matched b').textContent(), '1')
      assert.equal(await page.locator('#total-differed b').textContent(), '2')
      assert.equal(await page.locator('#total-could-not-run b').textContent(), '1')
      assert.equal(await page.locator('#report tbody tr').count(), 4)

      // the screenshot shows a table with a green (matched), red (differed) and yellow row
      const shot = PNG.sync.read(await page.locator('#report').screenshot({ path: path.join(out, 'report.png') }))
      assert.ok(shot.width > 800 && shot.height > 100, `table rendered ${shot.width}x${shot.height}`)
      assert.ok(pixelsOf(shot, [0xdf, 0xf3, 0xe4]) > 200, 'a matched verdict cell is painted')
      assert.ok(pixelsOf(shot, [0xfd, 0xe2, 0xe1]) > 400, 'two differed verdict cells are painted')
      assert.ok(pixelsOf(shot, [0xff, 0xf2, 0xcc]) > 200, 'a could-not-run verdict cell is painted')
      assert.ok(pixelsOf(shot, [0x33, 0x33, 0x33]) > 1000, 'the header row is painted')

      // filter by verdict, then by text
      await page.selectOption('#verdict', 'differed')
      assert.equal(await page.locator('#report tbody tr:visible').count(), 2)
      assert.equal(await page.locator('#shown').textContent(), '2 shown')
      await page.selectOption('#verdict', '')
      await page.fill('#filter', ids.exitCode)
      assert.equal(await page.locator('#report tbody tr:visible').count(), 1)
      await page.fill('#filter', '')
      // sort by verdict, descending then ascending
      await page.click('#report th:nth-child(5)')
      const ascending = await page.locator('#report tbody td.verdict').allTextContents()
      assert.deepEqual(ascending, [...ascending].sort())
      await page.click('#report th:nth-child(5)')
      const descending = await page.locator('#report tbody td.verdict').allTextContents()
      assert.deepEqual(descending, [...ascending].reverse())
    } finally {
      await browser.close()
    }
  })

  it('`megalodon shadow --config` replays a task group and listed tasks, exit 1 when some differed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'megalodon-shadow-cli-'))
    const config = path.join(dir, 'shadow.yml')
    writeFileSync(config, `rootUrl: ${fake.rootUrl}\ntaskGroupId: ${group}\ntaskIds: [${ids.other}]\noutput: ${dir}/out\nworker:\n  tasksDir: ${dir}/tasks\n`)
    const result = await promisify(execFile)(process.execPath, [cliEntry, 'shadow', '--config', config], { env: { ...process.env, TASKCLUSTER_CLIENT_ID: '' } }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    )
    assert.equal(result.code, 1, result.out)
    assert.match(result.out, new RegExp(`${ids.other} run 0: matched`))
    assert.match(result.out, /5 tasks: 2 matched, 2 differed, 1 could not run/)
    assert.doesNotMatch(result.out, new RegExp(ids.cancelled))
    assert.ok(existsSync(path.join(dir, 'out', 'report.html')))
  })
})
