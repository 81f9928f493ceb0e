// Shared loader for the reference tools: parses a .heapsnapshot with
// Chromium DevTools' own HeapSnapshot code (re-exported by the npm package
// heap-snapshot-toolkit) and returns DevTools' JSHeapSnapshot object.
//
// Nothing here re-implements an analysis: counts, class names, distances,
// dominators and retained sizes are all DevTools' own arrays and methods.

import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parse } from 'heap-snapshot-toolkit';

// A minimal valid snapshot (synthetic root -> (GC roots)), parsed once to get
// hold of DevTools' JSHeapSnapshot prototype, which the package does not export.
const BOOTSTRAP = JSON.stringify({
  snapshot: {
    meta: {
      node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
      node_types: [
        ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic',
          'concatenated string', 'sliced string', 'symbol', 'bigint', 'object shape', 'wasm object'],
        'string', 'number', 'number', 'number', 'number', 'number',
      ],
      edge_fields: ['type', 'name_or_index', 'to_node'],
      edge_types: [['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'], 'string_or_number', 'node'],
      trace_function_info_fields: [], trace_node_fields: [], sample_fields: [], location_fields: [],
    },
    node_count: 2, edge_count: 1, trace_function_count: 0,
  },
  nodes: [9, 0, 1, 0, 1, 0, 0, 9, 1, 3, 0, 0, 0, 0],
  edges: [1, 1, 7],
  trace_function_infos: [], trace_tree: [], samples: [], locations: [],
  strings: ['', '(GC roots)'],
});

let jsHeapSnapshotProto = null;

async function getJSHeapSnapshotPrototype() {
  if (!jsHeapSnapshotProto) {
    const snap = await parse(Readable.from([BOOTSTRAP]));
    jsHeapSnapshotProto = Object.getPrototypeOf(snap);
  }
  return jsHeapSnapshotProto;
}

// Loads `file` with DevTools. Options:
//   rawSizes: false (default) -> exactly what DevTools shows. DevTools'
//             calculateShallowSizes() moves the self size of 'hidden' and
//             'array' nodes that have a single owner onto that owner (and
//             sets theirs to 0) before computing retained sizes.
//   rawSizes: true -> skip that step, keeping V8's self sizes as written in
//             the file; this is DevTools' own behaviour for snapshots that
//             have no user roots (taken with "expose internals").
export async function loadSnapshot(file, { rawSizes = false } = {}) {
  const proto = await getJSHeapSnapshotPrototype();
  const original = Object.prototype.hasOwnProperty.call(proto, 'calculateShallowSizes')
    ? proto.calculateShallowSizes
    : null;
  if (!original) throw new Error('DevTools JSHeapSnapshot.calculateShallowSizes not found (package changed?)');
  if (rawSizes) proto.calculateShallowSizes = function skipShallowSizeAttribution() {};
  try {
    const stream = createReadStream(file, 'utf-8');
    return await parse(stream);
  } finally {
    proto.calculateShallowSizes = original;
  }
}

export function nodeIdAt(snapshot, ordinal) {
  return snapshot.nodes.getValue(ordinal * snapshot.nodeFieldCount + snapshot.nodeIdOffset);
}

export function edgeCount(snapshot) {
  return snapshot.containmentEdges.length / snapshot.edgeFieldsCount;
}
