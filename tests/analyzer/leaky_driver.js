'use strict';
// Runs the story's leaky-api (deploy/examples/leaky-api/server.js) and drives traffic at it from
// inside the process (a few requests in flight at a time, nothing queued up), so its
// supportedExtensions array keeps growing while the sidecar snapshots it.
const http = require('node:http');
const fs = require('node:fs');
const { start } = require(process.argv[2]);
const warmFile = process.argv[3];  // written once the leak has started growing
let served = 0;

const server = start(0, '127.0.0.1');
server.on('listening', () => {
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const loop = () =>
    http
      .get({ host: '127.0.0.1', port, path: '/validate?field=name&value=Ada', agent }, (r) => {
        r.resume();
        r.on('end', () => {
          if (++served === 2000 && warmFile) fs.writeFileSync(warmFile, String(served));
          loop();
        });
      })
      .on('error', () => setTimeout(loop, 10));
  for (let i = 0; i < 4; i++) loop();
  console.log(`leaky-api on ${port}`);
});
