/*
 * Azure Route Server in the emulator (ars.c, ars_routes.c): the
 * Microsoft.Network/virtualHubs resource with no virtualWan, its
 * ipConfigurations and bgpConnections children, and the learnedRoutes /
 * advertisedRoutes actions of a BGP connection.  The resources are rows of
 * arm_types.c's table (their PUT, GET, list and DELETE are arm.c's) with
 * the checks below as their hooks; router.c sends every path under
 * virtualHubs to ars_network, which keeps the hub's read-only fields
 * (virtualRouterIps, routingState, the children's references) in step
 * with its children after each request and each operation's end.
 */
#ifndef NETWAVE_PROVIDERS_EMULATOR_ARS_H
#define NETWAVE_PROVIDERS_EMULATOR_ARS_H

#include "providers/emulator/arm.h"

#define TYPE_ARS_HUB "Microsoft.Network/virtualHubs"
#define TYPE_ARS_IP_CONFIG "Microsoft.Network/virtualHubs/ipConfigurations"
#define TYPE_ARS_BGP "Microsoft.Network/virtualHubs/bgpConnections"

/*
 * Nominal seconds of a route server's deployment (the ipConfiguration PUT,
 * which places the two router instances in RouteServerSubnet).  Learn's
 * quickstart: "It can take up to 30 minutes to deploy a Route Server"
 * (https://learn.microsoft.com/azure/route-server/quickstart-create-route-server-portal).
 */
#define EMU_DUR_ROUTE_SERVER 1800.0

/* The ASN of every route server (Learn, Route Server FAQ). */
#define ARS_VIRTUAL_ROUTER_ASN 65515

/* BGP peers per route server (https://learn.microsoft.com/azure/route-server/route-server-faq#limitations). */
#define ARS_MAX_PEERS 8

/* Type hooks (arm_types.c). */
int ars_validate_hub(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int ars_validate_ip_config(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int ars_validate_bgp(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int ars_delete_hub(struct emulator *e, struct emu_req *r, const struct arm_type *t,
    const char *id, json_t *obj);

/* Every path under .../virtualHubs: arm_network, then the hub's read-only fields. */
void ars_network(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* Writes and deletes under a hub: arm_write_op's, then the hub's fields. */
extern const struct emu_op_class ars_write_op;

/* Recomputes a hub's read-only fields from its stored children (no-op when absent). */
void ars_sync_hub(struct emulator *e, const char *hub_id);

/* POST .../bgpConnections/{name}/learnedRoutes and /advertisedRoutes (ars_routes.c). */
void ars_routes_action(struct emulator *e, struct emu_req *r, const struct emu_call *c);
extern const struct emu_op_class ars_routes_op;

#endif
