/*
 * Reading Terraform state and ARM deployment history into the id-to-
 * address map of plan/iac.h.  Two Terraform layouts are read:
 *
 *  - the raw state file, format version 4 (Terraform 0.12 and later):
 *    resources[] with module, mode, type, name and instances[] whose
 *    index_key is the count index or the for_each key;
 *  - `terraform show -json` (format_version 1.x): values.root_module with
 *    resources[] (each with its address) and child_modules[] recursively.
 *
 * Both are documented at
 * https://developer.hashicorp.com/terraform/internals/json-format (show)
 * and https://developer.hashicorp.com/terraform/language/state (the raw
 * file; its version 4 layout is Terraform's states/statefile/version4.go).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/iac.h"
#include "plan/jsonutil.h"
#include "plan/vec.h"

struct iac_map *
iac_map_new(void)
{
	return calloc(1, sizeof(struct iac_map));
}

static void
entry_free(struct iac_entry *e)
{
	free(e->key);
	json_decref(e->attrs);
}

void
iac_map_free(struct iac_map *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		entry_free(&m->v[i]);
	free(m->v);
	free(m);
}

static bool
is_azure_id(const char *s)
{
	return s != NULL && strncasecmp(s, "/subscriptions/", 15) == 0 && strlen(s) > 15;
}

/*
 * Adds one entry; steals nothing: its five strings are copied into one
 * block that e->key owns, and attrs gets a new reference.
 */
