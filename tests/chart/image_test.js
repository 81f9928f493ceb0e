'use strict';
// The Dockerfile, checked without a Docker engine:
//  - its build stage runs exactly the commands CI runs (.ci/run -> scripts/test.sh ->
//    scripts/setup.sh, scripts/build.sh release), for the five programs;
//  - what it copies out of build/release/ is where CMake puts those targets;
//  - its runtime stage's packages (Debian 12 names that exist) cover every shared library `ldd`
//    finds in the built programs (mapped to packages with dpkg -S, dependencies followed with
//    dpkg-query), and none is superfluous;
//  - its user is the uid/gid the chart runs as, and the chart's commands are the copied paths.
// Usage (from ctest): node image_test.js BUILD_DIR PROGRAM=FILE...
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const YAML = require('yaml');
const { ROOT, CHART } = require('./lib/chart');

const [buildDir, ...programArgs] = process.argv.slice(2);
const programs = Object.fromEntries(programArgs.map((a) => a.split('=')));
const PROGRAMS = ['oomscope-operator', 'oomscope-analyzer', 'oomscope-sidecar', 'oomscope', 'oomscope-net'];

// Dockerfile -> stages [{from, name, runs: [cmd], copies: [..], user, lines}] (continuations joined).
function parseDockerfile(text) {
  const logical = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter(Boolean);
  const stages = [];
  for (const line of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, instr, rest] = m;
    if (instr.toUpperCase() === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      stages.push({ from: f[1], name: f[2] || null, runs: [], copies: [], user: null });
    } else if (instr.toUpperCase() === 'RUN') stages[stages.length - 1].runs.push(rest.replace(/\s+/g, ' '));
    else if (instr.toUpperCase() === 'COPY') stages[stages.length - 1].copies.push(rest);
    else if (instr.toUpperCase() === 'USER') stages[stages.length - 1].user = rest;
  }
  return stages;
}
const stages = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const build = stages[0];
const runtime = stages[stages.length - 1];
const runtimePackages = (() => {
  const install = runtime.runs.find((r) => /apt-get install/.test(r));
  const after = install.split(/apt-get install/)[1].split('&&')[0];
  return after.trim().split(/\s+/).filter((w) => !w.startsWith('-'));
})();

test('two stages from Debian 12: build from debian:12, runtime from debian:12-slim', () => {
  assert.equal(stages.length, 2);
  assert.deepEqual([build.from, build.name, runtime.from], ['debian:12', 'build', 'debian:12-slim']);
});

test('the build stage runs the commands CI runs, for the five programs', () => {
  // What CI runs: .ci/run -> scripts/test.sh -> scripts/setup.sh, scripts/build.sh release.
  const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8').split('\n').map((l) => l.trim());
  assert.ok(ci.includes('scripts/test.sh'), '.ci/run runs scripts/test.sh');
  const testSh = fs.readFileSync(path.join(ROOT, 'scripts', 'test.sh'), 'utf8').split('\n').map((l) => l.trim());
  assert.ok(testSh.includes('scripts/setup.sh'), 'test.sh runs scripts/setup.sh');
  assert.ok(testSh.includes('scripts/build.sh release'), 'test.sh runs scripts/build.sh release');
  assert.ok(testSh.indexOf('scripts/setup.sh') < testSh.indexOf('scripts/build.sh release'));
  // The Dockerfile: the same two, in the same order, the build restricted to the programs.
  assert.equal(build.runs[0], 'scripts/setup.sh');
  const m = /^scripts\/build\.sh release --target (.+)$/.exec(build.runs[1]);
  assert.ok(m, `second RUN is scripts/build.sh release --target ...: ${build.runs[1]}`);
  assert.deepEqual(m[1].split(' ').sort(), [...PROGRAMS].sort());
  // build.sh passes the arguments after the kind to cmake --build.
  assert.match(fs.readFileSync(path.join(ROOT, 'scripts', 'build.sh'), 'utf8'), /cmake --build "\$dir" -j "\$jobs" "\$@"/);
  assert.ok(build.copies.includes('. .'));
});

test('the copied programs are the targets\' outputs in build/release', () => {
  const install = build.runs.find((r) => r.includes('install -m 0755'));
  const pairs = [...install.matchAll(/install -m 0755 -s (\S+) \/out\/(\S+)/g)].map((x) => [x[2], x[1]]);
  assert.deepEqual(pairs.map((p) => p[0]).sort(), [...PROGRAMS].sort());
  for (const [name, src] of pairs) {
    assert.ok(programs[name], `${name}: no such CMake target in this build`);
    assert.equal(src, path.posix.join('build/release', path.relative(buildDir, programs[name]).split(path.sep).join('/')), name);
  }
  assert.ok(runtime.copies.includes('--from=build /out/ /usr/local/bin/'));
});

function ldd(file) {
  let out;
  try {
    out = execFileSync('ldd', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // A static executable (the CLI, OOMSCOPE_STATIC_CLI) links no shared library: it needs no
    // runtime package.
    if (/not a dynamic executable/.test(`${e.stdout}${e.stderr}`)) return [];
    throw e;
  }
  const libs = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(\S+)/.exec(line);
    if (m) libs.push({ soname: m[1], file: m[2] });
    else if (/not found/.test(line)) throw new Error(`${file}: ${line.trim()}`);
  }
  return libs;
}

