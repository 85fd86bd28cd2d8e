/*
 * netwave discover's engine: reads an estate from ARM into a
 * netwave.topology/v1 document (DESIGN.md, "File formats").
 *
 * Resources come from Resource Graph first (1,000 rows a page,
 * $skipToken), or, when Resource Graph is not available to the caller,
 * from ARM list calls per type and subscription (nextLink paging); the
 * choice is made automatically and reported.  AVNM's child resources
 * (network groups, static members, connectivity configurations) are
 * always listed per network manager.  Then what ARM tells only through
 * actions and queries goes under "observed": the routes each circuit's
 * private peering learned from on-premises (a long-running POST), the
 * preview features the planner needs, and the connectivity configurations
 * each network manager has deployed per region.
 *
 * Everything is submitted at once and runs concurrently through the
 * provider; a 403 on one type is reported and skipped, not fatal.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "plan/arm_api.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/azure/azure.h"
#include "providers/azure/internal.h"

/*
 * Every type discovery records.  The top-level ones (one '/' in the type)
 * are read by Resource Graph or by a list per subscription; the others are
 * listed below their parent (network managers, network groups, route
 * servers).
 */
const char *const azure_discover_types[] = {
	"Microsoft.Network/virtualNetworks",
	"Microsoft.Network/virtualNetworkGateways",
	"Microsoft.Network/publicIPAddresses",
	"Microsoft.Network/connections",
	"Microsoft.Network/expressRouteCircuits",
	"Microsoft.Network/routeTables",
	"Microsoft.Network/privateEndpoints",
	"Microsoft.Network/networkInterfaces",
	"Microsoft.Network/networkSecurityGroups",
	"Microsoft.Network/natGateways",
	"Microsoft.Network/localNetworkGateways",
	"Microsoft.Network/azureFirewalls",
	"Microsoft.Network/networkManagers",
	"Microsoft.Network/networkManagers/networkGroups",
	"Microsoft.Network/networkManagers/connectivityConfigurations",
	"Microsoft.Network/networkManagers/networkGroups/staticMembers",
	"Microsoft.Network/virtualHubs",
	"Microsoft.Network/virtualHubs/ipConfigurations",
	"Microsoft.Network/virtualHubs/bgpConnections",
	NULL,
};

/* Preview features the planner reads (DESIGN.md, "The planner"). */
static const char *const features[] = {
	"AllowHighScaleConnectedGroup",
	"EnableMaxPrivateEndpointsVia64kPath",
	NULL,
};

/* Fields of an ARM resource a Resource Graph row carries; the rest is Resource Graph's own. */
static const char *const arm_fields[] = {
	"id", "name", "location", "tags", "properties", "sku", "zones", "identity",
	"extendedLocation", "kind", "managedBy", "plan", "etag", NULL,
};

/*
 * Resource groups are part of the estate: the planner creates the ones a
 * change writes into that do not exist.  Resource Graph keeps them in the
 * ResourceContainers table; the fallback is "Resource Groups - List"
 * (https://learn.microsoft.com/rest/api/resources/resource-groups/list, Microsoft.Resources
 * 2021-04-01).  They are recorded as "Resource Groups - Get" returns them.
 */
#define TYPE_RESOURCE_GROUP "Microsoft.Resources/resourceGroups"
#define GRAPH_TYPE_RESOURCE_GROUP "microsoft.resources/subscriptions/resourcegroups"
#define API_RESOURCES ARM_API_RESOURCES

#define GRAPH_SUBSCRIPTIONS_PER_QUERY 300

struct disc;
struct job;

/* What a job does with its operation once it is finished. */
typedef void job_fn(struct disc *d, struct job *j);

struct job {
	struct disc *d;
	job_fn *done;
	struct provider_op *op;
	char sub[64];
	char type[128];
	char id[1024];   /* circuit, manager or group id */
	char region[64];
	struct job *next;
};

struct disc {
	struct provider *p;
	const struct azure_discover_opts *o;
	struct azure_discover_report *rep;
	json_t *resources;   /* lowercase id -> resource */
	json_t *routes;      /* circuit id -> routes */
	json_t *features;    /* feature name -> state */
	json_t *avnm;        /* manager id -> region -> type -> [ids] */
	json_t *deployments; /* ARM deployments (DeploymentExtended), with --deployments */
	json_t *bgp_routes;  /* BGP connection id -> {learned, advertised} (discover_ars.c) */
	json_t *denied;      /* "type in subscription" -> message */
	struct job *jobs;
	unsigned ok_lists;   /* list calls that succeeded */
	int fatal;
	struct nw_err fatal_err;
	struct provider_op *graph_failure; /* the first failed query (borrowed from its job); NULL: none */
	double last_progress;
	bool progress_shown;
};

