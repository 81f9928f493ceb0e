'use strict';
// RBAC authorization for non-admin users (--user-token): Roles, ClusterRoles,
// RoleBindings and ClusterRoleBindings stored in the emulator decide, as the
// RBAC authorizer does (no aggregation rules, no escalation checks).

function subjectMatches(s, user) {
  if (s.kind === 'User') return s.name === user.name;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user.name === `system:serviceaccount:${s.namespace}:${s.name}`;
  return false;
}

function ruleAllows(rule, req) {
  const has = (list, v) => (list || []).includes('*') || (list || []).includes(v);
  if (!has(rule.verbs, req.verb)) return false;
  if (!has(rule.apiGroups, req.group)) return false;
  const res = req.subresource ? `${req.resource}/${req.subresource}` : req.resource;
  const resources = rule.resources || [];
  const resOk = resources.includes('*') || resources.includes(res) || (req.subresource && resources.includes(`*/${req.subresource}`));
  if (!resOk) return false;
  if (rule.resourceNames && rule.resourceNames.length) return !!req.name && rule.resourceNames.includes(req.name);
  return true;
}

class Rbac {
  constructor(server) { this.s = server; }

  rules(kind, ns, name) {
    const rt = this.s.registry.get('rbac.authorization.k8s.io', 'v1', kind === 'Role' ? 'roles' : 'clusterroles');
    const role = this.s.store.get(rt.storageKey, kind === 'Role' ? ns : null, name);
    return (role && role.rules) || [];
  }

  // req: {verb, group, resource, subresource, namespace, name}
  allowed(user, req) {
    const reg = this.s.registry;
    const crb = reg.get('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings');
    for (const [, b] of this.s.store.list(crb.storageKey, null)) {
      if (!(b.subjects || []).some(s => subjectMatches(s, user))) continue;
      if (this.rules('ClusterRole', null, b.roleRef.name).some(r => ruleAllows(r, req))) return true;
    }
    if (req.namespace) {
      const rb = reg.get('rbac.authorization.k8s.io', 'v1', 'rolebindings');
      for (const [, b] of this.s.store.list(rb.storageKey, req.namespace)) {
        if (!(b.subjects || []).some(s => subjectMatches(s, user))) continue;
        if (this.rules(b.roleRef.kind, req.namespace, b.roleRef.name).some(r => ruleAllows(r, req))) return true;
      }
    }
    return false;
  }
}

// "NAME" or "NAME:GROUP1,GROUP2" (NAME may be system:serviceaccount:NS:SA).
function userFromSpec(spec) {
  const m = /^(system:serviceaccount:[^:]+:[^:]+|[^:]+)(?::(.*))?$/.exec(spec);
  if (!m) throw new Error(`bad user ${spec}`);
  const name = m[1];
  const groups = (m[2] || '').split(',').filter(Boolean);
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  if (sa) groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
  groups.push('system:authenticated');
  return { name, groups, admin: groups.includes('system:masters') };
}

module.exports = { Rbac, userFromSpec, ruleAllows };