// Maps shared-library files to the Debian packages that own them, in one dpkg -S call. Each file
// is asked under every spelling merged /usr allows (/lib/x/libz.so.1 is /usr/lib/x/libz.so.1).
function packagesOf(files) {
  const spellings = new Map();
  for (const f of files) {
    const c = new Set([f, fs.realpathSync(f)]);
    for (const x of [...c]) {
      if (x.startsWith('/lib')) c.add(`/usr${x}`);
      if (x.startsWith('/usr/lib')) c.add(x.slice(4));
    }
    spellings.set(f, [...c]);
  }
  let out = '';
  try {
    out = execFileSync('dpkg', ['-S', ...new Set([...spellings.values()].flat())], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) { out = e.stdout || ''; } // exit 1 when some spelling is not found: expected
  const owner = new Map();
  for (const line of out.split('\n')) {
    const m = /^([^:,\s]+)(?::[a-z0-9]+)?: (\S+)$/.exec(line.trim());
    if (m) owner.set(m[2], m[1]);
  }
  const result = new Map();
  for (const [f, names] of spellings) {
    const pkg = names.map((n) => owner.get(n)).find(Boolean);
    if (!pkg) throw new Error(`no Debian package owns ${f}`);
    result.set(f, pkg);
  }
  return result;
}

// Installed packages that come with `roots` (Depends and Pre-Depends, transitively), from one
// dpkg-query listing of every installed package.
function closure(roots) {
  const deps = new Map();
  const listing = execFileSync('dpkg-query', ['-W', '-f=${Package}\t${Depends}, ${Pre-Depends}\n'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const line of listing.split('\n')) {
    const [pkg, d] = line.split('\t');
    if (!pkg) continue;
    const names = (d || '').split(/[,|]/).map((x) => x.trim().split(/[\s(]/)[0].replace(/:any$/, '')).filter(Boolean);
    deps.set(pkg, names);
  }
  const seen = new Set();
  const queue = [...roots];
  while (queue.length) {
    const p = queue.shift();
    if (seen.has(p)) continue;
    seen.add(p);
    for (const d of deps.get(p) || []) queue.push(d);
  }
  return seen;
}

// Sanitizer runtimes come from the compiler in ASan builds; the image is a release build.
const SANITIZER_RUNTIME = /^lib(asan|ubsan|lsan|tsan)\.so|libclang_rt/;

test('the runtime packages cover ldd of every program, and none is superfluous', () => {
  const missing = PROGRAMS.filter((p) => !programs[p]);
  assert.deepEqual(missing, [], 'programs not built in this tree');
  const covered = closure(runtimePackages);
  const needed = new Map();
  const linked = Object.entries(programs).flatMap(([name, file]) => ldd(file).map((lib) => ({ name, ...lib })))
    .filter((lib) => !SANITIZER_RUNTIME.test(lib.soname));
  const owners = packagesOf([...new Set(linked.map((l) => l.file))]);
  {
    for (const lib of linked) {
      const name = lib.name;
      const pkg = owners.get(lib.file);
      if (!needed.has(pkg)) needed.set(pkg, new Set());
      needed.get(pkg).add(`${name}: ${lib.soname}`);
    }
  }
  const uncovered = [...needed.keys()].filter((p) => !covered.has(p));
  assert.deepEqual(uncovered, [], `packages the runtime stage lacks (${[...needed].map(([p, s]) => `${p} <- ${[...s][0]}`).join('; ')})`);
  const superfluous = runtimePackages.filter((p) => p !== 'ca-certificates' && !needed.has(p));
  assert.deepEqual(superfluous, [], 'listed but no program links them');
});

test('the runtime package names exist in Debian 12', () => {
  const out = execFileSync('apt-cache', ['policy', ...runtimePackages], { encoding: 'utf8' });
  const candidates = Object.fromEntries([...out.matchAll(/^(\S+):\n\s+Installed: .*\n\s+Candidate: (\S+)/gm)].map((m) => [m[1], m[2]]));
  for (const p of runtimePackages) assert.ok(candidates[p] && candidates[p] !== '(none)', `${p}: ${candidates[p]}`);
});

test('non-root uid/gid 65532, the one the chart runs as; the chart runs the copied paths', () => {
  assert.equal(runtime.user, '65532:65532');
  assert.ok(runtime.runs.some((r) => /useradd .*--uid 65532 --gid 65532/.test(r)));
  const values = YAML.parse(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
  assert.equal(values.podSecurityContext.runAsUser, 65532);
  assert.equal(values.podSecurityContext.runAsGroup, 65532);
  for (const t of ['operator-deployment.yaml', 'analyzer-deployment.yaml']) {
    const text = fs.readFileSync(path.join(CHART, 'templates', t), 'utf8');
    const cmd = /command: \["([^"]+)"\]/.exec(text)[1];
    assert.ok(PROGRAMS.map((p) => `/usr/local/bin/${p}`).includes(cmd), cmd);
  }
});