static void
say(struct disc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct disc *d, const char *fmt, ...)
{
	va_list ap;

	if (d->o->log == NULL)
		return;
	if (d->progress_shown && d->o->progress == d->o->log) {
		fputs("\r\033[K", d->o->log);
		d->progress_shown = false;
	}
	fputs("discover: ", d->o->log);
	va_start(ap, fmt);
	vfprintf(d->o->log, fmt, ap);
	va_end(ap);
	fputc('\n', d->o->log);
	fflush(d->o->log);
}

static void
progress(struct disc *d, bool final)
{
	struct provider_stats st;
	double now;

	if (d->o->progress == NULL)
		return;
	now = clock_mono();
	if (!final && now - d->last_progress < 0.2)
		return;
	d->last_progress = now;
	if (final) {
		if (d->progress_shown)
			fputs("\r\033[K", d->o->progress);
		d->progress_shown = false;
		fflush(d->o->progress);
		return;
	}
	provider_stats_get(d->p, &st);
	fprintf(d->o->progress, "\r\033[Kdiscover: %zu resources, %lu requests, %zu in flight",
	    json_object_size(d->resources), st.reads + st.writes + st.deletes, st.in_flight);
	fflush(d->o->progress);
	d->progress_shown = true;
}

static void
set_fatal(struct disc *d, const struct nw_err *err)
{
	if (d->fatal == 0) {
		d->fatal = err->code != 0 ? err->code : NW_EFAIL;
		d->fatal_err = *err;
	}
}

static struct job *
job_new(struct disc *d, job_fn *done, enum provider_op_kind ok, const char *method,
    const char *path, const json_t *body)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->op = provider_op_new(ok, method, path, body);
	if (j->op == NULL) {
		free(j);
		return NULL;
	}
	j->d = d;
	j->done = done;
	j->next = d->jobs;
	d->jobs = j;
	return j;
}

static void on_job(struct provider_op *op, void *arg);

static int
job_submit(struct job *j)
{
	struct nw_err err = { 0 };
	int rc;

	j->op->done = on_job;
	j->op->done_arg = j;
	if ((rc = provider_submit(j->d->p, j->op, &err)) != 0)
		set_fatal(j->d, &err);
	return rc;
}

static int
submit_new(struct disc *d, job_fn *done, enum provider_op_kind ok, const char *method,
    const char *path, const json_t *body, struct job **out)
{
	struct job *j = job_new(d, done, ok, method, path, body);
	struct nw_err err = { 0 };

	if (out != NULL)
		*out = j;
	if (j == NULL) {
		err_set(&err, NW_ENOMEM, "out of memory");
		set_fatal(d, &err);
		return NW_ENOMEM;
	}
	return job_submit(j);
}

/* A top-level type ("Microsoft.Network/virtualNetworks"), not a child type. */
static bool
top_type(const char *type)
{
	const char *slash = strchr(type, '/');

	return slash != NULL && strchr(slash + 1, '/') == NULL;
}

/* --- resources ------------------------------------------------------------------------- */

static const char *
canonical_type(const char *t)
{
	size_t i;

	/* Resource Graph's resourcecontainers type for what ARM calls Microsoft.Resources/resourceGroups */
	if (strcasecmp(t, GRAPH_TYPE_RESOURCE_GROUP) == 0 || strcasecmp(t, TYPE_RESOURCE_GROUP) == 0)
		return TYPE_RESOURCE_GROUP;

	for (i = 0; azure_discover_types[i] != NULL; i++)
		if (strcasecmp(azure_discover_types[i], t) == 0)
			return azure_discover_types[i];
	return t;
}

static void
add_resource(struct disc *d, json_t *res)
{
	const char *id = json_str(res, "id");
	char *low;

	if (id == NULL || json_str(res, "type") == NULL)
		return;
	low = str_lower_dup(id);
	if (low == NULL)
		return;
	json_object_set(d->resources, low, res);
	free(low);
}

/* A Resource Graph row in ARM's shape (internal.h). */
json_t *
az_graph_row_to_resource(const json_t *row)
{
	json_t *res = json_object();
	const char *type = json_str(row, "type");
	size_t i;

	if (res == NULL || type == NULL) {
		json_decref(res);
		return NULL;
	}
	for (i = 0; arm_fields[i] != NULL; i++) {
		json_t *v = json_object_get(row, arm_fields[i]);
		if (v == NULL || json_is_null(v))
			continue;
		if (json_is_string(v) && json_string_length(v) == 0 &&
		    (strcmp(arm_fields[i], "kind") == 0 || strcmp(arm_fields[i], "managedBy") == 0 ||
		    strcmp(arm_fields[i], "location") == 0))
			continue;
		json_object_set(res, arm_fields[i], v);
	}
	json_object_set_new(res, "type", json_string(canonical_type(type)));
	return res;
}

