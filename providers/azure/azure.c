/*
 * The Azure provider as a struct provider: the clouds netwave knows (with
 * the token audiences each publishes), the client's construction from
 * struct azure_opts, and the glue from the provider interface (providers/provider.h) to the transport (http.c),
 * the credentials (auth.c) and the operations (ops.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/azure/internal.h"

/*
 * Each cloud's values are those its metadata endpoint publishes
 * (https://management.azure.com/metadata/endpoints?api-version=2022-09-01,
 * and the same path on management.usgovcloudapi.net and
 * management.chinacloudapi.cn; the document's shape is described at
 * https://learn.microsoft.com/azure-stack/user/azure-stack-rest-api-use).
 * Each lists two token audiences, the classic one first:
 *   AzureCloud         https://management.core.windows.net/, https://management.azure.com/
 *   AzureUSGovernment  https://management.core.usgovcloudapi.net, https://management.usgovcloudapi.net
 *   AzureChinaCloud    https://management.core.chinacloudapi.cn, https://management.chinacloudapi.cn
 * The Azure CLI asks for the first (active_directory_resource_id, so
 * "https://management.core.usgovcloudapi.net//.default" in US Government);
 * the Azure SDKs' ARM clients ask for the resource manager endpoint's
 * ("{endpoint}/.default").  ARM accepts a token for either audience, so
 * neither is wrong: netwave keeps the SDKs' choice in every cloud, and a
 * test checks that each scope is one of the cloud's published audiences.
 */
static const struct azure_cloud clouds[] = {
	{ "AzureCloud", "https://management.azure.com", "https://login.microsoftonline.com",
	  "https://management.azure.com/.default",
	  { "https://management.core.windows.net/", "https://management.azure.com/" } },
	{ "AzureUSGovernment", "https://management.usgovcloudapi.net",
	  "https://login.microsoftonline.us", "https://management.usgovcloudapi.net/.default",
	  { "https://management.core.usgovcloudapi.net", "https://management.usgovcloudapi.net" } },
	{ "AzureChinaCloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn",
	  "https://management.chinacloudapi.cn/.default",
	  { "https://management.core.chinacloudapi.cn", "https://management.chinacloudapi.cn" } },
};

const struct azure_cloud *
azure_clouds(size_t *n)
{
	*n = sizeof(clouds) / sizeof(clouds[0]);
	return clouds;
}

/* Compares two URLs less any trailing slashes. */
static bool
same_resource(const char *a, size_t na, const char *b)
{
	size_t nb = strlen(b);

	while (na > 0 && a[na - 1] == '/')
		na--;
	while (nb > 0 && b[nb - 1] == '/')
		nb--;
	return na == nb && strncasecmp(a, b, na) == 0;
}

bool
azure_cloud_scope_ok(const struct azure_cloud *c, const char *scope)
{
	size_t n = strlen(scope), i;

	if (n < 9 || strcmp(scope + n - 9, "/.default") != 0)
		return false;
	for (i = 0; i < sizeof(c->audiences) / sizeof(c->audiences[0]); i++)
		if (c->audiences[i] != NULL && same_resource(scope, n - 9, c->audiences[i]))
			return true;
	return false;
}

const struct azure_cloud *
azure_cloud_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(clouds) / sizeof(clouds[0]); i++)
		if (strcasecmp(clouds[i].name, name) == 0)
			return &clouds[i];
	return NULL;
}

const char *
azure_cloud_names(void)
{
	return "AzureCloud, AzureUSGovernment, AzureChinaCloud";
}

/* --- the vtable ------------------------------------------------------------------------- */

static int
v_submit(void *impl, struct provider_op *op, struct nw_err *err)
{
	return az_op_submit(impl, op, err);
}

static int
v_run(void *impl, double timeout, struct nw_err *err)
{
	return az_client_run(impl, timeout, err);
}

static void
v_cancel(void *impl, struct provider_op *op)
{
	az_op_cancel(impl, op);
}

static void
v_stats(void *impl, struct provider_stats *out)
{
	struct az_client *c = impl;
	double now = clock_mono(), last = 0;
	size_t i, ready = 0;
	struct az_xfer *x;

	*out = c->stats;
	out->in_flight = c->in_flight;
	for (x = c->ready_head; x != NULL; x = x->next)
		ready++;
	out->waiting = c->nheap + ready;
	out->pending = c->pending_ops;
	for (i = 0; i < c->nheap; i++)
		if (c->heap[i]->due > last)
			last = c->heap[i]->due;
	out->parked_until = last > now ? last - now : 0;
}

static json_t *
v_throttle(void *impl)
{
	return az_throttle_json(impl);
}

static void
v_free(void *impl)
{
	struct az_client *c = impl;

	if (c == NULL)
		return;
	az_ops_cancel_all(c);
	az_client_cleanup(c);
	free(c);
}

static const struct provider_vtable azure_vtable = {
	"azure", v_submit, v_run, v_cancel, v_stats, v_throttle, v_free,
};

int
azure_provider_new(struct provider **out, const struct azure_opts *opts, struct nw_err *err)
{
	struct az_client *c = calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (c == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if ((rc = az_client_init(c, opts, err)) != 0) {
		az_client_cleanup(c);
		free(c);
		return rc;
	}
	*out = provider_new(&azure_vtable, c);
	if (*out == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	return 0;
}

static struct az_client *
client_of(const struct provider *p)
{
	if (p == NULL || strcmp(provider_name(p), "azure") != 0)
		return NULL;
	return provider_impl(p);
}

const char *
azure_credential_name(const struct provider *p)
{
	struct az_client *c = client_of(p);

	return c != NULL && c->cred_chosen ? c->cred.name : NULL;
}

int
azure_authenticate(struct provider *p, struct nw_err *err)
{
	struct az_client *c = client_of(p);

	if (c == NULL)
		return err_set(err, NW_EINPUT, "not an Azure provider");
	return az_auth_ensure(c, err);
}

const char *
azure_arm_endpoint(const struct provider *p)
{
	struct az_client *c = client_of(p);

	return c != NULL ? c->arm : NULL;
}
