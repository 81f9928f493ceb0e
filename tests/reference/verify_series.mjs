#!/usr/bin/env node
// Checks the snapshot series written by tests/fixtures/gen_series.js against
// the machine-checkable `expected.checks` each scenario declares, using
// Chromium DevTools' own analysis (heap-snapshot-toolkit@1.1.3).
//
//   node tests/fixtures/gen_series.js all /tmp/series > /tmp/series.jsonl
//   node tests/reference/verify_series.mjs /tmp/series.jsonl [--verbose]
//
// Input: the JSON lines printed by gen_series.js (one per scenario).
// Prints one line per check and a final "N passed, N failed" line; exits 1
// if any check failed.
//
// Checks (all optional, see tests/fixtures/README.md):
//   holder: {edge, constructor, owner_constructor?, node_name?, stable_id,
//            min_retained_growth_per_round? | max_retained_growth_ratio?}
//     exactly one node of DevTools class `constructor` (and name `node_name`)
//     is retained by a non-weak edge called `edge` (from a node of class
//     `owner_constructor`) in every snapshot; same node id in all snapshots
//     iff stable_id; its DevTools retained size grows by at least
//     min_retained_growth_per_round per round on average (first -> last) and
//     never shrinks, or stays within max_retained_growth_ratio.
//   counts: {Class: [n1, n2, ...]}           exact node counts per snapshot
//   counts_at_least: {Class: [n1, ...]}      lower bounds per snapshot
//   class_retained_growth_per_round: {Class: bytes}   DevTools class retained size growth
//   no_survivors: [Class]                    no node id of that class in snapshot i is in snapshot i+1
//   flat: {ignore: [Class], max_count_growth, max_self_growth}
//     every other class: count and DevTools class self size grow by at most
//     these, first -> last. (Not retained size: in a warm-up-only process the
//     classes that hold code, e.g. Function, gain retained size from JIT code.)

import { readFileSync } from 'node:fs';
import { loadSnapshot } from './devtools_common.mjs';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const inputs = args.filter((a) => !a.startsWith('--'));
if (inputs.length !== 1) {
  process.stderr.write('usage: node verify_series.mjs RESULTS.jsonl [--verbose]\n');
  process.exit(2);
}
const results = readFileSync(inputs[0], 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l));

