import cp from 'node:child_process'
import { syncBuiltinESMExports } from 'node:module'
const times = {}
const orig = cp.spawn
cp.spawn = function (...a) { const t = performance.now(); const r = orig.apply(this, a); (times[a[0]] ??= []).push(performance.now() - t); return r }
syncBuiltinESMExports()
const { FakeQueue } = await import('/work/main/dist/test/helpers/fake-queue/index.js')
const { runWorker } = await import('/work/main/dist/test/helpers/worker.js')
const { slugid } = await import('taskcluster-client')
const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
const ids = []
for (let i = 0; i < 100; i++) { const id = slugid(); ids.push(id); await fake.createTask(id, { payload: { command: [['true']], maxRunTime: 30 } }) }
await runWorker(fake, { numberOfTasksToRun: 100 })
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)].toFixed(2) }
for (const [k, v] of Object.entries(times)) console.log(k, v.length, 'median', med(v))
const d = ids.map((id) => { const run = fake.state.get(id).runs[0]; return Date.parse(run.resolved) - Date.parse(run.started) })
console.log('task median', med(d))
const t = []; for (let i = 0; i < 50; i++) { const s = performance.now(); await new Promise((r) => orig('true').once('exit', r)); t.push(performance.now() - s) }
console.log('spawnTrue', med(t))
await fake.stop()
