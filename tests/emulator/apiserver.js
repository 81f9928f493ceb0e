#!/usr/bin/env node
'use strict';
// Kubernetes v1.32 API server emulator for oomscope's tests. See README.md.
const { ApiServer } = require('./lib/server');
const { Controllers } = require('./lib/controllers');

const HELP = `usage: node apiserver.js [options]
  --port N               listen port (default 0: any free port)
  --host ADDR            listen address (default 127.0.0.1)
  --token TOKEN          accept this bearer token (repeatable); without any, every request is admin
  --user-token TOKEN=USER[:GROUP,...]  accept this token as USER (e.g. system:serviceaccount:NS:NAME),
                         authorized by the Roles/ClusterRoles and bindings stored in the emulator (RBAC)
  --tls-cert FILE        serve HTTPS with this certificate (PEM) ...
  --tls-key FILE         ... and this key
  --latency-ms N         delay every API request by N ms
  --watch-lag-ms N       deliver every watch event N ms late, in order (a watch cache running behind)
  --crd FILE             load CustomResourceDefinition manifests (YAML/JSON, repeatable)
  --controllers          run the deployment/replicaset controllers and the garbage collector
  --bookmark-interval-ms N  interval of watch BOOKMARK events (default 60000)
  --history N            events kept for watches/Exact lists (default 20000); older resourceVersions get 410
  --server-version V     the version GET /version reports (default v1.32.13; e.g. v1.28.4 for an old server)
  --field-validation MODE  default for requests without ?fieldValidation: Warn (as the real server), Strict or Ignore
  --help                 this text
Env equivalents: OOMSCOPE_EMULATOR_PORT, _HOST, _TOKEN (comma-separated), _LATENCY_MS, _WATCH_LAG_MS, _CRD (comma-separated), _CONTROLLERS=1.
Prints "listening http(s)://HOST:PORT" on stdout once it serves.`;

function parseArgs(argv) {
  const env = process.env;
  const o = {
    port: parseInt(env.OOMSCOPE_EMULATOR_PORT || '0', 10), host: env.OOMSCOPE_EMULATOR_HOST || '127.0.0.1',
    tokens: env.OOMSCOPE_EMULATOR_TOKEN ? env.OOMSCOPE_EMULATOR_TOKEN.split(',') : [], userTokens: [],
    latencyMs: parseInt(env.OOMSCOPE_EMULATOR_LATENCY_MS || '0', 10),
    watchLagMs: parseInt(env.OOMSCOPE_EMULATOR_WATCH_LAG_MS || '0', 10), crdFiles: env.OOMSCOPE_EMULATOR_CRD ? env.OOMSCOPE_EMULATOR_CRD.split(',') : [],
    controllers: env.OOMSCOPE_EMULATOR_CONTROLLERS === '1', bookmarkIntervalMs: 60000,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const val = () => { if (inline !== undefined) return inline; if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`); return argv[++i]; };
    switch (flag) {
      case '--port': o.port = parseInt(val(), 10); break;
      case '--host': o.host = val(); break;
      case '--token': o.tokens.push(val()); break;
      case '--user-token': o.userTokens.push(val()); break;
      case '--tls-cert': o.tlsCert = val(); break;
      case '--tls-key': o.tlsKey = val(); break;
      case '--latency-ms': o.latencyMs = parseInt(val(), 10); break;
      case '--watch-lag-ms': o.watchLagMs = parseInt(val(), 10); break;
      case '--crd': o.crdFiles.push(val()); break;
      case '--controllers': o.controllers = true; break;
      case '--history': o.maxHistory = parseInt(val(), 10); break;
      case '--bookmark-interval-ms': o.bookmarkIntervalMs = parseInt(val(), 10); break;
      case '--server-version': o.serverVersion = val(); if (!/^v\d+\.\d+\.\d+$/.test(o.serverVersion)) throw new Error('--server-version: vMAJOR.MINOR.PATCH'); break;
      case '--field-validation': o.fieldValidation = val(); if (!['Strict', 'Warn', 'Ignore'].includes(o.fieldValidation)) throw new Error('--field-validation: Strict, Warn or Ignore'); break;
      case '--help': case '-h': process.stdout.write(HELP + '\n'); process.exit(0); break;
      default: throw new Error(`unknown flag ${a}`);
    }
  }
  if (!!o.tlsCert !== !!o.tlsKey) throw new Error('--tls-cert and --tls-key go together');
  return o;
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { process.stderr.write(`apiserver: ${e.message}\n${HELP}\n`); process.exit(2); }
  // A test double must outlive its own bugs: log them, keep serving.
  process.on('uncaughtException', (e) => process.stderr.write(`apiserver: internal error (uncaught): ${e && e.stack || e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`apiserver: internal error (unhandled rejection): ${e && e.stack || e}\n`));
  const server = new ApiServer(opts);
  if (opts.controllers) server.controllers = new Controllers(server);
  const url = await server.listen(opts.port, opts.host);
  process.stdout.write(`listening ${url}\n`);
  const stop = () => { server.close().then(() => process.exit(0)); setTimeout(() => process.exit(0), 2000).unref(); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main().catch(e => { process.stderr.write(`apiserver: ${e.stack || e}\n`); process.exit(1); });
module.exports = { parseArgs };
