/*
 * The IaC findings of plan/iac_findings.h.  A plan's steps name the
 * resources they write; each one the IaC map holds is compared with the
 * code: a delete needs the code changed (and `terraform state rm`) first,
 * a change of a property the code sets ("pins") would be reverted by the
 * next `terraform apply`, and what the plan creates is for `netwave
 * export` to hand back as code with import blocks.
 *
 * Which Terraform attribute holds which ARM property comes from the
 * azurerm provider's documentation (registry.terraform.io/providers/
 * hashicorp/azurerm/latest/docs/resources/<name>); azapi resources hold
 * ARM's own JSON in "body" and are compared property by property.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/iac_findings.h"
#include "plan/jsonutil.h"
#include "plan/kinds.h"
#include "plan/sha256.h"

enum pin_kind {
	PIN_STRING,        /* the attribute is the ARM string (compared case-insensitively) */
	PIN_BOOL_ENABLED,  /* true is "Enabled", false "Disabled" (azurerm 3.x booleans) */
};

/* One azurerm attribute that holds an ARM property. */
struct pin_rule {
	const char *tf_type;
	const char *block;    /* NULL: the resource's own attribute; else an inline block */
	const char *attr;
	enum pin_kind kind;
	const char *arm[4];   /* the property's path in the ARM resource, NULL-terminated */
};

static const struct pin_rule pin_rules[] = {
	/* azurerm_virtual_network: private_endpoint_vnet_policies (Disabled, Basic) */
	{ "azurerm_virtual_network", NULL, "private_endpoint_vnet_policies", PIN_STRING,
	    { "properties", "privateEndpointVNetPolicies", NULL } },
	/* azurerm_subnet (4.x): private_endpoint_network_policies; 3.x: a boolean */
	{ "azurerm_subnet", NULL, "private_endpoint_network_policies", PIN_STRING,
	    { "properties", "privateEndpointNetworkPolicies", NULL } },
	{ "azurerm_subnet", NULL, "private_endpoint_network_policies_enabled", PIN_BOOL_ENABLED,
	    { "properties", "privateEndpointNetworkPolicies", NULL } },
	{ "azurerm_virtual_network", "subnet", "private_endpoint_network_policies", PIN_STRING,
	    { "properties", "privateEndpointNetworkPolicies", NULL } },
	/* azurerm_public_ip: sku (Basic, Standard), allocation_method (Static, Dynamic) */
	{ "azurerm_public_ip", NULL, "sku", PIN_STRING, { "sku", "name", NULL } },
	{ "azurerm_public_ip", NULL, "allocation_method", PIN_STRING,
	    { "properties", "publicIPAllocationMethod", NULL } },
	/* azurerm_virtual_network_gateway: sku (ErGw1AZ, VpnGw2AZ ...) */
	{ "azurerm_virtual_network_gateway", NULL, "sku", PIN_STRING,
	    { "properties", "sku", "name", NULL } },
};

#define NRULES (sizeof(pin_rules) / sizeof(pin_rules[0]))

static const json_t *
arm_get(const json_t *res, const char *const *path)
{
	const json_t *v = res;
	size_t i;

	for (i = 0; path[i] != NULL && v != NULL; i++)
		v = json_object_get(v, path[i]);
	return v;
}

static bool
value_equal(const json_t *a, const json_t *b)
{
	if (json_is_string(a) && json_is_string(b))
		return strcasecmp(json_string_value(a), json_string_value(b)) == 0;
	if (a == NULL || b == NULL)
		return a == b;
	return json_equal((json_t *)a, (json_t *)b);
}

