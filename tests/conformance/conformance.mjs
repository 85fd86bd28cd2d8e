// Conformance of netwave's ARM emulator with Microsoft's own JavaScript SDK
// (@azure/arm-network and @azure/identity, pinned in package-lock.json).
//
// The emulator must answer exactly as ARM does, so that the same client code
// talks to both: here the official client, its pollers and its
// deserializers are the judges.  Each scenario drives the emulator through
// the SDK, the way a user of the SDK would, and asserts both that every
// answer was accepted (no poller or deserializer error) and that the results
// are right.  tests/cli/cli_conformance.sh makes the TLS certificates,
// starts the emulator and runs this file; it can also be run by hand:
//
//   NODE_EXTRA_CA_CERTS=ca.pem NETWAVE_EMULATOR_URL=https://127.0.0.1:PORT \
//   NETWAVE_CLIENT_ID=app NETWAVE_CLIENT_SECRET=secret node conformance.mjs
//
// The emulator must be seeded with `netwave synth --hubs 2 --spokes-per-hub N`
// (N >= 4, region eastus), serve a small default page (--page-size 5) and
// run under a large --time-scale.  Output is TAP-like, ending with
// "N passed, M failed"; the exit code is 0 only when nothing failed.

import { NetworkManagementClient } from "@azure/arm-network";
import { createDefaultHttpClient, createPipelineRequest } from "@azure/core-rest-pipeline";
import { ClientSecretCredential } from "@azure/identity";

const base = required("NETWAVE_EMULATOR_URL").replace(/\/+$/, "");
const clientId = required("NETWAVE_CLIENT_ID");
const clientSecret = required("NETWAVE_CLIENT_SECRET");
const tenantId = process.env.NETWAVE_TENANT_ID || "72f988bf-86f1-41af-91ab-2d7cd011db47";
// Pollers wait this long between polls when the emulator says "poll now"
// (Retry-After: 0 under a large time scale): the SDK's default is 2 s.
const poll = { updateIntervalInMs: 25 };
const region = "eastus";

function required(name) {
	const v = process.env[name];
	if (!v) {
		console.error(`conformance: ${name} is not set`);
		process.exit(2);
	}
	return v;
}

// --- a minimal TAP harness ----------------------------------------------

let passed = 0;
let failed = 0;
let n = 0;

class AssertionError extends Error {}

function check(cond, what) {
	if (!cond)
		throw new AssertionError(what);
}

