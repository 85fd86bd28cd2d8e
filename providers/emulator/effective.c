/*
 * Effective routes from the emulator's live estate: a NIC's
 * effectiveRouteTable and an ExpressRoute circuit's private peering route
 * table, both long-running POSTs (202 + Location) whose result is computed
 * by plan/routes when the operation completes, from the estate loaded as
 * a topology (cached per generation of the state).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/routes.h"
#include "plan/topology.h"
#include "providers/emulator/emu.h"

/*
 * A route table operation on target (a resource of the store) with args for
 * its completion; NULL, answered 500, when out of memory.  The action name
 * is the route entry's.
 */
static struct emu_op *
routes_op_new(struct emulator *e, struct emu_req *r, const struct emu_call *c, const char *target,
    const json_t *res, json_t *args)
{
	char *sub = arm_id_part(target, "subscriptions");
	struct emu_op *op = lro_new(e, c->route->op, OP_ACTION, c->route->action, target, sub,
	    json_str(res, "location"), EMU_DUR_ACTION);

	free(sub);
	if (op == NULL) {
		json_decref(args);
		emu_reply_oom(r);
		return NULL;
	}
	op->args = args;
	return op;
}

void
effective_nic_action(struct emulator *e, struct emu_req *r, const struct emu_call *c0)
{
	const char *nic_id = c0->target;
	json_t *nic = emu_store_get(e, nic_id), *c;
	const char *subnet = NULL;
	struct emu_op *op;
	size_t i;

	json_array_foreach(json_path(nic, "properties", "ipConfigurations", NULL), i, c)
		if (subnet == NULL)
			subnet = json_path_str(c, "properties", "subnet", "id", NULL);
	if (subnet == NULL) {
		emu_reply_error(r, 400, "NetworkInterfaceNotInSubnet",
		    "Network interface %s has no IP configuration in a subnet; it has no effective routes.",
		    nic_id);
		return;
	}
	op = routes_op_new(e, r, c0, nic_id, nic, json_pack("{s:s}", "nic", nic_id));
	if (op == NULL)
		return;
	emu_op_name(r, "action effectiveRouteTable");
	arm_reply_lro(e, r, op, 202, NULL);
}

void
effective_circuit_action(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	/* .../expressRouteCircuits/{c}/peerings/{p}/routeTables/{device} */
	char *circuit_id = arm_id_parent(c->id);
	const char *peering = emu_id_last(c->id), *device = c->name;
	json_t *circuit = circuit_id != NULL ? emu_store_get(e, circuit_id) : NULL;
	struct emu_op *op;

	if (circuit == NULL || json_str(circuit, "type") == NULL ||
	    strcasecmp(json_str(circuit, "type"), TYPE_CIRCUIT) != 0) {
		emu_reply_error(r, 404, "ResourceNotFound", "The Resource '%s' was not found.",
		    circuit_id != NULL ? circuit_id : c->id);
		goto done;
	}
	if (strcasecmp(peering, "AzurePrivatePeering") != 0) {
		emu_reply_error(r, 400, "PeeringNotSupported",
		    "The route table is served for AzurePrivatePeering only, not for '%s'.", peering);
		goto done;
	}
	if (strcasecmp(device, "primary") != 0 && strcasecmp(device, "secondary") != 0) {
		emu_reply_error(r, 400, "InvalidDevicePath",
		    "The device path '%s' is invalid; expected primary or secondary.", device);
		goto done;
	}
	op = routes_op_new(e, r, c, circuit_id, circuit, json_pack("{s:s,s:s}", "circuit",
	    json_str(circuit, "id"), "device", device));
	if (op == NULL)
		goto done;
	emu_op_name(r, "action routeTables %s", device);
	arm_reply_lro(e, r, op, 202, NULL);
done:
	free(circuit_id);
}

/*
 * The resource id in the estate's route model when it is of type, and in
 * *ctx the model; NULL with err set when the model cannot be built or id
 * is not there ("<what> <id> is not in the estate").
 */
static struct topo_resource *
estate_find(struct emulator *e, const char *id, enum topo_type type, const char *what,
    struct routes_ctx **ctx, struct nw_err *err)
{
	struct topology *t;
	struct topo_resource *res;

	if (emu_store_routes(e, &t, ctx, err) != 0)
		return NULL;
	res = topology_find(t, id);
	if (res == NULL || res->type != type) {
		err_set(err, NW_EINPUT, "%s %s is not in the estate", what, id);
		return NULL;
	}
	return res;
}