static bool
is_type(const json_t *res, const char *type)
{
	const char *t = json_str(res, "type");

	return t != NULL && strcasecmp(t, type) == 0;
}

/* Path-safe: ids go into URLs as they are. */
static bool
id_safe(const char *id)
{
	if (id == NULL || id[0] != '/')
		return false;
	for (; *id != '\0'; id++)
		if ((unsigned char)*id <= ' ' || *id == '?' || *id == '#' || *id == '%' || *id == '\\')
			return false;
	return true;
}

static void on_children(struct disc *d, struct job *j);

static void
list_children(struct disc *d, const char *parent_id, const char *segment, const char *type)
{
	char *path = NULL;
	struct job *j;

	if (!id_safe(parent_id))
		return;
	if (asprintf(&path, "%s/%s?api-version=%s", parent_id, segment, AZURE_API_NETWORK) < 0)
		return;
	/* callbacks run from provider_run (only out of memory fails inside submit), so filling
	 * the job after submitting is safe */
	submit_new(d, on_children, PROVIDER_OP_LIST, "GET", path, NULL, &j);
	if (j != NULL) {
		snprintf(j->type, sizeof(j->type), "%s", type);
		snprintf(j->id, sizeof(j->id), "%s", parent_id);
	}
	free(path);
}

/* A network manager was found: list what lies under it; a route server: its children. */
static void
found_manager(struct disc *d, const char *id)
{
	list_children(d, id, "networkGroups", TYPE_NETWORK_GROUP);
	list_children(d, id, "connectivityConfigurations", TYPE_CONNECTIVITY_CONFIG);
}

static void
found_parent(struct disc *d, const json_t *res)
{
	if (is_type(res, TYPE_NETWORK_MANAGER))
		found_manager(d, json_str(res, "id"));
	for (size_t i = 0; az_ars_is_route_server(res) && az_ars_children[i].segment != NULL; i++)
		list_children(d, json_str(res, "id"), az_ars_children[i].segment, az_ars_children[i].type);
}

/* Records and says that ARM refused j (HTTP 403) to read what; false when it did not refuse. */
static bool
denied(struct disc *d, const struct job *j, const char *what)
{
	const struct provider_op *op = j->op;
	char key[256];

	if (op->error.http_status != 403)
		return false;
	snprintf(key, sizeof(key), "%s in subscription %s", what, j->sub[0] != '\0' ? j->sub : "?");
	json_object_set_new(d->denied, key, json_string(op->err.msg));
	say(d, "warning: no permission to read %s (HTTP 403 %s); skipped", key,
	    op->error.code[0] != '\0' ? op->error.code : "Forbidden");
	return true;
}

/* With --resource-group, only those groups (ARM compares their names case-insensitively). */
static bool
group_wanted(const struct disc *d, const char *name)
{
	size_t i;

	if (d->o->nresource_groups == 0)
		return true;
	for (i = 0; name != NULL && i < d->o->nresource_groups; i++)
		if (strcasecmp(d->o->resource_groups[i], name) == 0)
			return true;
	return false;
}

/* The items of a list; children: the list of a resource's children (list_children). */
static void
list_done(struct disc *d, struct job *j, bool children)
{
	struct provider_op *op = j->op;
	json_t *v;
	size_t i;

	if (d->rep != NULL)
		d->rep->list_calls += op->requests - op->retries;
	if (op->phase == PROVIDER_PHASE_FAILED) {
		if (denied(d, j, j->type))
			return;
		if (op->error.http_status == 404 && (strcmp(op->error.code, "InvalidResourceType") == 0 ||
		    strcmp(op->error.code, "NoRegisteredProviderFound") == 0)) {
			say(d, "warning: ARM does not serve %s here (HTTP 404 %s); skipped", j->type,
			    op->error.code);
			return;
		}
		if (op->error.http_status == 404 && strcmp(op->error.code, "ResourceGroupNotFound") == 0) {
			say(d, "warning: %s", op->err.msg);
			d->ok_lists++;
			return;
		}
		set_fatal(d, &op->err);
		return;
	}
	/* the groups alone do not make an estate readable: only the network lists count */
	if (strcmp(j->type, TYPE_RESOURCE_GROUP) != 0)
		d->ok_lists++;
	json_array_foreach(op->result, i, v) {
		if (!json_is_object(v))
			continue;
		if (strcmp(j->type, TYPE_RESOURCE_GROUP) == 0 && !group_wanted(d, json_str(v, "name")))
			continue;
		if (json_str(v, "type") == NULL)
			json_object_set_new(v, "type", json_string(j->type));
		else
			json_object_set_new(v, "type", json_string(canonical_type(json_str(v, "type"))));
		add_resource(d, v);
		if (!children)
			found_parent(d, v);
		if (children && is_type(v, TYPE_NETWORK_GROUP))
			list_children(d, json_str(v, "id"), "staticMembers", TYPE_STATIC_MEMBER);
	}
}

