#!/usr/bin/env node
// Reference dump of a V8 heap snapshot computed by Chromium DevTools' own
// HeapSnapshot code (npm heap-snapshot-toolkit@1.1.3).
//
//   node tests/reference/devtools_dump.mjs SNAPSHOT OUT.json [--nodes] [--raw-sizes]
//
// Writes JSON:
//   { "node_count", "edge_count", "root_id", "total_size",
//     "self_sizes": "devtools" | "raw",
//     "statistics": DevTools getStatistics(),
//     "classes": { className: { "count", "self", "retained", "distance", "keys" } },
//     "node_fields": ["id","self_size","retained_size","dominator_id","distance"],
//     "nodes": [[id, selfSize, retainedSize, dominatorId, distance], ...] }   (only with --nodes)
//
// See tests/reference/README.md for what each number means exactly.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { loadSnapshot, nodeIdAt, edgeCount } from './devtools_common.mjs';

function usage() {
  process.stderr.write('usage: node devtools_dump.mjs SNAPSHOT OUT.json [--nodes] [--raw-sizes]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const flags = new Set(args.filter((a) => a.startsWith('--')));
for (const f of flags) if (f !== '--nodes' && f !== '--raw-sizes') usage();
if (positional.length !== 2) usage();
const [snapshotPath, outPath] = positional;
const withNodes = flags.has('--nodes');
const rawSizes = flags.has('--raw-sizes');

// DevTools' loader never settles on input that is not a complete snapshot
// (empty, truncated, not JSON...): report that instead of Node's generic
// "unsettled top-level await" (exit code 13).
let loaded = false;
process.on('exit', (code) => {
  if (!loaded && (code === 13 || process.exitCode === 13)) {
    process.stderr.write(`devtools_dump: DevTools could not parse ${snapshotPath} (empty, truncated or not a heap snapshot)\n`);
    process.exitCode = 3;
  }
});

const fail = (err) => {
  process.stderr.write(`devtools_dump: DevTools failed on ${snapshotPath}: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
};
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);

const t0 = Date.now();
let snapshot;
try {
  snapshot = await loadSnapshot(snapshotPath, { rawSizes });
} catch (err) {
  fail(err);
}
loaded = true;
const tParsed = Date.now();

// Class aggregates exactly as the DevTools Summary view gets them:
// aggregatesWithFilter({}) -> getAggregatesByClassKey -> buildAggregates +
// calculateClassesRetainedSize. DevTools keys classes by (location, name) for
// 'object' nodes, so two constructors with the same name are two rows in the
// Summary; here rows with the same className are merged (counts and sizes
// summed, "keys" says how many DevTools rows were merged).
const aggregates = snapshot.aggregatesWithFilter({});
const classes = Object.create(null);
for (const key of Object.keys(aggregates)) {
  const agg = aggregates[key];
  const name = agg.name;
  const cls = classes[name];
  if (!cls) {
    classes[name] = { count: agg.count, self: agg.self, retained: agg.maxRet, distance: agg.distance, keys: 1 };
  } else {
    cls.count += agg.count;
    cls.self += agg.self;
    cls.retained += agg.maxRet;
    cls.distance = Math.min(cls.distance, agg.distance);
    cls.keys += 1;
  }
}
const sortedClasses = Object.create(null);
for (const name of Object.keys(classes).sort()) sortedClasses[name] = classes[name];

const rootOrdinal = snapshot.rootNodeIndex / snapshot.nodeFieldCount;
const header = {
  snapshot: snapshotPath,
  generator: 'heap-snapshot-toolkit@1.1.3 (Chromium DevTools HeapSnapshot)',
  self_sizes: rawSizes ? 'raw' : 'devtools',
  node_count: snapshot.nodeCount,
  edge_count: edgeCount(snapshot),
  root_id: nodeIdAt(snapshot, rootOrdinal),
  total_size: snapshot.totalSize,
  statistics: snapshot.getStatistics(),
  classes: sortedClasses,
  node_fields: ['id', 'self_size', 'retained_size', 'dominator_id', 'distance'],
};

const out = createWriteStream(outPath);
const write = async (s) => {
  if (!out.write(s)) await once(out, 'drain');
};
const headerJson = JSON.stringify(header, null, 1);
if (!withNodes) {
  await write(headerJson + '\n');
} else {
  // Stream the (possibly huge) nodes array instead of building one string.
  await write(headerJson.slice(0, -2) + ',\n "nodes": [');
  const { nodes, nodeFieldCount, nodeIdOffset, nodeSelfSizeOffset, retainedSizes, dominatorsTree, nodeDistances, nodeCount } = snapshot;
  let chunk = '';
  for (let i = 0; i < nodeCount; i++) {
    const base = i * nodeFieldCount;
    const row = [
      nodes.getValue(base + nodeIdOffset),
      nodes.getValue(base + nodeSelfSizeOffset),
      retainedSizes[i],
      nodes.getValue(dominatorsTree[i] * nodeFieldCount + nodeIdOffset),
      nodeDistances[i],
    ];
    chunk += (i === 0 ? '\n' : ',\n') + '[' + row.join(',') + ']';
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk + '\n]\n}\n');
}
out.end();
await once(out, 'finish');
process.stderr.write(
  `devtools_dump: ${snapshot.nodeCount} nodes, ${header.edge_count} edges, ` +
    `parse+init ${tParsed - t0} ms, total ${Date.now() - t0} ms -> ${outPath}\n`,
);
