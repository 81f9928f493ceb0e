'use strict';
// RBAC evaluation of audited requests (the emulator's /_emulator/requests entries).

// Is one request allowed by a rule list? Non-resource requests (discovery, /version) are allowed
// to every authenticated user by the default system:discovery role.
function allows(rules, call) {
  if (call.resource && call.resource.startsWith('/')) return true;
  const resource = call.subresource ? `${call.resource}/${call.subresource}` : call.resource;
  return rules.some((r) => (r.apiGroups || []).includes(call.group || '') && (r.resources || []).includes(resource) &&
    r.verbs.includes(call.verb) && (!r.resourceNames || (call.name && r.resourceNames.includes(call.name))));
}

// The rules that apply to a request in a namespace: ClusterRoles bound cluster-wide, Roles (and
// ClusterRoles) bound by RoleBindings in that namespace.
function rulesFor(objects, namespace) {
  const byName = (kind, name, ns) => objects.find((o) => o.kind === kind && o.metadata.name === name && (ns === undefined || o.metadata.namespace === ns));
  const rules = [];
  for (const b of objects.filter((o) => o.kind === 'ClusterRoleBinding')) rules.push(...(byName('ClusterRole', b.roleRef.name) || { rules: [] }).rules);
  for (const b of objects.filter((o) => o.kind === 'RoleBinding' && o.metadata.namespace === namespace)) {
    const role = b.roleRef.kind === 'Role' ? byName('Role', b.roleRef.name, namespace) : byName('ClusterRole', b.roleRef.name);
    if (role) rules.push(...role.rules);
  }
  return rules;
}

const describe = (c) => `${c.verb} ${c.group || 'core'}/${c.resource}${c.subresource ? `/${c.subresource}` : ''}${c.namespace ? ` in ${c.namespace}` : ''}${c.name ? ` ${c.name}` : ''}`;

module.exports = { allows, rulesFor, describe };