static void
on_list(struct disc *d, struct job *j)
{
	list_done(d, j, false);
}

static void
on_children(struct disc *d, struct job *j)
{
	list_done(d, j, true);
}

static void
on_graph(struct disc *d, struct job *j)
{
	struct provider_op *op = j->op;
	json_t *row;
	size_t i;

	if (op->phase == PROVIDER_PHASE_FAILED) {
		if (d->graph_failure == NULL)
			d->graph_failure = op;
		return;
	}
	if (d->rep != NULL)
		d->rep->graph_queries += op->requests - op->retries;
	json_array_foreach(op->result, i, row) {
		json_t *res = az_graph_row_to_resource(row);
		if (res == NULL)
			continue;
		add_resource(d, res);
		json_decref(res);
	}
}

/* --- observed -------------------------------------------------------------------------- */

static void
on_circuit(struct disc *d, struct job *j)
{
	struct provider_op *op = j->op;

	if (op->phase == PROVIDER_PHASE_FAILED) {
		say(d, "warning: cannot read the routes circuit %s learned: %s", j->id, op->err.msg);
		return;
	}
	json_object_set_new(d->routes, j->id, az_circuit_routes_keep(op->result));
}

static int
state_rank(const char *s)
{
	static const char *const order[] = { "NotRegistered", "Unregistered", "Unregistering",
		"Pending", "Registering", "Registered", NULL };
	int i;

	for (i = 0; order[i] != NULL; i++)
		if (strcasecmp(order[i], s) == 0)
			return i;
	return -1;
}

static void
on_feature(struct disc *d, struct job *j)
{
	struct provider_op *op = j->op;
	const char *state, *had;
	char name[160];

	snprintf(name, sizeof(name), "Microsoft.Network/%s", j->type);
	if (op->phase == PROVIDER_PHASE_FAILED) {
		if (op->error.http_status == 404)
			return; /* a feature ARM does not know is simply not registered */
		say(d, "warning: cannot read feature %s in subscription %s: %s", name, j->sub,
		    op->err.msg);
		return;
	}
	state = json_path_str(op->result, "properties", "state", NULL);
	if (state == NULL)
		return;
	had = json_str(d->features, name);
	if (had != NULL && strcasecmp(had, state) != 0) {
		/* subscriptions disagree: the planner must assume the least registered */
		say(d, "warning: feature %s is %s in subscription %s but %s elsewhere; recording the "
		    "least registered", name, state, j->sub, had);
		if (state_rank(state) >= state_rank(had))
			return;
	}
	json_object_set_new(d->features, name, json_string(state));
}

/* obj[key], made with make and added when missing; NULL when out of memory (or obj is NULL). */
static json_t *
member_or_new(json_t *obj, const char *key, json_t *(*make)(void))
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL && json_object_set_new(obj, key, v = make()) != 0)
		return NULL;
	return v;
}

/* A manager's active connectivity configurations: manager id -> region -> type -> [ids]. */
static void
on_avnm(struct disc *d, struct job *j)
{
	const json_t *item;
	size_t i;

	if (j->op->phase == PROVIDER_PHASE_FAILED) {
		if (!denied(d, j, "active connectivity configurations"))
			set_fatal(d, &j->op->err);
		return;
	}
	json_array_foreach(j->op->result, i, item) {
		const char *cid = json_str(item, "id");
		const char *region = json_str(item, "region");
		json_t *m, *r;

		if (cid == NULL)
			continue;
		if (region == NULL || region[0] == '\0')
			region = j->region;
		m = member_or_new(d->avnm, j->id, json_object);
		r = member_or_new(m, region, json_object);
		json_array_append_new(member_or_new(r, "Connectivity", json_array), json_string(cid));
	}
}

/* A resource group's deployments (discover_deployments.c keeps what plan/iac.c reads). */
static void
on_deployments(struct disc *d, struct job *j)
{
	struct provider_op *op = j->op;

	if (op->phase == PROVIDER_PHASE_FAILED) {
		if (!denied(d, j, "deployments"))
			say(d, "warning: cannot read the deployments of %s: %s", j->id, op->err.msg);
		return;
	}
	az_deployments_keep(d->deployments, op->result);
}

/* A route server's BGP connection's learned or advertised routes (discover_ars.c keeps them). */
static void
on_bgp_routes(struct disc *d, struct job *j)
{
	const struct provider_op *op = j->op;

	if (op->phase == PROVIDER_PHASE_FAILED ||
	    az_ars_store(d->bgp_routes, j->id, j->type[0] == 'a', op->result) != 0)
		say(d, "warning: cannot read the %s routes of BGP connection %s: %s", j->type, j->id,
		    op->phase == PROVIDER_PHASE_FAILED ? op->err.msg : "not ARM's shape");
}

