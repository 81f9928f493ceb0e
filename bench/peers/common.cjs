// Helpers shared by the peer scripts (CommonJS so both .js and .mjs can use it).
'use strict';
const fs = require('fs');

// Reads a whole file into one Buffer with positioned reads, so files larger
// than fs.readFileSync's 2 GiB limit still load (the point is to see how the
// peer itself copes with them, not the loader).
function readWhole(file) {
  const size = fs.statSync(file).size;
  const buf = Buffer.allocUnsafe(size);
  const fd = fs.openSync(file, 'r');
  try {
    const CHUNK = 64 * 1024 * 1024;
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, buf, off, Math.min(CHUNK, size - off), off);
      if (n <= 0) throw new Error(`short read at ${off} of ${file}`);
      off += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

function timer() {
  const t0 = process.hrtime.bigint();
  let last = t0;
  const phases = {};
  return {
    lap(name) {
      const now = process.hrtime.bigint();
      phases[name] = Number(now - last) / 1e9;
      last = now;
    },
    done() {
      phases.total = Number(process.hrtime.bigint() - t0) / 1e9;
      return phases;
    },
  };
}

function report(obj) {
  obj.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(JSON.stringify(obj, (k, v) => (typeof v === 'bigint' ? Number(v) : v)) + '\n');
}

function needFiles(argv, min, usage) {
  const files = argv.filter(a => !a.startsWith('--'));
  if (files.length < min) {
    console.error(usage);
    process.exit(2);
  }
  for (const f of files) {
    if (!fs.existsSync(f)) {
      console.error(`no such file: ${f}`);
      process.exit(2);
    }
  }
  return files;
}

module.exports = { readWhole, timer, report, needFiles };
