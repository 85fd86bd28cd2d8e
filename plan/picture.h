/*
 * Pictures for change boards: Graphviz (dot) drawings of a path and of a
 * topology (plan/picture_dot.c), and Mermaid charts of a plan's waves for
 * the Markdown review (plan/report_mermaid.c).  Pure: they read the route
 * engine's results or the plan document and write text; the output is
 * deterministic (same input, same bytes).
 */
#ifndef NETWAVE_PLAN_PICTURE_H
#define NETWAVE_PLAN_PICTURE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/findings.h"
#include "plan/routes.h"
#include "plan/topology.h"

/*
 * The path from a to b as a left-to-right graph: one node per source
 * subnet, the hops each class implies (appliance, gateway, circuit, the
 * gateway that advertised the destination, on-premises) and the
 * destination, edges labelled with the deciding routes.  rows as
 * routes_path_sources returns them; worst names the headline.
 */
int picture_path_dot(FILE *o, const struct route_endpoint *a, const struct route_endpoint *b,
    const struct path_result *rows, size_t n, size_t worst, struct nw_err *err);

/*
 * The topology as check sees it: each hub in a cluster with its gateways
 * and the appliances its spokes route through, circuits and their
 * connections, and the spokes grouped by hub and by how their flows to
 * other spokes go (f->eastwest, counted per source subnet).
 */
int picture_topology_dot(FILE *o, const struct topology *t, const struct findings *f,
    struct nw_err *err);

/*
 * The Mermaid charts of a plan for the Markdown review: a Gantt timeline
 * of the waves (their maintenance windows and soaks) and the traffic
 * shift per wave (mesh, hairpin, via-appliance: inspected...).  plan is
 * the netwave.plan/v1 document; nothing is written when it has no waves.
 * Write errors show on the stream (ferror).
 */
void report_mermaid_write(FILE *o, const json_t *plan);

#endif
