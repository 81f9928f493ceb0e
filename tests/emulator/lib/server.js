'use strict';
// HTTP front of the emulator: authentication, routing, the REST verbs,
// watch streams, fault injection and the audit log.
const http = require('http');
const https = require('https');
const fs = require('fs');
const crypto = require('crypto');

// js-yaml (npm ci --prefix tests/emulator) is needed only for YAML: --crd files and apply patches.
let yamlLib;
const yaml = {
  lib() {
    if (!yamlLib) {
      try { yamlLib = require('js-yaml'); } catch (e) { throw new Error('YAML support needs js-yaml: run `npm ci --prefix tests/emulator`'); }
    }
    return yamlLib;
  },
  load(text) { try { return JSON.parse(text); } catch (_) { return this.lib().load(text); } },
  loadAll(text) { try { return [JSON.parse(text)]; } catch (_) { return this.lib().loadAll(text); } },
};

const { ApiError, errors } = require('./status');
const { Registry, loadSwagger } = require('./registry');
const { Store } = require('./store');
const { SwaggerDecoder, validateCr } = require('./schema');
const { applyDefaults } = require('./defaults');
const { validate } = require('./validate');
const { mergePatch, jsonPatch, JsonPatchError, strategicMerge, canon, clone, isObj } = require('./patch');
const { parseLabelSelector, parseFieldSelector } = require('./selectors');
const { toTable } = require('./table');
const discovery = require('./discovery');
const openapi = require('./openapi');
const { present, hasGeneration, now, uid, randSuffix, sortKeys } = require('./objects');
const { CONVERTERS } = require('./convert');
const { decodeObject, ProtobufError } = require('./protobuf');
const { Rbac, userFromSpec } = require('./rbac');

const FLOWSCHEMA_UID = '5ef279ae-233b-4fbf-9d30-0cdb4af62c00';
const PRIORITY_UID = '51fb5e77-a763-4593-b0fb-053176a7d576';
const NS_SK = '/v1/namespaces';
const FAULT_CODES = new Set([409, 410, 500, 503, 403, 429, 422]);
const sleep = (ms) => new Promise(r => setTimeout(r, ms));

