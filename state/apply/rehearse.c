/*
 * `apply --dry-run`: a rehearsal of a run against a private, in-process
 * emulator seeded with the estate (state/apply/apply.h).  The plan and
 * the run state of the waves already done are copied into a store in a
 * temporary directory, the emulator answers at a time scale that makes
 * the documented durations pass in moments, and the same engine carries
 * the run out with irreversible steps confirmed (nothing real is
 * touched).  The command (cmd/apply.c) picks the seed and prints; the
 * rehearsal itself lives here, beside the engine it drives.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/jsonutil.h"
#include "plan/plan_json.h"
#include "plan/topology.h"
#include "providers/azure/azure.h"
#include "providers/emulator/emulator.h"
#include "state/apply/apply.h"
#include "state/store.h"

/* The credential the private emulator knows; never the user's. */
static const char *
rehearsal_getenv(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "AZURE_TENANT_ID") == 0)
		return "00000000-0000-4000-8000-00000000d1e5";
	if (strcmp(name, "AZURE_CLIENT_ID") == 0)
		return "netwave-rehearsal";
	if (strcmp(name, "AZURE_CLIENT_SECRET") == 0)
		return "rehearsal-only";
	return NULL;
}

/* Copies the run state of the waves already done into the rehearsal's store. */
static int
copy_done_waves(struct store *real, struct store *priv, const char *plan_id, time_t now,
    struct nw_err *err)
{
	json_t *waves = NULL, *steps = NULL;
	const json_t *w, *s;
	size_t i;
	int rc;

	if ((rc = store_wave_list(real, plan_id, &waves, err)) != 0 ||
	    (rc = store_step_list(real, plan_id, -1, &steps, err)) != 0)
		goto done;
	json_array_foreach(steps, i, s) {
		const char *st = json_str(s, "status");
		if (st == NULL || (strcmp(st, "done") != 0 && strcmp(st, "skipped") != 0))
			continue;
		if (strcmp(st, "done") == 0 &&
		    ((rc = store_step_start(priv, plan_id, json_str(s, "id"), STORE_FORWARD,
		    json_object_get(s, "beforeImage"), NULL, now, err)) != 0 ||
		    (rc = store_step_finish(priv, plan_id, json_str(s, "id"), STORE_STEP_DONE,
		    json_object_get(s, "afterImage"), NULL, now, err)) != 0))
			goto done;
		if (strcmp(st, "skipped") == 0 && (rc = store_step_finish(priv, plan_id, json_str(s, "id"),
		    STORE_STEP_SKIPPED, NULL, NULL, now, err)) != 0)
			goto done;
	}
	json_array_foreach(waves, i, w)
		if (json_str(w, "status") != NULL && strcmp(json_str(w, "status"), "done") == 0 &&
		    (rc = store_wave_set_status(priv, plan_id, (int)i, STORE_WAVE_DONE, now, err)) != 0)
			goto done;
done:
	json_decref(waves);
	json_decref(steps);
	return rc;
}

/* True when a wave of the plan has been started or done. */
static int
any_wave_started(struct store *real, const char *plan_id, bool *any, struct nw_err *err)
{
	json_t *waves = NULL;
	const json_t *w;
	size_t i;
	int rc;

	*any = false;
	if ((rc = store_wave_list(real, plan_id, &waves, err)) != 0)
		return rc;
	json_array_foreach(waves, i, w)
		if (json_str(w, "status") != NULL && strcmp(json_str(w, "status"), "pending") != 0)
			*any = true;
	json_decref(waves);
	return 0;
}

int
apply_rehearsal_seed(struct store *real, const char *plan_arg, const char *current_path, json_t **seed,
    struct nw_err *err)
{
	json_t *plan = NULL;
	struct topology *cur = NULL;
	char fp[PLAN_JSON_FINGERPRINT_LEN];
	struct nw_err e = { 0 };
	const char *want;
	bool any = false;
	int rc;

	*seed = NULL;
	if ((rc = store_plan_get(real, plan_arg, &plan, err)) != 0)
		return rc;
	if ((rc = any_wave_started(real, json_str(plan, "id"), &any, err)) != 0)
		goto done;
	if (current_path == NULL)
		current_path = json_path_str(plan, "current", "source", NULL);
	want = json_path_str(plan, "current", "fingerprint", NULL);
	/* the topology the plan was made from, when nothing has been applied yet */
	if (!any && current_path != NULL && topology_load_file(&cur, current_path, NULL, &e) == 0 &&
	    plan_json_fingerprint(fp, cur, &e) == 0 && strcmp(fp, want != NULL ? want : "") == 0)
		*seed = json_incref(cur->root);
done:
	topology_free(cur);
	json_decref(plan);
	return rc;
}

/* Overrides for a rehearsal: nothing real, so irreversible steps are rehearsed too. */
static void
rehearsal_opts(struct apply_opts *o)
{
	o->history = NULL;
	o->yes = true;
	o->confirm = NULL;
	o->current_path = NULL;
	o->soak_scale = APPLY_REHEARSAL_TIME_SCALE;
	o->soak_wait_max = 120;
	o->poll_interval = 0.05;
	o->owner = "netwave apply --dry-run";
}

int
apply_rehearse(struct store *real, const char *plan_arg, const json_t *seed, time_t now,
    struct apply_opts *o, struct apply_result *res, struct nw_err *err)
{
	struct emulator_opts eo = { 0 };
	struct azure_opts ao = { 0 };
	struct emulator *emu = NULL;
	struct provider *p = NULL;
	struct store *priv = NULL;
	json_t *plan = NULL;
	char dir[] = "/tmp/netwave-rehearsal.XXXXXX", dbp[512];
	bool any = false;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = store_plan_get(real, plan_arg, &plan, err)) != 0)
		return rc;
	if ((rc = any_wave_started(real, json_str(plan, "id"), &any, err)) != 0)
		goto done;
	if (mkdtemp(dir) == NULL) {
		rc = err_set(err, NW_EIO, "cannot make a directory for the rehearsal: %s", strerror(errno));
		goto done;
	}
	snprintf(dbp, sizeof(dbp), "%s/rehearsal.db", dir);
	if ((rc = store_open(&priv, dbp, true, err)) != 0 || (rc = store_plan_save(priv, plan, err)) != 0)
		goto cleanup;
	if (any && (rc = copy_done_waves(real, priv, json_str(plan, "id"), now, err)) != 0)
		goto cleanup;
	eo.seed_json = (json_t *)seed;
	eo.time_scale = APPLY_REHEARSAL_TIME_SCALE;
	eo.rng_seed = 1;
	if ((rc = emulator_start(&emu, &eo, err)) != 0) {
		err_prefix(err, "cannot start the rehearsal emulator");
		goto cleanup;
	}
	ao.arm_endpoint = emulator_base_url(emu);
	ao.authority_host = emulator_base_url(emu);
	ao.getenv = rehearsal_getenv;
	ao.poll_interval = 0.05;
	if ((rc = azure_provider_new(&p, &ao, err)) != 0)
		goto cleanup;
	rehearsal_opts(o);
	rc = apply_run(priv, p, json_str(plan, "id"), o, res, err);
cleanup:
	emulator_stop(emu);
	provider_free(p);
	store_close(priv);
	(void)file_remove_tree(dir);
done:
	json_decref(plan);
	return rc;
}
