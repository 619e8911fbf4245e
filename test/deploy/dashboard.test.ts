/**
 * deploy/grafana/unstick.json, checked without Grafana: a dashboard Grafana 9+ imports (schemaVersion, a Prometheus
 * data source variable every panel uses, unique panel ids), PromQL that balances, and metrics that exist: the
 * Temporal SDK's, or unstick_* names defined under src/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SDK_METRICS, balanced, metricNames, sources } from '../helpers/promql';

const REPO = path.resolve(__dirname, '../..');

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  templating?: { list?: Array<{ name: string; type: string; query?: unknown; datasource?: { uid?: string } }> };
  panels?: Panel[];
}

/** What the dashboard must show: each of these names is used by at least one panel. */
const SHOWN = [
  'unstick_writes',
  'unstick_skipped',
  'unstick_twilio_requests',
  'unstick_twilio_throttled',
  'unstick_twilio_retry_after_seconds',
  'unstick_watches_live_past_max_age',
  'unstick_sweep_duration_seconds',
  'unstick_sweep_backlog',
  'unstick_webhook_callbacks_total',
  'unstick_webhook_duration_seconds',
  'temporal_workflow_task_execution_failed',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_sticky_cache_size',
];

describe('deploy: Grafana dashboard', () => {
  const dash = JSON.parse(readFileSync(path.join(REPO, 'deploy/grafana/unstick.json'), 'utf8')) as Dashboard;
  const panels = (dash.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
  const graphs = panels.filter((p) => p.type !== 'row');
  const exprs = graphs.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? String(p.id), expr: t.expr ?? '' })));

  it('is a dashboard Grafana imports: uid, title, schemaVersion ≥ 36, unique panel ids, panels within the grid', () => {
    assert.equal(typeof dash.uid, 'string');
    assert.equal(typeof dash.title, 'string');
    assert.ok((dash.schemaVersion ?? 0) >= 36, `schemaVersion ${dash.schemaVersion}`);
    const ids = panels.map((p) => p.id);
    assert.ok(ids.every((id) => Number.isInteger(id)), 'every panel has an id');
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of panels) assert.ok(p.gridPos && p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: gridPos within 24 columns`);
    assert.ok(graphs.length >= 10);
  });

  it('has a Prometheus data source variable that every panel and query uses', () => {
    const vars = dash.templating?.list ?? [];
    const ds = vars.find((v) => v.type === 'datasource');
    assert.ok(ds, 'a datasource variable');
    assert.equal(ds.query, 'prometheus');
    const ref = `\${${ds.name}}`;
    for (const p of graphs) {
      assert.equal(p.datasource?.uid, ref, `${p.title}: datasource ${ref}`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid ?? ref, ref, `${p.title}: target datasource`);
    }
    for (const v of vars.filter((x) => x.type === 'query')) assert.equal(v.datasource?.uid, ref, `variable ${v.name}`);
  });

  it('writes PromQL whose brackets and quotes balance, each query naming a metric', () => {
    assert.ok(exprs.length > 0);
    for (const { panel, expr } of exprs) {
      assert.ok(expr.trim(), `${panel}: an expression`);
      assert.ok(balanced(expr), `${panel}: ${expr}`);
      assert.ok(metricNames(expr).length > 0, `${panel}: names a metric`);
    }
  });

  it('shows writes, skips, Twilio requests and 429s, Retry-After, live-flagged watches, sweeps, webhook callbacks and the SDK\'s worker health', () => {
    const used = new Set(exprs.flatMap((e) => metricNames(e.expr)));
    for (const name of SHOWN) assert.ok(used.has(name), `a panel shows ${name}`);
  });

  it('names only SDK metrics and unstick_* metrics defined under src/', () => {
    const src = sources(path.join(REPO, 'src'));
    const used = [...new Set(exprs.flatMap((e) => metricNames(e.expr)))];
    for (const name of used.filter((n) => !n.startsWith('unstick_'))) assert.ok(SDK_METRICS.has(name), `${name} is an SDK metric (test/helpers/promql.ts)`);
    const undefinedHere = used.filter((n) => n.startsWith('unstick_') && !src.includes(`'${n}'`));
    assert.deepEqual(undefinedHere, [], `unstick metrics the dashboard shows but src/ does not define: ${undefinedHere.join(', ')}`);
  });
});
