/*
 * The load client of the emulator benchmark (bench/bench_emulator.sh): it
 * keeps N requests in flight on N keep-alive connections with libcurl's
 * multi interface and reports the requests per second the emulator
 * sustained, latency percentiles and the answers by class.  GET reads the
 * estate's VNets; PUT writes each back with the body the estate holds (an
 * update answering 200, as a read-modify-write apply sends it).  It stops
 * after --requests answers or --seconds, whichever comes first, and prints
 * one line of key=value fields for the script to format:
 *
 *   emuload --base http://127.0.0.1:PORT --estate estate.json --method GET \
 *           --concurrency 16 --requests 20000 --seconds 20
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#define API "api-version=2026-01-01"

struct target {
	char *url;
	char *body; /* PUT only */
};

struct slot {
	CURL *h;
	struct curl_slist *hdr;
	double t0;
};

struct load {
	const char *base;
	const char *method;
	struct target *targets;
	size_t ntargets, captargets;
	size_t total;       /* requests to send */
	double seconds;     /* or stop after this long */
	size_t started, done;
	size_t ok, throttled, other, failed;
	double *lat;        /* seconds, one per answered request */
	long first_bad;     /* the first unexpected HTTP status, for the report */
	CURLcode first_err; /* the first transport failure */
};

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t
discard(char *p, size_t size, size_t n, void *u)
{
	(void)p;
	(void)u;
	return size * n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
targets_free(struct target *t, size_t n)
{
	size_t i;

	for (i = 0; t != NULL && i < n; i++) {
		free(t[i].url);
		free(t[i].body);
	}
	free(t);
}

/* The estate's VNets as URLs (and PUT bodies: the resource without its read-only fields). */
static int
targets_load(struct load *L, const char *path, int put)
{
	json_error_t je;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *res, *r;
	size_t i, n = 0;
	int rc = -1;

	if (doc == NULL) {
		fprintf(stderr, "emuload: cannot load estate '%s': line %d: %s\n", path, je.line, je.text);
		return -1;
	}
	res = json_object_get(doc, "resources");
	L->captargets = json_array_size(res) + 1;
	L->targets = calloc(L->captargets, sizeof(*L->targets));
	if (L->targets == NULL)
		goto done;
	json_array_foreach(res, i, r) {
		const char *type = json_string_value(json_object_get(r, "type"));
		const char *id = json_string_value(json_object_get(r, "id"));
		size_t len;

		if (type == NULL || id == NULL || strcasecmp(type, "Microsoft.Network/virtualNetworks") != 0)
			continue;
		len = strlen(L->base) + strlen(id) + sizeof(API) + 2;
		L->targets[n].url = malloc(len);
		if (L->targets[n].url == NULL)
			goto done;
		snprintf(L->targets[n].url, len, "%s%s?%s", L->base, id, API);
		if (put) {
			json_t *b = json_pack("{s:O?,s:O?,s:O?}", "location", json_object_get(r, "location"),
			    "tags", json_object_get(r, "tags"), "properties", json_object_get(r, "properties"));
			L->targets[n].body = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
			json_decref(b);
			if (L->targets[n].body == NULL)
				goto done;
		}
		n++;
	}
	L->ntargets = n;
	if (n == 0) {
		fprintf(stderr, "emuload: estate '%s' has no virtual networks\n", path);
		goto done;
	}
	rc = 0;
done:
	json_decref(doc);
	return rc;
}

/* Starts the next request on a slot; targets are visited in a scattered but fixed order. */
static int
start(struct load *L, CURLM *m, struct slot *s)
{
	/* a prime stride that does not divide the count walks every target */
	size_t k = (L->started * 7919u) % L->ntargets;
	const struct target *t = &L->targets[k];

	curl_easy_setopt(s->h, CURLOPT_URL, t->url);
	if (t->body != NULL) {
		curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, t->body);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
	}
	s->t0 = now();
	L->started++;
	return curl_multi_add_handle(m, s->h) == CURLM_OK ? 0 : -1;
}

