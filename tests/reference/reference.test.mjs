// Self-test of the reference tools and of the fixtures they describe.
//
//   (cd tests/reference && npm ci) && node --test tests/reference/
//
// Set OOMSCOPE_FULL_SERIES=1 to generate and verify every scenario (about
// 20-40 s on 2 cores) instead of only `story` and `bounded-cache`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const fixtures = path.join(repo, 'tests/fixtures');
const dump = path.join(here, 'devtools_dump.mjs');

function run(args, opts = {}) {
  return spawnSync(process.execPath, args, { encoding: 'utf8', cwd: repo, ...opts });
}

function withTmp(fn) {
  const dir = mkdtempSync(path.join(tmpdir(), 'oomscope-ref-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('small fixtures are up to date with make_small_fixtures.js', () => {
  const r = run([path.join(fixtures, 'make_small_fixtures.js'), '--check']);
  assert.equal(r.status, 0, r.stderr + r.stdout);
});

for (const [flag, expectedFile] of [[[], 'tiny.devtools.json'], [['--raw-sizes'], 'tiny.devtools-raw.json']]) {
  test(`devtools_dump on tiny.heapsnapshot matches ${expectedFile}`, () => {
    withTmp((dir) => {
      const out = path.join(dir, 'tiny.json');
      const r = run([dump, 'tests/fixtures/tiny.heapsnapshot', out, '--nodes', ...flag]);
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(readFileSync(out, 'utf8'));
      const want = JSON.parse(readFileSync(path.join(fixtures, expectedFile), 'utf8'));
      assert.deepEqual(got, want);
    });
  });
}

test('tiny.heapsnapshot: weak-only node, cycle, root', () => {
  const d = JSON.parse(readFileSync(path.join(fixtures, 'tiny.devtools.json'), 'utf8'));
  assert.equal(d.node_count, 25);
  assert.equal(d.edge_count, 37);
  assert.equal(d.root_id, 1);
  assert.equal(d.total_size, 920);
  const byId = new Map(d.nodes.map((n) => [n[0], n]));
  // Listener @23 is only reachable through weak edges: no distance, dominated by the root.
  assert.equal(byId.get(23)[4], -5);
  assert.equal(byId.get(23)[3], 1);
  // ListNode cycle: A @19 (App.head) dominates B @21.
  assert.equal(byId.get(21)[3], 19);
  assert.equal(byId.get(11)[2], 512); // App retained size
});

test('devtools_dump fails cleanly on broken inputs', () => {
  withTmp((dir) => {
    for (const f of ['empty.heapsnapshot', 'not-json.heapsnapshot', 'not-snapshot.json', 'truncated.heapsnapshot',
      'missing-meta-fields.heapsnapshot', 'bad-escape.heapsnapshot']) {
      const r = run([dump, path.join(fixtures, 'bad', f), path.join(dir, 'out.json')]);
      assert.notEqual(r.status, 0, `${f} should fail`);
      assert.match(r.stderr, /devtools_dump: DevTools (could not parse|failed on)/, f);
    }
    // DevTools is lenient with these; a stricter parser should reject the first two.
    for (const f of ['count-mismatch.heapsnapshot', 'edge-out-of-range.heapsnapshot', 'unicode.heapsnapshot']) {
      const r = run([dump, path.join(fixtures, 'bad', f), path.join(dir, 'out.json')]);
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    }
  });
});

test('generated series match their declared expectations (DevTools)', { timeout: 300000 }, () => {
  withTmp((dir) => {
    const scenarios = process.env.OOMSCOPE_FULL_SERIES ? ['all'] : ['story', 'bounded-cache'];
    const lines = [];
    for (const s of scenarios) {
      const g = run([path.join(fixtures, 'gen_series.js'), s, dir]);
      assert.equal(g.status, 0, g.stderr);
      lines.push(g.stdout.trim());
    }
    const results = lines.join('\n').split('\n');
    const jsonl = path.join(dir, 'series.jsonl');
    writeFileSync(jsonl, results.join('\n') + '\n');
    for (const line of results) {
      const res = JSON.parse(line);
      assert.equal(res.files.length, 3);
      for (const size of res.sizes) assert.ok(size > 1e6 && size < 20e6, `${res.scenario}: snapshot size ${size}`);
    }
    const v = run([path.join(here, 'verify_series.mjs'), jsonl]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.match(v.stdout, / 0 failed/);
    if (process.env.OOMSCOPE_FULL_SERIES) assert.equal(results.length, 8);
    // a full devtools dump of one real snapshot works and is consistent
    const first = JSON.parse(results[0]).files[0];
    const out = path.join(dir, 'dump.json');
    const d = run([dump, first, out, '--nodes']);
    assert.equal(d.status, 0, d.stderr);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(j.nodes.length, j.node_count);
    assert.equal(j.root_id, 1);
    assert.equal(j.nodes.filter((n) => n[0] === j.root_id)[0][2], j.total_size);
  });
});
