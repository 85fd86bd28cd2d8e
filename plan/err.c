/*
 * The error type shared by every module: a status code and a message
 * filled where the failure is first seen.  cmd/main.c prints it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plan/err.h"

int
err_set(struct nw_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
err_prefix(struct nw_err *e, const char *fmt, ...)
{
	char buf[2 * NW_ERR_MSG_MAX + 2];
	va_list ap;
	int n;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, NW_ERR_MSG_MAX, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= NW_ERR_MSG_MAX)
		n = NW_ERR_MSG_MAX - 1;
	memcpy(buf + n, ": ", 2);
	memcpy(buf + n + 2, e->msg, NW_ERR_MSG_MAX);
	buf[sizeof(buf) - 1] = '\0';
	memcpy(e->msg, buf, NW_ERR_MSG_MAX - 1);
	e->msg[NW_ERR_MSG_MAX - 1] = '\0';
}

void
err_clear(struct nw_err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

int
err_exit_code(int status)
{
	switch (status) {
	case NW_OK:
		return 0;
	case NW_EINPUT:
		return 2;
	case NW_ESTALE:
		return 3;
	case NW_ELOCKED:
		return 4;
	case NW_EPARTIAL:
		return 5;
	case NW_EIRREVERSIBLE:
		return 6;
	default:
		return 1;
	}
}

const char *
err_status_name(int status)
{
	switch (status) {
	case NW_OK:
		return "ok";
	case NW_EFAIL:
		return "failed";
	case NW_EINPUT:
		return "bad input";
	case NW_ESTALE:
		return "stale plan";
	case NW_ELOCKED:
		return "locked";
	case NW_EPARTIAL:
		return "partly applied";
	case NW_ENOMEM:
		return "out of memory";
	case NW_EIO:
		return "i/o error";
	case NW_EIRREVERSIBLE:
		return "irreversible";
	default:
		return "error";
	}
}
