/*
 * Provider options shared by every command that talks to ARM
 * (cmd/provider_opts.h): cloud, endpoints, CA file, retries, --verbose.
 */
#include "config.h"

#include "cmd/provider_opts.h"
#include "providers/azure/azure.h"

const char *
cmd_provider_cloud(const struct cmd_args *a)
{
	const char *name = cmd_arg(a, "cloud");
	const struct azure_cloud *c = azure_cloud_find(name != NULL ? name : "AzureCloud");

	return c != NULL ? c->name : "AzureCloud";
}

int
cmd_provider_open(struct cmd_ctx *ctx, const struct cmd_args *a, struct provider **out,
    struct nw_err *err)
{
	struct azure_opts o = { 0 };
	unsigned long retries;
	int rc;

	*out = NULL;
	o.cloud = cmd_arg(a, "cloud");
	if (o.cloud != NULL && azure_cloud_find(o.cloud) == NULL)
		return err_set(err, NW_EINPUT, "option '--cloud': unknown cloud '%s'; expected one of %s",
		    o.cloud, azure_cloud_names());
	o.arm_endpoint = cmd_arg(a, "arm-endpoint");
	o.authority_host = cmd_arg(a, "authority-host");
	o.ca_file = cmd_arg(a, "ca-file");
	o.tenant = cmd_arg(a, "tenant");
	if ((rc = cmd_arg_ulong(a, "max-retries", 0, 20, 3, &retries, err)) != 0)
		return rc;
	o.max_retries = retries == 0 ? -1 : (int)retries;
	if (cmd_flag(a, "verbose"))
		o.log = ctx->err;
	return azure_provider_new(out, &o, err);
}
