'use strict';
// Builders for metav1.Status bodies, worded exactly as kube-apiserver v1.32 words them.

class ApiError extends Error {
  constructor(code, reason, message, details, extraHeaders) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.headers = extraHeaders || {};
  }
  toStatus() {
    const s = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message };
    if (this.reason) s.reason = this.reason;
    if (this.details !== undefined) s.details = this.details;
    s.code = this.code;
    return s;
  }
}

// "deployments.apps" or "pods" (core group has no suffix).
function qualified(rt) { return rt.group ? `${rt.resource}.${rt.group}` : rt.resource; }
function detailsOf(rt, name) {
  const d = {};
  if (name) d.name = name;
  if (rt.group) d.group = rt.group;
  d.kind = rt.resource;
  return d;
}

const errors = {
  notFound: (rt, name) => new ApiError(404, 'NotFound', `${qualified(rt)} "${name}" not found`, detailsOf(rt, name)),
  namespaceNotFound: (ns) => new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }),
  alreadyExists: (rt, name) => new ApiError(409, 'AlreadyExists', `${qualified(rt)} "${name}" already exists`, detailsOf(rt, name)),
  conflict: (rt, name) => new ApiError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualified(rt)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsOf(rt, name)),
  conflictUid: (rt, name, want, have) => new ApiError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualified(rt)} "${name}": Precondition failed: UID in precondition: ${want}, UID in object meta: ${have}`,
    detailsOf(rt, name)),
  gone: (message) => new ApiError(410, 'Expired', message),
  listTooOld: () => new ApiError(410, 'Expired', 'The resourceVersion for the provided list is too old.'),
  continueTooOld: () => new ApiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'),
  badRequest: (message) => new ApiError(400, 'BadRequest', message),
  invalid: (rt, kindQualified, name, causes) => {
    // kindQualified: "Deployment.apps" / "HeapDiagnosis.oomscope.io" / "Namespace"
    const parts = causes.map(c => `${c.field}: ${c.message}`);
    const msg = `${kindQualified} "${name}" is invalid: ` + (parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`);
    const d = { name };
    if (rt.group) d.group = rt.group;
    d.kind = rt.kind;
    d.causes = causes.map(c => ({ reason: c.reason, message: c.message, field: c.field }));
    return new ApiError(422, 'Invalid', msg, d);
  },
  invalidGeneric: () => new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {}),
  forbidden: (rt, verb, user, ns, name) => {
    const what = name ? `${qualified(rt)} "${name}" is forbidden` : `${qualified(rt)} is forbidden`;
    const where = ns ? ` in the namespace "${ns}"` : ' at the cluster scope';
    const sub = rt.subresource ? `resource "${rt.resource}/${rt.subresource}"` : `resource "${rt.resource}"`;
    return new ApiError(403, 'Forbidden',
      `${what}: User "${user}" cannot ${verb} ${sub} in API group "${rt.group || ''}"${where}`,
      detailsOf(rt, name), { 'X-Content-Type-Options': 'nosniff' });
  },
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  internal: (msg) => new ApiError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] }),
  unavailable: () => new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'),
  tooMany: () => new ApiError(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 }, { 'Retry-After': '1' }),
  methodNotAllowed: () => new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
  pathNotFound: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  unsupportedMedia: (ct) => new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`),
  tooLargeRv: () => new ApiError(504, 'Timeout', 'Too large resource version', { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }),
};

module.exports = { ApiError, errors, qualified };
