/*
 * The Terraform writer of plan/export.h.  Each resource of the estate
 * that the migration made or set becomes one resource block and one
 * import block; references between exported resources are Terraform
 * references (azurerm_network_manager.x.id), so the code reads as a
 * person would write it.  Arguments are azurerm 4.x's
 * (registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/
 * network_manager, network_manager_network_group, network_manager_static_member,
 * network_manager_connectivity_configuration, network_manager_deployment,
 * virtual_network, subnet); what azurerm has no argument for goes into
 * azapi_update_resource, as Microsoft's usage order for the AzAPI provider
 * says (learn.microsoft.com/azure/developer/terraform/overview-azapi-provider).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/arm_api.h"
#include "plan/export.h"
#include "plan/export_hcl.h"
#include "plan/jsonutil.h"
#include "plan/vec.h"

struct ex {
	const struct topology *t;
	const struct export_opts *o;
	json_t *labels;          /* "type.label" taken */
	json_t *refs;            /* lowercased id -> "type.label" */
	struct hcl_block **res;  /* resource blocks, in order */
	size_t nres, cap;
	json_t *imports;         /* [[address, id]] */
	size_t nmanaged;
	bool oom;
};

static bool
managed(struct ex *x, const char *id, bool azapi_only)
{
	const struct iac_entry *e;
	size_t n = iac_map_find(x->o->managed, id, &e), i;

	for (i = 0; i < n; i++)
		if (!azapi_only || strncmp(e[i].tf_type, "azapi_", 6) == 0)
			return true;
	return false;
}

