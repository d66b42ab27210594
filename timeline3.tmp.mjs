const { FakeQueue } = await import('/work/main/dist/test/helpers/fake-queue/index.js')
const { runWorker } = await import('/work/main/dist/test/helpers/worker.js')
const { silentLogger } = await import('/work/main/dist/src/lib/logger.js')
const { slugid } = await import('taskcluster-client')
const marks = []
const mk = (lvl) => function (a, b) { marks.push([performance.now(), typeof a === 'string' ? a : String(b)]) }
const logger = silentLogger()
const wrap = (l) => { l.info = mk('info'); l.debug = mk('debug'); l.warn = mk('warn'); const c = l.child.bind(l); l.child = (...x) => wrap(c(...x)); return l }
wrap(logger)
const fake = await new FakeQueue({ claimWaitMs: 200 }).start()
for (let i = 0; i < 60; i++) await fake.createTask(slugid(), { payload: { command: [['true']], maxRunTime: 30 } })
await runWorker(fake, { numberOfTasksToRun: 60 }, undefined, logger)
const events = [...(globalThis.__marks||[]).map(([t,m])=>[t,"  . "+m]), ...marks.map(([t, m]) => [t, 'log ' + m]), ...fake.requests.map((r) => [r.at, 'REQ ' + r.method + ' ' + (r.params || []).slice(2).join('')])].sort((a, b) => a[0] - b[0])
let prev = events[0][0]
for (const [t, m] of events.slice(-40)) { console.log((t - prev).toFixed(2).padStart(6), m); prev = t }
await fake.stop()
