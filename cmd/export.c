/*
 * netwave export TOPOLOGY: the estate after the migration as code
 * (plan/export.h): Terraform (azurerm, azapi where azurerm has no
 * argument, import blocks) or an ARM template.  With --history, the
 * export is recorded in the history next to the wave it describes.
 *
 * Also the shared reading of --iac-state for check and plan
 * (cmd_iac_states): the Terraform state files a command is given.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/apply.h"
#include "cmd/cmd.h"
#include "plan/export.h"
#include "plan/iac.h"
#include "plan/jsonutil.h"
#include "plan/sha256.h"
#include "plan/topology.h"
#include "state/history.h"

static const struct cmd_option export_options[] = {
	{ "format", 0, "terraform|arm", 0, "what to write (default terraform)" },
	{ "output", 'o', "PATH", 0, "a file (a directory with --module); default stdout" },
	{ "module", 0, "NAME", 0, "resources in ./modules/NAME, imports in the root module (needs -o DIR)" },
	{ "labels", 0, "name|rg-name", 0, "resource labels: the name, or resource group and name (default name)" },
	{ "no-providers", 0, NULL, 0, "leave out the terraform { required_providers } block" },
	{ "iac-state", 0, "FILE", OPT_REPEAT, "Terraform state: resources it holds are left out" },
	{ "history", 0, "DIR", 0, "record the export in this history" },
	{ "plan", 0, "ID", 0, "the plan the export follows (the history's Plan-Id trailer)" },
	{ "wave", 0, "NAME", 0, "the wave the export follows (the history's Wave trailer)" },
	{ NULL, 0, NULL, 0, NULL },
};

static int export_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.usage = "TOPOLOGY [--format terraform|arm] [-o PATH] [--module NAME] [--labels name|rg-name] "
	    "[--no-providers] [--iac-state FILE]... [--history DIR [--plan ID] [--wave NAME]]",
	.summary = "write the estate after the migration as Terraform (with import blocks) or an ARM template",
	.description =
	    "Reads a topology (a discovery after apply, or a plan's target) and writes what the\n"
	    "migration made or set as code: azurerm resources for network managers, network groups,\n"
	    "static members, connectivity configurations, deployments (commits) and the VNet and\n"
	    "subnet settings of high-scale private endpoints; azapi_update_resource where azurerm\n"
	    "has no argument (summarized gateway prefixes, connectivity capabilities); an import\n"
	    "block per resource, so terraform plan adopts them without changes.  --format arm\n"
	    "writes an ARM template instead (bicep decompile reads it).  Resources an --iac-state\n"
	    "holds are left out.  The output is deterministic and laid out as terraform fmt lays\n"
	    "it out.  With --history the export is recorded beside the wave it follows\n"
	    "(docs/iac.md).  Bad input exits 2.",
	.options = export_options,
	.min_args = 1,
	.max_args = 1,
	.exec = export_exec,
};

int
cmd_iac_states(const struct cmd_args *a, const struct topology *t, struct iac_map **out,
    struct nw_err *err)
{
	size_t n = 0, i;
	const char *const *files = cmd_arg_all(a, "iac-state", &n);
	struct iac_map *m;
	int rc;

	*out = NULL;
	if (n == 0 && (t == NULL || json_path(t->root, "observed", "armDeployments", NULL) == NULL))
		return 0;
	if ((m = iac_map_new()) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		if ((rc = iac_map_load_file(m, files[i], err)) != 0) {
			err_prefix(err, "cannot read IaC state");
			iac_map_free(m);
			return rc;
		}
	if (t != NULL && (rc = iac_map_add_deployments(m, json_object_get(t->root, "observed"),
	    err)) != 0) {
		iac_map_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
cmd_iac_print(struct cmd_ctx *ctx, const json_t *findings)
{
	const json_t *x;
	size_t i;

	if (findings == NULL)
		return;
	fputs("\ninfrastructure as code:\n", ctx->out);
	json_array_foreach(findings, i, x)
		fprintf(ctx->out, "  %-7s  %-26s  %s\n", json_str(x, "severity"), json_str(x, "code"),
		    json_str(x, "message"));
}

static int
mkdir_p(const char *path, struct nw_err *err)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return err_set(err, NW_EIO, "cannot create directory '%s': %s", path, strerror(errno));
	return 0;
}

/* The files of a module layout: DIR/main.tf and DIR/modules/NAME/main.tf. */
static int
write_module_layout(const char *dir, const char *module, const struct export_result *r,
    struct nw_err *err)
{
	char path[4096];
	int rc;

