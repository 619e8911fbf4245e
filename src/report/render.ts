/**
 * The stuck report for people: a terminal table (cli-table3) and a self-contained HTML page whose charts are drawn
 * by Chart.js, inlined from node_modules so the file opens offline. The page's script marks the DOM when the charts
 * are drawn (`#charts-rendered`), which the headless-browser test checks.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Table from 'cli-table3';
import type { StuckReport } from './aggregate';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export function renderReportTable(r: StuckReport): string {
  const out = [`Stuck Executions ${iso(r.sinceMs)} – ${iso(r.untilMs)}: ${r.total} (from ${r.workflowsRead} workflow results)`];
  if (r.total === 0) return out.join('\n');
  const t = (head: string[]) => new Table({ head, style: { head: [], border: [] } });
  const causes = t(['cause', 'count', 'audit check', 'fix']);
  for (const c of r.byCause) causes.push([c.label, c.count, c.auditCheck ?? '', c.fix]);
  const flows = t(['Flow / widget', 'count']);
  for (const x of r.byFlowWidget.slice(0, 20)) flows.push([x.key, x.count]);
  const numbers = t(['number called', 'count']);
  for (const x of r.byNumber.slice(0, 20)) numbers.push([x.key, x.count]);
  const time = t([r.overTime[0]?.bucketMs === 3_600_000 ? 'hour' : 'day', 'count', 'causes']);
  for (const b of r.overTime) {
    const n = Object.values(b.counts).reduce((a, c) => a + c, 0);
    time.push([iso(b.startMs), n, Object.entries(b.counts).map(([k, v]) => `${k} ${v}`).join(', ')]);
  }
  out.push('', 'By cause', causes.toString(), '', 'By Flow and widget', flows.toString(), '', 'By number', numbers.toString(), '', 'Over time', time.toString());
  if (r.outageWindows.length) out.push('', `Possible outage windows (≥10 stuck within 15 min): ${r.outageWindows.map(iso).join(', ')}`);
  return out.join('\n');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/** Chart.js's UMD build (its package exports only the ESM/CJS entry, whose folder holds it). */
let chartJs: string | undefined;
function chartLibrary(): string {
  chartJs ??= readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
  return chartJs;
}

export function renderReportHtml(r: StuckReport): string {
  const rows = (cells: string[][]) => cells.map((c) => `<tr>${c.map((x) => `<td>${x}</td>`).join('')}</tr>`).join('\n');
  const causeRows = rows(
    r.byCause.map((c) => [
      esc(c.label),
      String(c.count),
      c.auditCheck ? `<a href="#audit-${esc(c.auditCheck)}"><code>${esc(c.auditCheck)}</code></a>` : '',
      esc(c.fix),
    ]),
  );
  const data = {
    byCause: r.byCause.map((c) => ({ key: c.label, count: c.count })),
    byFlowWidget: r.byFlowWidget.slice(0, 15),
    byNumber: r.byNumber.slice(0, 15),
    overTime: r.overTime.map((b) => ({ t: iso(b.startMs), counts: b.counts })),
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>unstick: where Executions get stuck</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.chart{height:300px;margin:1em 0}</style>
</head><body>
<h1>Where Executions get stuck</h1>
<p>${esc(iso(r.sinceMs))} – ${esc(iso(r.untilMs))}: <strong id="total">${r.total}</strong> stuck Executions, from ${r.workflowsRead} workflow results.</p>
<h2>By cause</h2>
<table id="causes"><tr><th>cause</th><th>count</th><th>audit check</th><th>fix</th></tr>
${causeRows}
</table>
${r.outageWindows.length ? `<p>Possible outage windows (≥10 stuck within 15 min): ${r.outageWindows.map((w) => esc(iso(w))).join(', ')}</p>` : ''}
<div class="chart"><canvas id="chart-cause"></canvas></div>
<h2>By Flow and widget</h2><div class="chart"><canvas id="chart-flow"></canvas></div>
<h2>By number called</h2><div class="chart"><canvas id="chart-number"></canvas></div>
<h2>Over time</h2><div class="chart"><canvas id="chart-time"></canvas></div>
<h2>The audit checks</h2>
<ul>${[...new Map(r.byCause.filter((c) => c.auditCheck).map((c) => [c.auditCheck!, c.fix])).entries()]
    .map(([check, fix]) => `<li id="audit-${esc(check)}"><code>npx unstick audit</code> check <code>${esc(check)}</code> finds it${check === 'status-callback' ? ' and <code>--fix</code> repairs it' : ''}: ${esc(fix)}</li>`)
    .join('\n')}</ul>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${chartLibrary()}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('report-data').textContent);
  var base = { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } } };
  function bar(id, rows) {
    return new Chart(document.getElementById(id), { type: 'bar', data: { labels: rows.map(function (r) { return r.key; }),
      datasets: [{ label: 'stuck', data: rows.map(function (r) { return r.count; }) }] }, options: Object.assign({ indexAxis: 'y' }, base) });
  }
  var charts = [bar('chart-cause', d.byCause), bar('chart-flow', d.byFlowWidget), bar('chart-number', d.byNumber)];
  var causes = {};
  d.overTime.forEach(function (b) { Object.keys(b.counts).forEach(function (k) { causes[k] = true; }); });
  charts.push(new Chart(document.getElementById('chart-time'), { type: 'bar', data: { labels: d.overTime.map(function (b) { return b.t; }),
    datasets: Object.keys(causes).map(function (k) { return { label: k, data: d.overTime.map(function (b) { return b.counts[k] || 0; }) }; }) },
    options: Object.assign({}, base, { plugins: { legend: { display: true } }, scales: { x: { stacked: true }, y: { stacked: true } } }) }));
  var m = document.createElement('div');
  m.id = 'charts-rendered';
  m.setAttribute('data-charts', String(charts.filter(function (c) { return c && c.canvas && c.canvas.width > 0; }).length));
  m.setAttribute('data-bars', String(charts.reduce(function (n, c) { return n + c.getDatasetMeta(0).data.length; }, 0)));
  document.body.appendChild(m);
})();
</script>
</body></html>
`;
}