static void
on_job(struct provider_op *op, void *arg)
{
	struct job *j = arg;

	(void)op;
	j->done(j->d, j);
	progress(j->d, false);
}

static int
drive(struct disc *d)
{
	struct nw_err err = { 0 };
	int rc;

	if ((rc = provider_run(d->p, -1, &err)) != 0)
		set_fatal(d, &err);
	return d->fatal;
}

/* --- the two ways to read resources ------------------------------------------------------- */

static char *
graph_query(const struct azure_discover_opts *o)
{
	size_t cap = 4096, n = 0, i;
	char *q = malloc(cap);
	bool first;

	if (q == NULL)
		return NULL;
	n += (size_t)snprintf(q + n, cap - n, "Resources | where type in~ (");
	for (i = 0, first = true; azure_discover_types[i] != NULL; i++) {
		const char *t = azure_discover_types[i];
		char low[128];

		if (!top_type(t))
			continue;
		n += (size_t)snprintf(q + n, cap - n, "%s'%s'", first ? "" : ", ", str_lower(low, sizeof(low), t));
		first = false;
	}
	n += (size_t)snprintf(q + n, cap - n, ")");
	if (o->nresource_groups > 0) {
		for (i = 0; i < o->nresource_groups; i++) {
			size_t need = n + strlen(o->resource_groups[i]) + 64;
			if (need > cap) {
				char *b = realloc(q, need * 2);
				if (b == NULL) {
					free(q);
					return NULL;
				}
				q = b;
				cap = need * 2;
			}
			n += (size_t)snprintf(q + n, cap - n, "%s'%s'",
			    i == 0 ? " | where resourceGroup in~ (" : ", ", o->resource_groups[i]);
		}
		n += (size_t)snprintf(q + n, cap - n, ")");
	}
	if (n + 32 > cap) {
		char *b = realloc(q, n + 32);
		if (b == NULL) {
			free(q);
			return NULL;
		}
		q = b;
		cap = n + 32;
	}
	snprintf(q + n, cap - n, " | order by id asc");
	return q;
}

/* The resource groups in scope, from ResourceContainers; NULL on out of memory. */
static char *
graph_query_groups(const struct azure_discover_opts *o)
{
	size_t cap = 256, i;
	char *q;

	for (i = 0; i < o->nresource_groups; i++)
		cap += strlen(o->resource_groups[i]) + 8;
	if ((q = malloc(cap)) == NULL)
		return NULL;
	snprintf(q, cap, "ResourceContainers | where type =~ '%s'", GRAPH_TYPE_RESOURCE_GROUP);
	for (i = 0; i < o->nresource_groups; i++) {
		strcat(q, i == 0 ? " | where resourceGroup in~ ('" : ", '");
		strcat(q, o->resource_groups[i]);
		strcat(q, "'");
	}
	if (o->nresource_groups > 0)
		strcat(q, ")");
	strcat(q, " | order by id asc");
	return q;
}

static int
read_graph(struct disc *d)
{
	const struct azure_discover_opts *o = d->o;
	char *q = graph_query(o), *qg = graph_query_groups(o);
	size_t i;
	int rc = 0;

	if (q == NULL || qg == NULL) {
		struct nw_err err = { 0 };
		free(q);
		free(qg);
		err_set(&err, NW_ENOMEM, "out of memory");
		set_fatal(d, &err);
		return NW_ENOMEM;
	}
	/* Resource Graph takes at most 300 subscriptions a query */
	for (i = 0; i < o->nsubscriptions && rc == 0; i += GRAPH_SUBSCRIPTIONS_PER_QUERY) {
		const char *const queries[] = { q, qg };
		size_t k, w;

		for (w = 0; w < 2 && rc == 0; w++) {
			struct job *j = job_new(d, on_graph, PROVIDER_OP_QUERY, "POST", queries[w], NULL);

			if (j == NULL) {
				rc = NW_ENOMEM;
				break;
			}
			j->op->scopes = json_array();
			for (k = i; k < o->nsubscriptions && k < i + GRAPH_SUBSCRIPTIONS_PER_QUERY; k++)
				json_array_append_new(j->op->scopes, json_string(o->subscriptions[k]));
			rc = job_submit(j);
		}
	}
	free(q);
	free(qg);
	if (rc != 0)
		return rc;
	return drive(d);
}

/* One list call of a subscription: path (malloc'd, taken; NULL when it could not be built) lists type. */
static int
submit_list(struct disc *d, char *path, const char *sub, const char *type)
{
	struct job *j = NULL;

	if (path == NULL) {
		struct nw_err err = { 0 };
		err_set(&err, NW_ENOMEM, "out of memory");
		set_fatal(d, &err);
		return NW_ENOMEM;
	}
	submit_new(d, on_list, PROVIDER_OP_LIST, "GET", path, NULL, &j);
	free(path);
	if (j == NULL)
		return d->fatal;
	snprintf(j->sub, sizeof(j->sub), "%s", sub);
	snprintf(j->type, sizeof(j->type), "%s", type);
	return 0;
}

