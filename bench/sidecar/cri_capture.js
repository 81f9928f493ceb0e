// Peer (b) of the capture benchmark: one heap snapshot through chrome-remote-interface, as a
// Node developer would write it: HeapProfiler.enable, takeHeapSnapshot, every
// addHeapSnapshotChunk appended to a file stream.
//   node cri_capture.js PORT FILE
const CDP = require('chrome-remote-interface');
const fs = require('node:fs');

(async () => {
  const [port, file] = process.argv.slice(2);
  const client = await CDP({ host: '127.0.0.1', port: Number(port), local: true });
  const out = fs.createWriteStream(file);
  client.HeapProfiler.addHeapSnapshotChunk(({ chunk }) => out.write(chunk));
  await client.HeapProfiler.enable();
  await client.HeapProfiler.takeHeapSnapshot({ reportProgress: false });
  await new Promise((resolve, reject) => out.end((e) => (e ? reject(e) : resolve())));
  await client.close();
})().catch((e) => { console.error(e); process.exit(1); });
