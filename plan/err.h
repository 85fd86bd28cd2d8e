/*
 * The one error type of netwave.  Every function that can fail takes a
 * `struct nw_err *` as its last parameter, returns 0 or a negative status,
 * and on failure fills a message that names the thing that failed.  Only
 * cmd/main.c prints errors and turns a status into an exit code.
 */
#ifndef NETWAVE_PLAN_ERR_H
#define NETWAVE_PLAN_ERR_H

#include <stddef.h>

/* Statuses; each maps to one exit code (DESIGN.md, "Exit codes"). */
enum nw_status {
	NW_OK = 0,
	NW_EFAIL = -1,    /* an operation or gate failed: exit 1 */
	NW_EINPUT = -2,   /* bad usage or bad input: exit 2 */
	NW_ESTALE = -3,   /* the plan is stale (drift): exit 3 */
	NW_ELOCKED = -4,  /* another apply holds the plan: exit 4 */
	NW_EPARTIAL = -5, /* partly applied, resume with the same command: exit 5 */
	NW_ENOMEM = -6,   /* out of memory: exit 1 */
	NW_EIO = -7,      /* the environment failed (files, network): exit 1 */
	NW_EIRREVERSIBLE = -8, /* stopped in front of an irreversible step, or it was not confirmed: exit 6 */
};

#define NW_ERR_MSG_MAX 1024

struct nw_err {
	int code;                 /* one of enum nw_status, 0 when unset */
	char msg[NW_ERR_MSG_MAX]; /* lowercase, no trailing full stop */
};

/* Sets code and message; returns code so callers can `return err_set(...)`. */
int err_set(struct nw_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Puts "<prefix>: " in front of the message already there. */
void err_prefix(struct nw_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clears an error (code 0, empty message). */
void err_clear(struct nw_err *e);

/* The process exit code for a status (0 for NW_OK). */
int err_exit_code(int status);

/* A short name for a status, such as "bad input". */
const char *err_status_name(int status);

#endif