static int
run(struct load *L, size_t conc)
{
	CURLM *m = curl_multi_init();
	struct slot *slots = calloc(conc, sizeof(*slots));
	double t_start, deadline;
	int still = 0, rc = -1;
	size_t i;

	if (m == NULL || slots == NULL)
		goto done;
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conc);
	for (i = 0; i < conc; i++) {
		slots[i].h = curl_easy_init();
		if (slots[i].h == NULL)
			goto done;
		slots[i].hdr = curl_slist_append(NULL, "Expect:");
		slots[i].hdr = curl_slist_append(slots[i].hdr, "Content-Type: application/json");
		curl_easy_setopt(slots[i].h, CURLOPT_HTTPHEADER, slots[i].hdr);
		curl_easy_setopt(slots[i].h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(slots[i].h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
		curl_easy_setopt(slots[i].h, CURLOPT_TIMEOUT_MS, 30000L);
		curl_easy_setopt(slots[i].h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(slots[i].h, CURLOPT_PRIVATE, (char *)&slots[i]);
	}
	t_start = now();
	deadline = t_start + L->seconds;
	for (i = 0; i < conc && L->started < L->total; i++)
		if (start(L, m, &slots[i]) != 0)
			goto done;
	do {
		CURLMsg *msg;
		int q;

		if (curl_multi_perform(m, &still) != CURLM_OK)
			goto done;
		while ((msg = curl_multi_info_read(m, &q)) != NULL) {
			struct slot *s;
			char *priv = NULL;
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			s = (struct slot *)(void *)priv;
			curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
			L->lat[L->done++] = now() - s->t0;
			if (msg->data.result != CURLE_OK) {
				if (L->failed++ == 0)
					L->first_err = msg->data.result;
			} else if (status >= 200 && status < 300) {
				L->ok++;
			} else {
				if (status == 429)
					L->throttled++;
				else
					L->other++;
				if (L->first_bad == 0)
					L->first_bad = status;
			}
			curl_multi_remove_handle(m, s->h);
			if (L->started < L->total && now() < deadline && start(L, m, s) != 0)
				goto done;
			still = 1;
		}
		if (still && curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK)
			goto done;
	} while (still);
	L->seconds = now() - t_start;
	rc = 0;
done:
	for (i = 0; slots != NULL && i < conc; i++) {
		if (slots[i].h != NULL) {
			curl_multi_remove_handle(m, slots[i].h);
			curl_easy_cleanup(slots[i].h);
		}
		curl_slist_free_all(slots[i].hdr);
	}
	free(slots);
	if (m != NULL)
		curl_multi_cleanup(m);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr, "usage: emuload --base URL --estate TOPOLOGY [--method GET|PUT] "
	    "[--concurrency N] [--requests N] [--seconds S]\n");
}

int
main(int argc, char **argv)
{
	struct load L = { 0 };
	const char *estate = NULL;
	unsigned long conc = 16;
	double p50, p99, max;
	int i, rc = 1;

	L.method = "GET";
	L.total = 20000;
	L.seconds = 20;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (v == NULL) {
			usage();
			return 2;
		}
		errno = 0;
		if (strcmp(a, "--base") == 0)
			L.base = v;
		else if (strcmp(a, "--estate") == 0)
			estate = v;
		else if (strcmp(a, "--method") == 0)
			L.method = v;
		else if (strcmp(a, "--concurrency") == 0)
			conc = strtoul(v, &end, 10);
		else if (strcmp(a, "--requests") == 0)
			L.total = strtoul(v, &end, 10);
		else if (strcmp(a, "--seconds") == 0)
			L.seconds = strtod(v, &end);
		else {
			usage();
			return 2;
		}
		if (end != NULL && (*end != '\0' || errno != 0)) {
			fprintf(stderr, "emuload: invalid %s '%s'\n", a, v);
			return 2;
		}
		i++;
	}
	if (L.base == NULL || estate == NULL || conc < 1 || conc > 1024 || L.total < 1 ||
	    !(L.seconds > 0) || (strcmp(L.method, "GET") != 0 && strcmp(L.method, "PUT") != 0)) {
		usage();
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "emuload: cannot initialise libcurl\n");
		return 1;
	}
	if (targets_load(&L, estate, strcmp(L.method, "PUT") == 0) != 0)
		goto done;
	L.lat = calloc(L.total, sizeof(*L.lat));
	if (L.lat == NULL) {
		fprintf(stderr, "emuload: out of memory for %zu requests\n", L.total);
		goto done;
	}
	if (run(&L, conc) != 0) {
		fprintf(stderr, "emuload: the libcurl multi loop failed\n");
		goto done;
	}
	qsort(L.lat, L.done, sizeof(*L.lat), cmp_double);
	p50 = L.done > 0 ? L.lat[L.done / 2] : 0;
	p99 = L.done > 0 ? L.lat[(L.done * 99) / 100 < L.done ? (L.done * 99) / 100 : L.done - 1] : 0;
	max = L.done > 0 ? L.lat[L.done - 1] : 0;
	printf("method=%s requests=%zu seconds=%.3f rps=%.1f concurrency=%lu targets=%zu "
	    "ok=%zu throttled=%zu other=%zu failed=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	    L.method, L.done, L.seconds, L.seconds > 0 ? (double)L.done / L.seconds : 0.0, conc,
	    L.ntargets, L.ok, L.throttled, L.other, L.failed, p50 * 1e3, p99 * 1e3, max * 1e3);
	if (L.first_bad != 0)
		fprintf(stderr, "emuload: first unexpected status: %ld\n", L.first_bad);
	if (L.failed > 0)
		fprintf(stderr, "emuload: %zu transfers failed; first: %s\n", L.failed,
		    curl_easy_strerror(L.first_err));
	rc = L.failed == 0 && L.ok > 0 ? 0 : 1;
done:
	targets_free(L.targets, L.captargets);
	free(L.lat);
	curl_global_cleanup();
	return rc;
}
