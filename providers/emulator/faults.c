/*
 * Fault injection (docs/emulator.md, "Faults"): rules from a
 * netwave.faults/v1 document, matched in order against each ARM request
 * by method and path glob, fired on the Nth match or with a probability
 * drawn from the rule's own generator, seeded from --seed-rng and the
 * rule's place in the list: a rule's Nth match always gets the same draw,
 * however its requests interleave with other rules' (concurrent clients
 * change that order from run to run), at most `times` times.
 * Latency rules add up; the first other rule that fires decides what
 * happens to the request.
 */
#include "config.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"

#define FAULTS_FORMAT "netwave.faults/v1"

enum rule_action {
	ACT_ERROR = 1,
	ACT_RESET_BEFORE,
	ACT_RESET_AFTER,
	ACT_LATENCY,
	ACT_LRO_FAILED,
	ACT_LRO_CANCELED,
	ACT_STATUS_404,
	ACT_EMPTY_STATUS,
};

static const struct {
	const char *name;
	enum rule_action act;
} action_names[] = {
	{ "error", ACT_ERROR },
	{ "reset-before", ACT_RESET_BEFORE },
	{ "reset-after", ACT_RESET_AFTER },
	{ "latency", ACT_LATENCY },
	{ "lro-failed", ACT_LRO_FAILED },
	{ "lro-canceled", ACT_LRO_CANCELED },
	{ "status-404", ACT_STATUS_404 },
	{ "empty-deployment-status", ACT_EMPTY_STATUS },
};

/*
 * A rule's strings are borrowed from the rules document faults_load keeps
 * (e->faults_doc) or are constants; only its name is its own, so that an
 * unnamed rule can be called "rule <index>".
 */
struct emu_fault {
	char name[64]; /* as long as a fault hit's (struct fault_hit) */
	const char *method;   /* NULL: any */
	const char *path;     /* glob; NULL: any */
	double probability;
	long nth;       /* 0: every match */
	long times;     /* 0: unlimited */
	enum rule_action act;
	int status;
	const char *code;
	const char *message;
	int retry_after; /* -1: none */
	long ms;
	int count;
	long matches;
	long fired;
	uint64_t rng;   /* this rule's draws (faults_load seeds it) */
};

void
faults_free(struct emulator *e)
{
	free(e->faults);
	json_decref(e->faults_doc);
	e->faults = NULL;
	e->faults_doc = NULL;
	e->nfaults = 0;
}

static const char *
default_code(int status)
{
	switch (status) {
	case 400: return "BadRequest";
	case 404: return "NotFound";
	case 409: return "AnotherOperationInProgress";
	case 412: return "PreconditionFailed";
	case 429: return "RetryableErrorDueToAnotherOperation";
	case 500: return "InternalServerError";
	case 502: return "BadGateway";
	case 503: return "ServiceUnavailable";
	case 504: return "GatewayTimeout";
	default: return "InjectedFault";
	}
}

static const char *
default_message(int status)
{
	switch (status) {
	case 409:
		return "Another operation on this or a dependent resource is in progress. Retry the request after the other operation completes.";
	case 412:
		return "The specified precondition 'If-Match' failed.";
	case 429:
		return "Operation is not allowed because another operation on the resource is in progress. Retry the request after the other operation completes.";
	case 500:
		return "An internal server error occurred. Please retry the request.";
	case 502:
		return "The gateway did not receive a response from the service in time.";
	case 503:
		return "The service is temporarily unavailable. Please retry the request.";
	default:
		return "The request failed.";
	}
}

/* A positive integer field of a rule, if present; -1 when invalid. */
static int
rule_count(const json_t *j, const char *key, long *out)
{
	json_t *v = json_object_get(j, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return -1;
	*out = (long)json_integer_value(v);
	return 0;
}

/* Which requests a rule matches and how often: name, method, path, probability, nth, times. */
static int
rule_match(struct emu_fault *f, const json_t *j, size_t i, struct nw_err *err)
{
	const char *name = json_str(j, "name");
	json_t *v;

	if (name != NULL && name[0] != '\0')
		snprintf(f->name, sizeof(f->name), "%s", name);
	else
		snprintf(f->name, sizeof(f->name), "rule %zu", i);
	if (json_str(j, "method") != NULL && strcmp(json_str(j, "method"), "*") != 0)
		f->method = json_str(j, "method");
	f->path = json_str(j, "path");
	v = json_object_get(j, "probability");
	if (v != NULL) {
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1)
			return err_set(err, NW_EINPUT, "/rules/%zu/probability: a number from 0 to 1", i);
		f->probability = json_number_value(v);
	}
	if (rule_count(j, "nth", &f->nth) != 0)
		return err_set(err, NW_EINPUT, "/rules/%zu/nth: a positive integer", i);
	if (rule_count(j, "times", &f->times) != 0)
		return err_set(err, NW_EINPUT, "/rules/%zu/times: a positive integer", i);
	return 0;
}

