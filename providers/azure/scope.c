/*
 * Which subscriptions a command reads, resolved as az and Terraform users
 * expect: each --subscription value is an id or a display name (names go
 * through ARM's "Subscriptions - List", matched case-insensitively as az
 * account set does); none given means AZURE_SUBSCRIPTION_ID, else
 * ARM_SUBSCRIPTION_ID (Terraform's azurerm provider); --management-group
 * adds every subscription below the group ("Management Groups - Get
 * Descendants", which follows nested groups).
 *
 * https://learn.microsoft.com/rest/api/resources/subscriptions/list
 * https://learn.microsoft.com/rest/api/managementgroups/management-groups/get-descendants
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/azure/internal.h"

#define CANDIDATES_MAX 8

static bool
is_guid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static void
add_unique(json_t *out, const char *id)
{
	json_t *v;
	size_t i;

	json_array_foreach(out, i, v)
		if (strcasecmp(json_string_value(v), id) == 0)
			return;
	json_array_append_new(out, json_string(id));
}

/* "Name (id), Name (id), ..." of at most CANDIDATES_MAX subscriptions, for messages. */
static void
candidates(const json_t *subs, const char *only, char *out, size_t size)
{
	const json_t *v;
	size_t i, n = 0, o = 0;

	out[0] = '\0';
	json_array_foreach(subs, i, v) {
		const char *name = json_str(v, "displayName"), *id = json_str(v, "subscriptionId");
		if (id == NULL || (only != NULL && (name == NULL || strcasecmp(name, only) != 0)))
			continue;
		if (n++ == CANDIDATES_MAX) {
			snprintf(out + o, size - o, ", ...");
			return;
		}
		o += (size_t)snprintf(out + o, size - o, "%s'%s' (%s)", n > 1 ? ", " : "",
		    name != NULL ? name : "", id);
		if (o >= size)
			return;
	}
	if (n == 0)
		snprintf(out, size, "none");
}

/* One value: an id as is, or a display name matching exactly one subscription. */
static int
resolve_one(struct provider *p, const char *value, json_t **subs, json_t *out, struct nw_err *err)
{
	const json_t *v, *hit = NULL;
	size_t i, hits = 0;
	char list[1024];
	int rc;

	if (is_guid(value)) {
		add_unique(out, value);
		return 0;
	}
	if (*subs == NULL && (rc = provider_list(p, "/subscriptions?api-version="
	    ARM_API_SUBSCRIPTIONS, subs, err)) != 0) {
		err_prefix(err, "cannot resolve subscription name '%s'", value);
		return rc;
	}
	json_array_foreach(*subs, i, v) {
		const char *name = json_str(v, "displayName");
		if (name != NULL && strcasecmp(name, value) == 0) {
			hit = v;
			hits++;
		}
	}
	if (hits == 1 && json_str(hit, "subscriptionId") != NULL) {
		add_unique(out, json_str(hit, "subscriptionId"));
		return 0;
	}
	if (hits == 0) {
		candidates(*subs, NULL, list, sizeof(list));
		return err_set(err, NW_EINPUT, "subscription '%s' is not a subscription id, nor the "
		    "name of one the credential can see (expected an id or one of: %s)", value, list);
	}
	candidates(*subs, value, list, sizeof(list));
	return err_set(err, NW_EINPUT, "subscription name '%s' matches %zu subscriptions: %s; give "
	    "the id instead", value, hits, list);
}

static int
resolve_group(struct provider *p, const char *mg, json_t *out, struct nw_err *err)
{
	json_t *items = NULL, *v;
	char *path = NULL;
	size_t i, before = json_array_size(out), found = 0;
	int rc;

	for (i = 0; mg[i] != '\0'; i++)
		if (!isalnum((unsigned char)mg[i]) && strchr("-_.()", mg[i]) == NULL)
			return err_set(err, NW_EINPUT, "option '--management-group': '%s' is not a "
			    "management group id (letters, digits, '-', '_', '.', '(' and ')')", mg);
	if (asprintf(&path, "/providers/Microsoft.Management/managementGroups/%s/descendants"
	    "?api-version=" ARM_API_MANAGEMENT_GROUPS, mg) < 0)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = provider_list(p, path, &items, err);
	free(path);
	if (rc != 0) {
		err_prefix(err, "cannot list management group '%s'", mg);
		return rc;
	}
	json_array_foreach(items, i, v) {
		const char *type = json_str(v, "type");
		if (type != NULL && strcasecmp(type, "Microsoft.Management/managementGroups/"
		    "subscriptions") == 0 && json_str(v, "name") != NULL) {
			add_unique(out, json_str(v, "name"));
			found++;
		}
	}
	json_decref(items);
	if (found == 0 && json_array_size(out) == before)
		return err_set(err, NW_EINPUT, "management group '%s' has no subscriptions below it",
		    mg);
	return 0;
}

int
azure_scope_resolve(json_t **out, struct provider *p, const struct azure_scope_opts *o,
    struct nw_err *err)
{
	json_t *ids = json_array(), *subs = NULL;
	const char *env = NULL, *from = NULL;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (o->nsubscriptions == 0 && o->management_group == NULL) {
		from = "AZURE_SUBSCRIPTION_ID";
		env = o->getenv != NULL ? o->getenv(o->getenv_arg, from) : getenv(from);
		if (env == NULL || env[0] == '\0') {
			from = "ARM_SUBSCRIPTION_ID";
			env = o->getenv != NULL ? o->getenv(o->getenv_arg, from) : getenv(from);
		}
		if (env == NULL || env[0] == '\0') {
			json_decref(ids);
			return err_set(err, NW_EINPUT, "option '--subscription' is required (an id or a "
			    "name) unless --management-group or AZURE_SUBSCRIPTION_ID (or ARM_SUBSCRIPTION_ID) "
			    "says which");
		}
		if ((rc = resolve_one(p, env, &subs, ids, err)) != 0) {
			err_prefix(err, "%s", from);
			goto done;
		}
	}
	for (i = 0; i < o->nsubscriptions; i++)
		if ((rc = resolve_one(p, o->subscriptions[i], &subs, ids, err)) != 0)
			goto done;
	if (o->management_group != NULL &&
	    (rc = resolve_group(p, o->management_group, ids, err)) != 0)
		goto done;
	*out = ids;
	ids = NULL;
done:
	json_decref(ids);
	json_decref(subs);
	return rc;
}
