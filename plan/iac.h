/*
 * What infrastructure as code manages: Terraform state (the raw state
 * file, format version 4, and `terraform show -json` output) and ARM
 * deployment history, read into one map from Azure resource id
 * (case-insensitive, as ARM compares ids) to the Terraform address or
 * the deployment that manages it.  Child resources count: the subnets and
 * routes a resource declares inline are mapped to that resource's address.
 *
 * `check`, `plan` and `export` read it (plan/iac_findings.c turns it into
 * findings); nothing here touches the network.  docs/iac.md describes the
 * formats read and what is made of them.
 */
#ifndef NETWAVE_PLAN_IAC_H
#define NETWAVE_PLAN_IAC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"

/* Largest state file read (Terraform state of ~10,000 resources is ~100 MB). */
#define IAC_MAX_BYTES ((size_t)1 << 30)

enum iac_source { IAC_TERRAFORM = 0, IAC_DEPLOYMENT };

struct iac_entry {
	enum iac_source source;
	char *key;        /* the id, lowercased: the map's sort key; owns the block of all five strings */
	char *id;         /* the id as the source wrote it */
	char *address;    /* Terraform address, or the deployment's name */
	char *tf_type;    /* "azurerm_subnet"...; the ARM type for a deployment */
	char *file;       /* the state file, or the deployment's resource group */
	const char *block;/* for a child declared inline: its block ("subnet", "route"); else NULL */
	json_t *attrs;    /* the instance's attributes (or the inline block); NULL for deployments */
};

struct iac_map {
	struct iac_entry *v; /* sorted by key once iac_map_sort has run */
	size_t n, cap;
	size_t nfiles;       /* state files read */
	size_t ninstances;   /* managed resource instances read */
};

/* A new, empty map (NULL on out of memory). */
struct iac_map *iac_map_new(void);
void iac_map_free(struct iac_map *m);

/*
 * Reads one Terraform state: the raw state file (`"version": 4`) or the
 * output of `terraform show -json` (`"format_version": "1.x"`), modules
 * and count/for_each instances included; data sources are skipped.  Every
 * instance whose "id" (azapi_update_resource: "resource_id") is an Azure
 * resource id is added, with the children it declares inline.  Errors are
 * NW_EINPUT naming the file and a position: line and column for text that
 * is not JSON or is truncated, the JSON pointer for a document that is not
 * a state of a version netwave reads.  NW_EIO when it cannot be read.
 * The map is sorted again before this returns.
 */
int iac_map_load_file(struct iac_map *m, const char *path, struct nw_err *err);

/* The same from a buffer; name is used in messages. */
int iac_map_load_buffer(struct iac_map *m, const char *buf, size_t len, const char *name,
    struct nw_err *err);

/*
 * Adds what ARM's deployment history says (a topology's
 * observed.deployments, docs/iac.md): every output resource of the most
 * recent successful deployment that names it.  observed may be NULL.
 */
int iac_map_add_deployments(struct iac_map *m, const json_t *observed, struct nw_err *err);

/*
 * The entries for an id (case-insensitive): *first gets the first of *n
 * consecutive entries (an id can be held by a resource and by an
 * association whose id is the same).  Returns *n.
 */
size_t iac_map_find(const struct iac_map *m, const char *id, const struct iac_entry **first);

/* An attribute of an entry (borrowed; NULL when absent or null). */
const json_t *iac_entry_attr(const struct iac_entry *e, const char *name);

/* True when a JSON key names something secret (key, secret, password, token). */
bool iac_key_is_secret(const char *key);

#endif
