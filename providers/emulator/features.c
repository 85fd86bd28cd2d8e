/*
 * Preview features and provider registration (reference/azure-arm.md,
 * section 4): register moves a feature to Registering and, after a
 * nominal delay divided by the time scale, to Registered; unregister goes
 * through Unregistering to Unregistered.  A feature is registered per
 * subscription ("Set up preview features in Azure subscription",
 * https://learn.microsoft.com/azure/azure-resource-manager/management/preview-features):
 * each subscription keeps its own state once one is registered there, the
 * seeded observed.features until then; observed.features shows the
 * estate's least-registered state, as discovery records it.  Provider
 * registration answers Registered.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"

/* Features the emulator lists even before anyone registers them. */
static const char *const known_features[] = {
	"Microsoft.Network/AllowHighScaleConnectedGroup",
	"Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath",
	NULL,
};

static json_t *
feature_result(const char *sub, const char *key, const char *state)
{
	const char *slash = strchr(key, '/');
	char ns[256];

	snprintf(ns, sizeof(ns), "%.*s", slash != NULL ? (int)(slash - key) : (int)strlen(key), key);
	return json_pack("{s:{s:s},s:o,s:s,s:s}", "properties", "state", state, "id",
	    json_sprintf("/subscriptions/%s/providers/Microsoft.Features/providers/%s/features/%s", sub,
	    ns, slash != NULL ? slash + 1 : key), "type", "Microsoft.Features/providers/features",
	    "name", key);
}

static const char *
state_of(struct emulator *e, const char *sub, const char *key)
{
	const char *s = emu_store_feature_sub(e, sub, key);
	return s != NULL ? s : "NotRegistered";
}

static bool
pending(struct emulator *e, const char *sub, const char *key)
{
	size_t i;

	for (i = 0; i < e->nrunning; i++)
		if (e->running[i]->cls == &features_op &&
		    strcasecmp(e->running[i]->target, key) == 0 &&
		    strcasecmp(e->running[i]->subscription, sub) == 0)
			return true;
	return false;
}

static void
list_features(struct emulator *e, struct emu_req *r, const char *sub, const char *ns)
{
	json_t *value = json_array(), *f = json_object_get(e->observed, "features"), *v;
	const char *k;
	size_t i;

	for (i = 0; known_features[i] != NULL; i++)
		if (ns == NULL || strncasecmp(known_features[i], ns, strlen(ns)) == 0)
			if (emu_store_feature(e, known_features[i]) == NULL)
				json_array_append_new(value, feature_result(sub, known_features[i],
				    state_of(e, sub, known_features[i])));
	json_object_foreach(f, k, v)
		if (json_is_string(v) && (ns == NULL || (strncasecmp(k, ns, strlen(ns)) == 0 &&
		    k[strlen(ns)] == '/')))
			json_array_append_new(value, feature_result(sub, k, state_of(e, sub, k)));
	emu_op_name(r, "list features");
	emu_reply_json(r, 200, json_pack("{s:o}", "value", value));
}

static void
provider(struct emulator *e, struct emu_req *r, const char *sub, bool reg)
{
	(void)e;
	if (!emu_api_ok(r, EMU_NS_RESOURCES))
		return;
	if ((reg && strcmp(r->method, "POST") != 0) || (!reg && strcmp(r->method, "GET") != 0)) {
		emu_reply_bad_method(r);
		return;
	}
	emu_op_name(r, reg ? "register provider" : "get provider");
	emu_reply_json(r, 200, json_pack("{s:o,s:s,s:s,s:[{s:s,s:[s],s:[s]},{s:s,s:[s],s:[s]}]}",
	    "id", json_sprintf("/subscriptions/%s/providers/Microsoft.Network", sub),
	    "namespace", "Microsoft.Network", "registrationState", "Registered", "resourceTypes",
	    "resourceType", "virtualNetworks", "locations", "global", "apiVersions", EMU_API_NETWORK,
	    "resourceType", "networkManagers", "locations", "global", "apiVersions", EMU_API_NETWORK));
}