	if ((rc = mkdir_p(dir, err)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/modules", dir);
	if ((rc = mkdir_p(path, err)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/modules/%s", dir, module);
	if ((rc = mkdir_p(path, err)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/modules/%s/main.tf", dir, module);
	if ((rc = file_write_atomic(path, r->module_text, strlen(r->module_text), err)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/main.tf", dir);
	return file_write_atomic(path, r->root, strlen(r->root), err);
}

/*
 * The history keeps one file per ARM resource; an export is recorded as
 * the network manager's child "Netwave.Export/exports/<format>" (docs/iac.md)
 * holding the text written and its SHA-256, committed with the Plan-Id
 * and Wave trailers of the wave it follows.
 */
static int
record_export(struct cmd_ctx *ctx, const struct cmd_args *a, const struct topology *t,
    const char *format, const char *text, size_t nres, struct nw_err *err)
{
	struct history *h = NULL;
	struct history_change change = { .mode = HISTORY_UPDATE };
	struct history_commit_info info = { .event = HISTORY_EVENT_RECORD };
	struct history_result res;
	char id[1024], subject[512], hex[SHA256_HEX_LEN];
	json_t *resources = NULL;
	const struct topo_resource *nm = t->nmanagers > 0 ? t->managers[0].res : NULL;
	int rc;

	if (nm == NULL || nm->subscription == NULL || nm->resource_group == NULL)
		return err_set(err, NW_EINPUT, "--history: the topology has no network manager to "
		    "record the export beside");
	snprintf(id, sizeof(id), "/subscriptions/%s/resourceGroups/%s/providers/Netwave.Export/"
	    "exports/%s", nm->subscription, nm->resource_group, format);
	sha256_hex(text, strlen(text), hex);
	resources = json_pack("[{s:s, s:s, s:s, s:{s:s, s:s, s:s*, s:s*, s:I, s:s}}]", "id", id,
	    "name", format, "type", "Netwave.Export/exports", "properties", "format", format,
	    "sha256", hex, "planId", cmd_arg(a, "plan"), "wave", cmd_arg(a, "wave"), "resources",
	    (json_int_t)nres, "text", text);
	if (resources == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	change.resources = resources;
	snprintf(subject, sizeof(subject), "export: %s of %zu resources%s%s", format, nres,
	    cmd_arg(a, "wave") != NULL ? " after wave " : "",
	    cmd_arg(a, "wave") != NULL ? cmd_arg(a, "wave") : "");
	info.subject = subject;
	info.plan_id = cmd_arg(a, "plan");
	info.wave = cmd_arg(a, "wave");
	info.operator_name = cmd_operator_name();
	info.time = ctx->now;
	if ((rc = history_open(&h, cmd_arg(a, "history"), true, err)) != 0 ||
	    (rc = history_record(h, &change, &info, &res, err)) != 0) {
		err_prefix(err, "cannot record the export in the history");
		goto done;
	}
	fprintf(ctx->err, "export %s in the history %s\n", res.committed ? "recorded" :
	    "already recorded", cmd_arg(a, "history"));
done:
	history_close(h);
	json_decref(resources);
	return rc;
}

static int
export_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	struct topology *t = NULL;
	struct iac_map *m = NULL;
	struct export_opts o = { .providers = !cmd_flag(a, "no-providers") };
	struct export_result r = { 0 };
	const char *format = cmd_arg(a, "format"), *labels = cmd_arg(a, "labels");
	const char *output = cmd_arg(a, "output");
	json_t *tmpl = NULL;
	char *text = NULL;
	size_t nres = 0;
	int rc;

	if (format == NULL)
		format = "terraform";
	if (strcmp(format, "terraform") != 0 && strcmp(format, "arm") != 0)
		return err_set(err, NW_EINPUT, "--format: '%s' is not one of terraform, arm", format);
	if (labels != NULL && strcmp(labels, "name") != 0 && strcmp(labels, "rg-name") != 0)
		return err_set(err, NW_EINPUT, "--labels: '%s' is not one of name, rg-name", labels);
	o.labels = labels != NULL && strcmp(labels, "rg-name") == 0 ? EXPORT_LABEL_RG_NAME :
	    EXPORT_LABEL_NAME;
	o.module = cmd_arg(a, "module");
	if (o.module != NULL && (output == NULL || strcmp(output, "-") == 0))
		return err_set(err, NW_EINPUT, "--module writes a directory: give it with -o DIR");
	if (o.module != NULL && strcmp(format, "terraform") != 0)
		return err_set(err, NW_EINPUT, "--module is for --format terraform");
	if ((rc = cmd_topology_load(ctx, a->pos[0], true, &t, err)) != 0)
		goto done;
	o.source = t->source;
	if (cmd_arg(a, "iac-state") != NULL && (rc = cmd_iac_states(a, NULL, &m, err)) != 0)
		goto done;
	o.managed = m;
	if (strcmp(format, "arm") == 0) {
		if ((rc = export_arm_template(&tmpl, t, &o, err)) != 0)
			goto done;
		if ((text = json_dump_canonical(tmpl)) == NULL) {
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		nres = json_array_size(json_object_get(tmpl, "resources"));
	} else {
		if ((rc = export_terraform(&r, t, &o, err)) != 0)
			goto done;
		text = strdup(r.root);
		nres = r.nresources;
		if (text == NULL) {
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (o.module != NULL)
		rc = write_module_layout(output, o.module, &r, err);
	else if (output != NULL && strcmp(output, "-") != 0)
		rc = file_write_atomic(output, text, strlen(text), err);
	else
		fputs(text, ctx->out);
	if (rc != 0)
		goto done;
	if (strcmp(format, "terraform") == 0)
		fprintf(ctx->err, "export: %zu resources, %zu import blocks, %zu left out as the code "
		    "holds them already\n", r.nresources, r.nimports, r.nmanaged);
	else
		fprintf(ctx->err, "export: an ARM template of %zu resource group deployments\n", nres);
	if (cmd_arg(a, "history") != NULL)
		rc = record_export(ctx, a, t, format, o.module != NULL ? r.module_text : text, nres, err);
done:
	free(text);
	json_decref(tmpl);
	export_result_free(&r);
	iac_map_free(m);
	topology_free(t);
	return rc;
}