static char *
lower(const char *s)
{
	char *d = strdup(s), *p;

	for (p = d; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return d;
}

/* A label for a resource: its name (or group_name), made an identifier, unique per type. */
static void
make_label(struct ex *x, char *out, size_t size, const char *type, const struct topo_resource *r)
{
	char base[256], key[400];
	size_t i;
	int n;

	if (x->o->labels == EXPORT_LABEL_RG_NAME && r->resource_group != NULL)
		snprintf(base, sizeof(base), "%s_%s", r->resource_group, r->name != NULL ? r->name : "r");
	else
		snprintf(base, sizeof(base), "%s", r->name != NULL ? r->name : "r");
	for (i = 0; base[i] != '\0'; i++)
		if (!((base[i] >= 'A' && base[i] <= 'Z') || (base[i] >= 'a' && base[i] <= 'z') ||
		    (base[i] >= '0' && base[i] <= '9') || base[i] == '_' || base[i] == '-'))
			base[i] = '_';
	if (!hcl_is_identifier(base)) {
		memmove(base + 2, base, strlen(base) + 1 < sizeof(base) - 2 ? strlen(base) + 1 :
		    sizeof(base) - 3);
		base[0] = 'r';
		base[1] = '_';
		base[sizeof(base) - 1] = '\0';
	}
	snprintf(out, size, "%s", base);
	for (n = 2; n < 100000; n++) {
		snprintf(key, sizeof(key), "%s.%s", type, out);
		if (json_object_get(x->labels, key) == NULL)
			break;
		snprintf(out, size, "%s_%d", base, n);
	}
	json_object_set_new(x->labels, key, json_true());
}

/* A new resource block for r: label chosen, reference and import recorded. */
static struct hcl_block *
resource(struct ex *x, const char *type, const struct topo_resource *r, const char *import_id)
{
	char label[300], header[400], addr[400];
	struct hcl_block *b;
	char *key;

	make_label(x, label, sizeof(label), type, r);
	snprintf(header, sizeof(header), "resource \"%s\" \"%s\"", type, label);
	snprintf(addr, sizeof(addr), "%s.%s", type, label);
	if (VEC_GROW(x->res, &x->cap, x->nres + 1) != 0)
		goto oom;
	if ((b = hcl_block_new(header)) == NULL)
		goto oom;
	x->res[x->nres++] = b;
	if (import_id != NULL) {
		char full[512];

		if ((key = lower(r->id)) == NULL)
			goto oom;
		json_object_set_new(x->refs, key, json_string(addr));
		free(key);
		snprintf(full, sizeof(full), "%s%s%s%s", x->o->module != NULL ? "module." : "",
		    x->o->module != NULL ? x->o->module : "", x->o->module != NULL ? "." : "", addr);
		if (json_array_append_new(x->imports, json_pack("[ss]", full, import_id)) != 0)
			goto oom;
	}
	return b;
oom:
	x->oom = true;
	return NULL;
}

/*
 * The block of resource r, imported by its id, unless the Terraform
 * configuration manages r already (counted in nmanaged): NULL then, and
 * on out of memory (x->oom).
 */
static struct hcl_block *
resource_unmanaged(struct ex *x, const char *type, const struct topo_resource *r)
{
	if (managed(x, r->id, false)) {
		x->nmanaged++;
		return NULL;
	}
	return resource(x, type, r, r->id);
}

/* An id as a reference to the exported resource that has it, else as a literal. */
static void
attr_ref(struct ex *x, struct hcl_block *b, const char *name, const char *id, const char *what)
{
	char *key = id != NULL ? lower(id) : NULL;
	const char *addr = key != NULL ? json_string_value(json_object_get(x->refs, key)) : NULL;
	char expr[512];

	free(key);
	if (addr != NULL) {
		snprintf(expr, sizeof(expr), "%s.%s", addr, what);
		if (hcl_attr_expr(b, name, expr) != 0)
			x->oom = true;
	} else if (hcl_attr_str(b, name, id) != 0) {
		x->oom = true;
	}
}

static void
attr_json(struct ex *x, struct hcl_block *b, const char *name, json_t *v)
{
	if (hcl_attr_json(b, name, v) != 0)
		x->oom = true;
}

static void
attr_str(struct ex *x, struct hcl_block *b, const char *name, const char *s)
{
	if (hcl_attr_str(b, name, s) != 0)
		x->oom = true;
}

/* A reference to the parent of r: r's id up to its segment child (e.g. "/staticMembers/"). */
static void
attr_parent(struct ex *x, struct hcl_block *b, const char *name, const struct topo_resource *r,
    const char *child)
{
	const char *at = strcasestr(r->id, child);
	char parent[1024];

	snprintf(parent, sizeof(parent), "%.*s", at != NULL ? (int)(at - r->id) : 0, r->id);
	attr_ref(x, b, name, parent, "id");
}

/* properties.description, when it says something. */
static void
attr_description(struct ex *x, struct hcl_block *b, const json_t *props)
{
	const char *d = json_str(props, "description");

	if (d != NULL && *d != '\0')
		attr_str(x, b, "description", d);
}

static void
attr_tags(struct ex *x, struct hcl_block *b, const struct topo_resource *r)
{
	const json_t *tags = json_object_get(r->json, "tags");

	if (json_object_size(tags) > 0)
		attr_json(x, b, "tags", json_deep_copy(tags));
}

/* ---- the resources ---- */

static void
network_manager(struct ex *x, const struct topo_resource *r)
{
	const json_t *p = json_object_get(r->json, "properties"), *scope;
	struct hcl_block *b, *s;

	if ((b = resource_unmanaged(x, "azurerm_network_manager", r)) == NULL)
		return;
	attr_str(x, b, "name", r->name);
	attr_str(x, b, "location", r->location);
	attr_str(x, b, "resource_group_name", r->resource_group);
	attr_description(x, b, p);
	if (json_is_array(json_object_get(p, "networkManagerScopeAccesses")))
		attr_json(x, b, "scope_accesses", json_deep_copy(json_object_get(p,
		    "networkManagerScopeAccesses")));
	attr_tags(x, b, r);
	scope = json_object_get(p, "networkManagerScopes");
	if ((s = hcl_block_add(b, "scope")) == NULL) {
		x->oom = true;
		return;
	}
	if (json_array_size(json_object_get(scope, "subscriptions")) > 0)
		attr_json(x, s, "subscription_ids", json_deep_copy(json_object_get(scope, "subscriptions")));
	if (json_array_size(json_object_get(scope, "managementGroups")) > 0)
		attr_json(x, s, "management_group_ids", json_deep_copy(json_object_get(scope,
		    "managementGroups")));
}

static void
network_group(struct ex *x, const struct topo_resource *r)
{
	const struct topo_network_group *g = r->view;
	const json_t *p = json_object_get(r->json, "properties");
	struct hcl_block *b;

	if ((b = resource_unmanaged(x, "azurerm_network_manager_network_group", r)) == NULL)
		return;
	attr_str(x, b, "name", r->name);
	attr_parent(x, b, "network_manager_id", r, "/networkGroups/");
	attr_description(x, b, p);
	if (g != NULL && g->member_type != NULL && strcasecmp(g->member_type, "VirtualNetwork") != 0)
		attr_str(x, b, "member_type", g->member_type);
}

static void
static_member(struct ex *x, const struct topo_resource *r)
{
	const struct topo_static_member *m = r->view;
	struct hcl_block *b;

	if ((b = resource_unmanaged(x, "azurerm_network_manager_static_member", r)) == NULL)
		return;
	attr_str(x, b, "name", r->name);
	attr_parent(x, b, "network_group_id", r, "/staticMembers/");
	attr_ref(x, b, "target_virtual_network_id", m != NULL ? m->resource_id : NULL, "id");
}

static void
applies_to(struct ex *x, struct hcl_block *b, const json_t *p)
{
	const json_t *g;
	size_t i;

	json_array_foreach(json_object_get(p, "appliesToGroups"), i, g) {
		struct hcl_block *a = hcl_block_add(b, "applies_to_group");

		if (a == NULL) {
			x->oom = true;
			return;
		}
		attr_str(x, a, "group_connectivity", json_str(g, "groupConnectivity") != NULL ?
		    json_str(g, "groupConnectivity") : "None");
		attr_ref(x, a, "network_group_id", json_str(g, "networkGroupId"), "id");
		attr_json(x, a, "global_mesh_enabled", json_boolean(json_truthy(json_object_get(g,
		    "isGlobal"), false)));
		attr_json(x, a, "use_hub_gateway", json_boolean(json_truthy(json_object_get(g,
		    "useHubGateway"), false)));
	}
}

static void
connectivity_config(struct ex *x, const struct topo_resource *r)
{
	const json_t *p = json_object_get(r->json, "properties"), *h, *caps;
	struct hcl_block *b, *u;
	size_t i;

	if ((b = resource_unmanaged(x, "azurerm_network_manager_connectivity_configuration", r)) == NULL) {
		if (x->oom)
			return;
		goto caps;
	}
	attr_str(x, b, "name", r->name);
	attr_parent(x, b, "network_manager_id", r, "/connectivityConfigurations/");
	attr_str(x, b, "connectivity_topology", json_str(p, "connectivityTopology"));
	attr_description(x, b, p);
	attr_json(x, b, "delete_existing_peering_enabled", json_boolean(json_truthy(
	    json_object_get(p, "deleteExistingPeering"), false)));
	attr_json(x, b, "global_mesh_enabled", json_boolean(json_truthy(json_object_get(p, "isGlobal"),
	    false)));
	applies_to(x, b, p);
	json_array_foreach(json_object_get(p, "hubs"), i, h) {
		struct hcl_block *hb = hcl_block_add(b, "hub");

		if (hb == NULL) {
			x->oom = true;
			return;
		}
		attr_ref(x, hb, "resource_id", json_str(h, "resourceId"), "id");
		attr_str(x, hb, "resource_type", json_str(h, "resourceType") != NULL ?
		    json_str(h, "resourceType") : TYPE_VNET);
	}
caps:
	/* connectedGroupPrivateEndpointsScale and the other capabilities: no azurerm argument */
	caps = json_object_get(p, "connectivityCapabilities");
	if (json_object_size(caps) == 0 || managed(x, r->id, true))
		return;
	if ((u = resource(x, "azapi_update_resource", r, NULL)) == NULL)
		return;
	attr_str(x, u, "type", "Microsoft.Network/networkManagers/connectivityConfigurations@"
	    ARM_API_NETWORK);
	attr_ref(x, u, "resource_id", r->id, "id");
	attr_json(x, u, "body", json_pack("{s:{s:O}}", "properties", "connectivityCapabilities", caps));
}

/* A list of ids, each a reference when exported: one expression. */
static void
attr_ref_list(struct ex *x, struct hcl_block *b, const char *name, const char *const *ids, size_t n)
{
	char *expr = NULL;
	size_t len = 0, j;
	FILE *f = open_memstream(&expr, &len);

	if (f == NULL) {
		x->oom = true;
		return;
	}
	fputc('[', f);
	for (j = 0; j < n; j++) {
		char *k = lower(ids[j]);
		const char *a = k != NULL ? json_string_value(json_object_get(x->refs, k)) : NULL;

		fputs(j > 0 ? ", " : "", f);
		if (a != NULL)
			fprintf(f, "%s.id", a);
		else
			hcl_write_string(f, ids[j]);
		free(k);
	}
	fputc(']', f);
	if (fclose(f) != 0 || expr == NULL || hcl_attr_expr(b, name, expr) != 0)
		x->oom = true;
	free(expr);
}

/*
 * observed.avnmDeployments: one azurerm_network_manager_deployment per
 * manager, region and scope access; its id is azurerm's
 * "<manager id>/commit|<location>|<scope access>".
 */
static void
deployments(struct ex *x)
{
	size_t i;

	for (i = 0; i < x->t->ndeployments; i++) {
		const struct topo_deployment *d = &x->t->deployments[i];
		struct topo_resource r = { 0 };
		struct hcl_block *b;
		char id[1200], name[300];

		snprintf(id, sizeof(id), "%s/commit|%s|%s", d->manager_id, d->region, d->config_type);
		snprintf(name, sizeof(name), "%s-%s-%s", arm_id_name(d->manager_id), d->region,
		    d->config_type);
		r.id = id;
		r.name = name;
		r.resource_group = d->manager != NULL ? d->manager->res->resource_group : NULL;
		if ((b = resource_unmanaged(x, "azurerm_network_manager_deployment", &r)) == NULL) {
			if (x->oom)
				return;
			continue;
		}
		attr_ref(x, b, "network_manager_id", d->manager_id, "id");
		attr_str(x, b, "location", d->region);
		attr_str(x, b, "scope_access", d->config_type);
		attr_ref_list(x, b, "configuration_ids", d->config_ids, d->nconfigs);
	}
}

/* A subnet azurerm_subnet can hold without a plan of change: no delegations. */
static bool
subnet_exportable(const struct topo_subnet *s)
{
	const json_t *p = json_object_get(s->json, "properties");

	return s->pe_network_policies != NULL && strcasecmp(s->pe_network_policies, "Disabled") != 0 &&
	    json_array_size(json_object_get(p, "delegations")) == 0 && s->prefixes.n > 0;
}

static void
subnet(struct ex *x, const struct topo_vnet *v, const struct topo_subnet *s)
{
	const json_t *p = json_object_get(s->json, "properties"), *se, *e;
	struct topo_resource r = { 0 };
	struct hcl_block *b;
	json_t *prefixes, *services;
	char label[512];
	size_t i;

	/* labelled <vnet>_<subnet>: a subnet's name repeats from VNet to VNet */
	snprintf(label, sizeof(label), "%s_%s", v->res->name != NULL ? v->res->name : "vnet", s->name);
	r.id = s->id;
	r.name = label;
	r.resource_group = v->res->resource_group;
	if ((b = resource_unmanaged(x, "azurerm_subnet", &r)) == NULL)
		return;
	attr_str(x, b, "name", s->name);
	attr_str(x, b, "resource_group_name", v->res->resource_group);
	attr_ref(x, b, "virtual_network_name", v->res->id, "name");
	/* addressPrefixes when ARM gives them, else the one addressPrefix */
	prefixes = json_is_array(json_object_get(p, "addressPrefixes")) ?
	    json_deep_copy(json_object_get(p, "addressPrefixes")) :
	    json_pack("[s]", json_str(p, "addressPrefix") != NULL ? json_str(p, "addressPrefix") : "");
	attr_json(x, b, "address_prefixes", prefixes);
	attr_str(x, b, "private_endpoint_network_policies", s->pe_network_policies);
	se = json_object_get(p, "serviceEndpoints");
	if (json_array_size(se) > 0) {
		if ((services = json_array()) == NULL) {
			x->oom = true;
			return;
		}
		json_array_foreach(se, i, e)
			if (json_str(e, "service") != NULL)
				json_array_append_new(services, json_string(json_str(e, "service")));
		attr_json(x, b, "service_endpoints", services);
	}
}

static void
vnet_settings(struct ex *x, const struct topo_vnet *v)
{
	const struct topo_resource *r = v->res;
	const json_t *p = json_object_get(r->json, "properties");
	const json_t *dns = json_path(p, "dhcpOptions", "dnsServers", NULL);
	struct hcl_block *b;
	size_t i;

	if ((b = resource_unmanaged(x, "azurerm_virtual_network", r)) != NULL) {
		attr_str(x, b, "name", r->name);
		attr_str(x, b, "location", r->location);
		attr_str(x, b, "resource_group_name", r->resource_group);
		attr_json(x, b, "address_space", json_deep_copy(json_path(p, "addressSpace",
		    "addressPrefixes", NULL)));
		if (json_array_size(dns) > 0)
			attr_json(x, b, "dns_servers", json_deep_copy(dns));
		attr_str(x, b, "private_endpoint_vnet_policies", v->pe_vnet_policies);
		attr_tags(x, b, r);
	}
	for (i = 0; i < v->nsubnets; i++)
		if (subnet_exportable(&v->subnets[i]))
			subnet(x, v, &v->subnets[i]);
}

/* summarizedGatewayPrefixes: no azurerm argument, so azapi_update_resource. */
static void
summarized(struct ex *x, const struct topo_vnet *v)
{
	const json_t *sp = json_path(v->res->json, "properties", "summarizedGatewayPrefixes", NULL);
	struct hcl_block *u;

	if (managed(x, v->res->id, true))
		return;
	if ((u = resource(x, "azapi_update_resource", v->res, NULL)) == NULL)
		return;
	attr_str(x, u, "type", "Microsoft.Network/virtualNetworks@" ARM_API_NETWORK);
	attr_ref(x, u, "resource_id", v->res->id, "id");
	attr_json(x, u, "body", json_pack("{s:{s:O}}", "properties", "summarizedGatewayPrefixes", sp));
}

/* ---- the driver ---- */

static int
res_cmp(const void *a, const void *b)
{
	const struct topo_resource *x = *(const struct topo_resource *const *)a;
	const struct topo_resource *y = *(const struct topo_resource *const *)b;

	return topo_id_compare(x->id, y->id);
}

static bool
vnet_migrated(const struct topo_vnet *v)
{
	return v->pe_vnet_policies != NULL && strcasecmp(v->pe_vnet_policies, "Disabled") != 0;
}

/* A VNet's own settings: the migrated private-endpoint policy, its summarized prefixes. */
static void
vnet(struct ex *x, const struct topo_resource *r)
{
	const struct topo_vnet *vn = r->view;

	if (vnet_migrated(vn))
		vnet_settings(x, vn);
	if (vn->summarized.n > 0)
		summarized(x, vn);
}

/* The kinds written, in this order, and the writer of each. */
static const struct {
	enum topo_type type;
	void (*write)(struct ex *x, const struct topo_resource *r);
} KINDS[] = {
	{ TOPO_NETWORK_MANAGER, network_manager },
	{ TOPO_NETWORK_GROUP, network_group },
	{ TOPO_STATIC_MEMBER, static_member },
	{ TOPO_CONNECTIVITY_CONFIG, connectivity_config },
	{ TOPO_VNET, vnet },
};

/* Every resource, in id order, by kind: managers, groups, members, configurations, VNets. */
static int
collect(struct ex *x)
{
	const struct topology *t = x->t;
	const struct topo_resource **v = t->nres > 0 ? malloc(t->nres * sizeof(*v)) : NULL;
	size_t i, k;

	if (t->nres > 0 && v == NULL)
		return -1;
	for (i = 0; i < t->nres; i++)
		v[i] = &t->res[i];
	if (t->nres > 1)
		qsort(v, t->nres, sizeof(*v), res_cmp);
	for (k = 0; k < sizeof(KINDS) / sizeof(KINDS[0]) && !x->oom; k++) {
		if (KINDS[k].type == TOPO_VNET)
			deployments(x); /* after the configurations they reference */
		for (i = 0; i < t->nres && !x->oom; i++)
			if (v[i]->type == KINDS[k].type && v[i]->view != NULL)
				KINDS[k].write(x, v[i]);
	}
	free(v);
	return x->oom ? -1 : 0;
}

static void
write_providers(FILE *f)
{
	fputs("terraform {\n"
	      "  required_providers {\n"
	      "    azapi = {\n"
	      "      source  = \"Azure/azapi\"\n"
	      "      version = \">= 2.0\"\n"
	      "    }\n"
	      "    azurerm = {\n"
	      "      source  = \"hashicorp/azurerm\"\n"
	      "      version = \">= 4.0\"\n"
	      "    }\n"
	      "  }\n"
	      "}\n", f);
}

static void
write_header(FILE *f, const struct export_opts *o, const char *what)
{
	fprintf(f, "# %s, written by netwave export", what);
	if (o->source != NULL)
		fputs(" from ", f), fputs(o->source, f);
	fputs(".\n# docs/iac.md says what is written and how to adopt it: terraform plan after\n"
	      "# terraform init should show the imports and no change.\n", f);
}

static void
write_resources(FILE *f, const struct ex *x)
{
	size_t i;

	for (i = 0; i < x->nres; i++) {
		fputc('\n', f);
		hcl_block_write(f, x->res[i], 0);
	}
}

static void
write_imports(FILE *f, const struct ex *x)
{
	const json_t *im;
	size_t i;

	json_array_foreach(x->imports, i, im) {
		fputs("\nimport {\n  to = ", f);
		fputs(json_string_value(json_array_get(im, 0)), f);
		fputs("\n  id = ", f);
		hcl_write_string(f, json_string_value(json_array_get(im, 1)));
		fputs("\n}\n", f);
	}
}

static int
render(struct export_result *out, const struct ex *x, const struct export_opts *o)
{
	size_t len;
	FILE *f = open_memstream(&out->root, &len);

	if (f == NULL)
		return -1;
	write_header(f, o, o->module != NULL ? "The root module" : "The estate after the migration");
	if (o->providers) {
		fputc('\n', f);
		write_providers(f);
	}
	if (o->module != NULL) {
		fprintf(f, "\nmodule \"%s\" {\n  source = \"./modules/%s\"\n}\n", o->module, o->module);
	} else {
		write_resources(f, x);
	}
	write_imports(f, x);
	if (fclose(f) != 0)
		return -1;
	if (o->module == NULL)
		return 0;
	if ((f = open_memstream(&out->module_text, &len)) == NULL)
		return -1;
	write_header(f, o, "The estate after the migration");
	fputc('\n', f);
	write_providers(f);
	write_resources(f, x);
	return fclose(f) != 0 ? -1 : 0;
}

int
export_terraform(struct export_result *out, const struct topology *t,
    const struct export_opts *opts, struct nw_err *err)
{
	struct ex x = { .t = t, .o = opts };
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (opts->module != NULL && !hcl_is_identifier(opts->module))
		return err_set(err, NW_EINPUT, "--module: '%s' is not a Terraform name (letters, digits, "
		    "'_' and '-', starting with a letter)", opts->module);
	x.labels = json_object();
	x.refs = json_object();
	x.imports = json_array();
	if (x.labels == NULL || x.refs == NULL || x.imports == NULL || collect(&x) != 0 ||
	    render(out, &x, opts) != 0) {
		rc = err_set(err, NW_ENOMEM, "out of memory writing the Terraform");
		export_result_free(out);
	} else {
		out->nresources = x.nres;
		out->nimports = json_array_size(x.imports);
		out->nmanaged = x.nmanaged;
	}
	for (i = 0; i < x.nres; i++)
		hcl_block_free(x.res[i]);
	free(x.res);
	json_decref(x.labels);
	json_decref(x.refs);
	json_decref(x.imports);
	return rc;
}

void
export_result_free(struct export_result *r)
{
	if (r == NULL)
		return;
	free(r->root);
	free(r->module_text);
	memset(r, 0, sizeof(*r));
}
