'use strict';
// Metric names in PromQL expressions (and Grafana's label_values() queries), and the metric
// families docs/metrics.md documents.

const fs = require('node:fs');

// PromQL keywords and aggregation modifiers that look like identifiers but are not metrics.
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset',
  'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan', 'Inf', 'NaN']);

// Returns the metric names an expression selects. Grafana variables ($x, ${x}, [[x]]) are
// replaced first; strings, label matchers ({...}), ranges ([...]), grouping clauses
// (by (...), on (...), ...) and function names (identifier followed by "(") are not metrics.
function metricNames(expr) {
  let s = String(expr);
  s = s.replace(/\$\{[^}]*\}|\[\[[^\]]*\]\]|\$[A-Za-z_][A-Za-z0-9_]*/g, '1');
  s = s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^{}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\boffset\s+-?[0-9a-z]+/g, ' ');
  const names = new Set();
  const re = /([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g;
  let m;
  while ((m = re.exec(s)) !== null) {
    const before = s[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // exponent/duration suffix: 1e3, 5m
    if (m[2]) continue; // function call
    if (KEYWORDS.has(m[1])) continue;
    names.add(m[1]);
  }
  return [...names];
}

// Grafana templating: label_values(metric{...}, label) and query_result(expr).
function grafanaQueryExpr(q) {
  const text = typeof q === 'string' ? q : (q && q.query) || '';
  const lv = /^\s*label_values\(\s*(.*?)\s*(,\s*[A-Za-z_][A-Za-z0-9_]*\s*)?\)\s*$/.exec(text);
  if (lv) return lv[1];
  const qr = /^\s*query_result\((.*)\)\s*$/.exec(text);
  if (qr) return qr[1];
  return text;
}

// The metric families docs/metrics.md lists: {name: type}. Histograms also allow the
// _bucket/_sum/_count series Prometheus stores for them.
function documentedMetrics(markdownPath) {
  const md = fs.readFileSync(markdownPath, 'utf8');
  const families = new Map();
  for (const line of md.split('\n')) {
    const m = /^\|\s*`(oomscope_[a-z0-9_]+)`\s*\|\s*([a-z]+)\s*\|/.exec(line);
    if (m) families.set(m[1], m[2]);
  }
  const series = new Set();
  for (const [name, type] of families) {
    series.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) series.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) series.add(name + suffix);
  }
  return { families, series };
}

module.exports = { metricNames, grafanaQueryExpr, documentedMetrics };
