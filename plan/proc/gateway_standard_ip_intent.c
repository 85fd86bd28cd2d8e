/*
 * gateway-standard-ip in an intent: the change's keys, and its end state
 * in the target (a migrated ExpressRoute gateway replaced by the new one
 * Azure's migration leaves, a VPN gateway's IPs Standard in place).
 */
#include "config.h"

#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/findings.h"
#include "plan/gwmigrate.h"
#include "plan/intent.h"
#include "plan/intent_impl.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "plan/procedure.h"
#include "plan/proc/gateway_standard_ip.h"
#include "plan/rgroups.h"
#include "plan/routes.h"

static const char *const GATEWAY_KEYS[] = { "kind", "description", "gateways", "newNames", NULL };

/*
 * newNames of gateway-standard-ip: {"<gateway name or id>": "<new name>"},
 * the names of the new ExpressRoute gateways (plan/gwmigrate.h).
 */
static int
new_names_parse(struct intent_loader *l, struct gw_change *c, const json_t *v)
{
	const json_t *names = json_object_get(v, "newNames"), *nv;
	const char *key;
	size_t old, old2;
	int rc = 0;

	if (names == NULL)
		return 0;
	old = intent_push(l, "newNames");
	if (!json_is_object(names)) {
		rc = intent_fail(l, "expected an object {\"<gateway name or id>\": \"<new name>\"}, found %s",
		    intent_json_kind(names));
		intent_pop(l, old);
		return rc;
	}
	json_object_foreach((json_t *)names, key, nv) {
		old2 = intent_push(l, key);
		if (key[0] == '\0')
			rc = intent_fail(l, "expected a gateway name or id as the key, found an empty string");
		else if (!json_is_string(nv))
			rc = intent_fail(l, "expected the new gateway's name (a string), found %s", intent_json_kind(nv));
		else if (!gwm_name_valid(json_string_value(nv)))
			rc = intent_fail(l, "\"%s\" is not a valid gateway name: 1 to %d letters, digits, '_', "
			    "'.' or '-', starting with a letter or digit and ending with a letter, digit "
			    "or '_'", json_string_value(nv), GWM_NAME_MAX);
		intent_pop(l, old2);
		if (rc != 0)
			break;
	}
	intent_pop(l, old);
	c->new_names = names;
	return rc;
}


/* ------------------------------------------------------------------ */
/* gateway-standard-ip                                                 */

/* The name newNames gives gateway g (its key is its name, without case, or its id), or NULL. */
static const char *
new_name_of(const struct intent_change *c, const struct topo_gateway *g, const char **key)
{
	const json_t *v;
	const char *k;

	json_object_foreach((json_t *)gw_of(c)->new_names, k, v)
		if (strcasecmp(k, g->res->name) == 0 || topo_id_compare(k, g->res->id) == 0) {
			*key = k;
			return json_string_value(v);
		}
	return NULL;
}

