/*
 * What infrastructure as code means for a check and for a plan: which
 * resources a plan changes or deletes are managed by Terraform (or an ARM
 * deployment), what to do about each before or after its wave, and which
 * properties the code pins so that the next `terraform apply` would undo
 * the wave.  Pure: reads the IaC map (plan/iac.h), topologies and plan
 * documents; cmd/ prints.  docs/iac.md describes the findings.
 */
#ifndef NETWAVE_PLAN_IAC_FINDINGS_H
#define NETWAVE_PLAN_IAC_FINDINGS_H

#include <stdio.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/iac.h"
#include "plan/topology.h"

/*
 * Adds what IaC means to a plan (a netwave.plan/v1 document made from cur
 * and tgt): findings (`iac-delete`, `iac-pinned`, `iac-managed`,
 * `iac-import`) into plan.findings, each wave's `iac` list (the managed
 * resources it touches, with the attributes the code pins), a risk reason
 * when the decommission deletes peerings IaC manages, and plan.iac (the
 * sources read).  The plan's id is computed again, as the plan changed.
 * Nothing is added when the map is empty.  0 or NW_ENOMEM.
 */
int iac_plan_annotate(json_t *plan, const struct iac_map *m, const struct topology *cur,
    const struct topology *tgt, struct nw_err *err);

/*
 * The findings of `netwave check --iac-state`: how many resources of the
 * topology IaC manages (`iac-managed`, info) and every network resource the
 * state holds that the topology does not (`iac-not-found`, warning: the next
 * terraform apply would create it again).  A new JSON array of
 * {severity, code, resource, message}; NULL on out of memory.
 */
json_t *iac_check_findings(const struct iac_map *m, const struct topology *t);

/*
 * The review report's section for one wave (its `iac` list) in Markdown;
 * nothing when the wave has none.
 */
void iac_report_wave_md(FILE *f, const json_t *wave);

#endif
