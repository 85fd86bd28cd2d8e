// Reads `netwave export` output back with HashiCorp's HCL parser (the
// @cdktf/hcl2json package: HCL's own Go parser compiled to WebAssembly) and
// holds it against a fresh discovery of the same estate:
//   - the text parses as HCL;
//   - every import block's id exists in the discovery (a deployment's
//     "<manager>/commit|<region>|<access>" in observed.avnmDeployments);
//   - every attribute of every resource block equals the discovered value,
//     references (azurerm_x.y.id, .name) resolved through the import blocks.
// The expected values are worked out here from the discovered ARM JSON, on
// their own, not by netwave's code.  Prints "ok - ..." / "not ok - ..." lines
// and a last line "N passed, M failed"; exits 1 when something failed.
//
// usage: node hcl2json.mjs EXPORT.tf DISCOVERY.json
import { readFileSync } from "node:fs";
import { parse } from "@cdktf/hcl2json";

const [tfPath, discPath] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const ok = (name) => { passed++; console.log(`ok - ${name}`); };
const notOk = (name, why) => { failed++; console.log(`not ok - ${name}`); console.log(`#   ${why}`); };

const low = (s) => String(s).toLowerCase();
const disc = JSON.parse(readFileSync(discPath, "utf8"));
const byId = new Map();
for (const r of disc.resources) {
  byId.set(low(r.id), r);
  for (const [arr, seg] of [["subnets", "subnets"], ["virtualNetworkPeerings", "virtualNetworkPeerings"]]) {
    for (const c of (r.properties && r.properties[arr]) || []) {
      byId.set(low(c.id || `${r.id}/${seg}/${c.name}`), { ...c, parent: r });
    }
  }
}
const deployments = (disc.observed && disc.observed.avnmDeployments) || {};
function deploymentOf(id) {
  const m = /^(.*)\/commit\|([^|]+)\|([^|]+)$/.exec(id);
  if (!m) return undefined;
  const nm = Object.keys(deployments).find((k) => low(k) === low(m[1]));
  const ids = nm && deployments[nm][m[2]] && deployments[nm][m[2]][m[3]];
  return ids ? { manager: nm, region: m[2], access: m[3], ids } : undefined;
}

let json;
try {
  json = await parse(tfPath, readFileSync(tfPath, "utf8"));
  ok(`HashiCorp's HCL parser reads ${tfPath}`);
} catch (e) {
  notOk(`HashiCorp's HCL parser reads ${tfPath}`, String(e));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}

// import blocks: address -> id
const imports = new Map();
for (const im of json.import || []) {
  const to = String(im.to).replace(/^\$\{(.*)\}$/, "$1");
  imports.set(to, im.id);
}
let missing = [];
for (const [to, id] of imports) {
  if (!byId.has(low(id)) && !deploymentOf(id)) missing.push(`${to}: ${id}`);
}
if (imports.size > 0 && missing.length === 0) ok(`every one of the ${imports.size} import ids exists in the discovery`);
else notOk("every import id exists in the discovery", missing.length ? missing.slice(0, 5).join("; ") : "no import blocks");

// a reference "${type.label.attr}" resolved through the imports; literals as they are
function resolve(v) {
  if (Array.isArray(v)) return v.map(resolve);
  if (typeof v === "string") {
    const list = /^\$\{\[(.*)\]\}$/.exec(v);
    if (list) return list[1].split(",").map((s) => resolve("${" + s.trim() + "}"));
    const m = /^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.(id|name)\}$/.exec(v);
    if (m) {
      const id = imports.get(m[1]);
      if (id === undefined) return `<unresolved ${m[1]}>`;
      return m[2] === "id" ? id : id.split("/").pop();
    }
  }
  return v;
}

const truthy = (s) => String(s) === "True" || s === true;
const rgOf = (id) => id.split("/")[4];
const parentOf = (id, seg) => id.slice(0, low(id).lastIndexOf(`/${low(seg)}/`));
const opt = (o, k, v) => { if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && v !== "") o[k] = v; };

