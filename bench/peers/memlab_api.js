// memlab's API for a full single-snapshot analysis: getFullHeapFromFile()
// parses the file and runs memlab's pre-processing (shortest paths to GC
// roots, dominator tree, retained sizes for every node). Then it lists the
// largest objects by retained size and a per-class summary.
//
//   node --expose-gc --max-old-space-size=16384 bench/peers/memlab_api.js FILE
'use strict';
const { timer, report, needFiles } = require('./common.cjs');
const { getFullHeapFromFile } = require('@memlab/heap-analysis');
const { config } = require('@memlab/core');

async function main() {
  const [file] = needFiles(process.argv.slice(2), 1, 'usage: memlab_api.js FILE');
  config.muteConsole = true;
  const t = timer();
  const heap = await getFullHeapFromFile(file);
  t.lap('parse_retained_s');
  const byClass = new Map();
  const largest = [];
  heap.nodes.forEach(node => {
    const r = node.retainedSize;
    const key = `${node.type}:${node.name}`;
    const c = byClass.get(key);
    if (c) { c.count++; c.self += node.self_size; } else byClass.set(key, { key, count: 1, self: node.self_size });
    if (node.type === 'object' || node.type === 'closure') {
      if (largest.length < 5 || r > largest[largest.length - 1].retained) {
        largest.push({ id: node.id, name: node.name, retained: r });
        largest.sort((a, b) => b.retained - a.retained);
        if (largest.length > 5) largest.pop();
      }
    }
  });
  const topClasses = [...byClass.values()].sort((a, b) => b.self - a.self).slice(0, 5);
  t.lap('summary_s');
  report({ tool: 'memlab-api', file, phases: t.done(), nodes: heap.nodes.length, largest, top_classes: topClasses });
}

main().catch(e => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
