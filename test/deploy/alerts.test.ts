/**
 * deploy/prometheus/alerts.yml, checked without promtool: the rule file's structure, PromQL that at least balances
 * its brackets and quotes, and every metric it names is one that unstick defines (src/**) or the Temporal SDK emits
 * (names as scraped from a worker in test/deploy/metrics.test.ts, plus the SDK's failure counters, which appear only
 * after a failure).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SDK_METRICS, balanced, metricNames, sources } from '../helpers/promql';

const REPO = path.resolve(__dirname, '../..');

interface Rule {
  alert?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

describe('deploy: Prometheus alert rules', () => {
  const file = parse(readFileSync(path.join(REPO, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups?: { name?: unknown; rules?: Rule[] }[] };
  const rules = (file.groups ?? []).flatMap((g) => g.rules ?? []);
  const src = sources(path.join(REPO, 'src'));

  it('is a rule file: named groups of rules with alert, expr, for, a severity and a summary', () => {
    assert.ok(file.groups && file.groups.length > 0);
    for (const g of file.groups) assert.equal(typeof g.name, 'string');
    assert.ok(rules.length >= 5);
    const names = new Set<string>();
    for (const r of rules) {
      assert.match(String(r.alert), /^Unstick[A-Z][A-Za-z]+$/);
      assert.ok(!names.has(String(r.alert)), `${String(r.alert)} once`);
      names.add(String(r.alert));
      assert.equal(typeof r.expr, 'string', `${String(r.alert)}: expr`);
      assert.match(String(r.for), /^\d+[smh]$/, `${String(r.alert)}: for`);
      assert.ok(['warning', 'critical'].includes(String(r.labels?.['severity'])), `${String(r.alert)}: severity`);
      assert.equal(typeof r.annotations?.['summary'], 'string', `${String(r.alert)}: summary`);
      assert.ok(balanced(String(r.expr)), `${String(r.alert)}: brackets and quotes balance`);
    }
  });

  it('names only metrics that unstick defines or the Temporal SDK emits', () => {
    for (const r of rules) {
      const used = metricNames(String(r.expr));
      assert.ok(used.length > 0, `${String(r.alert)} uses a metric`);
      for (const base of used) {
        if (base.startsWith('unstick_')) assert.ok(src.includes(`'${base}'`), `${String(r.alert)}: ${base} is defined under src/`);
        else assert.ok(SDK_METRICS.has(base), `${String(r.alert)}: ${base} is an SDK metric`);
      }
    }
  });
});
