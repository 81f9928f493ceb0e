'use strict';

// The few Kubernetes API calls the kubelet stand-in makes, over plain node:http(s): GET, a
// merge patch of a pod's status subresource, a pod binding, a final pod delete, and a watch
// stream (newline-delimited JSON events). No dependencies.

const http = require('node:http');
const https = require('node:https');

class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}: ${typeof body === 'object' && body ? body.message || JSON.stringify(body) : body}`);
    this.status = status;
    this.body = body;
  }
}

class KubeClient {
  // server: "http://127.0.0.1:PORT" (or https with insecure: true); token: optional bearer token.
  constructor(server, { token = '', insecure = true, userAgent = 'oomscope-e2e-kubelet/0.1' } = {}) {
    this.base = new URL(server);
    this.token = token;
    this.insecure = insecure;
    this.userAgent = userAgent;
    this.agent = this.base.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, rejectUnauthorized: !insecure })
      : new http.Agent({ keepAlive: true });
  }

  headers(extra) {
    const h = { accept: 'application/json', 'user-agent': this.userAgent, ...extra };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    return h;
  }

  request(method, path, body, contentType = 'application/json') {
    const mod = this.base.protocol === 'https:' ? https : http;
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers = this.headers(payload ? { 'content-type': contentType, 'content-length': payload.length } : {});
    return new Promise((resolve, reject) => {
      const req = mod.request(new URL(path, this.base), { method, headers, agent: this.agent, timeout: 15000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            // not JSON: keep the text for the error message
          }
          if (res.statusCode >= 200 && res.statusCode < 300) resolve(parsed);
          else reject(new ApiError(res.statusCode, parsed));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload || undefined);
    });
  }

  get(path) {
    return this.request('GET', path);
  }

  listPods() {
    return this.get('/api/v1/pods');
  }

  getSecret(ns, name) {
    return this.get(`/api/v1/namespaces/${ns}/secrets/${name}`);
  }

  getConfigMap(ns, name) {
    return this.get(`/api/v1/namespaces/${ns}/configmaps/${name}`);
  }

  bind(pod, nodeName) {
    const { name, namespace } = pod.metadata;
    return this.request('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name, namespace, uid: pod.metadata.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    });
  }

  // For servers without pods/binding: set spec.nodeName directly (a real server forbids it).
  setNodeName(ns, name, nodeName) {
    return this.request('PATCH', `/api/v1/namespaces/${ns}/pods/${name}`, { spec: { nodeName } },
      'application/merge-patch+json');
  }

  patchPodStatus(ns, name, status) {
    return this.request('PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, { status },
      'application/merge-patch+json');
  }

  // The kubelet's last word on a gracefully deleted pod: remove it now.
  deletePodNow(ns, name, uid) {
    return this.request('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid },
    });
  }

  // Watches pods from resourceVersion `rv`; calls onEvent(event) per event and onEnd(err) once
  // when the stream ends (closed by the server, dropped, or an error). Returns a stop function.
  watchPods(rv, onEvent, onEnd) {
    const mod = this.base.protocol === 'https:' ? https : http;
    const path = `/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${encodeURIComponent(rv)}`;
    let ended = false;
    const end = (err) => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    const req = mod.request(new URL(path, this.base), { method: 'GET', headers: this.headers(), agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        end(new ApiError(res.statusCode, 'watch refused'));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            onEvent(JSON.parse(line));
          } catch (err) {
            end(err);
            req.destroy();
            return;
          }
        }
      });
      res.on('end', () => end(null));
      res.on('error', (err) => end(err));
    });
    req.on('error', (err) => end(err));
    req.end();
    return () => {
      ended = true;
      req.destroy();
    };
  }
}

module.exports = { KubeClient, ApiError };
