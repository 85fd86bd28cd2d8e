/*
 * The ARM template writer of plan/export.h: the same resources as the
 * Terraform (network managers, groups, static members, connectivity
 * configurations, and the VNets whose migrated settings it carries, whole,
 * since a VNet deployed without its subnets loses them) as one
 * subscription-scope template whose nested deployments, one per resource
 * group, hold them (template syntax: learn.microsoft.com/azure/
 * azure-resource-manager/templates/syntax and .../deploy-to-resource-group,
 * "Deploy to multiple resource groups").  `bicep decompile` reads it.
 * A commit of a network manager is an action, not a resource: templates
 * cannot hold it, so the template lists the commits under metadata.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/arm_api.h"
#include "plan/export.h"
#include "plan/jsonutil.h"

#define SUB_SCHEMA "https://schema.management.azure.com/schemas/2018-05-01/" \
	"subscriptionDeploymentTemplate.json#"
#define RG_SCHEMA "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"

/* What ARM fills in and refuses or ignores on a PUT. */
static void
strip_read_only(json_t *v, int depth)
{
	static const char *const keys[] = { "provisioningState", "resourceGuid", "etag" };
	const char *k;
	json_t *x;
	size_t i;

	if (depth > 32)
		return;
	if (json_is_object(v)) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			json_object_del(v, keys[i]);
		json_object_foreach(v, k, x)
			strip_read_only(x, depth + 1);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			strip_read_only(x, depth + 1);
	}
}

/* "nm/ng/sm" from ".../providers/Microsoft.Network/networkManagers/nm/networkGroups/ng/staticMembers/sm". */
static void
arm_name(char *out, size_t size, const char *id)
{
	const char *p = strcasestr(id, "/providers/"), *s;
	size_t n = 0;
	int seg = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("/providers/");
	p = strchr(p, '/'); /* past the namespace */
	for (; p != NULL && *p == '/'; p = s) {
		s = strchr(p + 1, '/');
		if (seg++ % 2 == 1 && n + 1 < size) {
			size_t len = s != NULL ? (size_t)(s - p - 1) : strlen(p + 1);

			n += (size_t)snprintf(out + n, size - n, "%s%.*s", n > 0 ? "/" : "", (int)len, p + 1);
		}
	}
}

/* The parent's resourceId() for dependsOn, or NULL for a top-level resource. */
static json_t *
parent_ref(const char *type, const char *name)
{
	char ptype[256], pname[512], expr[1024], *slash;
	const char *n;
	size_t len;

	if ((slash = strrchr(type, '/')) == NULL || strchr(type, '/') == slash)
		return NULL;
	snprintf(ptype, sizeof(ptype), "%.*s", (int)(slash - type), type);
	len = strrchr(name, '/') != NULL ? (size_t)(strrchr(name, '/') - name) : 0;
	snprintf(pname, sizeof(pname), "%.*s", (int)len, name);
	snprintf(expr, sizeof(expr), "[resourceId('%s'", ptype);
	for (n = pname; *n != '\0';) {
		const char *e = strchr(n, '/');
		size_t l = e != NULL ? (size_t)(e - n) : strlen(n);

		snprintf(expr + strlen(expr), sizeof(expr) - strlen(expr), ", '%.*s'", (int)l, n);
		n += l + (e != NULL ? 1 : 0);
	}
	strncat(expr, ")]", sizeof(expr) - strlen(expr) - 1);
	return json_pack("[s]", expr);
}

static json_t *
template_resource(const struct topo_resource *r)
{
	char name[1024];
	json_t *o, *props, *dep;

	arm_name(name, sizeof(name), r->id);
	props = json_deep_copy(json_object_get(r->json, "properties"));
	if (props == NULL)
		props = json_object();
	strip_read_only(props, 0);
	o = json_pack("{s:s, s:s, s:s, s:o}", "type", r->type_name, "apiVersion", ARM_API_NETWORK,
	    "name", name, "properties", props);
	if (o == NULL)
		return NULL;
	if (r->location != NULL)
		json_object_set_new(o, "location", json_string(r->location));
	if (json_object_size(json_object_get(r->json, "tags")) > 0)
		json_object_set_new(o, "tags", json_deep_copy(json_object_get(r->json, "tags")));
	if ((dep = parent_ref(r->type_name, name)) != NULL)
		json_object_set_new(o, "dependsOn", dep);
	return o;
}