/* A short text of a value for a message; "(secret)" for what must not be shown. */
static void
value_text(char *buf, size_t size, const json_t *v, const char *key)
{
	char *s;

	if (iac_key_is_secret(key)) {
		snprintf(buf, size, "(not shown)");
		return;
	}
	if (v == NULL || json_is_null(v)) {
		snprintf(buf, size, "(unset)");
		return;
	}
	if (json_is_string(v)) {
		snprintf(buf, size, "\"%s\"", json_string_value(v));
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	snprintf(buf, size, "%s", s != NULL ? s : "?");
	free(s);
	if (strlen(buf) + 1 == size && size > 4)
		memcpy(buf + size - 4, "...", 4);
}

/* The code's value as ARM would write it (a boolean made "Enabled"/"Disabled"). */
static json_t *
code_value(const json_t *attr, enum pin_kind kind)
{
	if (kind == PIN_BOOL_ENABLED && json_is_boolean(attr))
		return json_string(json_is_true(attr) ? "Enabled" : "Disabled");
	return json_incref((json_t *)attr);
}

static int
add_pin(json_t *pins, const char *attribute, const char *pointer, const json_t *code,
    const json_t *planned, const char *key)
{
	char c[160], p[160];

	value_text(c, sizeof(c), code, key);
	value_text(p, sizeof(p), planned, key);
	return json_array_append_new(pins, json_pack("{s:s, s:s, s:s, s:s}", "attribute", attribute,
	    "property", pointer, "code", c, "plan", p));
}

static void
pointer_of(char *buf, size_t size, const char *const *path)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; path[i] != NULL; i++)
		json_pointer_push(buf, size, path[i]);
}

/* The pins of an azurerm entry: rules whose attribute the code sets to other than the plan's. */
static int
azurerm_pins(json_t *pins, const struct iac_entry *e, const json_t *cur, const json_t *tgt)
{
	size_t i;

	for (i = 0; i < NRULES; i++) {
		const struct pin_rule *r = &pin_rules[i];
		const json_t *attr, *cv, *tv;
		json_t *code;
		char ptr[256];
		bool differs;

		if (strcmp(r->tf_type, e->tf_type) != 0 || (r->block == NULL) != (e->block == NULL) ||
		    (r->block != NULL && strcmp(r->block, e->block) != 0))
			continue;
		if ((attr = iac_entry_attr(e, r->attr)) == NULL)
			continue;
		cv = arm_get(cur, r->arm);
		tv = arm_get(tgt, r->arm);
		if (tv == NULL || value_equal(cv, tv))
			continue; /* the plan does not change it */
		code = code_value(attr, r->kind);
		differs = !value_equal(code, tv);
		pointer_of(ptr, sizeof(ptr), r->arm);
		if (differs && add_pin(pins, r->attr, ptr, code, tv, r->attr) != 0) {
			json_decref(code);
			return -1;
		}
		json_decref(code);
	}
	return 0;
}

/* The element of an ARM array with this name, or NULL. */
static const json_t *
by_name(const json_t *arr, const char *name)
{
	return json_array_find(arr, "name", name, strcasecmp, NULL);
}