/* A copy of a resource of the target under another id (its last segment the name). */
static json_t *
copy_renamed(const json_t *src, const char *id)
{
	json_t *c = json_deep_copy(src);

	if (c == NULL || json_object_set_new(c, "id", json_string(id)) != 0 ||
	    json_object_set_new(c, "name", json_string(strrchr(id, '/') + 1)) != 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

/*
 * An ExpressRoute gateway's migration as Azure leaves it after the commit
 * (plan/gwmigrate.h, learn expressroute/gateway-migration): a new gateway
 * named name or "<name>_migrate", tagged, on the AZ SKU with a
 * Microsoft-managed address, its connections copied as "<conn>_migrate",
 * the old gateway and its connections deleted.  The Basic public IP is
 * left as it is: Learn does not say the migration touches it.
 */
static int
expand_er_gateway(struct intent_expander *e, const struct intent_change *c, const struct topo_gateway *g,
    const char *name, const char *key, json_t *removed)
{
	char *new_id = gwm_new_id(g->res->id, name);
	json_t *ngw = NULL, *props, *ip;
	const char *sku;
	size_t i;
	int rc = 0;

	if (new_id == NULL)
		return intent_nomem(e->err);
	if (intent_work_find(e, new_id) != NULL) {
		rc = err_set(e->err, NW_EINPUT, "%s: %s/newNames%s%s: the new gateway of %s would be %s, "
		    "which already exists", e->in->source, c->pointer, key != NULL ? "/" : "",
		    key != NULL ? key : "", g->res->name, strrchr(new_id, '/') + 1);
		goto done;
	}
	ngw = copy_renamed(intent_work_of(e, g->res), new_id);
	props = ngw != NULL ? intent_obj_child(ngw, "properties") : NULL;
	if (props == NULL || json_object_set_new(intent_obj_child(ngw, "tags"), GWM_TAG_KEY,
	    json_string(GWM_TAG_VALUE)) != 0 ||
	    json_object_set_new(props, "virtualNetworkGatewayMigrationStatus", json_pack("{s:s, s:s}",
	    "state", "Succeeded", "phase", "CommitSucceeded")) != 0 ||
	    json_object_set_new(props, "adminState", json_string("Enabled")) != 0) {
		rc = intent_nomem(e->err);
		goto done;
	}
	if ((sku = json_path_str(props, "sku", "name", NULL)) != NULL) {
		const char *to = gwm_az_sku(sku);
		if (json_object_set_new(intent_obj_child(props, "sku"), "tier", json_string(to)) != 0 ||
		    json_object_set_new(intent_obj_child(props, "sku"), "name", json_string(to)) != 0) {
			rc = intent_nomem(e->err);
			goto done;
		}
	}
	json_array_foreach(json_object_get(props, "ipConfigurations"), i, ip) {
		if (json_str(ip, "name") != NULL)
			json_object_set_new(ip, "id", json_sprintf("%s/ipConfigurations/%s", new_id,
			    json_str(ip, "name")));
		json_object_del(json_object_get(ip, "properties"), "publicIPAddress");
	}
	if ((rc = intent_work_add(e, ngw)) != 0) {
		ngw = NULL;
		goto done;
	}
	ngw = NULL;
	json_object_set_new(removed, g->res->id, json_true());
	for (i = 0; i < g->nconnections && rc == 0; i++) {
		char *cid = gwm_connection_id(g->connections[i]->res->id);
		json_t *nc = cid != NULL ? copy_renamed(intent_work_of(e, g->connections[i]->res), cid) : NULL;

		if (nc == NULL || json_object_set_new(intent_obj_child(nc, "properties"), "virtualNetworkGateway1",
		    json_pack("{s:s}", "id", new_id)) != 0)
			rc = intent_nomem(e->err);
		else
			rc = intent_work_add(e, json_incref(nc));
		json_decref(nc);
		json_object_set_new(removed, g->connections[i]->res->id, json_true());
		free(cid);
	}
done:
	json_decref(ngw);
	free(new_id);
	return rc;
}

/*
 * A VPN gateway's migration, in place (learn vpn-gateway/basic-public-ip-
 * migrate-howto): the same gateway on its AZ SKU, its public IPs Standard
 * and Static with their addresses, migrationPhase Committed.
 */
static int
expand_vpn_gateway(struct intent_expander *e, const struct topo_gateway *g)
{
	json_t *props;
	const char *sku;
	size_t j;

	for (j = 0; j < g->npublic_ips; j++) {
		const struct topo_public_ip *ip = g->public_ips[j];
		json_t *w;

		if (ip == NULL)
			continue;
		w = intent_work_edit(e, ip->res, true);
		if (w == NULL || json_object_set_new(w, "sku", json_pack("{s:s, s:s}", "name", "Standard",
		    "tier", "Regional")) != 0 ||
		    intent_set_str(e, intent_obj_child(w, "properties"), "publicIPAllocationMethod", "Static") != 0 ||
		    intent_set_str(e, intent_obj_child(w, "properties"), "migrationPhase", "Committed") != 0)
			return intent_nomem(e->err);
	}
	props = intent_obj_child(intent_work_edit(e, g->res, true), "properties");
	if (props == NULL || json_object_set_new(props, "virtualNetworkGatewayMigrationStatus",
	    json_pack("{s:s, s:s}", "state", "Succeeded", "phase", "CommitSucceeded")) != 0)
		return intent_nomem(e->err);
	if ((sku = json_path_str(props, "sku", "name", NULL)) != NULL) {
		const char *to = gwm_az_sku(sku);
		if (json_object_set_new(intent_obj_child(props, "sku"), "tier", json_string(to)) != 0 ||
		    json_object_set_new(intent_obj_child(props, "sku"), "name", json_string(to)) != 0)
			return intent_nomem(e->err);
	}
	return 0;
}

/* A newNames key that names no selected ExpressRoute gateway is an error. */
static int
check_new_names(struct intent_expander *e, const struct intent_change *c)
{
	const json_t *v;
	const char *k;
	size_t i;

	json_object_foreach((json_t *)gw_of(c)->new_names, k, v) {
		const struct topo_gateway *hit = NULL;

		for (i = 0; i < e->cur->ngateways && hit == NULL; i++) {
			const struct topo_gateway *g = &e->cur->gateways[i];
			if (intent_selector_match(&gw_of(c)->gateways, g->res) &&
			    (strcasecmp(k, g->res->name) == 0 || topo_id_compare(k, g->res->id) == 0))
				hit = g;
		}
		if (hit == NULL)
			return err_set(e->err, NW_EINPUT, "%s: %s/newNames/%s: names no gateway this change "
			    "migrates", e->in->source, c->pointer, k);
		if (!gwm_is_expressroute(hit->res->json))
			return err_set(e->err, NW_EINPUT, "%s: %s/newNames/%s: %s is a %s gateway: it migrates "
			    "in place and keeps its name (%s); only ExpressRoute gateways get a new one",
			    e->in->source, c->pointer, k, hit->res->name,
			    hit->gateway_type != NULL ? hit->gateway_type : "non-ExpressRoute", GWM_VPN_LEARN_URL);
	}
	return 0;
}

static int
gw_intent_expand(struct intent_expander *e, const struct intent_change *c)
{
	const struct topology *t = e->cur;
	size_t i, j, matched = 0;
	int rc;

	if ((rc = check_new_names(e, c)) != 0)
		return rc;
	for (i = 0; i < t->ngateways; i++) {
		const struct topo_gateway *g = &t->gateways[i];
		bool basic = false;

		if (!intent_selector_match(&gw_of(c)->gateways, g->res))
			continue;
		matched++;
		for (j = 0; j < g->npublic_ips; j++)
			if (g->public_ips[j] != NULL && g->public_ips[j]->sku_name != NULL &&
			    strcasecmp(g->public_ips[j]->sku_name, "Basic") == 0)
				basic = true;
		if (!basic)
			continue;
		if (gwm_is_expressroute(g->res->json)) {
			const char *key = NULL, *name = new_name_of(c, g, &key);
			rc = expand_er_gateway(e, c, g, name, key, e->removed);
		} else {
			rc = expand_vpn_gateway(e, g);
		}
		if (rc != 0)
			return rc;
	}
	if (matched == 0)
		return intent_selector_fail(e->in, &gw_of(c)->gateways, e->err, "gateway");
	return 0;
}


static int
gw_intent_parse(struct intent_loader *l, void *state, const json_t *v)
{
	struct gw_change *c = state;
	int rc;

	if ((rc = intent_check_keys(l, v, GATEWAY_KEYS)) != 0)
		return rc;
	if ((rc = new_names_parse(l, c, v)) != 0)
		return rc;
	return intent_selector_at(l, v, "gateways", &c->gateways);
}

static void
gw_intent_clear(void *state)
{
	struct gw_change *c = state;

	intent_selector_free(&c->gateways);
}

const struct procedure_intent gw_intent = {
	sizeof(struct gw_change), gw_intent_parse, gw_intent_clear, NULL, gw_intent_expand,
};