class ApiServer {
  constructor(opts = {}) {
    this.opts = opts;
    const sw = loadSwagger();
    this.swaggerRaw = Buffer.from(JSON.stringify(sw.doc));
    this.swaggerEtag = '"' + crypto.createHash('sha512').update(this.swaggerRaw).digest('hex').toUpperCase() + '"';
    this.registry = new Registry(sw.doc);
    this.decoder = new SwaggerDecoder(sw.doc);
    this.openapi = new openapi.OpenApi(sw.doc, this.registry);
    this.store = new Store({ maxHistory: opts.maxHistory });
    this.tokens = new Set(opts.tokens || []);
    this.userTokens = new Map(); // token -> {name, groups, admin}, subject to RBAC
    for (const t of opts.userTokens || []) {
      const eq = t.indexOf('=');
      if (eq <= 0) throw new Error(`--user-token wants TOKEN=USER[:GROUP,...], got ${t}`);
      this.userTokens.set(t.slice(0, eq), userFromSpec(t.slice(eq + 1)));
    }
    this.rbac = new Rbac(this);
    this.faults = [];
    this.watchDelays = []; // POST /_emulator/watch-delays: watch lag for matching events
    this.audit = [];
    this.watches = new Set();
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs || 60000;
    this.nextIp = 1;
    this.controllers = null;
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
      this.createInternal(this.registry.get('', 'v1', 'namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
    for (const f of opts.crdFiles || []) this.loadCrdFile(f);
  }

  // ---------- lifecycle ----------
  listen(port = 0, host = '127.0.0.1') {
    const handler = (req, res) => { this.handle(req, res).catch(e => this.fatal(res, e)); };
    this.server = this.opts.tlsCert
      ? https.createServer({ cert: fs.readFileSync(this.opts.tlsCert), key: fs.readFileSync(this.opts.tlsKey) }, handler)
      : http.createServer(handler);
    this.server.keepAliveTimeout = 65000;
    this.sockets = new Set();
    this.server.on('connection', s => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    this.server.on('clientError', (err, socket) => { try { socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'); } catch (_) { /* gone */ } });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address();
        this.address = `${a.address}:${a.port}`;
        this.url = `${this.opts.tlsCert ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
        resolve(this.url);
      });
    });
  }

  close() {
    for (const w of this.watches) w.end();
    if (this.controllers) this.controllers.stop();
    for (const s of this.sockets || []) s.destroy();
    return new Promise(r => (this.server ? this.server.close(() => r()) : r()));
  }

  fatal(res, e) {
    try {
      if (!res.headersSent) this.sendError({ res, req: res.req, warnings: [] }, errors.internal(String(e && e.message || e)));
      else res.end();
    } catch (_) { /* socket gone */ }
    if (!this.opts.quiet) process.stderr.write(`emulator: internal error: ${e && e.stack || e}\n`);
  }

  loadCrdFile(file) {
    const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter(Boolean);
    const rt = this.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    for (const d of docs) if (d.kind === 'CustomResourceDefinition') this.createInternal(rt, d);
  }

  // ---------- HTTP plumbing ----------
  baseHeaders() {
    return {
      'Audit-Id': uid(), 'Cache-Control': 'no-cache, private', 'Content-Type': 'application/json',
      'X-Kubernetes-Pf-Flowschema-Uid': FLOWSCHEMA_UID, 'X-Kubernetes-Pf-Prioritylevel-Uid': PRIORITY_UID,
    };
  }

  serialize(ctx, obj, forcePretty) {
    const ua = (ctx.req && ctx.req.headers['user-agent']) || '';
    const pretty = forcePretty || /^(curl|Wget|Mozilla\/)/.test(ua) || (ctx.url && ctx.url.searchParams.get('pretty') === 'true');
    return pretty ? JSON.stringify(obj, null, 2) : JSON.stringify(obj) + '\n';
  }

  send(ctx, code, obj, extra = {}, forcePretty = false) {
    const body = Buffer.from(this.serialize(ctx, obj, forcePretty));
    const h = { ...this.baseHeaders(), ...extra, 'Content-Length': body.length };
    if (ctx.warnings && ctx.warnings.length) h.Warning = ctx.warnings.map(w => `299 - ${JSON.stringify(w)}`);
    ctx.status = code;
    ctx.res.writeHead(code, h);
    ctx.res.end(body);
  }

  sendError(ctx, e) {
    if (!(e instanceof ApiError)) {
      if (!this.opts.quiet) process.stderr.write(`emulator: ${e && e.stack || e}\n`);
      e = errors.internal(String(e && e.message || e));
    }
    this.send(ctx, e.code, e.toStatus(), e.headers);
  }

  // The request body as text; protobuf bodies (kubectl's typed generators) become JSON.
  async readBody(req) {
    const buf = await this.readRaw(req);
    if (/^application\/vnd\.kubernetes\.protobuf/.test(req.headers['content-type'] || '')) {
      try { return JSON.stringify(decodeObject(buf)); } catch (e) {
        if (e instanceof ProtobufError) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (emulator: ${e.message})`);
        throw e;
      }
    }
    return buf.toString('utf8');
  }

  readRaw(req) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let n = 0;
      req.on('data', c => { n += c.length; if (n <= 64 * 1024 * 1024) chunks.push(c); });
      req.on('end', () => (n > 64 * 1024 * 1024 ? reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728')) : resolve(Buffer.concat(chunks))));
      req.on('error', reject);
    });
  }

  authenticate(req) {
    if (this.tokens.size === 0 && this.userTokens.size === 0) return 'admin';
    const h = req.headers.authorization;
    if (!h) return 'system:anonymous';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const tok = m && m[1].trim();
    if (tok && this.tokens.has(tok)) return 'admin';
    if (tok && this.userTokens.has(tok)) return this.userTokens.get(tok);
    throw errors.unauthorized();
  }

  // ---------- routing ----------
  async handle(req, res) {
    const url = new URL(req.url, 'http://emulator');
    const ctx = { req, res, url, q: url.searchParams, warnings: [], status: 0 };
    if (url.pathname.startsWith('/_emulator/')) return this.admin(ctx);
    const rec = { verb: '', group: '', version: '', resource: '', subresource: '', namespace: '', name: '', status: 0, userAgent: req.headers['user-agent'] || '' };
    // Recorded at once (an open watch shows up); the status is filled in when known.
    ctx.rec = rec;
    this.audit.push(rec);
    if (this.audit.length > 200000) this.audit.splice(0, 100000);
    const done = () => {
      if (!rec.status) rec.status = ctx.status || res.statusCode;
      if (ctx.warnings.length && !rec.warnings) rec.warnings = ctx.warnings.slice();
    };
    res.on('finish', done);
    res.on('close', done);
    try {
      if (this.opts.latencyMs) await sleep(this.opts.latencyMs);
      const user = this.authenticate(req);
      const p = url.pathname.replace(/\/+$/, '') || '/';
      const nonResource = this.nonResource(ctx, p, req.method, user);
      if (nonResource !== undefined) { rec.verb = req.method.toLowerCase(); rec.resource = p; return; }
      const route = this.route(p, req.method, ctx.q);
      Object.assign(rec, { verb: route.verb, group: route.rt.group, version: route.rt.version, resource: route.rt.resource, subresource: route.sub || '', namespace: route.ns || '', name: route.name || '' });
      if (user === 'system:anonymous') throw errors.forbidden({ ...route.rt, subresource: route.sub }, route.verb, user, route.ns, route.name);
      if (typeof user === 'object' && !user.admin && !this.rbac.allowed(user, { verb: route.verb, group: route.rt.group, resource: route.rt.resource, subresource: route.sub || '', namespace: route.ns, name: route.name })) {
        throw errors.forbidden({ ...route.rt, subresource: route.sub }, route.verb, user.name, route.ns, route.name);
      }
      await this.applyFaults(ctx, route);
      await this.dispatch(ctx, route);
    } catch (e) {
      if (!res.headersSent) this.sendError(ctx, e);
      else { try { res.end(); } catch (_) { /* ignore */ } }
    }
  }

  nonResource(ctx, p, method, user) {
    const accept = ctx.req.headers.accept || '';
    const aggregated = /as=APIGroupDiscoveryList/.test(accept) && /v=v2(;|,|$)/.test(accept);
    const guard = () => { if (user === 'system:anonymous' && !['/version', '/healthz', '/livez', '/readyz'].includes(p)) throw new ApiError(403, 'Forbidden', `forbidden: User "system:anonymous" cannot get path "${p}"`, {}, { 'X-Content-Type-Options': 'nosniff' }); };
    if (method !== 'GET' && (p === '/api' || p === '/apis' || p === '/version' || p.startsWith('/openapi'))) return undefined;
    if (p === '/version') {
      // v1.32.13 as transcript 06, or what --server-version says (e.g. 1.28.4: tests of old servers).
      const git = this.opts.serverVersion || 'v1.32.13';
      const [major, minor] = git.replace(/^v/, '').split('.');
      this.send(ctx, 200, { major, minor, gitVersion: git, gitCommit: '$Format:%H$', gitTreeState: '', buildDate: '1970-01-01T00:00:00Z', goVersion: 'go1.23.5', compiler: 'gc', platform: 'linux/amd64' }, {}, true);
      return true;
    }
    if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      ctx.status = 200; ctx.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }); ctx.res.end('ok'); return true;
    }
    if (p === '/api') {
      guard();
      if (aggregated) this.send(ctx, 200, discovery.aggregatedCore(this.registry), { 'Content-Type': 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', Vary: 'Accept', 'Cache-Control': 'public' });
      else this.send(ctx, 200, discovery.apiVersions(this.address));
      return true;
    }
    if (p === '/apis') {
      guard();
      if (aggregated) this.send(ctx, 200, discovery.aggregatedApis(this.registry), { 'Content-Type': 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', Vary: 'Accept', 'Cache-Control': 'public' });
      else this.send(ctx, 200, discovery.apiGroupList(this.registry));
      return true;
    }
    if (p === '/openapi/v2') {
      guard();
      ctx.status = 200;
      ctx.res.writeHead(200, { ...this.baseHeaders(), 'Accept-Ranges': 'bytes', Etag: this.swaggerEtag, Vary: 'Accept', 'Content-Length': this.swaggerRaw.length });
      ctx.res.end(this.swaggerRaw);
      return true;
    }
    if (p === '/openapi/v3' || p.startsWith('/openapi/v3/')) {
      guard();
      const doc = p === '/openapi/v3' ? this.openapi.index() : this.openapi.groupVersion(p.slice('/openapi/v3/'.length));
      if (!doc) throw errors.pathNotFound();
      this.send(ctx, 200, doc, { Etag: `"${this.openapi.hash(p)}"`, Vary: 'Accept' });
      return true;
    }
    let m;
    if ((m = /^\/api\/(v1)$/.exec(p)) || (m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p))) {
      guard();
      const doc = m.length === 2 ? discovery.apiResourceList(this.registry, '', m[1]) : discovery.apiResourceList(this.registry, m[1], m[2]);
      if (!doc) throw errors.pathNotFound();
      this.send(ctx, 200, doc);
      return true;
    }
    if ((m = /^\/apis\/([^/]+)$/.exec(p))) {
      guard();
      const doc = discovery.apiGroupDoc(this.registry, m[1]);
      if (!doc) throw errors.pathNotFound();
      this.send(ctx, 200, doc);
      return true;
    }
    return undefined;
  }

  route(p, method, q) {
    let m, group, version, rest;
    if ((m = /^\/api\/(v1)\/(.+)$/.exec(p))) { group = ''; version = m[1]; rest = m[2]; }
    else if ((m = /^\/apis\/([^/]+)\/([^/]+)\/(.+)$/.exec(p))) { group = m[1]; version = m[2]; rest = m[3]; }
    else throw errors.pathNotFound();
    const segs = rest.split('/').map(decodeURIComponent);
    let ns, resource, name, sub;
    if (segs[0] === 'namespaces' && segs.length >= 3 && this.registry.get(group, version, segs[2]) && this.registry.get(group, version, segs[2]).namespaced) {
      [, ns, resource, name, sub] = segs;
      if (segs.length > 5) throw errors.pathNotFound();
    } else {
      [resource, name, sub] = segs;
      if (segs.length > 3) throw errors.pathNotFound();
    }
    const rt = this.registry.get(group, version, resource);
    if (!rt) throw errors.pathNotFound();
    if (rt.namespaced && !ns && name) throw errors.pathNotFound();
    if (sub && !rt.subresources.includes(sub)) throw errors.pathNotFound();
    const watch = q.get('watch') === 'true' || q.get('watch') === '1';
    let verb;
    switch (method) {
      case 'GET': verb = name ? 'get' : watch ? 'watch' : 'list'; break;
      case 'POST':
        if (name && !(sub === 'binding' && resource === 'pods')) throw errors.methodNotAllowed();
        verb = 'create'; break;
      case 'PUT': if (!name) throw errors.methodNotAllowed(); verb = 'update'; break;
      case 'PATCH': if (!name) throw errors.methodNotAllowed(); verb = 'patch'; break;
      case 'DELETE': verb = name ? 'delete' : 'deletecollection'; break;
      default: throw errors.methodNotAllowed();
    }
    return { rt, ns, name, sub, verb };
  }

  async applyFaults(ctx, route) {
    for (const f of this.faults) {
      if (f.verb && f.verb !== route.verb) continue;
      if (f.resource && f.resource !== route.rt.resource) continue;
      if (f.group !== undefined && f.group !== route.rt.group) continue;
      if (f.subresource !== undefined && f.subresource !== (route.sub || '')) continue;
      if (f.namespace && f.namespace !== route.ns) continue;
      if (f.name && f.name !== route.name) continue;
      f.count--;
      if (f.count <= 0) this.faults.splice(this.faults.indexOf(f), 1);
      if (f.latencyMs) await sleep(f.latencyMs);
      if (!f.status) return;
      const rt = { ...route.rt, subresource: route.sub };
      switch (f.status) {
        case 409: throw errors.conflict(rt, route.name || '');
        case 410:
          if (route.verb === 'watch') { ctx.injectGone = true; return; }
          throw errors.listTooOld();
        case 500: throw errors.internal('injected fault');
        case 503: throw errors.unavailable();
        case 403: throw errors.forbidden(rt, route.verb, f.user || 'system:serviceaccount:oomscope-system:oomscope-operator', route.ns, route.name);
        case 429: throw errors.tooMany();
        case 422: throw errors.invalid(rt, this.kindQualified(rt), route.name || '', [{ reason: 'FieldValueInvalid', message: 'Invalid value: "injected": injected fault', field: 'metadata.name' }]);
      }
      return;
    }
  }

  // ---------- /_emulator ----------
  async admin(ctx) {
    const { req, url } = ctx;
    try {
      const p = url.pathname;
      const body = req.method === 'POST' ? await this.readBody(req) : '';
      const json = () => { try { return body.trim() ? JSON.parse(body) : {}; } catch (e) { throw errors.badRequest(`invalid JSON: ${e.message}`); } };
      if (p === '/_emulator/faults' && req.method === 'POST') {
        const f = json();
        if (f.status !== undefined && !FAULT_CODES.has(f.status)) throw errors.badRequest(`status must be one of ${[...FAULT_CODES].join(', ')}`);
        const fault = { verb: f.verb, resource: f.resource, group: f.group, subresource: f.subresource, namespace: f.namespace, name: f.name, status: f.status, count: f.count || 1, latencyMs: f.latencyMs || 0, user: f.user };
        this.faults.push(fault);
        return this.send(ctx, 201, fault);
      }
      if (p === '/_emulator/faults' && req.method === 'GET') return this.send(ctx, 200, this.faults);
      if (p === '/_emulator/faults' && req.method === 'DELETE') { this.faults = []; return this.send(ctx, 200, {}); }
      if (p === '/_emulator/watch-delays' && req.method === 'POST') {
        const f = json();
        if (!(Number.isFinite(f.ms) && f.ms > 0)) throw errors.badRequest('ms must be a positive number');
        const delay = { resource: f.resource, namespace: f.namespace, name: f.name, type: f.type, ms: f.ms, count: f.count || 1 };
        this.watchDelays.push(delay);
        return this.send(ctx, 201, delay);
      }
      if (p === '/_emulator/watch-delays' && req.method === 'GET') return this.send(ctx, 200, this.watchDelays);
      if (p === '/_emulator/watch-delays' && req.method === 'DELETE') { this.watchDelays = []; return this.send(ctx, 200, {}); }
      if (p === '/_emulator/drop-watches' && req.method === 'POST') {
        const f = json();
        let n = 0;
        for (const w of [...this.watches]) if (!f.resource || f.resource === w.rt.resource) { w.end(f.abort === true); n++; }
        return this.send(ctx, 200, { dropped: n });
      }
      if (p === '/_emulator/compact' && req.method === 'POST') { this.store.compact(json().etcdOnly === true); return this.send(ctx, 200, { compactedResourceVersion: String(this.store.listCompactedRv) }); }
      if (p === '/_emulator/requests' && req.method === 'GET') return this.send(ctx, 200, this.audit.filter(r => r.status));
      if (p === '/_emulator/requests' && req.method === 'DELETE') { this.audit = []; return this.send(ctx, 200, {}); }
      if (p === '/_emulator/resourceversion' && req.method === 'GET') return this.send(ctx, 200, { resourceVersion: String(this.store.currentRv()) });
      throw errors.pathNotFound();
    } catch (e) { this.sendError(ctx, e); }
  }

  // The lag for a live watch event: the first matching /_emulator/watch-delays entry, counted
  // once per event (every watch of the resource sees the same lag), else --watch-lag-ms.
  watchDelay(rt, ev) {
    if (ev.delayMs === undefined) {
      ev.delayMs = this.opts.watchLagMs || 0;
      const m = ev.obj.metadata || {};
      const i = this.watchDelays.findIndex(d => (!d.resource || d.resource === rt.resource) && (!d.name || d.name === m.name) &&
        (!d.namespace || d.namespace === m.namespace) && (!d.type || d.type === ev.type));
      if (i >= 0) {
        ev.delayMs = this.watchDelays[i].ms;
        if (--this.watchDelays[i].count <= 0) this.watchDelays.splice(i, 1);
      }
    }
    return ev.delayMs;
  }

  // ---------- verbs ----------
  async dispatch(ctx, r) {
    const { rt, ns, name, sub, verb } = r;
    const ct = (ctx.req.headers['content-type'] || '').split(';')[0].trim();
    if ((verb === 'create' || verb === 'update') && ct && ct !== 'application/json' && ct !== 'application/yaml' && ct !== '*/*' && ct !== 'application/vnd.kubernetes.protobuf') {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
    }
    if (!rt.verbs.includes(verb) && !sub) throw errors.methodNotAllowed();
    if (sub && !['status', 'scale', 'binding'].includes(sub)) throw errors.pathNotFound();
    switch (verb) {
      case 'get': return this.doGet(ctx, rt, ns, name, sub);
      case 'list': return this.doList(ctx, rt, ns);
      case 'watch': return this.doWatch(ctx, rt, ns);
      case 'create':
        if (sub === 'binding') return this.doBinding(ctx, rt, ns, name, await this.readBody(ctx.req));
        return this.doCreate(ctx, rt, ns, await this.readBody(ctx.req));
      case 'update': return this.doUpdate(ctx, rt, ns, name, sub, await this.readBody(ctx.req));
      case 'patch': return this.doPatch(ctx, rt, ns, name, sub, await this.readBody(ctx.req));
      case 'delete': return this.doDelete(ctx, rt, ns, name, await this.readBody(ctx.req));
      case 'deletecollection': return this.doDeleteCollection(ctx, rt, ns);
    }
    throw errors.methodNotAllowed();
  }

  wantsTable(ctx) { return /as=Table/.test(ctx.req.headers.accept || ''); }

  kindQualified(rt) { return rt.group ? `${rt.kind}.${rt.group}` : rt.kind; }

  mustGet(rt, ns, name) {
    const o = this.store.get(rt.storageKey, rt.namespaced ? ns : null, name);
    if (!o) throw errors.notFound(rt, name);
    return this.view(rt, o);
  }

  // The object as this type version shows it (CR versions share storage).
  view(rt, o) {
    if (!o) return o;
    if (rt.convert) return CONVERTERS[rt.convert].fromStorage(o);
    if (rt.crdName && o.apiVersion !== rt.apiVersion) return sortKeys({ ...o, apiVersion: rt.apiVersion });
    return o;
  }

  doGet(ctx, rt, ns, name, sub) {
    const o = this.mustGet(rt, ns, name);
    if (sub === 'scale') return this.send(ctx, 200, this.scaleOf(rt, o));
    if (this.wantsTable(ctx)) return this.send(ctx, 200, toTable(rt, [o], { resourceVersion: o.metadata.resourceVersion }, ctx.q.get('includeObject')));
    this.send(ctx, 200, o);
  }

  selectors(ctx, rt) {
    const ls = parseLabelSelector(ctx.q.get('labelSelector'));
    const fs = parseFieldSelector(ctx.q.get('fieldSelector'), rt);
    return (o) => ls(o.metadata.labels) && fs(o);
  }

  doList(ctx, rt, ns) {
    const q = ctx.q;
    const match = this.selectors(ctx, rt);
    const limit = parseInt(q.get('limit') || '0', 10) || 0;
    const rvParam = q.get('resourceVersion');
    const rvMatch = q.get('resourceVersionMatch');
    let entries, listRv, start = null;
    if (q.get('continue')) {
      let tok;
      try { tok = JSON.parse(Buffer.from(q.get('continue'), 'base64').toString('utf8')); } catch (_) { throw errors.badRequest('continue key is not valid: illegal base64 data'); }
      if (!tok || typeof tok.rv !== 'number' || typeof tok.start !== 'string') throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      entries = this.store.listAt(rt.storageKey, rt.namespaced ? ns : null, tok.rv, errors.continueTooOld);
      listRv = tok.rv; start = tok.start;
    } else if (rvMatch === 'Exact') {
      if (!rvParam || rvParam === '0') throw errors.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, 'ListOptions.meta.k8s.io', '', [{ reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"', field: 'resourceVersionMatch' }]);
      const rv = parseInt(rvParam, 10);
      if (!Number.isFinite(rv)) throw errors.badRequest(`invalid resource version: ${rvParam}`);
      entries = this.store.listAt(rt.storageKey, rt.namespaced ? ns : null, rv);
      listRv = rv;
    } else {
      if (rvParam && rvParam !== '0') {
        const rv = parseInt(rvParam, 10);
        if (!Number.isFinite(rv)) throw errors.badRequest(`invalid resource version: ${rvParam}`);
        if (rv > this.store.currentRv()) throw errors.tooLargeRv();
      }
      entries = this.store.list(rt.storageKey, rt.namespaced ? ns : null);
      listRv = this.store.currentRv();
    }
    let items = entries.filter(([k, o]) => (start === null || k >= start) && match(this.view(rt, o)));
    const meta = { resourceVersion: String(listRv) };
    if (limit > 0 && items.length > limit && rvParam !== '0') {
      const rest = items.length - limit;
      items = items.slice(0, limit);
      const lastKey = items[items.length - 1][0];
      meta.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: listRv, start: lastKey + '\u0000' })).toString('base64').replace(/=+$/, '');
      if (!q.get('labelSelector') && !q.get('fieldSelector')) meta.remainingItemCount = rest;
    }
    const objs = items.map(([, o]) => this.view(rt, o));
    if (this.wantsTable(ctx)) return this.send(ctx, 200, toTable(rt, objs, meta, q.get('includeObject')));
    const list = { kind: rt.listKind, apiVersion: rt.apiVersion, metadata: meta, items: rt.crdName ? objs : objs.map(o => { const c = { ...o }; delete c.kind; delete c.apiVersion; return c; }) };
    this.send(ctx, 200, rt.crdName ? { apiVersion: rt.apiVersion, items: list.items, kind: rt.listKind, metadata: meta } : list);
  }

  bookmarkObject(rt, rv) {
    const meta = { resourceVersion: String(rv) };
    if (rt.crdName) return { apiVersion: rt.apiVersion, kind: rt.kind, metadata: meta };
    const o = { kind: rt.kind, apiVersion: rt.apiVersion, metadata: { ...meta, creationTimestamp: null } };
    if (rt.kind === 'Pod') { o.spec = { containers: null }; o.status = {}; }
    else if (rt.kind === 'Deployment' || rt.kind === 'ReplicaSet') { o.spec = { selector: null, template: { metadata: { creationTimestamp: null }, spec: { containers: null } }, ...(rt.kind === 'Deployment' ? { strategy: {} } : {}) }; o.status = {}; }
    else if (['Namespace', 'Service', 'HorizontalPodAutoscaler', 'CustomResourceDefinition', 'Lease'].includes(rt.kind)) { o.spec = {}; if (rt.kind !== 'Lease') o.status = {}; }
    return o;
  }

  doWatch(ctx, rt, ns) {
    const { req, res, q } = ctx;
    const match = this.selectors(ctx, rt);
    const table = this.wantsTable(ctx);
    const includeObject = q.get('includeObject');
    const rvParam = q.get('resourceVersion');
    const timeout = Math.max(0, parseInt(q.get('timeoutSeconds') || '0', 10) || 0) * 1000 || 1800 * 1000;
    const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
    const sk = rt.storageKey;
    const nsFilter = rt.namespaced ? ns : null;
    const inScope = (o) => !nsFilter || o.metadata.namespace === nsFilter;
    ctx.status = 200;
    ctx.rec.status = 200;
    res.writeHead(200, { ...this.baseHeaders(), 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    let sentColumns = false;
    const write = (type, obj) => {
      let o = obj;
      if (table && type !== 'ERROR' && type !== 'BOOKMARK') { o = toTable(rt, [this.view(rt, obj)], {}, includeObject, !sentColumns); sentColumns = true; }
      else if (type !== 'ERROR' && type !== 'BOOKMARK') o = this.view(rt, obj);
      res.write(JSON.stringify({ type, object: o }) + '\n');
    };
    let startRv;
    let lastRv;
    const w = {
      rt, sk, ended: false,
      queue: [], releaseAt: 0, flushTimer: null,
      // replay: an event from history at the watch's start (never delayed).
      onEvent: (ev, replay = false) => {
        if (w.ended) return;
        const raw = ev.obj;
        const cur = this.view(rt, ev.obj), prev = this.view(rt, ev.prev);
        if (!inScope(cur)) return;
        const nowM = ev.type !== 'DELETED' && match(cur);
        const wasM = prev ? match(prev) : false;
        lastRv = ev.rv;
        const delay = replay ? 0 : this.watchDelay(rt, ev);
        const send = (type) => emit(() => write(type, raw), delay);
        if (ev.type === 'ADDED') { if (nowM) send('ADDED'); }
        else if (ev.type === 'DELETED') { if (match(cur)) send('DELETED'); }
        else if (nowM && wasM) send('MODIFIED');
        else if (nowM) send('ADDED');
        else if (wasM) send('DELETED');
      },
      end: (abort) => {
        if (w.ended) return;
        w.ended = true;
        this.store.removeWatcher(w);
        this.watches.delete(w);
        clearTimeout(w.timer); clearTimeout(w.bmTimer); clearInterval(w.bmInterval); clearTimeout(w.flushTimer);
        if (abort) res.destroy(); else { try { res.end(); } catch (_) { /* gone */ } }
      },
    };
    // Watch lag (/_emulator/watch-delays): an event goes out `delay` ms late, and every later
    // event and bookmark waits behind it, so the stream keeps resourceVersion order.
    const flush = () => {
      w.flushTimer = null;
      while (w.queue.length && w.queue[0].at <= Date.now()) { const e = w.queue.shift(); if (!w.ended) e.fn(); }
      if (w.queue.length && !w.ended) w.flushTimer = setTimeout(flush, Math.max(0, w.queue[0].at - Date.now()));
    };
    const emit = (fn, delay) => {
      const at = Math.max(Date.now() + delay, w.releaseAt);
      if (!w.queue.length && at <= Date.now()) return fn();
      w.queue.push({ at, fn });
      w.releaseAt = at;
      if (!w.flushTimer) w.flushTimer = setTimeout(flush, Math.max(0, w.queue[0].at - Date.now()));
    };
    const bookmark = () => {
      if (w.ended) return;
      const latest = this.store.latestRv.get(sk) || 0;
      const rv = Math.max(latest, lastRv || 0);
      if (rv > startRv) emit(() => res.write(JSON.stringify({ type: 'BOOKMARK', object: this.bookmarkObject(rt, rv) }) + '\n'), 0);
    };
    req.on('close', () => w.end());
    if (ctx.injectGone) {
      write('ERROR', errors.gone(`too old resource version: ${rvParam || 0} (${this.store.currentRv()})`).toStatus());
      return w.end();
    }
    try {
      if (q.get('sendInitialEvents') === 'true') {
        // WatchList: the current state as ADDED events, then a bookmark marking their end.
        if (!bookmarks || q.get('resourceVersionMatch') !== 'NotOlderThan') {
          throw errors.invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, 'ListOptions.meta.k8s.io', '', [{ reason: 'FieldValueForbidden', message: 'Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled and allowWatchBookmarks is true and resourceVersionMatch is NotOlderThan', field: 'sendInitialEvents' }]);
        }
        startRv = this.store.currentRv();
        for (const [, o] of this.store.list(sk, nsFilter)) if (match(this.view(rt, o))) write('ADDED', o);
        const bm = this.bookmarkObject(rt, startRv);
        bm.metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
        res.write(JSON.stringify({ type: 'BOOKMARK', object: bm }) + '\n');
      } else if (!rvParam || rvParam === '0') {
        startRv = this.store.currentRv();
        for (const [, o] of this.store.list(sk, nsFilter)) if (match(this.view(rt, o))) write('ADDED', o);
      } else {
        startRv = parseInt(rvParam, 10);
        if (!Number.isFinite(startRv)) throw errors.badRequest(`invalid resource version: ${rvParam}`);
        for (const ev of this.store.eventsSince(sk, startRv)) w.onEvent(ev, true);
      }
    } catch (e) {
      if (e instanceof ApiError) { write('ERROR', e.toStatus()); return w.end(); }
      throw e;
    }
    this.store.addWatcher(w);
    this.watches.add(w);
    w.timer = setTimeout(() => w.end(), timeout);
    if (bookmarks) {
      const first = Math.max(0, timeout - 2000);
      const interval = Math.min(this.bookmarkIntervalMs, first || this.bookmarkIntervalMs);
      w.bmInterval = setInterval(bookmark, interval);
      if (first > 0 && first % interval !== 0) w.bmTimer = setTimeout(() => { bookmark(); }, first);
    }
  }

  // Parses and checks a request body for rt; returns the decoded object.
  decode(ctx, rt, raw, expectKind, expectApiVersion) {
    let obj;
    try { obj = JSON.parse(raw); } catch (e) {
      const isYaml = /yaml/.test((ctx.req && ctx.req.headers['content-type']) || '');
      try { if (!isYaml) throw e; obj = yaml.load(raw); } catch (_) { throw errors.badRequest(`couldn't get version/kind; json parse error: ${e.message}`); }
    }
    if (!isObj(obj)) throw errors.badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(obj) ? 'array' : typeof obj} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
    const kind = expectKind || rt.kind;
    const apiVersion = expectApiVersion || rt.apiVersion;
    const version = apiVersion.split('/').pop();
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
      throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`);
    }
    if (obj.kind !== undefined && obj.kind !== kind) {
      throw errors.badRequest(`${obj.kind} in version "${version}" cannot be handled as a ${kind}: no kind "${obj.kind}" is registered for version "${apiVersion}" in scheme "pkg/api/legacyscheme/scheme.go:30"`);
    }
    obj.apiVersion = apiVersion; obj.kind = kind;
    const prefix = `${kind} in version "${version}" cannot be handled as a ${kind}: `;
    const mode = (ctx.q.get('fieldValidation') || this.opts.fieldValidation || 'Warn');
    if (!['Strict', 'Warn', 'Ignore'].includes(mode)) throw errors.badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got "${mode}"`);
    let unknown = [];
    if (expectKind || !rt.crdName) {
      const [g, v] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
      const def = expectKind ? this.registry.gvkToDef.get(`${g}/${v}/${expectKind}`) : rt.defName;
      if (def) {
        const r = this.decoder.decode(def, obj);
        if (r.typeError) throw errors.badRequest(prefix + r.typeError);
        unknown = r.unknown;
      }
    } else {
      if (obj.metadata !== undefined) {
        if (!isObj(obj.metadata)) throw errors.badRequest(prefix + 'json: cannot unmarshal into Go value of type v1.ObjectMeta');
        const r = this.decoder.decode('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', obj.metadata);
        if (r.typeError) throw errors.badRequest(prefix + r.typeError);
        unknown = r.unknown.map(u => `metadata.${u}`);
      }
      const r = validateCr(rt.schema, obj);
      ctx.crCauses = r.causes;
      unknown = unknown.concat(r.unknown);
    }
    if (unknown.length) {
      if (mode === 'Strict') throw errors.badRequest(prefix + 'strict decoding error: ' + unknown.map(u => `unknown field ${JSON.stringify(u)}`).join(', '));
      if (mode === 'Warn') for (const u of unknown) ctx.warnings.push(`unknown field ${JSON.stringify(u)}`);
    }
    if (!isObj(obj.metadata)) obj.metadata = {};
    return obj;
  }

