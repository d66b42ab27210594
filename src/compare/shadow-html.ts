// The shadow report as one self-contained HTML page (no network: inline style and script): the
// totals, then a table people can sort (click a header) and filter (text box, verdict menu).

import type { ReplayReport } from './replay/report.js'
import { artifactCounts, outcomeCell, type ShadowTotals } from './shadow.js'

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

export function renderHtmlReport(reports: ReplayReport[], totals: ShadowTotals, meta: { source: string; generated: string }): string {
  const rows = reports
    .map((r) => {
      const details = r.verdict === 'could-not-run' ? (r.why ?? '') : r.differences.join('\n')
      return `<tr class="${r.verdict}" data-verdict="${r.verdict}">
<td>${esc(r.taskId)}</td><td>${r.runId}</td><td>${esc(r.name)}</td><td>${esc(r.family ?? '—')}</td>
<td class="verdict">${r.verdict}</td><td>${esc(outcomeCell(r.production))}</td><td>${esc(outcomeCell(r.local))}</td>
<td>${esc(artifactCounts(r))}</td><td class="details">${esc(details)}</td></tr>`
    })
    .join('\n')
  const why = Object.entries(totals.why)
    .map(([w, n]) => `<li>${n} × ${esc(w)}</li>`)
    .join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>megalodon shadow report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1b1b; }
h1 { font-size: 22px; margin: 0 0 4px; }
.totals { display: flex; gap: 12px; margin: 16px 0; }
.total { padding: 10px 16px; border-radius: 6px; background: #f1f1f1; font-size: 16px; }
.total b { font-size: 24px; display: block; }
.total.matched { background: #dff3e4; } .total.differed { background: #fde2e1; } .total.could-not-run { background: #fff2cc; }
.controls { margin: 12px 0; display: flex; gap: 12px; }
input, select { font: inherit; padding: 4px 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #333; color: #fff; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
tr.matched td.verdict { background: #dff3e4; } tr.differed td.verdict { background: #fde2e1; } tr.could-not-run td.verdict { background: #fff2cc; }
td.details { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
</style></head>
<body>
<h1>megalodon shadow report</h1>
<div>${esc(meta.source)} — ${esc(meta.generated)}</div>
<div class="totals">
<div class="total" id="total-tasks"><b>${totals.tasks}</b>tasks</div>
<div class="total matched" id="total-matched"><b>${totals.matched}</b>matched</div>
<div class="total differed" id="total-differed"><b>${totals.differed}</b>differed</div>
<div class="total could-not-run" id="total-could-not-run"><b>${totals.couldNotRun}</b>could not run</div>
</div>
${why ? `<ul>${why}</ul>` : ''}
<div class="controls">
<input id="filter" type="search" placeholder="filter rows (task, name, differences…)">
<select id="verdict"><option value="">every verdict</option><option>matched</option><option>differed</option><option value="could-not-run">could not run</option></select>
<span id="shown">${reports.length} shown</span>
</div>
<table id="report"><thead><tr>
<th>task</th><th>run</th><th>name</th><th>payload</th><th>verdict</th><th>production</th><th>megalodon</th><th>artifacts</th><th>differences / why not run</th>
</tr></thead><tbody>
${rows}
</tbody></table>
<script>
(function () {
  var table = document.getElementById('report');
  var body = table.tBodies[0];
  var filter = document.getElementById('filter');
  var verdict = document.getElementById('verdict');
  function apply() {
    var text = filter.value.toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var ok = (!verdict.value || row.dataset.verdict === verdict.value) && row.textContent.toLowerCase().indexOf(text) !== -1;
      row.style.display = ok ? '' : 'none';
      if (ok) shown++;
    });
    document.getElementById('shown').textContent = shown + ' shown';
  }
  filter.addEventListener('input', apply);
  verdict.addEventListener('change', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener('click', function () {
      var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir);
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].textContent, y = b.cells[i].textContent;
        var nx = Number(x), ny = Number(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return dir === 'ascending' ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
</script>
</body></html>
`
}
