'use strict';
// The dashboard and the alerts: every PromQL expression names only metrics docs/metrics.md lists
// (which a test elsewhere keeps equal to what the programs export); promtool checks the rules
// and runs rules.promtest.yaml against them; the dashboard has the variables and panels an
// incident needs and its ConfigMap carries the file unchanged.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const YAML = require('yaml');
const { ROOT, CHART, render } = require('./lib/chart');
const { metricNames, grafanaQueryExpr, documentedMetrics } = require('./lib/promql');

const PROMTOOL = process.env.PROMTOOL || '/usr/bin/promtool';
const documented = documentedMetrics(path.join(ROOT, 'docs', 'metrics.md'));
const dashboard = JSON.parse(fs.readFileSync(path.join(CHART, 'dashboards', 'oomscope.json'), 'utf8'));
const rendered = render(path.join(CHART, 'ci', 'namespaced-values.yaml'));
const rule = rendered.find((o) => o.kind === 'PrometheusRule');

function dashboardExprs() {
  const out = [];
  const panels = (dashboard.panels || []).flatMap((p) => [p, ...(p.panels || [])]);
  for (const p of panels) for (const t of p.targets || []) out.push({ where: `panel "${p.title}"`, expr: t.expr });
  for (const v of dashboard.templating.list) if (v.type === 'query') out.push({ where: `variable ${v.name}`, expr: grafanaQueryExpr(v.query) });
  return out;
}
function ruleExprs() { return rule.spec.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert || r.record}`, expr: r.expr }))); }

test('the metric-name extractor', () => {
  assert.deepEqual(metricNames('histogram_quantile(0.9, sum by (le) (rate(a_bucket{x=~"$ns", y="b"}[$__rate_interval])))'), ['a_bucket']);
  assert.deepEqual(metricNames('sum(x) / sum(y offset 5m) > 1e3 and on (pod) z'), ['x', 'y', 'z']);
  assert.deepEqual(metricNames('topk(10, m{rank="1"})'), ['m']);
  assert.deepEqual(metricNames('increase(c_total[1h]) > 3'), ['c_total']);
  assert.equal(grafanaQueryExpr({ query: 'label_values(g{namespace=~"$namespace"}, workload)' }), 'g{namespace=~"$namespace"}');
});

test('docs/metrics.md is readable: families and their types', () => {
  assert.ok(documented.families.size >= 10, `${documented.families.size} families`);
  assert.equal(documented.families.get('oomscope_sidecar_capture_duration_seconds'), 'histogram');
});

for (const [what, exprs] of [['dashboard', dashboardExprs], ['PrometheusRule', ruleExprs]]) {
  test(`every ${what} expression names only documented oomscope metrics`, () => {
    const list = exprs();
    assert.ok(list.length > 0);
    const missing = [];
    for (const { where, expr } of list) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where}: no metric in ${expr}`);
      for (const n of names) if (!documented.series.has(n)) missing.push(`${where}: ${n}`);
    }
    assert.deepEqual(missing, [], 'not in docs/metrics.md');
  });
}

test('the dashboard: Prometheus datasource and namespace/workload variables used by its panels', () => {
  const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
  assert.equal(vars.datasource.type, 'datasource');
  assert.equal(vars.datasource.query, 'prometheus');
  for (const n of ['namespace', 'workload']) assert.ok(vars[n] && vars[n].type === 'query' && vars[n].includeAll && vars[n].multi, n);
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  for (const p of panels) {
    assert.equal(p.datasource.uid, '${datasource}', p.title);
    for (const t of p.targets) assert.equal(t.datasource.uid, '${datasource}', p.title);
  }
  const all = dashboardExprs().map((e) => e.expr).join('\n');
  assert.match(all, /workload=~"\$workload"/);
  assert.match(all, /namespace=~"\$namespace"/);
  // The incident's questions, each answered by a panel.
  const uses = (metric) => panels.some((p) => p.targets.some((t) => metricNames(t.expr).includes(metric)));
  for (const m of ['oomscope_analyzer_heap_bytes', 'oomscope_analyzer_suspect_retained_bytes', 'oomscope_analyzer_growth_bytes_per_second',
    'oomscope_operator_ooms_seen_total', 'oomscope_operator_diagnoses_in_progress', 'oomscope_analyzer_analysis_duration_seconds_bucket',
    'oomscope_sidecar_captures_total', 'oomscope_sidecar_uploads_total', 'oomscope_analyzer_uploads_total']) assert.ok(uses(m), m);
  // Unique panel ids and no overlapping grid cells.
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  const cells = new Set();
  for (const p of dashboard.panels) {
    const g = p.gridPos;
    assert.ok(g.x + g.w <= 24, p.title);
    for (let y = g.y; y < g.y + g.h; y++) for (let x = g.x; x < g.x + g.w; x++) {
      assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`);
      cells.add(`${x},${y}`);
    }
  }
});

test('the dashboard ConfigMap carries the file unchanged, labelled for Grafana\'s sidecar', () => {
  const cm = render(null).find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'));
  assert.equal(cm.metadata.labels.grafana_dashboard, '1');
  assert.deepEqual(JSON.parse(cm.data['oomscope.json']), dashboard);
});

function promtoolDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oomscope-rules-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'rules.yaml'), YAML.stringify({ groups: rule.spec.groups }));
  fs.copyFileSync(path.join(__dirname, 'rules.promtest.yaml'), path.join(dir, 'test.yaml'));
  return dir;
}

test('promtool check rules on the PrometheusRule\'s groups', (t) => {
  const dir = promtoolDir(t);
  const out = execFileSync(PROMTOOL, ['check', 'rules', path.join(dir, 'rules.yaml')], { encoding: 'utf8' });
  assert.match(out, /SUCCESS: 4 rules found/);
  // and promtool is a real check: a broken expression fails it
  const broken = structuredClone(rule.spec.groups);
  broken[0].rules[0].expr = 'max by (namespace (oomscope_analyzer_heap_bytes)';
  fs.writeFileSync(path.join(dir, 'broken.yaml'), YAML.stringify({ groups: broken }));
  assert.throws(() => execFileSync(PROMTOOL, ['check', 'rules', path.join(dir, 'broken.yaml')], { stdio: 'pipe' }));
});

test('promtool test rules: the alerts fire when, and only when, they should', (t) => {
  const dir = promtoolDir(t);
  const out = execFileSync(PROMTOOL, ['test', 'rules', 'test.yaml'], { cwd: dir, encoding: 'utf8' });
  assert.match(out, /SUCCESS/);
});
