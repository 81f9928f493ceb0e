'use strict';
// Kinds served in two API versions over one storage, as the real server
// stores them: Events are kept as core/v1 and shown as events.k8s.io/v1 too.

const EVENT_FIELDS = [ // [events.k8s.io/v1, core/v1]
  ['regarding', 'involvedObject'], ['note', 'message'], ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'], ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'], ['reportingController', 'reportingComponent'],
];
const EVENT_SAME = ['eventTime', 'series', 'reportingInstance', 'action', 'reason', 'type', 'related'];

function eventToCore(e) {
  const o = { kind: 'Event', apiVersion: 'v1', metadata: e.metadata };
  for (const [nv, cv] of EVENT_FIELDS) if (e[nv] !== undefined) o[cv] = e[nv];
  for (const k of EVENT_SAME) if (e[k] !== undefined) o[k] = e[k];
  if (o.source === undefined) o.source = {};
  if (!('firstTimestamp' in o)) o.firstTimestamp = null;
  if (!('lastTimestamp' in o)) o.lastTimestamp = null;
  if (!('eventTime' in o)) o.eventTime = null;
  return o;
}

function coreToEvent(c) {
  const o = { kind: 'Event', apiVersion: 'events.k8s.io/v1', metadata: c.metadata };
  const order = ['eventTime', 'series', 'reportingController', 'reportingInstance', 'action', 'reason', 'regarding', 'related', 'note', 'type', 'deprecatedSource', 'deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount'];
  const tmp = {};
  for (const [nv, cv] of EVENT_FIELDS) if (c[cv] !== undefined) tmp[nv] = c[cv];
  for (const k of EVENT_SAME) if (c[k] !== undefined) tmp[k] = c[k];
  if (!tmp.deprecatedCount) delete tmp.deprecatedCount;
  for (const k of order) if (k in tmp) o[k] = tmp[k];
  if (o.deprecatedSource === undefined) o.deprecatedSource = {};
  if (!('deprecatedFirstTimestamp' in o)) o.deprecatedFirstTimestamp = null;
  if (!('deprecatedLastTimestamp' in o)) o.deprecatedLastTimestamp = null;
  return o;
}

const CONVERTERS = { events: { toStorage: eventToCore, fromStorage: coreToEvent } };

module.exports = { CONVERTERS, eventToCore, coreToEvent };
