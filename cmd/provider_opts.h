/*
 * The options every command that talks to a cloud takes (discover now;
 * apply, rollback and status later), and the one function that turns
 * them into a provider, so each command parses them the same way.
 */
#ifndef NETWAVE_CMD_PROVIDER_OPTS_H
#define NETWAVE_CMD_PROVIDER_OPTS_H

#include "cmd/cmd.h"
#include "providers/provider.h"

/* Put this in a command's option table (before the NULL entry). */
#define CMD_PROVIDER_OPTIONS \
	{ "cloud", 0, "NAME", 0, "AzureCloud (default), AzureUSGovernment or AzureChinaCloud" }, \
	{ "arm-endpoint", 0, "URL", 0, "ARM endpoint instead of the cloud's (an emulator: " \
	  "http://127.0.0.1:PORT)" }, \
	{ "authority-host", 0, "URL", 0, "Entra ID authority instead of AZURE_AUTHORITY_HOST or " \
	  "the cloud's" }, \
	{ "tenant", 0, "TENANT", 0, "the Entra ID tenant to sign in to (id or domain), instead of " \
	  "AZURE_TENANT_ID" }, \
	{ "ca-file", 0, "PEM", 0, "also trust the CA certificates in this file (TLS is always " \
	  "verified)" }, \
	{ "max-retries", 0, "N", 0, "retries of a failed request (default 3)" }, \
	{ "verbose", 'v', NULL, 0, "log every request and answer to stderr, secrets redacted" }

/*
 * A provider from the options above (credentials come from the
 * environment, docs/discover.md).  NW_EINPUT for a bad option.
 */
int cmd_provider_open(struct cmd_ctx *ctx, const struct cmd_args *a, struct provider **out,
    struct nw_err *err);

/* The cloud name the options choose ("AzureCloud" when none). */
const char *cmd_provider_cloud(const struct cmd_args *a);

#endif