static int
map_add(struct iac_map *m, enum iac_source src, const char *id, const char *address,
    const char *type, const char *file, const char *block, json_t *attrs, struct nw_err *err)
{
	size_t lid = strlen(id) + 1, laddr = strlen(address) + 1, ltype = strlen(type) + 1;
	struct iac_entry *e;
	char *buf;

	if (VEC_GROW(m->v, &m->cap, m->n + 1) != 0 ||
	    (buf = malloc(2 * lid + laddr + ltype + strlen(file) + 1)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	e = &m->v[m->n++];
	memset(e, 0, sizeof(*e));
	e->source = src;
	e->block = block;
	e->key = buf;
	str_lower(e->key, lid, id);
	e->id = memcpy(e->key + lid, id, lid);
	e->address = memcpy(e->id + lid, address, laddr);
	e->tf_type = memcpy(e->address + laddr, type, ltype);
	e->file = strcpy(e->tf_type + ltype, file);
	e->attrs = json_incref(attrs);
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct iac_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	c = strcmp(x->address, y->address);
	if (c != 0)
		return c;
	return strcmp(x->file, y->file);
}

static void
map_sort(struct iac_map *m)
{
	if (m->n > 1)
		qsort(m->v, m->n, sizeof(*m->v), entry_cmp);
}

size_t
iac_map_find(const struct iac_map *m, const char *id, const struct iac_entry **first)
{
	size_t lo = 0, hi, n = 0;
	char *key;

	*first = NULL;
	if (m == NULL || id == NULL || m->n == 0 || (key = str_lower_dup(id)) == NULL)
		return 0;
	hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < m->n && strcmp(m->v[lo + n].key, key) == 0)
		n++;
	if (n > 0)
		*first = &m->v[lo];
	free(key);
	return n;
}

const json_t *
iac_entry_attr(const struct iac_entry *e, const char *name)
{
	const json_t *v = e->attrs != NULL ? json_object_get(e->attrs, name) : NULL;

	return json_is_null(v) ? NULL : v;
}

bool
iac_key_is_secret(const char *key)
{
	static const char *const words[] = { "key", "secret", "password", "token", "credential",
		"certificate", "sas" };
	char *l = str_lower_dup(key != NULL ? key : "");
	bool r = false;
	size_t i;

	if (l == NULL)
		return true;
	for (i = 0; i < sizeof(words) / sizeof(words[0]) && !r; i++)
		r = strstr(l, words[i]) != NULL;
	free(l);
	return r;
}

/* ---- children declared inline ---- */

/* A block list of a resource whose entries are child resources. */
struct inline_kind {
	const char *tf_type;
	const char *block;   /* the attribute holding the list of blocks */
	const char *segment; /* the child id's type segment */
};

/*
 * azurerm resources that declare children inline (registry.terraform.io
 * providers/hashicorp/azurerm docs: virtual_network "subnet" blocks,
 * route_table "route" blocks, network_security_group "security_rule").
 */
static const struct inline_kind inline_kinds[] = {
	{ "azurerm_virtual_network", "subnet", "subnets" },
	{ "azurerm_route_table", "route", "routes" },
	{ "azurerm_network_security_group", "security_rule", "securityRules" },
};

/* azapi_resource bodies: the ARM arrays of children under properties. */
static const struct inline_kind azapi_inline_kinds[] = {
	{ "Microsoft.Network/virtualNetworks", "subnets", "subnets" },
	{ "Microsoft.Network/virtualNetworks", "virtualNetworkPeerings", "virtualNetworkPeerings" },
	{ "Microsoft.Network/routeTables", "routes", "routes" },
	{ "Microsoft.Network/networkSecurityGroups", "securityRules", "securityRules" },
};

static int
add_child(struct iac_map *m, const char *parent_id, const char *segment, json_t *blk,
    const char *address, const char *type, const char *file, const char *block, struct nw_err *err)
{
	const char *cid = json_str(blk, "id"), *name = json_str(blk, "name");
	char *built = NULL;
	int rc;

	if (!is_azure_id(cid)) {
		size_t n;

		if (name == NULL || *name == '\0')
			return 0;
		n = strlen(parent_id) + strlen(segment) + strlen(name) + 3;
		if ((built = malloc(n)) == NULL)
			return err_set(err, NW_ENOMEM, "out of memory");
		snprintf(built, n, "%s/%s/%s", parent_id, segment, name);
		cid = built;
	}
	rc = map_add(m, IAC_TERRAFORM, cid, address, type, file, block, blk, err);
	free(built);
	return rc;
}

/* The body of an azapi resource as an object: azapi 1.x stored it as a JSON string. */
static json_t *
azapi_body(const json_t *attrs)
{
	const json_t *b = json_object_get(attrs, "body");

	if (json_is_object(b))
		return json_incref((json_t *)b);
	if (json_is_string(b))
		return json_loads(json_string_value(b), JSON_REJECT_DUPLICATES, NULL);
	return NULL;
}

static int
add_inline(struct iac_map *m, const char *id, const char *address, const char *type,
    json_t *attrs, const char *file, struct nw_err *err)
{
	size_t i, j;
	json_t *blk, *body;
	const char *atype;
	int rc = 0;

	for (i = 0; i < sizeof(inline_kinds) / sizeof(inline_kinds[0]); i++) {
		if (strcmp(type, inline_kinds[i].tf_type) != 0)
			continue;
		json_array_foreach(json_object_get(attrs, inline_kinds[i].block), j, blk)
			if ((rc = add_child(m, id, inline_kinds[i].segment, blk, address, type, file,
			    inline_kinds[i].block, err)) != 0)
				return rc;
	}
	if (strcmp(type, "azapi_resource") != 0 || (atype = json_str(attrs, "type")) == NULL)
		return 0;
	if ((body = azapi_body(attrs)) == NULL)
		return 0;
	for (i = 0; i < sizeof(azapi_inline_kinds) / sizeof(azapi_inline_kinds[0]) && rc == 0; i++) {
		size_t tl = strlen(azapi_inline_kinds[i].tf_type);

		if (strncasecmp(atype, azapi_inline_kinds[i].tf_type, tl) != 0 || atype[tl] != '@')
			continue;
		json_array_foreach(json_path(body, "properties", azapi_inline_kinds[i].block, NULL), j, blk)
			if ((rc = add_child(m, id, azapi_inline_kinds[i].segment, blk, address, type, file,
			    azapi_inline_kinds[i].block, err)) != 0)
				break;
	}
	json_decref(body);
	return rc;
}

/* Adds an instance: its id, and the children it declares inline. */
static int
add_instance(struct iac_map *m, const char *address, const char *type, json_t *attrs,
    const char *file, struct nw_err *err)
{
	const char *id = json_str(attrs, "id");
	int rc;

	if (strcmp(type, "azapi_update_resource") == 0 && is_azure_id(json_str(attrs, "resource_id")))
		id = json_str(attrs, "resource_id");
	m->ninstances++;
	if (!is_azure_id(id))
		return 0;
	if ((rc = map_add(m, IAC_TERRAFORM, id, address, type, file, NULL, attrs, err)) != 0)
		return rc;
	return add_inline(m, id, address, type, attrs, file, err);
}

/* ---- the raw state file, version 4 ---- */

/* Appends s to buf as an HCL string literal, as Terraform writes instance keys. */
static void
append_quoted(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	if (n + 1 < size)
		buf[n++] = '"';
	for (; *s != '\0' && n + 3 < size; s++) {
		if (*s == '"' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n] = '\0';
}

/* "[0]" or "[\"key\"]" for an index_key; "" when there is none. */
static int
index_suffix(char *buf, size_t size, const json_t *key)
{
	buf[0] = '\0';
	if (key == NULL || json_is_null(key))
		return 0;
	if (json_is_integer(key)) {
		snprintf(buf, size, "[%lld]", (long long)json_integer_value(key));
		return 0;
	}
	if (!json_is_string(key))
		return -1;
	snprintf(buf, size, "[");
	append_quoted(buf, size, json_string_value(key));
	strncat(buf, "]", size - strlen(buf) - 1);
	return 0;
}

static int
bad(struct nw_err *err, const char *file, const char *ptr, const char *what)
{
	return err_set(err, NW_EINPUT, "%s: %s: %s", file, ptr, what);
}

static int
load_raw_resource(struct iac_map *m, json_t *r, size_t ri, const char *file, struct nw_err *err)
{
	const char *module = json_str(r, "module"), *mode = json_str(r, "mode");
	const char *type = json_str(r, "type"), *name = json_str(r, "name");
	json_t *instances = json_object_get(r, "instances"), *inst;
	char ptr[96], address[2048], idx[1024];
	size_t i;
	int rc;

	snprintf(ptr, sizeof(ptr), "/resources/%zu", ri);
	if (mode == NULL || type == NULL || name == NULL)
		return bad(err, file, ptr, "a resource needs \"mode\", \"type\" and \"name\"");
	if (!json_is_array(instances))
		return bad(err, file, ptr, "\"instances\" is not an array");
	if (strcmp(mode, "managed") != 0)
		return 0; /* data sources read, they do not manage */
	json_array_foreach(instances, i, inst) {
		json_t *attrs = json_object_get(inst, "attributes");

		snprintf(ptr, sizeof(ptr), "/resources/%zu/instances/%zu", ri, i);
		if (index_suffix(idx, sizeof(idx), json_object_get(inst, "index_key")) != 0)
			return bad(err, file, ptr, "\"index_key\" is neither a number nor a string");
		if (!json_is_object(attrs)) {
			if (json_object_get(inst, "attributes_flat") != NULL)
				return bad(err, file, ptr, "flat attributes are Terraform 0.11 state; "
				    "run terraform 0.12 or later once to upgrade it");
			return bad(err, file, ptr, "an instance needs \"attributes\"");
		}
		snprintf(address, sizeof(address), "%s%s%s.%s%s", module != NULL ? module : "",
		    module != NULL ? "." : "", type, name, idx);
		if ((rc = add_instance(m, address, type, attrs, file, err)) != 0)
			return rc;
	}
	return 0;
}

static int
load_raw(struct iac_map *m, json_t *doc, const char *file, struct nw_err *err)
{
	json_t *version = json_object_get(doc, "version"), *resources, *r;
	size_t i;
	int rc;

	if (!json_is_integer(version))
		return bad(err, file, "/version", "not a number");
	if (json_integer_value(version) != 4)
		return err_set(err, NW_EINPUT, "%s: /version: state version %lld is not read; netwave "
		    "reads version 4 (Terraform 0.12 and later): run terraform 0.12 or later on it once",
		    file, (long long)json_integer_value(version));
	resources = json_object_get(doc, "resources");
	if (resources != NULL && !json_is_array(resources))
		return bad(err, file, "/resources", "not an array");
	json_array_foreach(resources, i, r) {
		if (!json_is_object(r)) {
			char ptr[64];

			snprintf(ptr, sizeof(ptr), "/resources/%zu", i);
			return bad(err, file, ptr, "not an object");
		}
		if ((rc = load_raw_resource(m, r, i, file, err)) != 0)
			return rc;
	}
	return 0;
}

/* ---- terraform show -json ---- */

static int
load_module(struct iac_map *m, json_t *mod, const char *ptr, int depth, const char *file,
    struct nw_err *err)
{
	json_t *r, *child;
	char p[512];
	size_t i;
	int rc;

	if (depth > 64)
		return bad(err, file, ptr, "modules nested too deep");
	json_array_foreach(json_object_get(mod, "resources"), i, r) {
		const char *address = json_str(r, "address"), *type = json_str(r, "type");
		const char *mode = json_str(r, "mode");
		json_t *values = json_object_get(r, "values");

		snprintf(p, sizeof(p), "%s/resources/%zu", ptr, i);
		if (address == NULL || type == NULL || mode == NULL)
			return bad(err, file, p, "a resource needs \"address\", \"mode\" and \"type\"");
		if (strcmp(mode, "managed") != 0)
			continue;
		if (!json_is_object(values))
			return bad(err, file, p, "a resource needs \"values\"");
		if ((rc = add_instance(m, address, type, values, file, err)) != 0)
			return rc;
	}
	json_array_foreach(json_object_get(mod, "child_modules"), i, child) {
		snprintf(p, sizeof(p), "%s/child_modules/%zu", ptr, i);
		if (!json_is_object(child))
			return bad(err, file, p, "not an object");
		if ((rc = load_module(m, child, p, depth + 1, file, err)) != 0)
			return rc;
	}
	return 0;
}

static int
load_show(struct iac_map *m, json_t *doc, const char *file, struct nw_err *err)
{
	const char *fv = json_str(doc, "format_version");
	json_t *root;

	if (fv == NULL)
		return bad(err, file, "/format_version", "not a string");
	if (strncmp(fv, "1.", 2) != 0 && strcmp(fv, "1") != 0)
		return err_set(err, NW_EINPUT, "%s: /format_version: format version \"%s\" is not read; "
		    "netwave reads terraform show -json format 1.x", file, fv);
	if (json_object_get(doc, "planned_values") != NULL && json_object_get(doc, "values") == NULL)
		return err_set(err, NW_EINPUT, "%s: /planned_values: this is a plan (terraform show -json "
		    "PLANFILE); give the state: terraform show -json with no plan file", file);
	root = json_path(doc, "values", "root_module", NULL);
	if (root == NULL)
		return 0; /* an empty state: show -json prints no values */
	if (!json_is_object(root))
		return bad(err, file, "/values/root_module", "not an object");
	return load_module(m, root, "/values/root_module", 0, file, err);
}

int
iac_map_load_buffer(struct iac_map *m, const char *buf, size_t len, const char *name,
    struct nw_err *err)
{
	json_error_t je;
	json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	size_t before = m->n;
	int rc;

	if (doc == NULL)
		return err_set(err, NW_EINPUT, "%s: line %d, column %d: %s", name, je.line, je.column,
		    je.text);
	if (!json_is_object(doc))
		rc = bad(err, name, "", "not a Terraform state (not an object)");
	else if (json_object_get(doc, "version") != NULL)
		rc = load_raw(m, doc, name, err);
	else if (json_object_get(doc, "format_version") != NULL)
		rc = load_show(m, doc, name, err);
	else
		rc = bad(err, name, "", "not a Terraform state: neither \"version\" (a state file) nor "
		    "\"format_version\" (terraform show -json)");
	json_decref(doc);
	if (rc != 0) {
		/* nothing half-read: the entries of a bad file go */
		while (m->n > before)
			entry_free(&m->v[--m->n]);
		return rc;
	}
	m->nfiles++;
	map_sort(m);
	return 0;
}

int
iac_map_load_file(struct iac_map *m, const char *path, struct nw_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = file_read_all(&buf, &len, path, IAC_MAX_BYTES, err);

	if (rc == 0)
		rc = iac_map_load_buffer(m, buf, len, path, err);
	free(buf);
	return rc;
}

/* ---- ARM deployment history ---- */

/*
 * observed.armDeployments (written by discover --deployments from
 * "Deployments - List By Resource Group",
 * https://learn.microsoft.com/rest/api/resources/deployments/list-by-resource-group):
 * DeploymentExtended objects, { "id", "name", "properties": {
 * "provisioningState", "timestamp", "outputResources": [{ "id" }] } }.
 * A resource is attributed to the most recent successful deployment that
 * lists it among its outputResources.
 */
/* The timestamp of deployment i ("" when absent). */
static const char *
dep_time(const json_t *deps, size_t i)
{
	const char *ts = json_path_str(json_array_get(deps, i), "properties", "timestamp", NULL);

	return ts != NULL ? ts : "";
}

int
iac_map_add_deployments(struct iac_map *m, const json_t *observed, struct nw_err *err)
{
	const json_t *deps = json_object_get(observed, "armDeployments"), *d, *r;
	json_t *seen, *v;
	const char *key;
	size_t i, j;
	int rc = 0;

	if (!json_is_array(deps) || json_array_size(deps) == 0)
		return 0;
	/* lowercased id -> [index of the latest deployment naming it, the id as written] */
	if ((seen = json_object()) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	json_array_foreach(deps, i, d) {
		const char *state = json_path_str(d, "properties", "provisioningState", NULL);

		if (state != NULL && strcmp(state, "Succeeded") != 0)
			continue;
		json_array_foreach(json_path(d, "properties", "outputResources", NULL), j, r) {
			const char *rid = json_is_string(r) ? json_string_value(r) : json_str(r, "id");
			char *lk;

			if (!is_azure_id(rid) || (lk = str_lower_dup(rid)) == NULL)
				continue;
			v = json_object_get(seen, lk);
			if (v == NULL || strcmp(dep_time(deps, (size_t)json_integer_value(
			    json_array_get(v, 0))), dep_time(deps, i)) <= 0)
				json_object_set_new(seen, lk, json_pack("[Is]", (json_int_t)i, rid));
			free(lk);
		}
	}
	json_object_foreach(seen, key, v) {
		const json_t *dep = json_array_get(deps, (size_t)json_integer_value(json_array_get(v, 0)));
		const char *did = json_str(dep, "id"), *dname = json_str(dep, "name");

		if (json_array_size(v) != 2)
			continue;
		if ((rc = map_add(m, IAC_DEPLOYMENT, json_string_value(json_array_get(v, 1)),
		    dname != NULL ? dname : "?", "Microsoft.Resources/deployments",
		    did != NULL ? did : "?", NULL, NULL, err)) != 0)
			break;
	}
	json_decref(seen);
	map_sort(m);
	return rc;
}