/* The list path of a network type in a subscription, or in one of its groups (rg not NULL). */
static char *
list_path(const char *sub, const char *rg, const char *type)
{
	const char *seg = strchr(type, '/') + 1;
	char *path = NULL, *erg = NULL;
	int n;

	if (rg == NULL)
		n = asprintf(&path, "/subscriptions/%s/providers/Microsoft.Network/%s?api-version=%s", sub,
		    seg, AZURE_API_NETWORK);
	else if ((erg = curl_easy_escape(NULL, rg, 0)) == NULL)
		n = -1;
	else
		n = asprintf(&path, "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/%s"
		    "?api-version=%s", sub, erg, seg, AZURE_API_NETWORK);
	curl_free(erg);
	return n < 0 ? NULL : path;
}

static int
read_lists(struct disc *d)
{
	const struct azure_discover_opts *o = d->o;
	size_t s, t, g;
	int rc;

	for (s = 0; s < o->nsubscriptions; s++) {
		char *path = NULL;

		if (asprintf(&path, "/subscriptions/%s/resourcegroups?api-version=%s", o->subscriptions[s],
		    API_RESOURCES) < 0)
			path = NULL;
		if ((rc = submit_list(d, path, o->subscriptions[s], TYPE_RESOURCE_GROUP)) != 0)
			return rc;
	}
	for (s = 0; s < o->nsubscriptions; s++) {
		for (t = 0; azure_discover_types[t] != NULL; t++) {
			size_t ng = o->nresource_groups > 0 ? o->nresource_groups : 1;

			if (!top_type(azure_discover_types[t]))
				continue;
			for (g = 0; g < ng; g++) {
				const char *rg = o->nresource_groups > 0 ? o->resource_groups[g] : NULL;

				if ((rc = submit_list(d, list_path(o->subscriptions[s], rg, azure_discover_types[t]),
				    o->subscriptions[s], azure_discover_types[t])) != 0)
					return rc;
			}
		}
	}
	return drive(d);
}

/* --- observed ----------------------------------------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static void
read_observed(struct disc *d)
{
	const struct azure_discover_opts *o = d->o;
	const char *key, **regions = NULL;
	size_t nregions = 0, i, s;
	json_t *res;

	/* regions where VNets are: a commit's goal state is per region */
	regions = calloc(json_object_size(d->resources) + 1, sizeof(*regions));
	json_object_foreach(d->resources, key, res) {
		const char *loc = json_str(res, "location");
		bool seen = false;
		if (!is_type(res, TYPE_VNET) || loc == NULL || regions == NULL)
			continue;
		for (i = 0; i < nregions; i++)
			if (strcasecmp(regions[i], loc) == 0)
				seen = true;
		if (!seen)
			regions[nregions++] = loc;
	}
	if (regions != NULL)
		qsort(regions, nregions, sizeof(*regions), cmp_str);

	json_object_foreach(d->resources, key, res) {
		const char *id = json_str(res, "id");
		struct job *j = NULL;
		char *path = NULL;

		if (!id_safe(id))
			continue;
		if (o->deployments && is_type(res, TYPE_RESOURCE_GROUP)) {
			if ((path = az_deployments_path(id)) == NULL)
				continue;
			submit_new(d, on_deployments, PROVIDER_OP_LIST, "GET", path, NULL, &j);
			free(path);
			if (j != NULL) {
				snprintf(j->id, sizeof(j->id), "%s", id);
				az_subscription_of(j->sub, sizeof(j->sub), id);
			}
		} else if (is_type(res, TYPE_CIRCUIT)) {
			if ((path = az_circuit_routes_path(res)) == NULL)
				continue;
			j = job_new(d, on_circuit, PROVIDER_OP_WRITE, "POST", path, NULL);
			free(path);
			if (j == NULL)
				continue;
			j->op->idempotent = true; /* it only reads */
			snprintf(j->id, sizeof(j->id), "%s", id);
			job_submit(j);
		} else if (az_ars_is_bgp_connection(d->resources, res)) {
			for (int adv = 0; adv < 2; adv++) {
				if (az_ars_routes_path(&path, id, adv) != 0 ||
				    (j = job_new(d, on_bgp_routes, PROVIDER_OP_WRITE, "POST", path, NULL)) == NULL) {
					free(path);
					continue;
				}
				free(path);
				j->op->idempotent = true; /* it only reads */
				snprintf(j->id, sizeof(j->id), "%s", id);
				snprintf(j->type, sizeof(j->type), "%s", adv ? "advertised" : "learned");
				job_submit(j);
			}
		} else if (is_type(res, TYPE_NETWORK_MANAGER)) {
			size_t nr = nregions;
			const char *own[1] = { json_str(res, "location") };
			const char **rl = regions;

			if (nr == 0 && own[0] != NULL) {
				rl = own;
				nr = 1;
			}
			for (i = 0; i < nr; i++) {
				json_t *body = json_pack("{s:[s]}", "regions", rl[i]);
				if (asprintf(&path, "%s/listActiveConnectivityConfigurations?api-version=%s", id,
				    AZURE_API_NETWORK) < 0) {
					json_decref(body);
					continue;
				}
				submit_new(d, on_avnm, PROVIDER_OP_POST_LIST, "POST", path, body, &j);
				free(path);
				json_decref(body);
				if (j != NULL) {
					snprintf(j->id, sizeof(j->id), "%s", id);
					snprintf(j->region, sizeof(j->region), "%s", rl[i]);
					snprintf(j->sub, sizeof(j->sub), "%s", o->subscriptions[0]);
				}
			}
		}
	}
	free(regions);

	for (s = 0; s < o->nsubscriptions; s++) {
		for (i = 0; features[i] != NULL; i++) {
			char *path = NULL;
			struct job *j = NULL;

			if (asprintf(&path, "/subscriptions/%s/providers/Microsoft.Features/providers/"
			    "Microsoft.Network/features/%s?api-version=%s", o->subscriptions[s], features[i],
			    AZURE_API_FEATURES) < 0)
				continue;
			submit_new(d, on_feature, PROVIDER_OP_READ, "GET", path, NULL, &j);
			free(path);
			if (j != NULL) {
				snprintf(j->sub, sizeof(j->sub), "%s", o->subscriptions[s]);
				snprintf(j->type, sizeof(j->type), "%s", features[i]);
			}
		}
	}
	drive(d);
}

