// heap-snapshot-toolkit (Chrome DevTools' own HeapSnapshot code):
//   single file:  parse() (which builds retainers, dominators and retained
//                 sizes) + getStatistics() + the class summary
//                 (aggregatesWithFilter, the DevTools "Summary" view).
//   several files (--series A B C): the same for each file in turn, keeping
//                 only the aggregates needed to diff, then the DevTools
//                 "Comparison" view between consecutive snapshots.
//
//   node --max-old-space-size=16384 bench/peers/toolkit.mjs FILE
//   node --max-old-space-size=16384 bench/peers/toolkit.mjs --series A B C
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { parse, DevToolsAPI } from 'heap-snapshot-toolkit';

const require = createRequire(import.meta.url);
const { timer, report, needFiles } = require('./common.cjs');

const argv = process.argv.slice(2);
const series = argv.includes('--series');
const files = needFiles(argv, 1, 'usage: toolkit.mjs FILE | toolkit.mjs --series A B [C...]');
const NodeFilter = DevToolsAPI.HeapSnapshotModel.NodeFilter;

function summarize(snapshot) {
  const stats = snapshot.getStatistics();
  const aggregates = snapshot.aggregatesWithFilter(new NodeFilter());
  const top = Object.values(aggregates)
    .sort((a, b) => b.maxRet - a.maxRet)
    .slice(0, 5)
    .map(a => ({ name: a.name, count: a.count, self: a.self, maxRet: a.maxRet }));
  return { stats, top };
}

const t = timer();
if (!series) {
  const snapshot = await parse(createReadStream(files[0], 'utf-8'));
  t.lap('parse_retained_s');
  const { stats, top } = summarize(snapshot);
  t.lap('summary_s');
  report({ tool: 'heap-snapshot-toolkit', file: files[0], phases: t.done(), total: stats.total, top_classes: top });
} else {
  let prev = null; // { uid, aggregatesForDiff }
  const diffs = [];
  for (let i = 0; i < files.length; i++) {
    let snapshot = await parse(createReadStream(files[i], 'utf-8'));
    t.lap(`parse_retained_${i + 1}_s`);
    summarize(snapshot);
    if (prev) {
      const d = snapshot.calculateSnapshotDiff(prev.uid, prev.aggregatesForDiff);
      const grown = Object.values(d)
        .sort((a, b) => b.sizeDelta - a.sizeDelta)
        .slice(0, 3)
        .map(x => ({ name: x.name, countDelta: x.countDelta, sizeDelta: x.sizeDelta }));
      diffs.push(grown);
    }
    prev = { uid: snapshot.uid, aggregatesForDiff: snapshot.aggregatesForDiff(snapshot.interfaceDefinitions()) };
    snapshot = null;
    t.lap(`summary_diff_${i + 1}_s`);
  }
  report({ tool: 'heap-snapshot-toolkit --series', files, phases: t.done(), top_growth: diffs });
}
