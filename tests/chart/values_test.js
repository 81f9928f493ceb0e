'use strict';
// values.yaml: a comment over every key (a "# -- " comment documents the whole value below it,
// as helm-docs reads it), and values.schema.json declares exactly the keys values.yaml has.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const { CHART } = require('./lib/chart');

const doc = YAML.parseDocument(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
const schema = JSON.parse(fs.readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'));

// Returns [{path, comment, documentsValue}] for every key up to documented leaves.
function keys(map, prefix, out) {
  for (const pair of map.items) {
    const k = `${prefix}${pair.key.value}`;
    let comment = pair.key.commentBefore || '';
    if (!comment && map.items[0] === pair && map.commentBefore) comment = map.commentBefore; // first key of a nested map
    const documentsValue = /(^|\n)\s*-- /.test(comment);
    out.push({ path: k, comment, documentsValue });
    if (!documentsValue && YAML.isMap(pair.value)) keys(pair.value, `${k}.`, out);
  }
  return out;
}
const all = keys(doc.contents, '', []);
const leaves = new Set(all.filter((k) => k.documentsValue).map((k) => k.path));

test('every key of values.yaml has a comment above it', () => {
  assert.ok(all.length > 40, `${all.length} keys`);
  assert.deepEqual(all.filter((k) => !k.comment.trim()).map((k) => k.path), []);
});

test('values.schema.json declares exactly the keys of values.yaml', () => {
  const schemaKeys = [];
  const walk = (s, prefix) => {
    for (const [k, v] of Object.entries(s.properties || {})) {
      if (prefix === '' && k === 'global') continue;
      schemaKeys.push(`${prefix}${k}`);
      if (v.additionalProperties === false && !leaves.has(`${prefix}${k}`)) walk(v, `${prefix}${k}.`);
    }
  };
  walk(schema, '');
  const valueKeys = [];
  const walkValues = (obj, prefix, s) => {
    for (const [k, v] of Object.entries(obj)) {
      valueKeys.push(`${prefix}${k}`);
      const sub = s && s.properties && s.properties[k];
      if (sub && sub.additionalProperties === false && v && typeof v === 'object' && !leaves.has(`${prefix}${k}`)) walkValues(v, `${prefix}${k}.`, sub);
    }
  };
  walkValues(doc.toJSON(), '', schema);
  assert.deepEqual(schemaKeys.sort(), valueKeys.sort());
  assert.equal(schema.additionalProperties, false, 'unknown top-level keys are errors');
});