/* --- the document --------------------------------------------------------------------------- */

static int
cmp_json_id(const void *a, const void *b)
{
	const char *x = json_str(*(json_t *const *)a, "id"), *y = json_str(*(json_t *const *)b, "id");
	int c = strcasecmp(x, y);

	return c != 0 ? c : strcmp(x, y);
}

static int
cmp_json_str(const void *a, const void *b)
{
	const char *x = json_string_value(*(json_t *const *)a);
	const char *y = json_string_value(*(json_t *const *)b);
	int c = strcasecmp(x, y);

	return c != 0 ? c : strcmp(x, y);
}

static void
sort_array(json_t *arr, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(arr), i;
	json_t **v = calloc(n + 1, sizeof(*v));

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(arr, i));
	qsort(v, n, sizeof(*v), cmp);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, v[i]);
	free(v);
}

static json_t *
build_doc(struct disc *d)
{
	const struct azure_discover_opts *o = d->o;
	json_t *doc, *res = json_array(), *subs = json_array(), *v, *m, *r, *t;
	const char *k, *k2, *k3;
	size_t i;

	json_object_foreach(d->resources, k, v)
		json_array_append(res, v);
	sort_array(res, cmp_json_id);
	for (i = 0; i < o->nsubscriptions; i++)
		json_array_append_new(subs, json_string(o->subscriptions[i]));
	sort_array(subs, cmp_json_str);
	json_object_foreach(d->avnm, k, m)
		json_object_foreach(m, k2, r)
			json_object_foreach(r, k3, t)
				sort_array(t, cmp_json_str);
	doc = json_pack("{s:s,s:s,s:o,s:o,s:{s:O,s:O,s:O}}", "format", TOPOLOGY_FORMAT, "cloud",
	    o->cloud != NULL ? o->cloud : "AzureCloud", "subscriptions", subs, "resources", res,
	    "observed", "circuitRoutes", d->routes, "features", d->features, "avnmDeployments",
	    d->avnm);
	if (doc != NULL && json_object_size(d->bgp_routes) > 0)
		json_object_set(json_object_get(doc, "observed"), "bgpRoutes", d->bgp_routes);
	if (doc != NULL && json_array_size(d->deployments) > 0) {
		sort_array(d->deployments, cmp_json_id);
		json_object_set(json_object_get(doc, "observed"), "armDeployments", d->deployments);
	}
	return doc;
}

/* --- entry ---------------------------------------------------------------------------------- */

static bool
guid_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* ARM resource group names: letters, digits, '-', '_', '.', '(', ')'; up to 90. */
static bool
rg_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, i;

	if (n == 0 || n > 90 || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!(isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '(' || ch == ')' ||
		    ch >= 0x80))
			return false;
	}
	return true;
}

