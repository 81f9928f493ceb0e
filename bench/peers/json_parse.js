// Floor reference: read the file and JSON.parse it, nothing else. Any
// JavaScript tool that starts from JSON.parse pays at least this. V8 strings
// are limited to ~512 MiB (0x1fffffe8 chars), so files above that fail with
// "Invalid string length" by design; that is the expected result there.
//
//   node --max-old-space-size=16384 bench/peers/json_parse.js FILE
'use strict';
const { readWhole, timer, report, needFiles } = require('./common.cjs');

const [file] = needFiles(process.argv.slice(2), 1, 'usage: json_parse.js FILE');
const t = timer();
let buf = readWhole(file);
t.lap('read_s');
let text = buf.toString('utf8');
buf = null;
t.lap('decode_s');
const snap = JSON.parse(text);
text = null;
t.lap('parse_s');
report({
  tool: 'JSON.parse',
  file,
  phases: t.done(),
  nodes: snap.nodes.length / snap.snapshot.meta.node_fields.length,
  edges: snap.edges.length / snap.snapshot.meta.edge_fields.length,
  strings: snap.strings.length,
});
