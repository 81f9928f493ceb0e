// @vscode/v8-heap-parser (Rust compiled to WebAssembly): parse one snapshot
// and compute what it offers as a full analysis: the class summary sorted by
// retained size (this forces its dominator tree / retained sizes), plus the
// largest objects of the top class.
//
//   node --max-old-space-size=16384 bench/peers/vscode_parser.mjs FILE
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { readWhole, timer, report, needFiles } = require('./common.cjs');
const parser = require('@vscode/v8-heap-parser');

const [file] = needFiles(process.argv.slice(2), 1, 'usage: vscode_parser.mjs FILE');
// Print Rust panic messages to stderr (otherwise a panic is a bare
// "RuntimeError: unreachable"); it costs nothing on the normal path.
parser.init_panic_hook();
const t = timer();
let bytes = readWhole(file);
t.lap('read_s');
let graph;
try {
  graph = parser.decode_bytes(bytes);
} catch (e) {
  // wasm32 linear memory cannot grow past 4 GiB; say how big it had got.
  const wasmBytes = parser.__wasm.memory.buffer.byteLength;
  console.error(`vscode_parser: decode_bytes failed with wasm linear memory at ${(wasmBytes / 1048576).toFixed(0)} MiB ` +
    `(wasm32 limit 4096 MiB) for a ${(bytes.length / 1048576).toFixed(0)} MiB input`);
  throw e;
}
bytes = null; // the Rust side has its own copy now
t.lap('parse_s');
// no_retained=false: groups carry retained sizes (dominators computed here).
const groups = graph.get_class_groups(0, 20, false);
t.lap('retained_s');
const top = groups.map(g => ({ name: g.name(), count: g.children_len, self: g.self_size, retained: g.retained_size }));
// Largest objects of the class with the largest retained size.
const biggest = graph.class_children(0, 0, 5, parser.WasmSortBy.RetainedSize)
  .map(n => ({ id: n.id, name: n.name(), retained: n.retained_size }));
t.lap('query_s');
report({ tool: 'vscode-v8-heap-parser', file, phases: t.done(), top_classes: top.slice(0, 5), biggest });