/* What a rule answers: status, code, message, retryAfter, ms, count. */
static int
rule_answer(struct emu_fault *f, const json_t *j, size_t i, struct nw_err *err)
{
	json_t *v = json_object_get(j, "status");
	long count = 1;

	if (f->act == ACT_ERROR) {
		if (!json_is_integer(v) || json_integer_value(v) < 400 || json_integer_value(v) > 599)
			return err_set(err, NW_EINPUT, "/rules/%zu/status: an HTTP error status from 400 to 599", i);
		f->status = (int)json_integer_value(v);
	}
	f->code = json_str(j, "code") != NULL ? json_str(j, "code") :
	    f->act == ACT_ERROR ? default_code(f->status) :
	    f->act == ACT_LRO_CANCELED ? "OperationCanceled" : "InternalServerError";
	f->message = json_str(j, "message") != NULL ? json_str(j, "message") :
	    f->act == ACT_ERROR ? default_message(f->status) :
	    f->act == ACT_LRO_CANCELED ? "The operation was canceled." :
	    "The operation failed due to an internal error. Please retry the request.";
	v = json_object_get(j, "retryAfter");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return err_set(err, NW_EINPUT, "/rules/%zu/retryAfter: whole seconds, 0 or more", i);
		f->retry_after = (int)json_integer_value(v);
	} else if (f->act == ACT_ERROR && (f->status == 429 || f->status == 503)) {
		f->retry_after = 1;
	}
	v = json_object_get(j, "ms");
	if (f->act == ACT_LATENCY) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 600000)
			return err_set(err, NW_EINPUT, "/rules/%zu/ms: milliseconds from 0 to 600000", i);
		f->ms = (long)json_integer_value(v);
	}
	if (rule_count(j, "count", &count) != 0)
		return err_set(err, NW_EINPUT, "/rules/%zu/count: a positive integer", i);
	f->count = (int)count;
	return 0;
}

static int
rule_parse(struct emu_fault *f, const json_t *j, size_t i, struct nw_err *err)
{
	const char *act = json_str(j, "action"), *k;
	json_t *v;
	size_t a;
	int rc;
	static const char *const known[] = { "name", "method", "path", "probability", "nth",
		"times", "action", "status", "code", "message", "retryAfter", "ms", "count", NULL };

	memset(f, 0, sizeof(*f));
	f->retry_after = -1;
	f->probability = 1.0;
	if (!json_is_object(j))
		return err_set(err, NW_EINPUT, "/rules/%zu: a rule is a JSON object", i);
	json_object_foreach((json_t *)j, k, v) {
		size_t n;
		for (n = 0; known[n] != NULL; n++)
			if (strcmp(known[n], k) == 0)
				break;
		if (known[n] == NULL)
			return err_set(err, NW_EINPUT, "/rules/%zu/%s: unknown key", i, k);
	}
	if (act == NULL)
		return err_set(err, NW_EINPUT, "/rules/%zu/action: missing; one of error, reset-before, "
		    "reset-after, latency, lro-failed, lro-canceled, status-404, empty-deployment-status", i);
	for (a = 0; a < sizeof(action_names) / sizeof(action_names[0]); a++)
		if (strcmp(action_names[a].name, act) == 0)
			f->act = action_names[a].act;
	if (f->act == 0)
		return err_set(err, NW_EINPUT, "/rules/%zu/action: unknown action '%s'", i, act);
	rc = rule_match(f, j, i, err);
	if (rc == 0)
		rc = rule_answer(f, j, i, err);
	return rc;
}

