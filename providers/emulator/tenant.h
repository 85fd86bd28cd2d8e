/*
 * The emulator's tenant directory (tenant.c): subscriptions with their
 * display names ("Subscriptions - List") and management groups ("Get
 * Descendants"), loaded from the clients file.
 */
#ifndef NETWAVE_EMULATOR_TENANT_H
#define NETWAVE_EMULATOR_TENANT_H

#include <jansson.h>

#include "plan/err.h"

struct emulator;
struct emu_req;

/* Reads the clients file's "subscriptions" and "managementGroups" (both optional). */
int tenant_load(struct emulator *e, const json_t *doc, struct nw_err *err);
/* GET /subscriptions */
void tenant_subscriptions(struct emulator *e, struct emu_req *r);
/* GET /providers/Microsoft.Management/managementGroups/{name}/descendants */
void tenant_mgmt_groups(struct emulator *e, struct emu_req *r);
/* A subscription's display name (the directory's, else its id); borrowed. */
const char *tenant_sub_name(struct emulator *e, const char *id);

#endif
