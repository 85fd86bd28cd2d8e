/*
 * Preflight, circuits: circuit and BGP sanity (plan/circuits.h) for the
 * ExpressRoute circuits the plan depends on, that is the circuits connected
 * to a gateway the plan writes (a gateway migration moves those
 * connections).  It judges the topology the plan was made from, the only
 * place netwave holds circuits with their peerings and the routes
 * on-premises advertises; preflight says which file it judged.  Pure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/circuits.h"
#include "plan/jsonutil.h"
#include "plan/preflight.h"

/* True when some write's path is the gateway or below it. */
static bool
plan_writes_under(const json_t *writes, const char *id)
{
	size_t n = strlen(id), i;
	const json_t *w;

	json_array_foreach(writes, i, w) {
		const char *p = json_str(w, "path");
		if (p != NULL && strncasecmp(p, id, n) == 0 && (p[n] == '\0' || p[n] == '/'))
			return true;
	}
	return false;
}

static enum pf_severity
severity_of(enum finding_severity s)
{
	return s == SEV_ERROR ? PF_BLOCKER : s == SEV_WARNING ? PF_WARNING : PF_INFO;
}

int
preflight_circuits(struct preflight *pf, const struct topology *t, const char *source, const json_t *writes,
    struct nw_err *err)
{
	struct findings f = { 0 };
	const char **ids = NULL;
	char note[1200];
	size_t i, k, n = 0;
	int rc = 0;

	if (t == NULL)
		return preflight_check_note(pf, "circuits", false, "no topology to read circuits from: give "
		    "--current FILE (the file the plan was made from)", err);
	if ((ids = calloc(t->nconnections + 1, sizeof(*ids))) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	for (i = 0; i < t->nconnections; i++) {
		const struct topo_connection *c = &t->connections[i];
		bool seen = false;
		if (c->peer_id == NULL || c->gateway_id == NULL || !plan_writes_under(writes, c->gateway_id))
			continue;
		for (k = 0; k < n && !seen; k++)
			seen = strcasecmp(ids[k], c->peer_id) == 0;
		if (!seen)
			ids[n++] = c->peer_id;
	}
	if (n > 0 && (rc = circuit_sanity(&f, t, ids, n, err)) != 0)
		goto done;
	for (i = 0; i < f.n; i++) {
		const struct finding *x = &f.v[i];
		if ((rc = preflight_add(pf, severity_of(x->severity), x->code, "circuits", x->resource, x->resource,
		    NULL, err, "correct the circuit's peering with the provider and on-premises before the window "
		    "(docs/topology.md lists each circuit check and its Microsoft Learn page)", "%s", x->message)) != 0)
			goto done;
	}
	snprintf(note, sizeof(note), "%zu circuit(s) connected to the gateways the plan writes, judged in %s", n,
	    source != NULL ? source : "the topology given");
	rc = preflight_check_note(pf, "circuits", true, note, err);
done:
	findings_free(&f);
	free(ids);
	return rc;
}
