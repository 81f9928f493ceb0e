'use strict';

// A tiny validation API that reproduces the memory leak from the story.
//
//   GET  /validate?field=name&value=Ada      -> {"field":"name","valid":true}
//   POST /validate  {"field":"name","value":"Ada"}
//   GET  /healthz                            -> {"status":"ok", ...}
//
// Run:   node server.js            (PORT=3000, HOST=0.0.0.0 by default)
// Embed: require('./server').start(port, host) returns the http.Server.

const http = require('node:http');
const validators = require('./validate');

const MAX_BODY = 64 * 1024;

// The bug from the story. This started life in a unit test that needed the
// list of supported file extensions, so it stuck them onto the validator it
// had in hand "just for the test". The validator is the module object cached
// by require(), so the array lives forever and grows on every request.
function checkField(field, value) {
  const validator = validators(field);
  validator.supportedExtensions = validator.supportedExtensions || [];
  validator.supportedExtensions.push('.pdf', '.png', '.jpg', '.docx');
  return validator.validate(value);
}

function sendJson(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function readBody(req, callback) {
  const chunks = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk) => {
    if (failed) return;
    size += chunk.length;
    if (size > MAX_BODY) {
      failed = true;
      callback(Object.assign(new Error('request body too large'), { status: 413 }));
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!failed) callback(null, Buffer.concat(chunks).toString('utf8'));
  });
  req.on('error', (err) => {
    if (!failed) {
      failed = true;
      callback(err);
    }
  });
}

function respondValidation(res, field, value) {
  if (typeof field !== 'string' || field === '') field = 'name';
  let result;
  try {
    result = checkField(field, value);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') {
      sendJson(res, 404, { error: `no validator for field "${field}"` });
    } else {
      sendJson(res, 400, { error: String(err && err.message ? err.message : err) });
    }
    return;
  }
  sendJson(res, 200, Object.assign({ field }, result));
}

function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');

  if (url.pathname === '/healthz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' });
      return;
    }
    const mem = process.memoryUsage();
    sendJson(res, 200, { status: 'ok', heapUsed: mem.heapUsed, rss: mem.rss });
    return;
  }

  if (url.pathname === '/validate') {
    if (req.method === 'GET') {
      respondValidation(res, url.searchParams.get('field'), url.searchParams.get('value') ?? '');
      return;
    }
    if (req.method === 'POST') {
      readBody(req, (err, text) => {
        if (err) {
          sendJson(res, err.status || 400, { error: err.message });
          return;
        }
        let body;
        try {
          body = JSON.parse(text || '{}');
        } catch {
          sendJson(res, 400, { error: 'body must be JSON' });
          return;
        }
        if (body === null || typeof body !== 'object') {
          sendJson(res, 400, { error: 'body must be a JSON object' });
          return;
        }
        respondValidation(res, body.field, body.value);
      });
      return;
    }
    sendJson(res, 405, { error: 'method not allowed' });
    return;
  }

  sendJson(res, 404, { error: 'not found' });
}

function start(port = 3000, host = '0.0.0.0') {
  const server = http.createServer(handle);
  server.keepAliveTimeout = 5000;
  server.listen(port, host);
  return server;
}

module.exports = { start, handle, checkField };

if (require.main === module) {
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 3000 : Number(process.env.PORT);
  const host = process.env.HOST || '0.0.0.0';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid PORT: ${process.env.PORT}`);
    process.exit(2);
  }
  const server = start(port, host);
  server.on('listening', () => {
    const addr = server.address();
    console.log(`listening on http://${host}:${addr.port}`);
  });
  server.on('error', (err) => {
    console.error(`server error: ${err.message}`);
    process.exit(1);
  });
  const stop = (signal) => {
    console.log(`${signal} received, shutting down`);
    server.close(() => process.exit(0));
    if (typeof server.closeAllConnections === 'function') server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
