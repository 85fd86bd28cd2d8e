/*
 * netwave export: an estate after the migration (a topology: a discovery
 * after apply, or a plan's target) written as code, so the team's
 * pipeline owns what netwave made.  Terraform: azurerm resources for the
 * network managers, network groups, static members, connectivity
 * configurations, deployments (commits) and VNet settings, azapi where
 * azurerm has no argument for a property, and an `import` block for each
 * resource so `terraform plan` adopts them without changes.  ARM: one
 * template (JSON) that `bicep decompile` reads.  docs/iac.md describes
 * both.  Deterministic: the same topology gives the same bytes.
 */
#ifndef NETWAVE_PLAN_EXPORT_H
#define NETWAVE_PLAN_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/iac.h"
#include "plan/topology.h"

enum export_labels {
	EXPORT_LABEL_NAME = 0, /* the resource's name: azurerm_network_manager.nm-eastus */
	EXPORT_LABEL_RG_NAME,  /* its resource group and name: rg-net_nm-eastus */
};

struct export_opts {
	const char *source;           /* named in the header comment; may be NULL */
	const char *module;           /* resources in module "<module>" (./modules/<module>); NULL: root */
	enum export_labels labels;
	bool providers;               /* write the terraform { required_providers } block */
	const struct iac_map *managed;/* resources the code holds already: left out; may be NULL */
};

struct export_result {
	char *root;          /* the root module's text (main.tf) */
	char *module_text;   /* the module's text, when opts.module; else NULL */
	size_t nresources;   /* resource blocks written */
	size_t nimports;     /* import blocks written */
	size_t nmanaged;     /* resources left out because the code holds them */
};

/* Writes the Terraform; 0, NW_EINPUT (a bad module name), NW_ENOMEM. */
int export_terraform(struct export_result *out, const struct topology *t,
    const struct export_opts *opts, struct nw_err *err);

void export_result_free(struct export_result *r);

/*
 * The ARM template: a subscription-scope deploymentTemplate whose nested
 * deployments (one per resource group) hold the same resources.  New
 * reference in *out; NW_ENOMEM.
 */
int export_arm_template(json_t **out, const struct topology *t, const struct export_opts *opts,
    struct nw_err *err);

#endif