static void
disc_free(struct disc *d)
{
	while (d->jobs != NULL) {
		struct job *j = d->jobs;
		d->jobs = j->next;
		if (j->op != NULL && !provider_op_finished(j->op) && j->op->impl != NULL)
			provider_cancel(d->p, j->op);
		provider_op_free(j->op);
		free(j);
	}
	json_decref(d->resources);
	json_decref(d->routes);
	json_decref(d->features);
	json_decref(d->avnm);
	json_decref(d->deployments);
	json_decref(d->bgp_routes);
	json_decref(d->denied);
}

int
azure_discover(json_t **out, struct provider *p, const struct azure_discover_opts *o,
    struct azure_discover_report *rep, struct nw_err *err)
{
	struct azure_discover_report local;
	struct provider_stats before, after;
	struct disc d = { 0 };
	size_t i;
	int rc = 0;

	*out = NULL;
	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if (o->nsubscriptions == 0)
		return err_set(err, NW_EINPUT, "no subscription given; use --subscription ID");
	for (i = 0; i < o->nsubscriptions; i++)
		if (!guid_ok(o->subscriptions[i]))
			return err_set(err, NW_EINPUT, "subscription '%s' is not a subscription id (a GUID)",
			    o->subscriptions[i]);
	for (i = 0; i < o->nresource_groups; i++)
		if (!rg_ok(o->resource_groups[i]))
			return err_set(err, NW_EINPUT, "resource group '%s' is not a valid resource group name",
			    o->resource_groups[i]);
	d.p = p;
	d.o = o;
	d.rep = rep;
	d.resources = json_object();
	d.routes = json_object();
	d.features = json_object();
	d.avnm = json_object();
	d.deployments = json_array();
	d.bgp_routes = json_object();
	d.denied = json_object();
	if (d.resources == NULL || d.routes == NULL || d.features == NULL || d.avnm == NULL ||
	    d.deployments == NULL || d.bgp_routes == NULL ||
	    d.denied == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	provider_stats_get(p, &before);

	if (o->source != AZURE_SOURCE_LIST) {
		if ((rc = read_graph(&d)) != 0)
			goto fatal;
		if (d.graph_failure != NULL) {
			const struct provider_op *f = d.graph_failure;
			if (o->source == AZURE_SOURCE_GRAPH || f->error.http_status == 0 ||
			    f->error.http_status == 401) {
				set_fatal(&d, &f->err);
				goto fatal;
			}
			snprintf(rep->graph_fallback, sizeof(rep->graph_fallback), "HTTP %d%s%s",
			    f->error.http_status, f->error.code[0] != '\0' ? " " : "", f->error.code);
			say(&d, "Resource Graph is not available (%s); listing each type instead",
			    rep->graph_fallback);
			json_object_clear(d.resources);
		} else {
			rep->source = AZURE_SOURCE_GRAPH;
			say(&d, "Resource Graph: %zu resources in %u quer%s", json_object_size(d.resources),
			    rep->graph_queries, rep->graph_queries == 1 ? "y" : "ies");
		}
	}
	if (o->source == AZURE_SOURCE_LIST || d.graph_failure != NULL) {
		rep->source = AZURE_SOURCE_LIST;
		if ((rc = read_lists(&d)) != 0)
			goto fatal;
		if (d.ok_lists == 0 && json_object_size(d.denied) > 0) {
			rc = err_set(err, NW_EFAIL, "nothing could be read: ARM refused every type in every "
			    "subscription (HTTP 403); the identity needs Reader on the subscriptions");
			goto done;
		}
		say(&d, "ARM lists: %zu resources in %u list calls", json_object_size(d.resources),
		    rep->list_calls);
	} else {
		/* AVNM and route server children are not in Resource Graph everywhere: list them */
		const char *k;
		json_t *v;
		json_t *parents = json_array();
		json_object_foreach(d.resources, k, v)
			if (is_type(v, TYPE_NETWORK_MANAGER) || az_ars_is_route_server(v))
				json_array_append(parents, v);
		json_array_foreach(parents, i, v)
			found_parent(&d, v);
		json_decref(parents);
		if ((rc = drive(&d)) != 0)
			goto fatal;
	}

	read_observed(&d);
	if (d.fatal != 0)
		goto fatal;
	progress(&d, true);
	*out = build_doc(&d);
	if (*out == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	provider_stats_get(p, &after);
	rep->resources = json_object_size(d.resources);
	rep->requests = (after.reads + after.writes + after.deletes) -
	    (before.reads + before.writes + before.deletes);
	rep->denied = json_object_size(d.denied);
	rc = 0;
	goto done;
fatal:
	progress(&d, true);
	rc = d.fatal != 0 ? d.fatal : rc;
	if (d.fatal != 0)
		*err = d.fatal_err;
	err_prefix(err, "cannot discover");
done:
	disc_free(&d);
	return rc;
}