// what each azurerm argument is, from the discovered ARM resource
const expected = {
  azurerm_network_manager(r) {
    const p = r.properties, s = p.networkManagerScopes || {}, o = { name: r.name, location: r.location, resource_group_name: rgOf(r.id) };
    opt(o, "description", p.description);
    opt(o, "scope_accesses", p.networkManagerScopeAccesses);
    if (r.tags && Object.keys(r.tags).length) o.tags = r.tags;
    const scope = {};
    opt(scope, "subscription_ids", s.subscriptions);
    opt(scope, "management_group_ids", s.managementGroups);
    o.scope = [scope];
    return o;
  },
  azurerm_network_manager_network_group(r) {
    const o = { name: r.name, network_manager_id: parentOf(r.id, "networkGroups") };
    opt(o, "description", r.properties.description);
    if (r.properties.memberType && r.properties.memberType !== "VirtualNetwork") o.member_type = r.properties.memberType;
    return o;
  },
  azurerm_network_manager_static_member(r) {
    return { name: r.name, network_group_id: parentOf(r.id, "staticMembers"), target_virtual_network_id: r.properties.resourceId };
  },
  azurerm_network_manager_connectivity_configuration(r) {
    const p = r.properties, o = {
      name: r.name, network_manager_id: parentOf(r.id, "connectivityConfigurations"),
      connectivity_topology: p.connectivityTopology,
      delete_existing_peering_enabled: truthy(p.deleteExistingPeering), global_mesh_enabled: truthy(p.isGlobal),
      applies_to_group: (p.appliesToGroups || []).map((g) => ({
        group_connectivity: g.groupConnectivity || "None", network_group_id: g.networkGroupId,
        global_mesh_enabled: truthy(g.isGlobal), use_hub_gateway: truthy(g.useHubGateway) })),
    };
    opt(o, "description", p.description);
    if ((p.hubs || []).length) o.hub = p.hubs.map((h) => ({ resource_id: h.resourceId, resource_type: h.resourceType }));
    return o;
  },
  azurerm_virtual_network(r) {
    const p = r.properties, o = { name: r.name, location: r.location, resource_group_name: rgOf(r.id),
      address_space: p.addressSpace.addressPrefixes, private_endpoint_vnet_policies: p.privateEndpointVNetPolicies };
    opt(o, "dns_servers", p.dhcpOptions && p.dhcpOptions.dnsServers);
    if (r.tags && Object.keys(r.tags).length) o.tags = r.tags;
    return o;
  },
  azurerm_subnet(s) {
    const p = s.properties, o = { name: s.name, resource_group_name: rgOf(s.parent.id), virtual_network_name: s.parent.name,
      address_prefixes: p.addressPrefixes || [p.addressPrefix], private_endpoint_network_policies: p.privateEndpointNetworkPolicies };
    opt(o, "service_endpoints", (p.serviceEndpoints || []).map((e) => e.service));
    return o;
  },
};

function same(a, b) {
  if (typeof a === "string" && typeof b === "string" && a.startsWith("/subscriptions/")) return low(a) === low(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    return same(ka, kb) && ka.every((k) => same(a[k], b[k]));
  }
  return a === b;
}

// a body is ARM JSON: every value it sets must be what the resource has
function bodyDiff(body, res, path) {
  if (body && typeof body === "object" && !Array.isArray(body)) {
    for (const k of Object.keys(body)) {
      const d = bodyDiff(body[k], res ? res[k] : undefined, `${path}/${k}`);
      if (d) return d;
    }
    return null;
  }
  return same(body, res) ? null : `${path}: written ${JSON.stringify(body)}, discovered ${JSON.stringify(res)}`;
}

let checked = 0;
for (const [type, byLabel] of Object.entries(json.resource || {})) {
  for (const [label, blocks] of Object.entries(byLabel)) {
    const block = blocks[0], addr = `${type}.${label}`;
    if (type === "azapi_update_resource") {
      const id = resolve(block.resource_id), r = byId.get(low(id));
      const d = r ? bodyDiff(block.body, r, "") : `${id} is not in the discovery`;
      const apiType = r && low(block.type).startsWith(low(r.type) + "@");
      if (!d && apiType) ok(`${addr}: its body equals the discovered ${r.type}`);
      else notOk(`${addr}: its body equals the discovered resource`, d || `type ${block.type} is not ${r.type}`);
      checked++;
      continue;
    }
    const id = imports.get(addr);
    const dep = type === "azurerm_network_manager_deployment" ? deploymentOf(id || "") : undefined;
    let want;
    if (dep) want = { network_manager_id: dep.manager, location: dep.region, scope_access: dep.access, configuration_ids: dep.ids };
    else if (expected[type] && byId.has(low(id || ""))) want = expected[type](byId.get(low(id)));
    if (!want) { notOk(`${addr}: has an import block and a discovered resource`, `id ${id}`); continue; }
    const got = {};
    for (const [k, v] of Object.entries(block)) got[k] = Array.isArray(v) && v.length && typeof v[0] === "object" && !Array.isArray(v[0])
      ? v.map((b) => Object.fromEntries(Object.entries(b).map(([bk, bv]) => [bk, resolve(bv)]))) : resolve(v);
    const keys = new Set([...Object.keys(got), ...Object.keys(want)]);
    const diffs = [...keys].filter((k) => !same(got[k], want[k])).map((k) => `${k}: written ${JSON.stringify(got[k])}, discovered ${JSON.stringify(want[k])}`);
    if (diffs.length === 0) ok(`${addr}: all ${keys.size} attributes equal the discovered values`);
    else notOk(`${addr}: every attribute equals the discovered value`, diffs.slice(0, 3).join("; "));
    checked++;
  }
}
if (checked > 0) ok(`${checked} resource blocks compared`); else notOk("resource blocks compared", "none in the file");
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