/* Walks an azapi body: every value it sets that the plan changes to another. */
static int
body_pins(json_t *pins, const json_t *body, const json_t *cur, const json_t *tgt, char *ptr,
    size_t size, const char *key, int depth)
{
	size_t len = strlen(ptr), i;
	const char *k;
	const json_t *v;
	int rc = 0;

	if (depth > 16)
		return 0;
	if (json_is_object(body)) {
		json_object_foreach((json_t *)body, k, v) {
			if (strcmp(k, "id") == 0 || strcmp(k, "name") == 0 || strcmp(k, "type") == 0)
				continue;
			json_pointer_push(ptr, size, k);
			rc = body_pins(pins, v, json_object_get(cur, k), json_object_get(tgt, k), ptr, size,
			    k, depth + 1);
			ptr[len] = '\0';
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	if (json_is_array(body) && json_array_size(body) > 0 && json_str(json_array_get(body, 0),
	    "name") != NULL) {
		json_array_foreach(body, i, v) {
			json_pointer_push(ptr, size, json_str(v, "name") != NULL ? json_str(v, "name") : "?");
			rc = body_pins(pins, v, by_name(cur, json_str(v, "name")),
			    by_name(tgt, json_str(v, "name")), ptr, size, key, depth + 1);
			ptr[len] = '\0';
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	if (tgt == NULL || value_equal(cur, tgt) || value_equal(body, tgt))
		return 0;
	{
		char attr[300];

		snprintf(attr, sizeof(attr), "body%s", ptr);
		return add_pin(pins, attr, ptr, body, tgt, key);
	}
}

static int
entry_pins(json_t *pins, const struct iac_entry *e, const json_t *cur, const json_t *tgt)
{
	char ptr[512] = "";
	json_t *body;
	int rc;

	if (e->source != IAC_TERRAFORM || tgt == NULL)
		return 0;
	if (strncmp(e->tf_type, "azapi_", 6) != 0)
		return azurerm_pins(pins, e, cur, tgt);
	if (e->block != NULL)
		return 0; /* a child inside an azapi body: its parent's entry compares it */
	body = (json_t *)iac_entry_attr(e, "body");
	if (json_is_string(body))
		body = json_loads(json_string_value(body), JSON_REJECT_DUPLICATES, NULL);
	else
		json_incref(body);
	rc = body != NULL ? body_pins(pins, body, cur, tgt, ptr, sizeof(ptr), "", 0) : 0;
	json_decref(body);
	return rc;
}

/* ---- which resources a step touches ---- */

enum touch { TOUCH_CHANGE, TOUCH_DELETE, TOUCH_CREATE };

static const char *const touch_names[] = { "change", "delete", "create" };

struct annot {
	const struct iac_map *m;
	const struct topology *cur, *tgt;
	json_t *findings;     /* new findings */
	json_t *seen;         /* "wave\nid\naddress" already reported */
	json_t *created;      /* ids the plan creates that no state holds */
	json_t *peerings;     /* addresses of managed peerings the decommission deletes */
	size_t touched;
	const char *replacement; /* the resource that replaces the one deleted, while one is */
	bool oom;
};

static void
finding(struct annot *a, const char *sev, const char *code, const char *resource,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
finding(struct annot *a, const char *sev, const char *code, const char *resource,
    const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_array_append_new(a->findings, json_pack("{s:s, s:s, s:s, s:s}", "severity", sev,
	    "code", code, "resource", resource, "message", msg)) != 0)
		a->oom = true;
}

/* The finding for one managed resource one wave touches. */
static void
entry_finding(struct annot *a, const char *wave, const char *id, enum touch t,
    const struct iac_entry *e, const json_t *pins)
{
	const char *name = arm_id_name(id);
	const json_t *p;
	size_t i;

	if (e->source == IAC_DEPLOYMENT) {
		finding(a, t == TOUCH_DELETE ? "warning" : "info", t == TOUCH_DELETE ? "iac-delete" :
		    "iac-managed", id, "wave %s %s %s, which ARM deployment '%s' last wrote: %s", wave,
		    t == TOUCH_DELETE ? "deletes" : "changes", name, e->address, t == TOUCH_DELETE ?
		    "remove it from that template before the wave, or its next deployment creates it again" :
		    "make the template say what the wave sets before the wave, or its next deployment "
		    "reverts it");
		return;
	}
	if (t == TOUCH_DELETE && e->block != NULL) {
		finding(a, "warning", "iac-delete", id, "wave %s deletes %s, a %s block of %s (%s): "
		    "remove the block from the code before the wave, or the next terraform apply "
		    "creates it again", wave, name, e->block, e->address, e->file);
		return;
	}
	if (t == TOUCH_DELETE && a->replacement != NULL) {
		finding(a, "warning", "iac-delete", id, "wave %s deletes %s, which %s (%s) manages, and "
		    "%s replaces it: change the code to declare %s and run terraform state rm '%s' before "
		    "the wave, then import %s after it, or the next terraform apply creates the old one "
		    "again", wave, name, e->address, e->file, arm_id_name(a->replacement),
		    arm_id_name(a->replacement), e->address, a->replacement);
		return;
	}
	if (t == TOUCH_DELETE) {
		finding(a, "warning", "iac-delete", id, "wave %s deletes %s, which %s (%s) manages: "
		    "remove it from the code and run terraform state rm '%s' before the wave, or the "
		    "next terraform apply creates it again", wave, name, e->address, e->file, e->address);
		return;
	}
	if (json_array_size(pins) == 0) {
		finding(a, "info", "iac-managed", id, "wave %s changes %s, which %s%s%s (%s) manages; "
		    "the code sets none of what changes: run terraform plan after the wave to confirm "
		    "it shows no change", wave, name, e->address, e->block != NULL ? " block " : "",
		    e->block != NULL ? e->block : "", e->file);
		return;
	}
	json_array_foreach(pins, i, p)
		finding(a, "warning", "iac-pinned", id, "wave %s sets %s of %s to %s but %s (%s) pins "
		    "%s = %s: change the code before the wave, or the next terraform apply reverts it",
		    wave, json_str(p, "property"), name, json_str(p, "plan"), e->address, e->file,
		    json_str(p, "attribute"), json_str(p, "code"));
}

/* Records one touched id in a wave: its entries, their pins and findings. */
static int
touch(struct annot *a, json_t *wave_iac, const char *wave, const char *wkind, const char *id,
    enum touch t)
{
	const struct iac_entry *e;
	size_t n = iac_map_find(a->m, id, &e), i;
	json_t *cur = NULL, *tgt = NULL;
	struct nw_err err = { 0 };

	if (n == 0) {
		if (t == TOUCH_CREATE)
			json_object_set_new(a->created, id, json_true());
		return 0;
	}
	if (topology_resource_view(&cur, a->cur, id, &err) < 0 ||
	    topology_resource_view(&tgt, a->tgt, id, &err) < 0)
		goto oom;
	for (i = 0; i < n; i++) {
		char key[2048];
		json_t *pins = json_array(), *row;

		snprintf(key, sizeof(key), "%s\n%s\n%s", wave, e[i].key, e[i].address);
		if (pins == NULL)
			goto oom;
		if (json_object_get(a->seen, key) != NULL) {
			json_decref(pins);
			continue;
		}
		json_object_set_new(a->seen, key, json_true());
		if (t != TOUCH_DELETE && entry_pins(pins, &e[i], cur, tgt) != 0) {
			json_decref(pins);
			goto oom;
		}
		row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "resource", id, "address",
		    e[i].address, "source", e[i].file, "managedBy", e[i].source == IAC_DEPLOYMENT ?
		    "deployment" : "terraform", "action", touch_names[t], "pins", pins);
		if (row == NULL || json_array_append_new(wave_iac, row) != 0)
			goto oom;
		entry_finding(a, wave, id, t, &e[i], pins);
		a->touched++;
		if (t == TOUCH_DELETE && wave_kind_has(wkind, WAVE_KIND_DECOMMISSION) &&
		    strstr(e[i].key, "/virtualnetworkpeerings/") != NULL)
			json_array_append_new(a->peerings, json_string(e[i].address));
	}
	json_decref(cur);
	json_decref(tgt);
	return 0;
oom:
	json_decref(cur);
	json_decref(tgt);
	a->oom = true;
	return -1;
}

/* The resource an operation's path names: without a query, and without an action's last segment. */
static char *
op_resource(const json_t *op, bool *is_action)
{
	const char *path = json_str(op, "path"), *method = json_str(op, "method");
	char *id, *q;

	*is_action = false;
	if (path == NULL || method == NULL || (id = strdup(path)) == NULL)
		return NULL;
	if ((q = strchr(id, '?')) != NULL)
		*q = '\0';
	if (strcmp(method, "POST") == 0 || (strcmp(method, "GET") == 0 && topology_child_kind(id,
	    NULL) == NULL && strrchr(id, '/') != NULL)) {
		/* an action (.../prepareMigration): the resource is its parent */
		if (strcmp(method, "POST") == 0 && (q = strrchr(id, '/')) != NULL)
			*q = '\0';
		*is_action = true;
	}
	return id;
}

/*
 * What a VNet PUT also touches: the peerings it drops (a peering of the
 * current VNet missing from the body is deleted by the PUT).  Its subnets
 * are left to the steps that change them.
 */
static int
touch_vnet_peerings(struct annot *a, json_t *wave_iac, const char *wave, const char *wkind,
    const char *id, const json_t *body)
{
	const struct topo_vnet *cv = topology_find_vnet(a->cur, id);
	const json_t *kept = json_path(body, "properties", "virtualNetworkPeerings", NULL), *k;
	size_t i, j;

	if (cv == NULL || body == NULL)
		return 0;
	for (i = 0; i < cv->npeerings; i++) {
		bool found = false;

		json_array_foreach(kept, j, k)
			if ((json_str(k, "id") != NULL && topo_id_compare(json_str(k, "id"),
			    cv->peerings[i].id) == 0) || (json_str(k, "name") != NULL &&
			    cv->peerings[i].name != NULL && strcasecmp(json_str(k, "name"),
			    cv->peerings[i].name) == 0))
				found = true;
		if (!found && touch(a, wave_iac, wave, wkind, cv->peerings[i].id, TOUCH_DELETE) != 0)
			return -1;
	}
	return 0;
}

/* The gateway the target has in g's GatewaySubnet in its place (an ExpressRoute migration's), or NULL. */
static const char *
replacement_gateway(const struct topology *tgt, const struct topo_gateway *g)
{
	size_t i;

	if (g->subnet_id == NULL)
		return NULL;
	for (i = 0; i < tgt->ngateways; i++) {
		const struct topo_gateway *n = &tgt->gateways[i];

		if (n->subnet_id != NULL && topo_id_compare(n->subnet_id, g->subnet_id) == 0 &&
		    topo_id_compare(n->res->id, g->res->id) != 0)
			return n->res->id;
	}
	return NULL;
}

/*
 * What a gateway action touches: the gateway and its public IPs (their SKU
 * changes).  A commit after which the target no longer has the gateway
 * deletes it (an ExpressRoute migration leaves the gateway it made).
 */
static int
touch_gateway(struct annot *a, json_t *wave_iac, const char *wave, const char *wkind,
    const char *id, const char *action)
{
	const struct topo_resource *r = topology_find(a->cur, id);
	const struct topo_gateway *g = r != NULL && r->type == TOPO_GATEWAY ? r->view : NULL;
	bool gone = topology_find(a->tgt, id) == NULL && action != NULL &&
	    strcmp(action, "commit-migration") == 0;
	size_t i;
	int rc;

	if (g == NULL)
		return 0;
	a->replacement = gone ? replacement_gateway(a->tgt, g) : NULL;
	rc = touch(a, wave_iac, wave, wkind, id, gone ? TOUCH_DELETE : TOUCH_CHANGE);
	a->replacement = NULL;
	if (rc != 0)
		return -1;
	for (i = 0; i < g->npublic_ips; i++) {
		bool ip_gone = gone && topology_find(a->tgt, g->public_ip_ids[i]) == NULL;

		if (touch(a, wave_iac, wave, wkind, g->public_ip_ids[i], ip_gone ? TOUCH_DELETE :
		    TOUCH_CHANGE) != 0)
			return -1;
	}
	return 0;
}

static int
annotate_step(struct annot *a, json_t *wave_iac, const char *wave, const char *wkind,
    const json_t *step)
{
	const json_t *op = json_object_get(step, "operation");
	const char *method = json_str(op, "method");
	bool is_action;
	char *id = op_resource(op, &is_action);
	struct nw_err err = { 0 };
	json_t *view = NULL;
	int rc = 0;

	if (id == NULL)
		return method == NULL ? 0 : (a->oom = true, -1);
	if (is_action) {
		const struct topo_resource *r = topology_find(a->cur, id);

		if (r != NULL && r->type == TOPO_GATEWAY && strcmp(method, "POST") == 0)
			rc = touch_gateway(a, wave_iac, wave, wkind, id, json_str(step, "action"));
	} else if (strcmp(method, "DELETE") == 0) {
		rc = touch(a, wave_iac, wave, wkind, id, TOUCH_DELETE);
	} else if (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
		if (topology_resource_view(&view, a->cur, id, &err) < 0)
			rc = -1;
		else
			rc = touch(a, wave_iac, wave, wkind, id, view != NULL ? TOUCH_CHANGE : TOUCH_CREATE);
		if (rc == 0 && view != NULL && topology_find_vnet(a->cur, id) != NULL)
			rc = touch_vnet_peerings(a, wave_iac, wave, wkind, id, json_object_get(op, "body"));
	}
	json_decref(view);
	free(id);
	if (rc != 0)
		a->oom = true;
	return rc;
}

/* ---- the plan ---- */

static int
sev_rank(const char *s)
{
	return s == NULL ? 3 : strcmp(s, "error") == 0 ? 0 : strcmp(s, "warning") == 0 ? 1 : 2;
}

struct sorted { json_t *v; size_t i; };

static int
finding_cmp(const void *x, const void *y)
{
	const struct sorted *a = x, *b = y;
	int c = sev_rank(json_str(a->v, "severity")) - sev_rank(json_str(b->v, "severity"));

	if (c == 0 && json_str(a->v, "code") != NULL && json_str(b->v, "code") != NULL)
		c = strcmp(json_str(a->v, "code"), json_str(b->v, "code"));
	if (c == 0)
		c = a->i < b->i ? -1 : a->i > b->i;
	return c;
}

/* Adds the new findings to the plan's, keeping its order: errors first, then by code. */
static int
merge_findings(json_t *plan, json_t *add)
{
	json_t *all = json_object_get(plan, "findings"), *out;
	size_t n = json_array_size(all) + json_array_size(add), i, k = 0;
	struct sorted *v = calloc(n + 1, sizeof(*v));
	json_t *x;

	if (v == NULL)
		return -1;
	json_array_foreach(all, i, x)
		v[k].v = x, v[k].i = k, k++;
	json_array_foreach(add, i, x)
		v[k].v = x, v[k].i = k, k++;
	qsort(v, n, sizeof(*v), finding_cmp);
	if ((out = json_array()) == NULL) {
		free(v);
		return -1;
	}
	for (i = 0; i < n; i++)
		json_array_append(out, v[i].v);
	free(v);
	return json_object_set_new(plan, "findings", out);
}

static const char *
created_kind(const char *id)
{
	static const struct { const char *seg; const char *what; } kinds[] = {
		{ "/staticmembers/", "static members" },
		{ "/networkgroups/", "network groups" },
		{ "/connectivityconfigurations/", "connectivity configurations" },
		{ "/networkmanagers/", "network managers" },
	};
	size_t i;
	char low[1024];

	for (i = 0; id[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)((id[i] >= 'A' && id[i] <= 'Z') ? id[i] + 32 : id[i]);
	low[i] = '\0';
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strstr(low, kinds[i].seg) != NULL)
			return kinds[i].what;
	return NULL;
}

/* One finding for what the plan creates and no code holds: netwave export hands it back. */
static void
import_finding(struct annot *a)
{
	size_t counts[4] = { 0 }, total = 0, i;
	static const char *const order[] = { "network managers", "network groups",
		"connectivity configurations", "static members" };
	const char *id, *first = NULL;
	char list[512] = "";
	json_t *v;

	json_object_foreach(a->created, id, v) {
		const char *k = created_kind(id);

		for (i = 0; k != NULL && i < 4; i++)
			if (strcmp(k, order[i]) == 0) {
				counts[i]++;
				total++;
				if (first == NULL)
					first = id;
			}
	}
	if (total == 0)
		return;
	for (i = 0; i < 4; i++) {
		char part[96];

		if (counts[i] == 0)
			continue;
		snprintf(part, sizeof(part), "%s%zu %s", list[0] != '\0' ? ", " : "", counts[i], order[i]);
		strncat(list, part, sizeof(list) - strlen(list) - 1);
	}
	finding(a, "info", "iac-import", first, "the plan creates %zu resources no IaC state holds "
	    "(%s): after the last wave, netwave export writes them as Terraform with import blocks, "
	    "so the code adopts them and the next terraform plan shows no change", total, list);
}

/* A risk for the change board: the decommission deletes peerings the code still declares. */
static int
peering_risk(struct annot *a, json_t *plan)
{
	json_t *summary = json_object_get(plan, "summary"), *reasons;
	const char *risk = json_str(summary, "risk");
	char msg[1024];
	size_t n = json_array_size(a->peerings);

	if (n == 0 || summary == NULL)
		return 0;
	snprintf(msg, sizeof(msg), "the decommission deletes %zu peering%s IaC manages (%s%s): unless "
	    "the code drops them before, the next terraform apply recreates them", n, n == 1 ? "" : "s",
	    json_string_value(json_array_get(a->peerings, 0)), n > 1 ? " and more" : "");
	reasons = json_object_get(summary, "riskReasons");
	if (reasons == NULL) {
		reasons = json_array();
		if (json_object_set_new(summary, "riskReasons", reasons) != 0)
			return -1;
	}
	if (json_array_append_new(reasons, json_string(msg)) != 0)
		return -1;
	if (risk == NULL || strcmp(risk, "low") == 0)
		json_object_set_new(summary, "risk", json_string("medium"));
	return 0;
}

/* The plan's id again: "pl-" and 12 hex digits of the canonical plan without id and createdAt. */
static int
plan_rehash(json_t *plan)
{
	json_t *copy = json_copy(plan);
	char hex[SHA256_HEX_LEN], id[3 + 12 + 1], *text;

	if (copy == NULL)
		return -1;
	json_object_del(copy, "id");
	json_object_del(copy, "createdAt");
	text = json_dump_canonical(copy);
	json_decref(copy);
	if (text == NULL)
		return -1;
	sha256_hex(text, strlen(text), hex);
	free(text);
	snprintf(id, sizeof(id), "pl-%.12s", hex);
	return json_object_set_new(plan, "id", json_string(id));
}

static int
annotate_waves(struct annot *a, json_t *plan)
{
	json_t *w, *st;
	size_t i, j;

	json_array_foreach(json_object_get(plan, "waves"), i, w) {
		json_t *wave_iac = json_array();
		const char *name = json_str(w, "name"), *kind = json_str(w, "kind");

		if (wave_iac == NULL)
			return -1;
		json_array_foreach(json_object_get(w, "steps"), j, st)
			if (annotate_step(a, wave_iac, name != NULL ? name : "?", kind, st) != 0) {
				json_decref(wave_iac);
				return -1;
			}
		if (json_array_size(wave_iac) > 0)
			json_object_set_new(w, "iac", wave_iac);
		else
			json_decref(wave_iac);
	}
	return 0;
}

int
iac_plan_annotate(json_t *plan, const struct iac_map *m, const struct topology *cur,
    const struct topology *tgt, struct nw_err *err)
{
	struct annot a = { .m = m, .cur = cur, .tgt = tgt };
	int rc = 0;

	if (m == NULL || m->nfiles + m->n == 0)
		return 0;
	a.findings = json_array();
	a.seen = json_object();
	a.created = json_object();
	a.peerings = json_array();
	if (a.findings == NULL || a.seen == NULL || a.created == NULL || a.peerings == NULL ||
	    annotate_waves(&a, plan) != 0)
		goto oom;
	import_finding(&a);
	if (a.oom || merge_findings(plan, a.findings) != 0 || peering_risk(&a, plan) != 0)
		goto oom;
	if (json_object_set_new(plan, "iac", json_pack("{s:I, s:I, s:I}", "stateFiles",
	    (json_int_t)m->nfiles, "managedInstances", (json_int_t)m->ninstances,
	    "touched", (json_int_t)a.touched)) != 0 || plan_rehash(plan) != 0)
		goto oom;
	goto done;
oom:
	rc = err_set(err, NW_ENOMEM, "out of memory adding what IaC manages to the plan");
done:
	json_decref(a.findings);
	json_decref(a.seen);
	json_decref(a.created);
	json_decref(a.peerings);
	return rc;
}

/* ---- check ---- */

/* Network resource types a topology holds (so a state's id missing from it is drift). */
static bool
topology_type(const char *id)
{
	return strcasestr(id, "/providers/Microsoft.Network/") != NULL;
}

static bool
in_subscriptions(const struct topology *t, const char *id)
{
	const json_t *subs = json_object_get(t->root, "subscriptions"), *s;
	size_t i;

	json_array_foreach(subs, i, s) {
		const char *sub = json_string_value(s);
		size_t n = sub != NULL ? strlen(sub) : 0;

		if (n > 0 && strncasecmp(id + 15, sub, n) == 0 && (id[15 + n] == '/' || id[15 + n] == '\0'))
			return true;
	}
	return false;
}

json_t *
iac_check_findings(const struct iac_map *m, const struct topology *t)
{
	json_t *out = json_array(), *view = NULL;
	size_t i, managed = 0, missing = 0;
	struct nw_err err = { 0 };
	char msg[1536];

	if (out == NULL || m == NULL)
		return out;
	for (i = 0; i < t->nres; i++) {
		const struct iac_entry *e;

		if (iac_map_find(m, t->res[i].id, &e) > 0)
			managed++;
	}
	for (i = 0; i < m->n; i++) {
		const struct iac_entry *e = &m->v[i];

		if (i > 0 && strcmp(m->v[i - 1].key, e->key) == 0)
			continue;
		if (!topology_type(e->id) || !in_subscriptions(t, e->id))
			continue;
		if (topology_resource_view(&view, t, e->id, &err) < 0)
			goto oom;
		if (view == NULL) {
			missing++;
			snprintf(msg, sizeof(msg), "%s (%s) holds %s, which the topology does not: the next "
			    "%s creates it again (or the topology is older than the state)", e->address,
			    e->file, arm_id_name(e->id), e->source == IAC_DEPLOYMENT ?
			    "deployment" : "terraform apply");
			if (json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "severity",
			    "warning", "code", "iac-not-found", "resource", e->id, "message", msg)) != 0)
				goto oom;
		}
		json_decref(view);
		view = NULL;
	}
	snprintf(msg, sizeof(msg), "%zu of the topology's %zu resources are managed by IaC "
	    "(%zu Terraform state file%s, %zu managed instances); %zu resource%s the state holds %s "
	    "missing", managed, t->nres, m->nfiles, m->nfiles == 1 ? "" : "s", m->ninstances,
	    missing, missing == 1 ? "" : "s", missing == 1 ? "is" : "are");
	if (json_array_insert_new(out, 0, json_pack("{s:s, s:s, s:s}", "severity", "info", "code",
	    "iac-managed", "message", msg)) != 0)
		goto oom;
	return out;
oom:
	json_decref(view);
	json_decref(out);
	return NULL;
}

/* ---- the review report ---- */

static void
md_code(FILE *f, const char *s)
{
	fputc('`', f);
	for (; s != NULL && *s != '\0'; s++)
		fputc(*s == '`' || *s == '|' || *s == '\n' ? '\'' : *s, f);
	fputc('`', f);
}

void
iac_report_wave_md(FILE *f, const json_t *wave)
{
	const json_t *rows = json_object_get(wave, "iac"), *r, *p;
	size_t i, j;

	if (json_array_size(rows) == 0)
		return;
	fprintf(f, "**Infrastructure as code** (resources this wave touches that code manages; "
	    "docs/iac.md):\n\n| Resource | Managed by | The wave | Pinned by the code |\n"
	    "|---|---|---|---|\n");
	json_array_foreach(rows, i, r) {
		const json_t *pins = json_object_get(r, "pins");

		fprintf(f, "| %s | ", arm_id_name(json_str(r, "resource")));
		md_code(f, json_str(r, "address"));
		fprintf(f, " (%s, %s) | %ss | ", strcmp(json_str(r, "managedBy") != NULL ?
		    json_str(r, "managedBy") : "", "deployment") == 0 ? "ARM deployment" : "Terraform",
		    json_str(r, "source") != NULL ? json_str(r, "source") : "?",
		    json_str(r, "action") != NULL ? json_str(r, "action") : "?");
		if (json_array_size(pins) == 0)
			fputs(strcmp(json_str(r, "action") != NULL ? json_str(r, "action") : "", "delete") == 0 ?
			    "remove it from the code first" : "nothing that changes", f);
		json_array_foreach(pins, j, p) {
			fputs(j > 0 ? "; " : "", f);
			md_code(f, json_str(p, "attribute"));
			fprintf(f, " = ");
			md_code(f, json_str(p, "code"));
			fprintf(f, ", the wave sets ");
			md_code(f, json_str(p, "plan"));
		}
		fputs(" |\n", f);
	}
	fputc('\n', f);
}
