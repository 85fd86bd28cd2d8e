/*
 * What Azure documents about the resources a gateway migration to
 * Standard public IPs leaves behind, defined once for the target
 * (plan/intent.c), the planner, the apply engine and the emulator:
 * the default name of the new ExpressRoute gateway and of its
 * connections, the tag that marks it, and which gateways migrate in
 * place (VPN) rather than beside themselves (ExpressRoute).
 */
#ifndef NETWAVE_PLAN_GWMIGRATE_H
#define NETWAVE_PLAN_GWMIGRATE_H

#include <stdbool.h>

#include <jansson.h>

/*
 * Microsoft Learn, "About ExpressRoute gateway migration"
 * (https://learn.microsoft.com/azure/expressroute/gateway-migration):
 * "You can specify a name for the new gateway, or Azure will add _migrate
 * to the original name by default"; the new gateway "is tagged with
 * CreatedBy: GatewaySKUMigration"; after commit the old gateway and its
 * connections are deleted.  The Microsoft-initiated backend migration
 * (https://techcommunity.microsoft.com/blog/azurenetworkingblog/
 * expressroute-gateway-microsoft-initiated-migration/4497689, seeds/003)
 * names the connections the same way (Conn-A_migrate) and tags
 * CreatedBy: GatewayMigrationByService.
 */
#define GWM_SUFFIX "_migrate"
#define GWM_TAG_KEY "CreatedBy"
#define GWM_TAG_VALUE "GatewaySKUMigration"
#define GWM_TAG_VALUE_SERVICE "GatewayMigrationByService"
#define GWM_LEARN_URL "https://learn.microsoft.com/azure/expressroute/gateway-migration"
/*
 * VPN gateways migrate their public IP in place: the address is kept, the
 * public IP reports properties.migrationPhase and VpnGw1-5 become
 * VpnGw1-5AZ (https://learn.microsoft.com/azure/vpn-gateway/basic-public-ip-migrate-howto).
 */
#define GWM_VPN_LEARN_URL "https://learn.microsoft.com/azure/vpn-gateway/basic-public-ip-migrate-howto"

/*
 * The prepareMigration body field that carries a chosen name for the new
 * ExpressRoute gateway.  Undocumented: the REST body
 * (VirtualNetworkGatewayMigrationParameters, api-version 2025-05-01)
 * documents only migrationType and resourceUrl ("reference to public IP
 * resource URL"); Learn says the portal and PowerShell let the user name
 * the gateway but not how the request carries it.  netwave sends it only
 * when the intent names a gateway, and finds the new gateway by fact
 * after prepare whatever Azure made of it (docs/intent.md).
 */
#define GWM_BODY_NAME_FIELD "newGatewayName"

/* Longest ARM name of a virtual network gateway or connection. */
#define GWM_NAME_MAX 80

/* True for an ExpressRoute gateway (properties.gatewayType), which migrates beside itself. */
bool gwm_is_expressroute(const json_t *gateway);

/* The zone-redundant SKU a migration moves a gateway SKU to; the SKU itself when none. */
const char *gwm_az_sku(const char *sku);

/*
 * The id of the new ExpressRoute gateway: the old id with its last
 * segment replaced by name, or with GWM_SUFFIX appended when name is
 * NULL.  malloc'd; NULL when out of memory.
 */
char *gwm_new_id(const char *old_id, const char *name);

/* The id Azure gives the copy of a connection: GWM_SUFFIX appended.  malloc'd. */
char *gwm_connection_id(const char *old_id);

/* True when a resource carries the tag a migration puts on the gateway it creates. */
bool gwm_is_tagged(const json_t *resource);

/*
 * True when name is a valid name for a gateway (1 to 80 characters:
 * letters, digits, '_', '.', '-'; starting with a letter or digit; ending
 * with a letter, digit or '_').
 */
bool gwm_name_valid(const char *name);

#endif