static json_t *
nic_routes(struct emulator *e, const char *nic_id, struct nw_err *err)
{
	struct routes_ctx *ctx;
	struct topo_resource *res = estate_find(e, nic_id, TOPO_NIC, "network interface", &ctx, err);
	struct topo_nic *nic = res != NULL ? res->view : NULL;
	struct route_set set = { 0 };
	json_t *value;
	size_t i;

	if (res == NULL)
		return NULL;
	if (nic->subnet == NULL) {
		err_set(err, NW_EINPUT, "network interface %s is not in a subnet of the estate", nic_id);
		return NULL;
	}
	if (routes_effective(&set, ctx, nic->subnet, err) != 0)
		return NULL;
	value = json_array();
	for (i = 0; i < set.n; i++) {
		const struct route *rt = &set.v[i];
		char pfx[CIDR_STRLEN], ip[CIDR_STRLEN];
		json_t *item = json_object();

		cidr_format(&rt->prefix, pfx);
		if (rt->name != NULL)
			json_object_set_new(item, "name", json_string(rt->name));
		json_object_set_new(item, "disableBgpRoutePropagation", json_boolean(
		    nic->subnet->route_table != NULL &&
		    nic->subnet->route_table->disable_bgp_route_propagation));
		json_object_set_new(item, "source", json_string(route_source_name(rt->source)));
		json_object_set_new(item, "state", json_string(rt->active ? "Active" : "Invalid"));
		json_object_set_new(item, "addressPrefix", json_pack("[s]", pfx));
		if (rt->has_next_hop_ip) {
			cidr_format_addr(&rt->next_hop_ip, ip);
			json_object_set_new(item, "nextHopIpAddress", json_pack("[s]", ip));
		} else {
			json_object_set_new(item, "nextHopIpAddress", json_array());
		}
		json_object_set_new(item, "nextHopType", json_string(topo_next_hop_name(rt->next_hop)));
		json_array_append_new(value, item);
	}
	route_set_free(&set);
	return json_pack("{s:o}", "value", value);
}

static json_t *
circuit_routes(struct emulator *e, const char *circuit_id, struct nw_err *err)
{
	struct routes_ctx *ctx;
	struct topo_resource *res = estate_find(e, circuit_id, TOPO_CIRCUIT, "circuit", &ctx, err);
	struct circuit_route_set set = { 0 };
	json_t *value;
	size_t i;

	if (res == NULL)
		return NULL;
	if (routes_circuit_table(&set, ctx, res->view, err) != 0)
		return NULL;
	value = json_array();
	for (i = 0; i < set.n; i++) {
		char pfx[CIDR_STRLEN];

		cidr_format(&set.v[i].prefix, pfx);
		json_array_append_new(value, json_pack("{s:s,s:s,s:s,s:i,s:s}", "network", pfx,
		    "nextHop", set.v[i].next_hop != NULL ? set.v[i].next_hop : "",
		    "locPrf", "", "weight", 0,
		    "path", set.v[i].path != NULL ? set.v[i].path : ""));
	}
	circuit_route_set_free(&set);
	return json_pack("{s:o}", "value", value);
}

/* The result is computed when the operation ends, from the estate as it then stands. */
static void
routes_done(struct emu_op *op, json_t *result, const struct nw_err *err)
{
	if (result == NULL) {
		op->state = OP_FAILED;
		free(op->fail_code);
		free(op->fail_msg);
		op->fail_code = emu_strdup("InternalServerError");
		op->fail_msg = emu_printf("Cannot compute the route table: %s.", err->msg);
		return;
	}
	op->result = result;
	op->result_status = 200;
}

static void
nic_done(struct emulator *e, struct emu_op *op)
{
	struct nw_err err = { 0 };

	if (op->state == OP_SUCCEEDED)
		routes_done(op, nic_routes(e, json_str(op->args, "nic"), &err), &err);
}

static void
circuit_done(struct emulator *e, struct emu_op *op)
{
	struct nw_err err = { 0 };

	if (op->state == OP_SUCCEEDED)
		routes_done(op, circuit_routes(e, json_str(op->args, "circuit"), &err), &err);
}

/* Reads: they hold nothing, a write may go on meanwhile. */
const struct emu_op_class effective_nic_op = {
	.name = "effectiveRouteTable",
	.done = nic_done,
};

const struct emu_op_class effective_circuit_op = {
	.name = "routeTables",
	.done = circuit_done,
};