let passed = 0;
let failed = 0;
function report(scenario, name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${scenario}: ${name}${detail ? ` -- ${detail}` : ''}`);
}

// Everything the checks need from one snapshot, so that only one parsed
// snapshot is in memory at a time.
function summarize(snapshot, checks) {
  const { nodeCount, nodeFieldCount } = snapshot;
  const node = snapshot.createNode(0);
  const wantIds = new Set([...(checks.no_survivors || [])]);
  const counts = new Map();
  const ids = new Map();
  const holders = [];
  const h = checks.holder;
  for (let i = 0; i < nodeCount; i++) {
    node.nodeIndex = i * nodeFieldCount;
    const cls = node.className();
    counts.set(cls, (counts.get(cls) || 0) + 1);
    if (wantIds.has(cls)) {
      if (!ids.has(cls)) ids.set(cls, new Set());
      ids.get(cls).add(node.id());
    }
    if (h && cls === h.constructor && (h.node_name === undefined || node.name() === h.node_name)) {
      for (let it = node.retainers(); it.hasNext(); it.next()) {
        const e = it.item();
        if (e.isWeak() || e.name() !== h.edge) continue;
        if (h.owner_constructor !== undefined && e.node().className() !== h.owner_constructor) continue;
        holders.push({ id: node.id(), retained: node.retainedSize(), holder: `${e.node().className()} @${e.node().id()}` });
        break;
      }
    }
  }
  const classes = new Map();
  const aggregates = snapshot.aggregatesWithFilter({});
  for (const key of Object.keys(aggregates)) {
    const a = aggregates[key];
    const c = classes.get(a.name) || { count: 0, self: 0, retained: 0 };
    c.count += a.count;
    c.self += a.self;
    c.retained += a.maxRet;
    classes.set(a.name, c);
  }
  return { counts, ids, holders, classes, total: snapshot.totalSize };
}

for (const result of results) {
  const { scenario, files, expected } = result;
  const checks = (expected && expected.checks) || {};
  if (!Object.keys(checks).length) {
    report(scenario, 'has checks', false, 'no expected.checks');
    continue;
  }
  const snaps = [];
  for (const file of files) {
    const snapshot = await loadSnapshot(file);
    snaps.push(summarize(snapshot, checks));
  }
  const rounds = files.length - 1;
  if (verbose) console.log(`# ${scenario}: total sizes ${snaps.map((s) => s.total).join(' ')}`);

  if (checks.holder) {
    const h = checks.holder;
    const found = snaps.map((s) => s.holders);
    const unique = found.every((f) => f.length === 1);
    report(scenario, `holder .${h.edge} -> ${h.constructor} found once per snapshot`, unique,
      found.map((f) => f.length).join(','));
    if (unique) {
      const ids = found.map((f) => f[0].id);
      const sizes = found.map((f) => f[0].retained);
      const sameId = ids.every((id) => id === ids[0]);
      report(scenario, `holder id ${h.stable_id ? 'stable' : 'changes'} across series`, sameId === h.stable_id || (!h.stable_id && rounds === 0),
        `ids ${ids.join(',')}`);
      if (h.min_retained_growth_per_round !== undefined && rounds > 0) {
        const perRound = (sizes[sizes.length - 1] - sizes[0]) / rounds;
        const monotonic = sizes.every((v, i) => i === 0 || v >= sizes[i - 1]);
        report(scenario, `holder retained grows >= ${h.min_retained_growth_per_round}/round and never shrinks`,
          monotonic && perRound >= h.min_retained_growth_per_round, `retained ${sizes.join(' -> ')} (${Math.round(perRound)}/round)`);
      }
      if (h.max_retained_growth_ratio !== undefined) {
        const ratio = (Math.max(...sizes) - Math.min(...sizes)) / Math.max(1, Math.min(...sizes));
        report(scenario, `holder retained flat within ${h.max_retained_growth_ratio * 100}%`, ratio <= h.max_retained_growth_ratio,
          `retained ${sizes.join(' -> ')}`);
      }
    }
  }
  for (const [cls, want] of Object.entries(checks.counts || {})) {
    const got = snaps.map((s) => s.counts.get(cls) || 0);
    report(scenario, `count ${cls} == ${want.join(',')}`, got.every((v, i) => v === want[i]), `got ${got.join(',')}`);
  }
  for (const [cls, want] of Object.entries(checks.counts_at_least || {})) {
    const got = snaps.map((s) => s.counts.get(cls) || 0);
    report(scenario, `count ${cls} >= ${want.join(',')}`, got.every((v, i) => v >= want[i]), `got ${got.join(',')}`);
  }
  for (const [cls, bytes] of Object.entries(checks.class_retained_growth_per_round || {})) {
    const got = snaps.map((s) => (s.classes.get(cls) || { retained: 0 }).retained);
    const perRound = rounds > 0 ? (got[got.length - 1] - got[0]) / rounds : 0;
    report(scenario, `class ${cls} retained grows >= ${bytes}/round`, rounds === 0 || perRound >= bytes,
      `retained ${got.join(' -> ')}`);
  }
  for (const cls of checks.no_survivors || []) {
    let survivors = 0;
    for (let i = 1; i < snaps.length; i++) {
      const prev = snaps[i - 1].ids.get(cls) || new Set();
      for (const id of snaps[i].ids.get(cls) || []) if (prev.has(id)) survivors++;
    }
    report(scenario, `no ${cls} survives into the next snapshot`, survivors === 0, `${survivors} survivors`);
  }
  if (checks.flat && rounds > 0) {
    const f = checks.flat;
    const ignore = new Set(f.ignore || []);
    const first = snaps[0].classes;
    const last = snaps[snaps.length - 1].classes;
    const offenders = [];
    for (const [cls, l] of last) {
      if (ignore.has(cls)) continue;
      const a = first.get(cls) || { count: 0, self: 0 };
      const dc = l.count - a.count;
      const ds = l.self - a.self;
      if (dc > f.max_count_growth || ds > f.max_self_growth) offenders.push(`${cls} (+${dc} objects, +${ds} bytes)`);
    }
    report(scenario, `no class grows by > ${f.max_count_growth} objects or > ${f.max_self_growth} self bytes (except ${[...ignore].join(', ')})`,
      offenders.length === 0, offenders.slice(0, 5).join('; '));
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
