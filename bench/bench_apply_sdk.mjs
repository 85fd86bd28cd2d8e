// The writes of a netwave mesh plan made with Microsoft's SDK for JavaScript
// (@azure/arm-network, @azure/identity) the way its documentation shows: one
// `await client.x.createOrUpdate(...)` after the other, then the commit with
// beginPostAndWait.  bench/bench_apply.sh runs it against the same emulator
// and the same plan as `netwave apply`, and compares wall times.  The SDK
// keeps its default retry policy (it honours Retry-After on 429).
//
// env: NETWAVE_EMULATOR_URL, NETWAVE_SUBSCRIPTION, NETWAVE_PLAN (the plan as
// `netwave plan --format json` writes it), NODE_EXTRA_CA_CERTS for TLS.

import { readFileSync } from "node:fs";
import { NetworkManagementClient } from "@azure/arm-network";
import { ClientSecretCredential } from "@azure/identity";

const base = process.env.NETWAVE_EMULATOR_URL.replace(/\/+$/, "");
const plan = JSON.parse(readFileSync(process.env.NETWAVE_PLAN, "utf8"));
const credential = new ClientSecretCredential("00000000-0000-4000-8000-0000000be1c0", "sdk-bench",
	"bench-only-secret", { authorityHost: base, disableInstanceDiscovery: true });
const client = new NetworkManagementClient(credential, process.env.NETWAVE_SUBSCRIPTION, {
	endpoint: base,
	credentials: { scopes: [`${base}/.default`] },
});

// The SDK's models flatten ARM's "properties" into the object.
function flat(body) {
	const out = { ...body };
	delete out.properties;
	return { ...out, ...(body.properties || {}) };
}

// "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/networkManagers/NM/..." -> parts
function parts(id) {
	const s = id.split("/");
	return { rg: s[4], nm: s[8], kind: s[9], name: s[10], child: s[12] };
}

let writes = 0;
const t0 = Date.now();
for (const wave of plan.waves) {
	for (const step of wave.steps) {
		const op = step.operation;
		const p = parts(op.path);
		if (op.method === "PUT" && p.kind === undefined) {
			await client.networkManagers.createOrUpdate(p.rg, p.nm, flat(op.body));
		} else if (op.method === "PUT" && p.kind === "networkGroups" && p.child === undefined) {
			await client.networkGroups.createOrUpdate(p.rg, p.nm, p.name, flat(op.body));
		} else if (op.method === "PUT" && p.kind === "networkGroups") {
			await client.staticMembers.createOrUpdate(p.rg, p.nm, p.name, p.child, flat(op.body));
		} else if (op.method === "PUT" && p.kind === "connectivityConfigurations") {
			await client.connectivityConfigurations.createOrUpdate(p.rg, p.nm, p.name, flat(op.body));
		} else if (op.method === "POST" && op.path.endsWith("/commit")) {
			await client.networkManagerCommits.beginPostAndWait(p.rg, p.nm, op.body);
		} else {
			continue;
		}
		writes++;
	}
}
console.log(`sdk: ${writes} writes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