function equal(actual, expected, what) {
	if (actual !== expected)
		throw new AssertionError(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function validDate(d, what) {
	check(d instanceof Date && !Number.isNaN(d.getTime()), `${what}: not a valid date (${d})`);
}

async function rejects(promise, status, code, what) {
	try {
		await promise;
	} catch (e) {
		equal(e.statusCode, status, `${what}: status`);
		equal(e.code, code, `${what}: error code`);
		return e;
	}
	throw new AssertionError(`${what}: expected ${status} ${code}, but it succeeded`);
}

async function scenario(name, fn) {
	n++;
	const t0 = Date.now();
	try {
		await fn();
		passed++;
		console.log(`ok ${n} - ${name} (${Date.now() - t0} ms)`);
	} catch (e) {
		failed++;
		console.log(`not ok ${n} - ${name}`);
		const lines = String(e instanceof AssertionError ? e.message : e.stack || e).split("\n");
		for (const line of lines.slice(0, 12))
			console.log(`#   ${line}`);
		if (e.statusCode !== undefined)
			console.log(`#   status ${e.statusCode}, code ${e.code}`);
	}
}

// --- the emulator's control endpoints (not ARM, no SDK) -----------------

async function control(method, path, body) {
	const r = await fetch(`${base}/__netwave/${path}`, {
		method,
		headers: body === undefined ? {} : { "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	if (!r.ok)
		throw new Error(`control ${method} ${path}: HTTP ${r.status}: ${await r.text()}`);
	return r.status === 204 ? null : r.json();
}

// The ARM requests the emulator logged since the last clear.
async function requests() {
	return control("GET", "requests");
}

// GET /subscriptions/{s}/resourcegroups/{rg} through the SDK's pipeline (token, retries, TLS)
async function resourceGroup(sub, name) {
	const r = await client.pipeline.sendRequest(createDefaultHttpClient(), createPipelineRequest({
		url: `${base}/subscriptions/${sub}/resourcegroups/${encodeURIComponent(name)}?api-version=2021-04-01`,
		method: "GET",
	}));
	equal(r.status, 200, `resource group ${name}`);
	return JSON.parse(r.bodyAsText);
}

async function collect(iter) {
	const out = [];
	for await (const x of iter)
		out.push(x);
	return out;
}

function idPart(id, key) {
	const seg = id.split("/");
	const i = seg.findIndex((s) => s.toLowerCase() === key.toLowerCase());
	return i < 0 ? undefined : seg[i + 1];
}

// --- the estate ---------------------------------------------------------

const state = await control("GET", "state");
const subscriptionId = state.subscriptions[0];
const byType = (t) => state.resources.filter((r) => r.type.toLowerCase() === t.toLowerCase());
const vnets = byType("Microsoft.Network/virtualNetworks");
const spokes = vnets.filter((v) => v.name.startsWith("spoke-01-")).sort((a, b) => a.name.localeCompare(b.name));
const gateway = byType("Microsoft.Network/virtualNetworkGateways").find((g) => g.name === "ergw-hub-01");
const nics = byType("Microsoft.Network/networkInterfaces");
if (spokes.length < 4 || gateway === undefined) {
	console.error("conformance: the emulator's estate is not `netwave synth --hubs 2 --spokes-per-hub 4` or larger");
	process.exit(2);
}
const hubRg = idPart(gateway.id, "resourceGroups");
const spokeRg = idPart(spokes[0].id, "resourceGroups");
const members = spokes.slice(0, 3);
const outsider = spokes[3];
// the NIC in the first member spoke
const nic = nics.find((x) => JSON.stringify(x.properties).toLowerCase().includes(`/virtualnetworks/${members[0].name}/`));

const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, {
	authorityHost: base,
	// MSAL would ask login.microsoftonline.com whether this authority is
	// a known cloud; the emulator is not one, and there is no network.
	disableInstanceDiscovery: true,
});
const client = new NetworkManagementClient(credential, subscriptionId, {
	endpoint: base,
	credentials: { scopes: [`${base}/.default`] },
	// fail fast: the SDK's own retries wait seconds
	retryOptions: { maxRetries: 2, retryDelayInMs: 50, maxRetryDelayInMs: 200 },
});

console.log(`# emulator ${base}, subscription ${subscriptionId}, ${vnets.length} VNets`);

// --- scenarios ----------------------------------------------------------

await scenario("identity: a client secret gets a bearer token from the emulator's authority", async () => {
	const t = await credential.getToken(`${base}/.default`);
	check(typeof t.token === "string" && t.token.length > 20, "no token");
	check(t.expiresOnTimestamp > Date.now() + 60_000, `token expires too soon: ${t.expiresOnTimestamp}`);
});

await scenario("identity: a wrong secret is refused in Entra ID's error shape", async () => {
	const bad = new ClientSecretCredential(tenantId, clientId, `${clientSecret}-wrong`, {
		authorityHost: base,
		disableInstanceDiscovery: true,
	});
	try {
		await bad.getToken(`${base}/.default`);
	} catch (e) {
		// @azure/identity turns every MSAL ServerError into AuthenticationRequiredError
		check(["AuthenticationError", "AuthenticationRequiredError"].includes(e.name),
			`expected an authentication error, got ${e.name}: ${e.message}`);
		check(/AADSTS7000215/.test(e.message), `no AADSTS7000215 in: ${e.message}`);
		return;
	}
	throw new AssertionError("a wrong secret got a token");
});

await scenario("deserializers: every seeded resource reads back through its typed get", async () => {
	// one typed getter per type the seed holds; a type missing here fails the scenario
	const getters = {
		"microsoft.network/virtualnetworks": (rg, n) => client.virtualNetworks.get(rg, n),
		"microsoft.network/virtualnetworkgateways": (rg, n) => client.virtualNetworkGateways.get(rg, n),
		"microsoft.network/connections": (rg, n) => client.virtualNetworkGatewayConnections.get(rg, n),
		"microsoft.network/publicipaddresses": (rg, n) => client.publicIPAddresses.get(rg, n),
		"microsoft.network/expressroutecircuits": (rg, n) => client.expressRouteCircuits.get(rg, n),
		"microsoft.network/networkinterfaces": (rg, n) => client.networkInterfaces.get(rg, n),
		"microsoft.network/privateendpoints": (rg, n) => client.privateEndpoints.get(rg, n),
		"microsoft.network/azurefirewalls": (rg, n) => client.azureFirewalls.get(rg, n),
		"microsoft.network/routetables": (rg, n) => client.routeTables.get(rg, n),
		// Resource Groups - Get (Microsoft.Resources 2021-04-01) through the same pipeline:
		// @azure/arm-network has no resource group client
		"microsoft.resources/resourcegroups": (rg, n) => resourceGroup(idPart(rg, "subscriptions"), n),
	};
	const seen = new Set();
	for (const r of state.resources) {
		const t = r.type.toLowerCase();
		const get = getters[t];
		check(get !== undefined, `no typed getter for ${r.type}`);
		const got = await get(t === "microsoft.resources/resourcegroups" ? r.id : idPart(r.id, "resourceGroups"), r.name);
		equal(got.id.toLowerCase(), r.id.toLowerCase(), `${r.type} id`);
		equal(got.name, r.name, `${r.type} name`);
		seen.add(t);
	}
	const circuit = byType("Microsoft.Network/expressRouteCircuits")[0];
	const peerings = await collect(client.expressRouteCircuitPeerings.list(idPart(circuit.id, "resourceGroups"), circuit.name));
	check(peerings.some((p) => p.name === "AzurePrivatePeering"), "the circuit's private peering");
	const sn = spokes[0].properties.subnets[0];
	equal((await client.subnets.get(spokeRg, spokes[0].name, sn.name)).addressPrefix, sn.properties.addressPrefix, "subnet read back");
	check(seen.size >= 7, `only ${seen.size} types in the seed`);
});

const nmName = "nm-conformance";
const ngName = "ng-mesh";
const ccName = "cc-mesh";
let nm, ng, cc;

await scenario("AVNM: create a network manager, a network group, static members and a mesh configuration", async () => {
	nm = await client.networkManagers.createOrUpdate(hubRg, nmName, {
		location: region,
		description: "conformance",
		networkManagerScopes: { subscriptions: [`/subscriptions/${subscriptionId}`] },
		networkManagerScopeAccesses: ["Connectivity"],
	});
	equal(nm.name, nmName, "network manager name");
	equal(nm.type, "Microsoft.Network/networkManagers", "network manager type");
	equal(nm.networkManagerScopes.subscriptions[0], `/subscriptions/${subscriptionId}`, "scope");
	equal(nm.networkManagerScopeAccesses[0], "Connectivity", "scope access");
	check(typeof nm.etag === "string", "network manager etag");

	ng = await client.networkGroups.createOrUpdate(hubRg, nmName, ngName, {
		description: "spokes in the mesh",
		memberType: "VirtualNetwork",
	});
	equal(ng.id.toLowerCase(), `${nm.id}/networkGroups/${ngName}`.toLowerCase(), "network group id");
	equal(ng.memberType, "VirtualNetwork", "memberType");

	for (const v of members) {
		const sm = await client.staticMembers.createOrUpdate(hubRg, nmName, ngName, `sm-${v.name}`, {
			resourceId: v.id,
		});
		equal(sm.resourceId, v.id, "static member resourceId");
		equal(sm.region, v.location, "static member region (read-only, from the VNet)");
		equal(sm.type, "Microsoft.Network/networkManagers/networkGroups/staticMembers", "static member type");
	}
	const listed = await collect(client.staticMembers.list(hubRg, nmName, ngName));
	equal(listed.length, members.length, "static members listed");

	cc = await client.connectivityConfigurations.createOrUpdate(hubRg, nmName, ccName, {
		description: "mesh of the first spokes",
		connectivityTopology: "Mesh",
		isGlobal: "False",
		deleteExistingPeering: "False",
		appliesToGroups: [{ networkGroupId: ng.id, groupConnectivity: "None", isGlobal: "False", useHubGateway: "False" }],
		connectivityCapabilities: {
			connectedGroupPrivateEndpointsScale: "Standard",
			connectedGroupAddressOverlap: "Allowed",
			peeringEnforcement: "Unenforced",
		},
	});
	equal(cc.connectivityTopology, "Mesh", "connectivityTopology");
	equal(cc.appliesToGroups[0].networkGroupId.toLowerCase(), ng.id.toLowerCase(), "appliesToGroups");
	equal(cc.isGlobal, "False", "isGlobal");
	equal(cc.connectivityCapabilities.connectedGroupAddressOverlap, "Allowed", "connectivityCapabilities");
	const got = await client.connectivityConfigurations.get(hubRg, nmName, ccName);
	equal(got.id, cc.id, "configuration read back");
});

await scenario("AVNM: a static member outside any VNet is refused with ARM's error", async () => {
	await rejects(client.staticMembers.createOrUpdate(hubRg, nmName, ngName, "sm-nowhere", {
		resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${spokeRg}/providers/Microsoft.Network/virtualNetworks/no-such-vnet`,
	}), 400, "InvalidResourceReference", "static member of a missing VNet");
});

await scenario("AVNM: commit (beginPostAndWait) and poll listDeploymentStatus until Deployed", async () => {
	const commit = await client.networkManagerCommits.beginPostAndWait(hubRg, nmName, {
		targetLocations: [region],
		configurationIds: [cc.id],
		commitType: "Connectivity",
	}, poll);
	check(typeof commit.commitId === "string" && commit.commitId.length > 0, "commitId");
	equal(commit.commitType, "Connectivity", "commitType");
	equal(commit.configurationIds[0], cc.id, "configurationIds");
	equal(commit.targetLocations[0], region, "targetLocations");

	let status;
	for (let i = 0; i < 200; i++) {
		const res = await client.networkManagerDeploymentStatusOperations.list(hubRg, nmName, {
			regions: [region],
			deploymentTypes: ["Connectivity"],
		});
		status = res.value.find((s) => s.region === region && s.deploymentType === "Connectivity");
		if (status?.deploymentStatus === "Deployed")
			break;
		await new Promise((ok) => setTimeout(ok, 25));
	}
	check(status !== undefined, "no deployment status for the region");
	equal(status.deploymentStatus, "Deployed", "deploymentStatus");
	validDate(status.commitTime, "commitTime");
	equal(status.configurationIds.map((x) => x.toLowerCase()).join(), cc.id.toLowerCase(), "deployed configurations");
});

await scenario("AVNM: listActiveConnectivityConfigurations and the VNet's effective configurations", async () => {
	const active = await client.listActiveConnectivityConfigurations(hubRg, nmName, { regions: [region] });
	equal(active.value.length, 1, "active configurations");
	const a = active.value[0];
	equal(a.id.toLowerCase(), cc.id.toLowerCase(), "active configuration id");
	equal(a.region, region, "region");
	equal(a.connectivityTopology, "Mesh", "active connectivityTopology (flattened properties)");
	validDate(a.commitTime, "commitTime");
	equal(a.configurationGroups.length, 1, "configuration groups");
	equal(a.configurationGroups[0].id.toLowerCase(), ng.id.toLowerCase(), "configuration group id");
	equal(a.configurationGroups[0].memberType, "VirtualNetwork", "configuration group memberType");

	const eff = await client.listNetworkManagerEffectiveConnectivityConfigurations(spokeRg, members[0].name, {});
	check(eff.value.some((x) => x.id.toLowerCase() === cc.id.toLowerCase()), "member VNet lacks the configuration");
	const none = await client.listNetworkManagerEffectiveConnectivityConfigurations(spokeRg, outsider.name, {});
	equal(none.value.length, 0, "effective configurations of a VNet outside the group");
});

await scenario("effective routes: beginGetEffectiveRouteTableAndWait shows a ConnectedGroup route after the commit", async () => {
	check(nic !== undefined, `no NIC in ${members[0].name}`);
	const rt = await client.networkInterfaces.beginGetEffectiveRouteTableAndWait(spokeRg, nic.name, poll);
	check(Array.isArray(rt.value) && rt.value.length > 0, "no routes");
	for (const r of rt.value) {
		check(Array.isArray(r.addressPrefix), "addressPrefix is not an array");
		check(Array.isArray(r.nextHopIpAddress), "nextHopIpAddress is not an array");
		check(["Active", "Invalid"].includes(r.state), `state ${r.state}`);
	}
	const local = rt.value.find((r) => r.nextHopType === "VnetLocal");
	check(local && local.addressPrefix.includes(members[0].properties.addressSpace.addressPrefixes[0]),
		"no VnetLocal route for the VNet's own space");
	for (const peer of members.slice(1)) {
		const p = peer.properties.addressSpace.addressPrefixes[0];
		check(rt.value.some((r) => r.nextHopType === "ConnectedGroup" && r.addressPrefix.includes(p)),
			`no ConnectedGroup route to ${peer.name} (${p}); got ${JSON.stringify(rt.value.map((r) => [r.addressPrefix, r.nextHopType]))}`);
	}
	const op = outsider.properties.addressSpace.addressPrefixes[0];
	check(!rt.value.some((r) => r.nextHopType === "ConnectedGroup" && r.addressPrefix.includes(op)),
		`a ConnectedGroup route to ${outsider.name}, which is not a member`);
});

await scenario("paging: VNets listed across pages with for await (nextLink, $skipToken)", async () => {
	await control("DELETE", "requests");
	const all = await collect(client.virtualNetworks.listAll());
	const want = vnets.map((v) => v.id.toLowerCase()).sort();
	const got = all.map((v) => v.id.toLowerCase()).sort();
	equal(got.length, want.length, "VNets listed in the subscription");
	equal(new Set(got).size, got.length, "a VNet listed twice");
	equal(got.join(), want.join(), "the VNets listed");
	for (const v of all)
		check(Array.isArray(v.addressSpace?.addressPrefixes), `${v.name}: addressSpace not deserialized`);
	const log = (await requests()).filter((r) => r.method === "GET" && /virtualNetworks$/i.test(r.path));
	check(log.length >= 2, `expected several pages, the SDK asked ${log.length} times`);
	check(log.slice(1).every((r) => /\$skipToken=/i.test(r.query)), "a later page without $skipToken");

	const inRg = await collect(client.virtualNetworks.list(spokeRg));
	equal(inRg.length, vnets.filter((v) => idPart(v.id, "resourceGroups") === spokeRg).length, "VNets in the resource group");
	const pages = [];
	for await (const page of client.virtualNetworks.list(spokeRg).byPage())
		pages.push(page.length);
	check(pages.length >= 2 && pages.slice(0, -1).every((x) => x === pages[0]), `page sizes ${pages}`);
});

const gwName = gateway.name;
// Learn expressroute/gateway-migration: Azure appends _migrate unless the user names the gateway
const migratedName = `${gwName}_migrate`;

async function migrationStatus(name) {
	const g = await client.virtualNetworkGateways.get(hubRg, name);
	return g.virtualNetworkGatewayMigrationStatus ?? { state: "None", phase: "None" };
}

await scenario("gateway migration: prepare, execute and abort, with the phases on the gateway between steps", async () => {
	let s = await migrationStatus(gwName);
	equal(s.phase, "None", "phase before prepare");
	const conns = byType("Microsoft.Network/connections").filter((c) =>
		JSON.stringify(c.properties).toLowerCase().includes(gateway.id.toLowerCase()));
	check(conns.length > 0, "the gateway has no connection");

	// prepare: 2,700 nominal seconds, long enough to see it running
	const prep = client.virtualNetworkGateways.invokePrepareMigration(hubRg, gwName,
		{ migrationType: "UpgradeDeploymentToStandardIP" }, poll);
	await prep.submitted();
	s = await migrationStatus(gwName);
	equal(s.phase, "Prepare", "phase while preparing");
	equal(s.state, "InProgress", "state while preparing");
	await prep.pollUntilDone();
	equal(prep.isDone, true, "prepare poller done");
	s = await migrationStatus(gwName);
	equal(s.phase, "PrepareSucceeded", "phase after prepare");
	equal(s.state, "Succeeded", "state after prepare");
	const copy = await client.virtualNetworkGateways.get(hubRg, migratedName);
	equal(copy.tags?.CreatedBy, "GatewaySKUMigration", "the new gateway's tag");
	equal(copy.adminState, "Disabled", "the new gateway before execute");
	check(/AZ$/.test(copy.sku?.name ?? ""), `the new gateway's SKU ${copy.sku?.name}`);
	for (const c of conns)
		await client.virtualNetworkGatewayConnections.get(idPart(c.id, "resourceGroups"), `${c.name}_migrate`);

	// a step out of order is refused by the SDK's initial request
	await rejects(client.virtualNetworkGateways.beginInvokeCommitMigrationAndWait(hubRg, gwName, poll),
		400, "InvalidGatewayMigrationPhase", "commit before execute");

	await client.virtualNetworkGateways.beginInvokeExecuteMigrationAndWait(hubRg, gwName, poll);
	s = await migrationStatus(gwName);
	equal(s.phase, "ExecuteSucceeded", "phase after execute");
	equal(s.state, "Succeeded", "state after execute");
	equal((await client.virtualNetworkGateways.get(hubRg, migratedName)).adminState, "Enabled", "new gateway after execute");
	equal((await client.virtualNetworkGateways.get(hubRg, gwName)).adminState, "Disabled", "old gateway after execute");

	await client.virtualNetworkGateways.beginInvokeAbortMigrationAndWait(hubRg, gwName, poll);
	s = await migrationStatus(gwName);
	equal(s.phase, "AbortSucceeded", "phase after abort");
	equal(s.state, "Succeeded", "state after abort");
	await rejects(client.virtualNetworkGateways.get(hubRg, migratedName), 404, "ResourceNotFound", "the new gateway after abort");
	const old = await client.virtualNetworkGateways.get(hubRg, gwName);
	check(old.adminState === undefined || old.adminState === "Enabled", `old gateway after abort: ${old.adminState}`);
	equal(old.provisioningState, "Succeeded", "old gateway provisioningState");
	for (const c of conns) {
		const back = await client.virtualNetworkGatewayConnections.get(idPart(c.id, "resourceGroups"), c.name);
		equal(back.name, c.name, "connection kept");
		await rejects(client.virtualNetworkGatewayConnections.get(idPart(c.id, "resourceGroups"), `${c.name}_migrate`),
			404, "ResourceNotFound", "copied connection after abort");
	}
});

await scenario("LRO: PUT a VNet and a subnet with the SDK's poller, then delete them", async () => {
	const name = "vnet-conformance";
	const prefix = "10.250.0.0/16";
	const created = await client.virtualNetworks.beginCreateOrUpdateAndWait(spokeRg, name, {
		location: region,
		tags: { purpose: "conformance" },
		addressSpace: { addressPrefixes: [prefix] },
		subnets: [{ name: "default", addressPrefix: "10.250.0.0/24" }],
	}, poll);
	equal(created.provisioningState, "Succeeded", "VNet provisioningState after the poller");
	equal(created.addressSpace.addressPrefixes[0], prefix, "address space");
	equal(created.subnets.length, 1, "subnets");
	equal(created.subnets[0].addressPrefix, "10.250.0.0/24", "subnet prefix");
	check(typeof created.resourceGuid === "string", "resourceGuid");
	equal(created.tags.purpose, "conformance", "tags");

	const sn = await client.subnets.beginCreateOrUpdateAndWait(spokeRg, name, "app", {
		addressPrefix: "10.250.1.0/24",
		privateEndpointNetworkPolicies: "Enabled",
	}, poll);
	equal(sn.provisioningState, "Succeeded", "subnet provisioningState");
	equal(sn.id.toLowerCase(), `${created.id}/subnets/app`.toLowerCase(), "subnet id");
	equal(sn.privateEndpointNetworkPolicies, "Enabled", "privateEndpointNetworkPolicies");
	const back = await client.virtualNetworks.get(spokeRg, name);
	equal(back.subnets.map((s) => s.name).sort().join(), "app,default", "subnets in the VNet");

	await rejects(client.subnets.beginCreateOrUpdateAndWait(spokeRg, name, "outside", {
		addressPrefix: "10.251.0.0/24",
	}, poll), 400, "NetcfgSubnetRangeOutsideVnet", "subnet outside the space");

	// an update answers 200 and goes through the poller again
	const updated = await client.virtualNetworks.beginCreateOrUpdateAndWait(spokeRg, name, {
		location: region,
		addressSpace: { addressPrefixes: [prefix] },
		subnets: back.subnets.map((s) => ({ name: s.name, addressPrefix: s.addressPrefix })),
		privateEndpointVNetPolicies: "Basic",
	}, poll);
	equal(updated.privateEndpointVNetPolicies, "Basic", "privateEndpointVNetPolicies after update");
	check(updated.etag !== created.etag, "etag unchanged by an update");

	await client.subnets.beginDeleteAndWait(spokeRg, name, "app", poll);
	await rejects(client.subnets.get(spokeRg, name, "app"), 404, "NotFound", "deleted subnet");
	await client.virtualNetworks.beginDeleteAndWait(spokeRg, name, poll);
	await rejects(client.virtualNetworks.get(spokeRg, name), 404, "ResourceNotFound", "deleted VNet");
});

await scenario("faults: the SDK retries a 429 after Retry-After, and a Failed operation rejects the poller", async () => {
	await control("PUT", "faults", {
		format: "netwave.faults/v1",
		rules: [
			{ method: "GET", path: `*/virtualNetworks/${members[0].name}`, times: 1, action: "error", status: 429, retryAfter: 0 },
			{ method: "PUT", path: "*/virtualNetworks/vnet-doomed", action: "lro-failed", code: "InternalServerError", message: "injected failure" },
		],
	});
	try {
		const v = await client.virtualNetworks.get(spokeRg, members[0].name);
		equal(v.name, members[0].name, "VNet after a retried 429");
		const log = (await requests()).filter((r) => r.path.toLowerCase().endsWith(`/virtualnetworks/${members[0].name}`));
		check(log.some((r) => r.status === 429) && log.at(-1).status === 200, "the 429 was not seen and retried");

		try {
			await client.virtualNetworks.beginCreateOrUpdateAndWait(spokeRg, "vnet-doomed", {
				location: region,
				addressSpace: { addressPrefixes: ["10.252.0.0/16"] },
			}, poll);
			throw new AssertionError("a Failed operation resolved the poller");
		} catch (e) {
			if (e instanceof AssertionError)
				throw e;
			check(/injected failure|InternalServerError/.test(e.message), `poller error lacks the cause: ${e.message}`);
		}
	} finally {
		await control("DELETE", "faults");
	}
});

await scenario("route server: a hub, its ipConfiguration, BGP connections, learned and advertised routes", async () => {
	const vnetName = "vnet-ars-conformance";
	const hubName = "ars-conformance";
	const vnet = await client.virtualNetworks.beginCreateOrUpdateAndWait(spokeRg, vnetName, {
		location: region,
		addressSpace: { addressPrefixes: ["10.249.0.0/16"] },
		subnets: [{ name: "RouteServerSubnet", addressPrefix: "10.249.0.0/27" }, { name: "nva", addressPrefix: "10.249.1.0/24" }],
	}, poll);
	const pip = await client.publicIPAddresses.beginCreateOrUpdateAndWait(spokeRg, "pip-ars-conformance", {
		location: region,
		sku: { name: "Standard" },
		publicIPAllocationMethod: "Static",
	}, poll);
	const hub = await client.virtualHubs.beginCreateOrUpdateAndWait(spokeRg, hubName, {
		location: region,
		sku: "Standard",
		allowBranchToBranchTraffic: true,
		hubRoutingPreference: "ASPath",
	}, poll);
	equal(hub.provisioningState, "Succeeded", "hub provisioningState");
	equal(hub.virtualRouterAsn, 65515, "virtualRouterAsn");
	equal(hub.routingState, "None", "routingState before the ipConfiguration");
	equal(hub.hubRoutingPreference, "ASPath", "hubRoutingPreference");
	equal(hub.allowBranchToBranchTraffic, true, "allowBranchToBranchTraffic");

	await rejects(client.virtualHubIpConfiguration.beginCreateOrUpdateAndWait(spokeRg, hubName, "ipconfig1", {
		subnet: { id: `${vnet.id}/subnets/nva` },
		publicIPAddress: { id: pip.id },
	}, poll), 400, "RouteServerSubnetNameInvalid", "ipConfiguration outside RouteServerSubnet");
	const ipc = await client.virtualHubIpConfiguration.beginCreateOrUpdateAndWait(spokeRg, hubName, "ipconfig1", {
		subnet: { id: `${vnet.id}/subnets/RouteServerSubnet` },
		publicIPAddress: { id: pip.id },
	}, poll);
	equal(ipc.provisioningState, "Succeeded", "ipConfiguration provisioningState");
	equal(ipc.subnet.id.toLowerCase(), `${vnet.id}/subnets/RouteServerSubnet`.toLowerCase(), "ipConfiguration subnet");
	const up = await client.virtualHubs.get(spokeRg, hubName);
	equal(up.routingState, "Provisioned", "routingState after the ipConfiguration");
	equal((up.virtualRouterIps || []).join(), "10.249.0.4,10.249.0.5", "virtualRouterIps");
	equal(up.ipConfigurations.length, 1, "the hub's ipConfigurations");
	equal((await collect(client.virtualHubIpConfiguration.list(spokeRg, hubName))).length, 1, "ipConfigurations listed");

	await rejects(client.virtualHubBgpConnection.beginCreateOrUpdateAndWait(spokeRg, hubName, "nva-reserved", {
		peerIp: "10.249.1.4",
		peerAsn: 65515,
	}, poll), 400, "PeerAsnIsReserved", "a peer with the route server's own ASN");
	const conn = await client.virtualHubBgpConnection.beginCreateOrUpdateAndWait(spokeRg, hubName, "nva1", {
		peerIp: "10.249.1.4",
		peerAsn: 65001,
	}, poll);
	equal(conn.provisioningState, "Succeeded", "BGP connection provisioningState");
	equal(conn.peerAsn, 65001, "peerAsn");
	equal(conn.peerIp, "10.249.1.4", "peerIp");
	check(["Connecting", "Connected"].includes(conn.connectionState), `connectionState ${conn.connectionState}`);
	const conns = await collect(client.virtualHubBgpConnections.list(spokeRg, hubName));
	equal(conns.map((c) => c.name).join(), "nva1", "BGP connections listed");

	// keyed by router instance, as Azure answers: the SDK's Record<string, PeerRoute[]>
	const learned = await client.virtualHubBgpConnections.beginListLearnedRoutesAndWait(spokeRg, hubName, "nva1", poll);
	equal(Object.keys(learned).sort().join(), "RouteServiceRole_IN_0,RouteServiceRole_IN_1", "learnedRoutes instances");
	check(Array.isArray(learned.RouteServiceRole_IN_0), "learnedRoutes: a list per instance");
	const advertised = await client.virtualHubBgpConnections.beginListAdvertisedRoutesAndWait(spokeRg, hubName, "nva1", poll);
	const own = (advertised.RouteServiceRole_IN_1 || []).find((r) => r.network === "10.249.0.0/16");
	check(own !== undefined, `advertisedRoutes lacks the VNet's space: ${JSON.stringify(advertised)}`);
	equal(own.asPath, "65515", "advertised asPath");
	equal(own.localAddress, "10.249.0.5", "advertised localAddress of the second instance");

	await rejects(client.virtualHubs.beginDeleteAndWait(spokeRg, hubName, poll), 400, "VirtualHubHasIpConfigurations",
		"a hub with its ipConfiguration");
	await client.virtualHubBgpConnection.beginDeleteAndWait(spokeRg, hubName, "nva1", poll);
	await rejects(client.virtualHubBgpConnection.get(spokeRg, hubName, "nva1"), 404, "NotFound", "deleted BGP connection");
	await client.virtualHubIpConfiguration.beginDeleteAndWait(spokeRg, hubName, "ipconfig1", poll);
	equal((await client.virtualHubs.get(spokeRg, hubName)).routingState, "None", "routingState after the ipConfiguration went");
	await client.virtualHubs.beginDeleteAndWait(spokeRg, hubName, poll);
	await rejects(client.virtualHubs.get(spokeRg, hubName), 404, "ResourceNotFound", "deleted hub");
	await client.publicIPAddresses.beginDeleteAndWait(spokeRg, "pip-ars-conformance", poll);
	await client.virtualNetworks.beginDeleteAndWait(spokeRg, vnetName, poll);
});

await scenario("errors: unknown resources and bad input come back as CloudError the SDK parses", async () => {
	await rejects(client.virtualNetworks.get(spokeRg, "no-such-vnet"), 404, "ResourceNotFound", "missing VNet");
	await rejects(client.virtualNetworks.get("rg-missing", "x"), 404, "ResourceGroupNotFound", "missing resource group");
	await rejects(client.networkGroups.get(hubRg, nmName, "no-such-group"), 404, "NotFound", "missing network group");
	const e = await rejects(client.virtualNetworks.beginCreateOrUpdateAndWait(spokeRg, "vnet-bad", {
		location: region,
		addressSpace: { addressPrefixes: ["10.253.0.1/16"] },
	}, poll), 400, "InvalidCIDRNotation", "host bits set");
	check(/10\.253\.0\.0\/16/.test(e.message), `message does not name the prefix meant: ${e.message}`);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
