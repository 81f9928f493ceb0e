// A Node process for the inspector tests: stays up, and grows a leak when asked over the
// inspector (leakMore(n)), so a test controls exactly what happens between snapshots.
const registry = { sessions: [] };
globalThis.leakMore = (n) => {
  for (let i = 0; i < n; i++) registry.sessions.push({ id: registry.sessions.length, user: 'u' + i });
  return registry.sessions.length;
};
globalThis.keep = registry;
setInterval(() => {}, 1000);