int
faults_load(struct emulator *e, const json_t *doc, struct nw_err *err)
{
	struct emu_fault *rules = NULL;
	json_t *copy, *list, *j;
	size_t n = 0, i;
	int rc = 0;

	if (doc == NULL) {
		faults_free(e);
		return 0;
	}
	if (!json_is_object(doc) || json_str(doc, "format") == NULL ||
	    strcmp(json_str(doc, "format"), FAULTS_FORMAT) != 0)
		return err_set(err, NW_EINPUT, "/format: expected \"%s\"", FAULTS_FORMAT);
	if (!json_is_array(json_object_get(doc, "rules")))
		return err_set(err, NW_EINPUT, "/rules: expected an array of rules");
	/* the rules borrow their strings from this copy, kept as long as they are */
	copy = json_deep_copy(doc);
	list = json_object_get(copy, "rules");
	rules = calloc(json_array_size(list) + 1, sizeof(*rules));
	if (copy == NULL || rules == NULL) {
		json_decref(copy);
		free(rules);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	json_array_foreach(list, i, j) {
		rc = rule_parse(&rules[i], j, i, err);
		n = i + 1;
		if (rc != 0) {
			json_decref(copy);
			free(rules);
			return rc;
		}
	}
	/* one stream per rule: the seed mixed with the rule's index */
	for (i = 0; i < n; i++)
		rules[i].rng = e->fault_rng ^ ((uint64_t)(i + 1) * 0xd1b54a32d192ed03ULL);
	faults_free(e);
	e->faults = rules;
	e->nfaults = n;
	e->faults_doc = copy;
	return 0;
}

json_t *
faults_dump(struct emulator *e)
{
	json_t *doc = e->faults_doc != NULL ? json_deep_copy(e->faults_doc) :
	    json_pack("{s:s,s:[]}", "format", FAULTS_FORMAT, "rules");
	json_t *list = json_object_get(doc, "rules");
	size_t i;

	for (i = 0; i < e->nfaults && i < json_array_size(list); i++) {
		json_t *r = json_array_get(list, i);
		json_object_set_new(r, "matched", json_integer(e->faults[i].matches));
		json_object_set_new(r, "fired", json_integer(e->faults[i].fired));
	}
	return doc;
}

void
faults_match(struct emulator *e, struct emu_req *r, struct fault_hit *hit)
{
	size_t i;

	memset(hit, 0, sizeof(*hit));
	hit->retry_after = -1;
	for (i = 0; i < e->nfaults; i++) {
		struct emu_fault *f = &e->faults[i];
		bool fire = true;

		if (f->method != NULL && strcasecmp(f->method, r->method) != 0)
			continue;
		if (f->path != NULL && fnmatch(f->path, r->path, FNM_CASEFOLD) != 0)
			continue;
		f->matches++;
		if (hit->kind != FAULT_NONE && f->act != ACT_LATENCY)
			continue; /* decided already; the counter still counts */
		if (f->nth > 0 && f->matches != f->nth)
			fire = false;
		if (fire && f->times > 0 && f->fired >= f->times)
			fire = false;
		if (fire && f->probability < 1.0) {
			/* 53 random bits to a double in [0, 1) */
			double x = (double)(emu_rand(&f->rng) >> 11) / 9007199254740992.0;
			fire = x < f->probability;
		}
		if (!fire)
			continue;
		f->fired++;
		if (r->fault[0] == '\0')
			snprintf(r->fault, sizeof(r->fault), "%s", f->name);
		else {
			size_t len = strlen(r->fault);
			snprintf(r->fault + len, sizeof(r->fault) - len, ", %s", f->name);
		}
		if (f->act == ACT_LATENCY) {
			r->latency += (double)f->ms / 1000.0;
			continue;
		}
		snprintf(hit->name, sizeof(hit->name), "%s", f->name);
		snprintf(hit->code, sizeof(hit->code), "%s", f->code);
		snprintf(hit->message, sizeof(hit->message), "%s", f->message);
		hit->status = f->status;
		hit->retry_after = f->retry_after;
		hit->count = f->count;
		switch (f->act) {
		case ACT_ERROR: hit->kind = FAULT_ERROR; break;
		case ACT_RESET_BEFORE: hit->kind = FAULT_RESET_BEFORE; break;
		case ACT_RESET_AFTER: hit->kind = FAULT_RESET_AFTER; break;
		case ACT_LRO_FAILED: hit->kind = FAULT_LRO_FAILED; break;
		case ACT_LRO_CANCELED: hit->kind = FAULT_LRO_CANCELED; break;
		case ACT_STATUS_404: hit->kind = FAULT_LRO_LOST; break;
		case ACT_EMPTY_STATUS: hit->kind = FAULT_EMPTY_STATUS; break;
		default: break;
		}
	}
}

void
faults_apply_op(const struct fault_hit *hit, struct emu_op *op)
{
	switch (hit->kind) {
	case FAULT_LRO_FAILED:
		lro_force(op, OP_FAILED, hit->code, hit->message);
		break;
	case FAULT_LRO_CANCELED:
		lro_force(op, OP_CANCELED, hit->code, hit->message);
		break;
	case FAULT_LRO_LOST:
		op->lost = true;
		break;
	default:
		break;
	}
}