void
features_handle(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	/* below /subscriptions/{s}/providers */
	const char *sub = c->sub;
	char **seg = c->seg + 3;
	size_t nseg = c->nseg - 3;
	char key[512];
	const char *verb = NULL;

	if (strcasecmp(seg[0], "Microsoft.Network") == 0) {
		provider(e, r, sub, nseg == 2);
		return;
	}
	if (!emu_api_ok(r, EMU_NS_FEATURES))
		return;
	/* Microsoft.Features/features: every feature */
	if (nseg == 2 && strcasecmp(seg[1], "features") == 0 && strcmp(r->method, "GET") == 0) {
		list_features(e, r, sub, NULL);
		return;
	}
	if (nseg < 4 || strcasecmp(seg[1], "providers") != 0 || strcasecmp(seg[3], "features") != 0 ||
	    nseg > 6) {
		emu_reply_error(r, 404, "InvalidResourceType",
		    "The resource type could not be found in the namespace 'Microsoft.Features' for api version '%s'.",
		    emu_query(r, "api-version"));
		return;
	}
	if (nseg == 4) {
		if (strcmp(r->method, "GET") != 0) {
			emu_reply_bad_method(r);
			return;
		}
		list_features(e, r, sub, seg[2]);
		return;
	}
	snprintf(key, sizeof(key), "%s/%s", seg[2], seg[4]);
	{
		/* keep the casing the estate already uses for a known feature */
		size_t i;
		for (i = 0; known_features[i] != NULL; i++)
			if (strcasecmp(known_features[i], key) == 0)
				snprintf(key, sizeof(key), "%s", known_features[i]);
	}
	if (nseg == 6)
		verb = seg[5];
	if (verb == NULL) {
		if (strcmp(r->method, "GET") != 0) {
			emu_reply_bad_method(r);
			return;
		}
		emu_op_name(r, "get feature");
		emu_reply_json(r, 200, feature_result(sub, key, state_of(e, sub, key)));
		return;
	}
	if (strcmp(r->method, "POST") != 0 || (strcasecmp(verb, "register") != 0 &&
	    strcasecmp(verb, "unregister") != 0)) {
		emu_reply_bad_method(r);
		return;
	}
	if (strcasecmp(verb, "register") == 0) {
		emu_op_name(r, "register feature %s", key);
		if (strcmp(state_of(e, sub, key), "Registered") != 0 && !pending(e, sub, key)) {
			if (lro_new(e, c->route->op, OP_INTERNAL, "register", key, sub, "global",
			    EMU_DUR_FEATURE) == NULL) {
				emu_reply_oom(r);
				return;
			}
			emu_store_feature_sub_set(e, sub, key, "Registering");
		}
	} else {
		emu_op_name(r, "unregister feature %s", key);
		if (strcmp(state_of(e, sub, key), "NotRegistered") != 0 &&
		    strcmp(state_of(e, sub, key), "Unregistered") != 0 && !pending(e, sub, key)) {
			if (lro_new(e, c->route->op, OP_INTERNAL, "unregister", key, sub, "global",
			    EMU_DUR_FEATURE) == NULL) {
				emu_reply_oom(r);
				return;
			}
			emu_store_feature_sub_set(e, sub, key, "Unregistering");
		}
	}
	emu_reply_json(r, 200, feature_result(sub, key, state_of(e, sub, key)));
}

static void
feature_done(struct emulator *e, struct emu_op *op)
{
	bool reg = op->action != NULL && strcmp(op->action, "register") == 0;

	if (op->state != OP_SUCCEEDED)
		return;
	emu_store_feature_sub_set(e, op->subscription, op->target, reg ? "Registered" : "Unregistered");
}

/* A registration has no URL and holds no resource. */
const struct emu_op_class features_op = {
	.name = "feature registration",
	.done = feature_done,
};