  check422(ctx, rt, obj, old) {
    const causes = (ctx.crCauses || []).concat(rt.crdName ? validate({ ...rt, apiVersion: '-' }, obj, old) : validate(rt, obj, old));
    if (rt.crdName) {
      // metadata first, then schema causes (the apiserver's order)
      causes.sort((a, b) => (a.field.startsWith('metadata.') ? 0 : 1) - (b.field.startsWith('metadata.') ? 0 : 1));
    }
    if (causes.length) throw errors.invalid(rt, this.kindQualified(rt), obj.metadata.name || obj.metadata.generateName || '', causes);
  }

  // pods/binding, the scheduler's verb: sets spec.nodeName once.
  doBinding(ctx, rt, ns, name, raw) {
    const b = this.decode(ctx, rt, raw, 'Binding', 'v1');
    const pod = this.mustGet(rt, ns, name);
    const bindingRt = { ...rt, resource: 'pods/binding' };
    if (b.metadata.uid && b.metadata.uid !== pod.metadata.uid) throw errors.conflictUid(bindingRt, name, b.metadata.uid, pod.metadata.uid);
    const node = (b.target || {}).name;
    if (!node) throw errors.invalid({ kind: 'Binding' }, 'Binding', name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
    if (pod.spec.nodeName) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${pod.spec.nodeName}"`, { name, kind: 'pods/binding' });
    if (pod.metadata.deletionTimestamp) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is being deleted, cannot be assigned to a host`, { name, kind: 'pods/binding' });
    const next = clone(pod);
    next.spec.nodeName = node;
    next.status = next.status || {};
    const conds = (next.status.conditions || []).filter(c => c.type !== 'PodScheduled');
    conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() });
    next.status.conditions = conds;
    this.commitUpdate(rt, next);
    this.send(ctx, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  }

  allocateIp() { const n = this.nextIp++; return `10.96.${(n >> 8) & 255}.${n & 255}`; }

  doCreate(ctx, rt, ns, raw) {
    const obj = this.decode(ctx, rt, raw);
    const created = this.createObject(ctx, rt, ns, obj);
    this.send(ctx, 201, created);
  }

  createObject(ctx, rt, ns, obj) {
    const m = obj.metadata;
    if (rt.namespaced) {
      if (m.namespace && ns && m.namespace !== ns) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      ns = ns || m.namespace;
      if (!ns) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      if (!this.store.get(NS_SK, null, ns)) throw errors.namespaceNotFound(ns);
      const nsObj = this.store.get(NS_SK, null, ns);
      if (nsObj.metadata.deletionTimestamp) throw new ApiError(403, 'Forbidden', `${rt.group ? rt.resource + '.' + rt.group : rt.resource} "${m.name || m.generateName}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, { name: m.name, group: rt.group || undefined, kind: rt.resource });
      m.namespace = ns;
    } else delete m.namespace;
    if (!m.name && m.generateName) m.name = (m.generateName + randSuffix()).slice(0, 253);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'selfLink']) delete m[k];
    if (rt.hasStatus || rt.kind === 'Pod') {
      if (rt.crdName) delete obj.status;
      else if (['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Pod', 'HorizontalPodAutoscaler', 'Job', 'CustomResourceDefinition', 'Namespace', 'Service'].includes(rt.kind)) obj.status = rt.kind === 'Namespace' ? {} : undefined;
      if (obj.status === undefined) delete obj.status;
    }
    applyDefaults(rt, obj, true, this);
    if (rt.kind === 'CustomResourceDefinition') {
      obj.status = { conditions: null, acceptedNames: { plural: '', kind: '' }, storedVersions: (obj.spec.versions || []).filter(v => v.storage).map(v => v.name) };
    }
    this.check422(ctx, rt, obj);
    if (rt.kind === 'CustomResourceDefinition') this.checkCrd(rt, obj);
    if (this.store.get(rt.storageKey, rt.namespaced ? ns : null, m.name)) throw errors.alreadyExists(rt, m.name);
    if (ctx.q && ctx.q.get('dryRun')) return present(rt, obj);
    m.uid = uid();
    m.creationTimestamp = now();
    if (hasGeneration(rt)) m.generation = 1;
    const rv = this.store.nextRv();
    m.resourceVersion = String(rv);
    const stored = this.store.commit(rt.storageKey, 'ADDED', this.toStorage(rt, obj), rv);
    if (rt.kind === 'CustomResourceDefinition') this.establishCrd(stored);
    return this.view(rt, stored);
  }

  createInternal(rt, obj) {
    return this.createObject({ q: new URLSearchParams(), warnings: [] }, rt, obj.metadata.namespace, clone(obj));
  }

  checkCrd(rt, crd) {
    const s = crd.spec || {};
    const causes = [];
    if (!s.names || !s.names.plural) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.names.plural' });
    if (!s.names || !s.names.kind) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.names.kind' });
    if (s.names && s.group && crd.metadata.name !== `${s.names.plural}.${s.group}`) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(crd.metadata.name)}: must be spec.names.plural+"."+spec.group`, field: 'metadata.name' });
    if (!Array.isArray(s.versions) || !s.versions.length) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.versions' });
    if (!['Namespaced', 'Cluster'].includes(s.scope)) causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(s.scope || '')}: supported values: "Cluster", "Namespaced"`, field: 'spec.scope' });
    if (causes.length) throw errors.invalid(rt, this.kindQualified(rt), crd.metadata.name, causes);
  }

  establishCrd(crd) {
    this.registry.installCrd(crd);
    const rt = this.registry.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    const t = now();
    const names = crd.spec.names;
    const accepted = { plural: names.plural, singular: names.singular };
    if (names.shortNames) accepted.shortNames = names.shortNames;
    accepted.kind = names.kind; accepted.listKind = names.listKind;
    if (names.categories) accepted.categories = names.categories;
    const next = clone(crd);
    next.status = {
      conditions: [
        { type: 'NamesAccepted', status: 'True', lastTransitionTime: t, reason: 'NoConflicts', message: 'no conflicts found' },
        { type: 'Established', status: 'True', lastTransitionTime: t, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      ],
      acceptedNames: accepted,
      storedVersions: crd.status.storedVersions,
    };
    this.commitUpdate(rt, next);
  }

  commitUpdate(rt, obj) {
    const rv = this.store.nextRv();
    obj.metadata.resourceVersion = String(rv);
    return this.view(rt, this.store.commit(rt.storageKey, 'MODIFIED', this.toStorage(rt, obj), rv));
  }

  toStorage(rt, obj) {
    return present(rt, rt.convert ? CONVERTERS[rt.convert].toStorage(obj) : obj);
  }

  scaleOf(rt, o) {
    const sel = ((o.spec || {}).selector || {});
    const parts = Object.keys(sel.matchLabels || {}).sort().map(k => `${k}=${sel.matchLabels[k]}`);
    for (const e of sel.matchExpressions || []) parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values || []).join(',')})`);
    const m = o.metadata;
    return {
      kind: 'Scale', apiVersion: 'autoscaling/v1',
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: (o.spec || {}).replicas ?? 0 },
      status: { replicas: (o.status || {}).replicas || 0, selector: parts.join(',') },
    };
  }

  doUpdate(ctx, rt, ns, name, sub, raw) {
    if (sub === 'scale') {
      const scale = this.decode(ctx, rt, raw, 'Scale', 'autoscaling/v1');
      return this.send(ctx, 200, this.applyScale(ctx, rt, ns, name, scale));
    }
    const obj = this.decode(ctx, rt, raw);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) throw errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    const existing = this.view(rt, this.store.get(rt.storageKey, rt.namespaced ? ns : null, name));
    if (!existing) throw errors.notFound(rt, name);
    const out = this.updateObject(ctx, rt, ns, name, sub, obj, existing);
    this.send(ctx, 200, out);
  }

  applyScale(ctx, rt, ns, name, scale) {
    const existing = this.mustGet(rt, ns, name);
    const m = scale.metadata || {};
    if (m.resourceVersion && m.resourceVersion !== existing.metadata.resourceVersion) throw errors.conflict(rt, name);
    const replicas = (scale.spec || {}).replicas;
    if (typeof replicas === 'number' && replicas < 0) throw errors.invalid({ group: 'autoscaling', kind: 'Scale' }, 'Scale.autoscaling', name, [{ reason: 'FieldValueInvalid', message: `Invalid value: ${replicas}: must be greater than or equal to 0`, field: 'spec.replicas' }]);
    const next = clone(existing);
    next.spec.replicas = replicas ?? 0;
    if (next.spec.replicas === existing.spec.replicas) return this.scaleOf(rt, existing);
    if (hasGeneration(rt)) next.metadata.generation = (existing.metadata.generation || 1) + 1;
    return this.scaleOf(rt, this.commitUpdate(rt, next));
  }

  updateObject(ctx, rt, ns, name, sub, obj, existing) {
    const m = obj.metadata;
    if (m.name !== undefined && m.name !== name) throw errors.badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    if (rt.namespaced && m.namespace && m.namespace !== ns) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (m.resourceVersion && m.resourceVersion !== existing.metadata.resourceVersion) throw errors.conflict(rt, name);
    if (m.uid && m.uid !== existing.metadata.uid) throw errors.conflictUid(rt, name, m.uid, existing.metadata.uid);
    let next;
    if (sub === 'status') {
      next = clone(existing);
      if (obj.status === undefined) delete next.status; else next.status = obj.status;
    } else {
      next = obj;
      const em = existing.metadata;
      next.metadata = { ...m, name, uid: em.uid, creationTimestamp: em.creationTimestamp };
      if (rt.namespaced) next.metadata.namespace = em.namespace;
      for (const k of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) { if (em[k] !== undefined) next.metadata[k] = em[k]; else delete next.metadata[k]; }
      delete next.metadata.managedFields;
      delete next.metadata.selfLink;
      if (rt.hasStatus) { if (existing.status !== undefined) next.status = existing.status; else delete next.status; }
      if (rt.kind === 'Namespace') next.status = existing.status;
    }
    applyDefaults(rt, next, false, this);
    this.check422(ctx, rt, next, existing);
    if (rt.kind === 'CustomResourceDefinition') this.checkCrd(rt, next);
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    const before = JSON.stringify(canon(existing));
    if (hasGeneration(rt) && sub !== 'status') {
      const strip = (o) => { const c = { ...o }; delete c.metadata; delete c.status; return JSON.stringify(canon(c)); };
      if (strip(next) !== strip(existing)) next.metadata.generation = (existing.metadata.generation || 0) + 1;
    }
    if (JSON.stringify(canon(next)) === before) return existing; // no-op: no new resourceVersion
    if (ctx.q && ctx.q.get('dryRun')) return present(rt, next);
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers || []).length) {
      return this.finalDelete(rt, next);
    }
    const stored = this.commitUpdate(rt, next);
    if (rt.kind === 'CustomResourceDefinition') this.registry.installCrd(stored);
    return stored;
  }

  doPatch(ctx, rt, ns, name, sub, raw) {
    const ct = (ctx.req.headers['content-type'] || '').split(';')[0].trim();
    const existing = this.view(rt, this.store.get(rt.storageKey, rt.namespaced ? ns : null, name));
    const isApply = ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+cbor';
    if (!existing && !isApply) throw errors.notFound(rt, name);
    let patch;
    if (ct !== 'application/json-patch+json' && ct !== 'application/merge-patch+json' && ct !== 'application/strategic-merge-patch+json' && !isApply) throw errors.unsupportedMedia(ct);
    if (ct === 'application/strategic-merge-patch+json' && rt.crdName) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    try { patch = isApply ? yaml.load(raw) : JSON.parse(raw); } catch (e) { throw errors.badRequest(`error decoding patch: ${e.message}`); }
    if (isApply) {
      if (!isObj(patch)) throw errors.badRequest('error decoding YAML: object expected');
      if (!ctx.q.get('fieldManager')) throw errors.invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, 'PatchOptions.meta.k8s.io', '', [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }]);
      if (!existing) {
        const obj = this.decode(ctx, rt, JSON.stringify(patch));
        if (obj.metadata.name && obj.metadata.name !== name) throw errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
        obj.metadata.name = name;
        return this.send(ctx, 201, this.createObject(ctx, rt, ns, obj));
      }
    }
    const base = sub === 'scale' ? this.scaleOf(rt, existing) : clone(existing);
    let patched;
    switch (ct) {
      case 'application/merge-patch+json': patched = mergePatch(base, patch); break;
      case 'application/json-patch+json':
        try { patched = jsonPatch(base, patch); } catch (e) { if (e instanceof JsonPatchError) throw errors.invalidGeneric(); throw e; }
        break;
      case 'application/strategic-merge-patch+json':
        if (!isObj(patch)) throw errors.badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
        patched = strategicMerge(base, patch, this.decoder, { $ref: '#/definitions/' + (sub === 'scale' ? 'io.k8s.api.autoscaling.v1.Scale' : rt.defName) });
        break;
      default: // apply: fields the manager sets win; lists merge by key for built-ins
        patched = rt.crdName ? mergePatch(base, patch) : strategicMerge(base, patch, this.decoder, { $ref: '#/definitions/' + rt.defName });
    }
    if (!isObj(patched)) throw errors.invalidGeneric();
    if (sub === 'scale') {
      const scale = this.decode(ctx, rt, JSON.stringify(patched), 'Scale', 'autoscaling/v1');
      return this.send(ctx, 200, this.applyScale(ctx, rt, ns, name, scale));
    }
    const obj = this.decode(ctx, rt, JSON.stringify(patched));
    if (isApply && obj.metadata.resourceVersion === undefined) obj.metadata.resourceVersion = existing.metadata.resourceVersion;
    this.send(ctx, 200, this.updateObject(ctx, rt, ns, name, sub, obj, existing));
  }

  deleteOptions(ctx, raw) {
    let opts = {};
    if (raw && raw.trim()) {
      try { opts = JSON.parse(raw); } catch (e) { throw errors.badRequest(`couldn't get version/kind; json parse error: ${e.message}`); }
      if (!isObj(opts)) opts = {};
    }
    const q = ctx.q;
    if (q.get('propagationPolicy')) opts.propagationPolicy = q.get('propagationPolicy');
    if (q.get('gracePeriodSeconds')) opts.gracePeriodSeconds = parseInt(q.get('gracePeriodSeconds'), 10);
    if (q.get('dryRun')) opts.dryRun = [q.get('dryRun')];
    if (opts.orphanDependents === true && !opts.propagationPolicy) opts.propagationPolicy = 'Orphan';
    return opts;
  }

  doDelete(ctx, rt, ns, name, raw) {
    const opts = this.deleteOptions(ctx, raw);
    const existing = this.mustGet(rt, ns, name);
    const pre = opts.preconditions || {};
    if (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) throw errors.conflict(rt, name);
    if (pre.uid && pre.uid !== existing.metadata.uid) throw errors.conflictUid(rt, name, pre.uid, existing.metadata.uid);
    if (opts.dryRun && opts.dryRun.length) return this.send(ctx, 200, existing);
    const { obj, deleted } = this.deleteObject(rt, existing, opts);
    if (rt.kind === 'Pod' || rt.kind === 'Namespace' || rt.crdName || rt.kind === 'CustomResourceDefinition' || !deleted) {
      return this.send(ctx, deleted || rt.kind === 'Pod' || rt.kind === 'Namespace' ? 200 : 202, obj);
    }
    const details = { name, group: rt.group || undefined, kind: rt.resource, uid: existing.metadata.uid };
    if (!rt.group) delete details.group;
    this.send(ctx, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
  }

  // Returns {obj, deleted}: deleted=false when the object now waits (finalizers, grace period).
  deleteObject(rt, existing, opts = {}) {
    const m = existing.metadata;
    if (m.deletionTimestamp) {
      if (rt.kind === 'Pod' && opts.gracePeriodSeconds === 0) return { obj: this.finalDelete(rt, existing), deleted: true };
      return { obj: existing, deleted: false };
    }
    if (rt.kind === 'Namespace') {
      const next = clone(existing);
      next.metadata.deletionTimestamp = now();
      next.status = { phase: 'Terminating' };
      const term = this.commitUpdate(rt, next);
      setImmediate(() => this.purgeNamespace(m.name));
      return { obj: term, deleted: false };
    }
    const policy = opts.propagationPolicy || 'Background';
    if (this.controllers && policy === 'Orphan') this.controllers.orphan(existing);
    const finalizers = [...(m.finalizers || [])];
    if (this.controllers && policy === 'Foreground' && this.controllers.dependents(existing).length) finalizers.push('foregroundDeletion');
    if (finalizers.length) {
      const next = clone(existing);
      next.metadata.deletionTimestamp = now();
      next.metadata.deletionGracePeriodSeconds = 0;
      next.metadata.finalizers = finalizers;
      const out = this.commitUpdate(rt, next);
      if (this.controllers && policy === 'Foreground') this.controllers.foreground(rt, out);
      return { obj: out, deleted: false };
    }
    if (rt.kind === 'Pod') {
      const grace = opts.gracePeriodSeconds ?? ((existing.spec || {}).terminationGracePeriodSeconds ?? 30);
      const next = clone(existing);
      next.metadata.deletionTimestamp = new Date(Date.now() + (existing.spec.nodeName ? grace * 1000 : 0)).toISOString().replace(/\.\d{3}Z$/, 'Z');
      next.metadata.deletionGracePeriodSeconds = existing.spec.nodeName ? grace : 0;
      const marked = this.commitUpdate(rt, next);
      if (existing.spec.nodeName && grace > 0) return { obj: marked, deleted: false };
      return { obj: this.finalDelete(rt, marked), deleted: true };
    }
    return { obj: this.finalDelete(rt, existing), deleted: true };
  }

  finalDelete(rt, obj) {
    const rv = this.store.nextRv();
    const gone = clone(obj);
    gone.metadata.resourceVersion = String(rv);
    this.store.commit(rt.storageKey, 'DELETED', this.toStorage(rt, gone), rv);
    if (rt.kind === 'CustomResourceDefinition') {
      for (const t of this.registry.crdTypes().filter(x => x.crdName === obj.metadata.name)) {
        for (const [, o] of this.store.list(t.storageKey, null)) this.finalDelete(t, o);
      }
      this.registry.removeCrd(obj.metadata.name);
    }
    if (this.controllers) this.controllers.onDeleted(rt, gone);
    return gone;
  }

  purgeNamespace(ns) {
    for (const rt of new Set(this.registry.types.values())) {
      if (!rt.namespaced) continue;
      for (const [, o] of this.store.list(rt.storageKey, ns)) { if (this.store.get(rt.storageKey, ns, o.metadata.name)) this.finalDelete(rt, o); }
    }
    const nsRt = this.registry.get('', 'v1', 'namespaces');
    const cur = this.store.get(NS_SK, null, ns);
    if (cur) this.finalDelete(nsRt, cur);
  }

  doDeleteCollection(ctx, rt, ns) {
    const match = this.selectors(ctx, rt);
    const items = [];
    const opts = this.deleteOptions(ctx, '');
    for (const [, o0] of this.store.list(rt.storageKey, rt.namespaced ? ns : null)) {
      const o = this.view(rt, o0);
      if (!match(o)) continue;
      items.push(this.deleteObject(rt, o, opts).obj);
    }
    this.send(ctx, 200, { kind: rt.listKind, apiVersion: rt.apiVersion, metadata: { resourceVersion: String(this.store.currentRv()) }, items });
  }
}

module.exports = { ApiServer };
