#!/usr/bin/env node
// Prints DevTools-style retainer paths for selected nodes of a heap snapshot,
// using Chromium DevTools' HeapSnapshot code (heap-snapshot-toolkit@1.1.3).
//
//   node tests/reference/devtools_paths.mjs SNAPSHOT
//        [--class NAME] [--edge NAME] [--id N] [--top K (default 3)] [--max-steps S (default 40)]
//
// Selection: --id picks one node; --class picks nodes whose DevTools
// className() is NAME; --edge picks nodes retained by a non-weak edge called
// NAME; both together intersect. Selected nodes are sorted by DevTools
// retained size (largest first) and the top K are printed.
//
// Each path is built from the node towards the root by repeatedly taking the
// retainer that the DevTools Retainers view lists first: non-weak, not the
// synthetic root, smallest distance. It is printed root-first, in DevTools'
// edge notation: .prop  ->contextVar  [index]  {internal}  ["key with spaces"].

import { loadSnapshot } from './devtools_common.mjs';

function usage() {
  process.stderr.write(
    'usage: node devtools_paths.mjs SNAPSHOT [--class NAME] [--edge NAME] [--id N] [--top K] [--max-steps S] [--raw-sizes]\n',
  );
  process.exit(2);
}

const argv = process.argv.slice(2);
const opts = { file: null, className: null, edge: null, id: null, top: 3, maxSteps: 40, rawSizes: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => (i + 1 < argv.length ? argv[++i] : usage());
  if (a === '--class') opts.className = val();
  else if (a === '--edge') opts.edge = val();
  else if (a === '--id') opts.id = Number(val());
  else if (a === '--top') opts.top = Number(val());
  else if (a === '--max-steps') opts.maxSteps = Number(val());
  else if (a === '--raw-sizes') opts.rawSizes = true;
  else if (a.startsWith('--')) usage();
  else if (opts.file === null) opts.file = a;
  else usage();
}
if (!opts.file || (opts.className === null && opts.edge === null && opts.id === null)) usage();

const snapshot = await loadSnapshot(opts.file, { rawSizes: opts.rawSizes });
const { nodeFieldCount, nodeCount } = snapshot;
const node = snapshot.createNode(0);

function describe(n) {
  const name = n.name();
  const cls = n.className();
  const shown = name && name !== cls ? `${cls} ${JSON.stringify(name.length > 60 ? name.slice(0, 57) + '...' : name)}` : cls;
  return `${shown} @${n.id()} [${n.type()}, self ${n.selfSize()}, retained ${n.retainedSize()}, distance ${n.distance()}]`;
}

// Candidate selection.
let candidates = [];
if (opts.id !== null) {
  for (let i = 0; i < nodeCount; i++) {
    node.nodeIndex = i * nodeFieldCount;
    if (node.id() === opts.id) candidates.push(node.nodeIndex);
  }
} else {
  for (let i = 0; i < nodeCount; i++) {
    node.nodeIndex = i * nodeFieldCount;
    if (opts.className !== null && node.className() !== opts.className) continue;
    if (opts.edge !== null) {
      let held = false;
      for (let it = node.retainers(); it.hasNext(); it.next()) {
        const e = it.item();
        if (!e.isWeak() && e.name() === opts.edge) {
          held = true;
          break;
        }
      }
      if (!held) continue;
    }
    candidates.push(node.nodeIndex);
  }
}
candidates.sort((a, b) => snapshot.retainedSizes[b / nodeFieldCount] - snapshot.retainedSizes[a / nodeFieldCount]);
const total = candidates.length;
candidates = candidates.slice(0, opts.top);
console.log(`${total} matching node(s); showing ${candidates.length}`);

for (const start of candidates) {
  const steps = []; // [edgeString, nodeIndex] from the node up
  const seen = new Set([start]);
  let cur = snapshot.createNode(start);
  for (let s = 0; s < opts.maxSteps; s++) {
    if (cur.isRoot() || cur.distance() <= 1) break;
    let best = null;
    let bestDistance = Infinity;
    for (let it = cur.retainers(); it.hasNext(); it.next()) {
      const e = it.item();
      if (e.isWeak() || e.isInvisible()) continue;
      const r = e.node();
      if (r.isRoot() || seen.has(r.nodeIndex)) continue;
      const d = r.distance();
      if (d >= 0 && d < bestDistance) {
        bestDistance = d;
        best = { edge: e.toString(), type: e.type(), nodeIndex: r.nodeIndex };
      }
    }
    if (!best) break;
    steps.push(best);
    seen.add(best.nodeIndex);
    cur = snapshot.createNode(best.nodeIndex);
  }
  console.log('');
  console.log(describe(snapshot.createNode(start)));
  const top = snapshot.createNode(steps.length ? steps[steps.length - 1].nodeIndex : start);
  if (!top.isRoot() && top.distance() > 1) console.log('  (path cut at --max-steps)');
  for (let k = steps.length - 1; k >= 0; k--) {
    const holder = snapshot.createNode(steps[k].nodeIndex);
    console.log(`  ${' '.repeat(2 * (steps.length - 1 - k))}${describe(holder)}`);
    console.log(`  ${' '.repeat(2 * (steps.length - 1 - k))}  ${steps[k].edge} (${steps[k].type})`);
  }
  console.log(`  ${' '.repeat(2 * steps.length)}${describe(snapshot.createNode(start))}`);
  const dom = snapshot.createNode(snapshot.dominatorsTree[start / nodeFieldCount] * nodeFieldCount);
  console.log(`  immediate dominator: ${describe(dom)}`);
}