static bool
exported(const struct topo_resource *r, const struct iac_map *managed)
{
	const struct iac_entry *e;
	const struct topo_vnet *v = r->view;

	if (iac_map_find(managed, r->id, &e) > 0)
		return false;
	switch (r->type) {
	case TOPO_NETWORK_MANAGER:
	case TOPO_NETWORK_GROUP:
	case TOPO_STATIC_MEMBER:
	case TOPO_CONNECTIVITY_CONFIG:
		return true;
	case TOPO_VNET:
		return v != NULL && ((v->pe_vnet_policies != NULL &&
		    strcasecmp(v->pe_vnet_policies, "Disabled") != 0) || v->summarized.n > 0);
	default:
		return false;
	}
}

/* The nested deployment of a resource group, made on first use. */
static json_t *
group_resources(json_t *groups, const struct topo_resource *r)
{
	char key[512], name[64];
	json_t *d;

	snprintf(key, sizeof(key), "%s/%s", r->subscription, r->resource_group);
	if ((d = json_object_get(groups, key)) != NULL)
		return json_path(d, "properties", "template", "resources", NULL);
	/* deployment names are at most 64 characters */
	snprintf(name, sizeof(name), "netwave-%s", r->resource_group);
	d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}, s:{s:s, s:s, s:[]}}}",
	    "type", "Microsoft.Resources/deployments", "apiVersion", ARM_API_RESOURCES,
	    "name", name, "subscriptionId", r->subscription, "resourceGroup", r->resource_group,
	    "properties", "mode", "Incremental", "expressionEvaluationOptions", "scope", "inner",
	    "template", "$schema", RG_SCHEMA, "contentVersion", "1.0.0.0", "resources");
	if (d == NULL || json_object_set_new(groups, key, d) != 0)
		return NULL;
	return json_path(d, "properties", "template", "resources", NULL);
}

static json_t *
commits(const struct topology *t)
{
	json_t *out = json_array();
	size_t i, j;

	for (i = 0; out != NULL && i < t->ndeployments; i++) {
		const struct topo_deployment *d = &t->deployments[i];
		json_t *ids = json_array();

		for (j = 0; ids != NULL && j < d->nconfigs; j++)
			json_array_append_new(ids, json_string(d->config_ids[j]));
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:o*}", "networkManager",
		    d->manager_id, "region", d->region, "commitType", d->config_type,
		    "configurationIds", ids));
	}
	return out;
}

int
export_arm_template(json_t **out, const struct topology *t, const struct export_opts *opts,
    struct nw_err *err)
{
	json_t *groups = json_object(), *doc = NULL, *resources, *d;
	const char *key;
	size_t i;

	*out = NULL;
	if (groups == NULL)
		goto oom;
	for (i = 0; i < t->nres; i++) {
		const struct topo_resource *r = &t->res[i];
		json_t *list, *res;

		if (r->subscription == NULL || r->resource_group == NULL || !exported(r, opts->managed))
			continue;
		if ((list = group_resources(groups, r)) == NULL || (res = template_resource(r)) == NULL ||
		    json_array_append_new(list, res) != 0)
			goto oom;
	}
	doc = json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:[]}", "$schema", SUB_SCHEMA,
	    "contentVersion", "1.0.0.0", "metadata", "generator", "netwave export", "source",
	    opts->source != NULL ? opts->source : "", "avnmCommits", commits(t), "resources");
	if (doc == NULL)
		goto oom;
	resources = json_object_get(doc, "resources");
	/* keys sorted: one nested deployment per subscription/resource group, in that order */
	{
		size_t n = json_object_size(groups), k = 0;
		const char **keys = n > 0 ? malloc(n * sizeof(*keys)) : NULL;

		if (n > 0 && keys == NULL)
			goto oom;
		json_object_foreach(groups, key, d)
			keys[k++] = key;
		for (i = 0; i + 1 < n; i++)
			for (k = i + 1; k < n; k++)
				if (strcasecmp(keys[k], keys[i]) < 0) {
					const char *tmp = keys[i];
					keys[i] = keys[k];
					keys[k] = tmp;
				}
		for (i = 0; i < n; i++)
			json_array_append(resources, json_object_get(groups, keys[i]));
		free(keys);
	}
	json_decref(groups);
	*out = doc;
	return 0;
oom:
	json_decref(groups);
	json_decref(doc);
	return err_set(err, NW_ENOMEM, "out of memory writing the ARM template");
}
