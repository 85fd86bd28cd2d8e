/*
 * Private to avnm*.c: the helpers the network manager files share
 * (avnm_validate.c defines them; avnm.c calls them).
 */
#ifndef NETWAVE_PROVIDERS_EMULATOR_AVNM_H
#define NETWAVE_PROVIDERS_EMULATOR_AVNM_H

#include "providers/emulator/emu.h"

/* The configuration types a commit or a scope access names. */
extern const char *const avnm_config_types[];

/* id is a child of parent. */
bool avnm_id_under(const char *id, const char *parent);

/* The network manager id of an AVNM child id (malloc'd), or NULL. */
char *avnm_manager_of(const char *id);

/* Answers 400 for a value outside an enum; returns -1. */
int avnm_bad_enum(struct emu_req *r, const char *what, const char *v, const char *allowed);

/* observed.avnmDeployments of a network manager (borrowed), or NULL. */
json_t *avnm_deployments_of(struct emulator *e, const char *nm_id);

#endif
