/*
 * netwave emulator: runs the local ARM emulator (providers/emulator) until
 * SIGINT or SIGTERM, then stops it cleanly and exits 0.  The signals are
 * blocked before the server starts its threads and taken with sigwait()
 * here, so no handler runs inside libmicrohttpd.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/jsonutil.h"
#include "providers/emulator/emulator.h"

static const struct cmd_option emulator_options[] = {
	{ "listen", 0, "ADDR:PORT", 0, "address to listen on (default 127.0.0.1:0, a free port)" },
	{ "port-file", 0, "FILE", 0, "write the base URL here once listening" },
	{ "seed", 0, "TOPOLOGY", 0, "netwave.topology/v1 file to start from" },
	{ "state", 0, "DB", 0, "SQLite file that keeps the estate across restarts" },
	{ "faults", 0, "FILE", 0, "fault rules (netwave.faults/v1)" },
	{ "time-scale", 0, "X", 0, "divide operation durations by X (default 1)" },
	{ "latency", 0, "MS", 0, "answer every ARM request MS milliseconds late (real time; default 0)" },
	{ "tls-cert", 0, "PEM", 0, "serve HTTPS with this certificate" },
	{ "tls-key", 0, "PEM", 0, "private key of --tls-cert" },
	{ "no-auth", 0, NULL, 0, "accept ARM requests without a bearer token" },
	{ "seed-rng", 0, "N", 0, "seed for probabilistic faults and generated ids" },
	{ "clients", 0, "FILE", 0, "OAuth2 clients (netwave.emulator-clients/v1)" },
	{ "token-lifetime", 0, "SECONDS", 0, "access token lifetime (default 3599)" },
	{ "page-size", 0, "N", 0, "default page of a list, 1 to 1000 (default 100)" },
	CMD_FORMAT_OPTION("text|json", "say when listening and stopping as lines on stderr "
	    "(text, default) or netwave.emulator/v1 events on stdout (json)"),
	{ NULL, 0, NULL, 0, NULL },
};

static int emulator_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err);

const struct cmd_entry cmd_emulator_entry = {
	.name = "emulator",
	.usage = "[--listen ADDR:PORT] [--port-file F] [--seed TOPOLOGY] [--state DB] [--faults FILE] "
	"[--time-scale X] [--latency MS] [--tls-cert C --tls-key K] [--no-auth] [--seed-rng N] [--clients FILE] "
	"[--token-lifetime S] [--page-size N] [-o text|json]",
	.summary = "serve a local ARM emulator for tests, demos and rehearsals",
	.description = "Answers as Azure Resource Manager does for the network API netwave uses: resource\n"
	"CRUD with long-running operations, AVNM commits, gateway migrations, effective\n"
	"routes, Resource Graph, OAuth2 tokens, throttling and injected faults.  Runs until\n"
	"SIGINT or SIGTERM.  Control endpoints live under /__netwave/ (docs/emulator.md).",
	.options = emulator_options,
	.min_args = 0,
	.max_args = 0,
	.exec = emulator_exec,
};

/* One netwave.emulator/v1 event on a line of its own, flushed: a script waits for it. */
static void
emit_event(struct cmd_ctx *ctx, json_t *ev)
{
	char *line = ev != NULL ? json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	if (line != NULL)
		fprintf(ctx->out, "%s\n", line);
	fflush(ctx->out);
	free(line);
	json_decref(ev);
}

static int
emulator_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err)
{
	struct emulator_opts o = { 0 };
	struct emulator *e = NULL;
	const char *scale = cmd_arg(args, "time-scale");
	const char *port_file = cmd_arg(args, "port-file");
	unsigned long seed = 0, life = 0, page = 0, latency = 0;
	enum output_format fmt;
	sigset_t set, old;
	int rc, sig = 0;

	if ((rc = cmd_arg_format(args, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0)
		return rc;
	o.listen = cmd_arg(args, "listen");
	o.seed_path = cmd_arg(args, "seed");
	o.state_path = cmd_arg(args, "state");
	o.faults_path = cmd_arg(args, "faults");
	o.clients_path = cmd_arg(args, "clients");
	o.tls_cert_path = cmd_arg(args, "tls-cert");
	o.tls_key_path = cmd_arg(args, "tls-key");
	o.no_auth = cmd_flag(args, "no-auth");
	if (scale != NULL) {
		char *end;

		errno = 0;
		o.time_scale = strtod(scale, &end);
		if (scale[0] == '\0' || *end != '\0' || errno != 0 || !(o.time_scale > 0) ||
		    isinf(o.time_scale))
			return err_set(err, NW_EINPUT,
			    "invalid --time-scale '%s': expected a positive number", scale);
	}
	rc = cmd_arg_ulong(args, "latency", 0, 60000, 0, &latency, err);
	if (rc == 0)
		rc = cmd_arg_ulong(args, "seed-rng", 0, ULONG_MAX, 0, &seed, err);
	if (rc == 0)
		rc = cmd_arg_ulong(args, "token-lifetime", 1, 604800, 3599, &life, err);
	if (rc == 0)
		rc = cmd_arg_ulong(args, "page-size", 1, 1000, 100, &page, err);
	if (rc != 0)
		return rc;
	o.rng_seed = seed;
	o.latency_ms = (double)latency;
	o.token_lifetime = (unsigned)life;
	/* a small default page lets a client's paging be tested on a few resources */
	o.page_size = (unsigned)page;

#ifdef M_ARENA_MAX
	/* a thread per connection would each get a glibc arena; with one lock
	 * serialising the state they only fragment: two arenas held the
	 * 5,000-spoke benchmark at 540 MB instead of 665 MB, and served faster */
	mallopt(M_ARENA_MAX, 2);
#endif
	/* block before any thread exists, so only sigwait below sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);

	rc = emulator_start(&e, &o, err);
	if (rc != 0)
		goto done;
	if (port_file != NULL) {
		char line[200];
		int len = snprintf(line, sizeof(line), "%s\n", emulator_base_url(e));

		rc = file_write_atomic(port_file, line, (size_t)len, err);
		if (rc != 0)
			goto done;
	}
	if (fmt == FORMAT_JSON)
		emit_event(ctx, json_pack("{s:s, s:s, s:s, s:b}", "format", "netwave.emulator/v1",
		    "event", "listening", "url", emulator_base_url(e), "authentication", !o.no_auth));
	else
		fprintf(ctx->err, "netwave emulator: listening on %s%s\n", emulator_base_url(e),
		    o.no_auth ? " (no authentication)" : "");
	fflush(ctx->err);
	if (sigwait(&set, &sig) != 0)
		sig = 0;
	if (fmt == FORMAT_JSON)
		emit_event(ctx, json_pack("{s:s, s:s, s:s}", "format", "netwave.emulator/v1", "event",
		    "stopping", "signal", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "other"));
	else
		fprintf(ctx->err, "netwave emulator: %s received, stopping\n",
		    sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
done:
	emulator_stop(e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
