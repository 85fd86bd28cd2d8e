#!/usr/bin/env python3
"""Writes the BGP model's test estates (tests/data/bgp/*.json): seed 003's
two-hub design with Azure Route Server.  Run from this directory; the JSON
files are committed, this script says how they were made.

  option-a.json        NVAs peer with the local and the remote ARS, AS-override
                       towards the remote one (Scenario 1, Option A)
  option-a-no-override.json   the same without AS-override (ARS drops the routes)
  option-b.json        NVAs peer only with the remote ARS and advertise a supernet
  transit.json         NVAs in transit VNets, prepending towards the remote ARS
  transit-no-prepend.json     the same without prepending (equal AS paths)
"""
import copy
import json
import sys

SUB = "/subscriptions/11111111-2222-4333-8444-555555555555"
NET = SUB + "/resourceGroups/rg-net/providers/Microsoft.Network"

def vnet(name, loc, space, subnets, rt=None):
    subs = []
    for sname, pfx, srt in subnets:
        p = {"addressPrefix": pfx}
        if srt:
            p["routeTable"] = {"id": NET + "/routeTables/" + srt}
        subs.append({"id": NET + "/virtualNetworks/%s/subnets/%s" % (name, sname),
                     "name": sname, "properties": p})
    return {"id": NET + "/virtualNetworks/" + name, "name": name, "location": loc,
            "type": "Microsoft.Network/virtualNetworks",
            "properties": {"addressSpace": {"addressPrefixes": space}, "subnets": subs,
                           "virtualNetworkPeerings": []}}

def peer(a, b, transit=False, remote_gw=False):
    """One side of a peering a -> b (a and b are VNet resources)."""
    a["properties"]["virtualNetworkPeerings"].append({
        "id": a["id"] + "/virtualNetworkPeerings/to-" + b["name"],
        "name": "to-" + b["name"],
        "properties": {"remoteVirtualNetwork": {"id": b["id"]},
                       "remoteAddressSpace": {"addressPrefixes": b["properties"]["addressSpace"]["addressPrefixes"]},
                       "peeringState": "Connected", "allowVirtualNetworkAccess": True,
                       "allowForwardedTraffic": True, "allowGatewayTransit": transit,
                       "useRemoteGateways": remote_gw}})

def peer_both(hub, spoke, gw_transit):
    peer(hub, spoke, transit=gw_transit)
    peer(spoke, hub, remote_gw=gw_transit)

def route_table(name, loc, routes, propagate):
    return {"id": NET + "/routeTables/" + name, "name": name, "location": loc,
            "type": "Microsoft.Network/routeTables",
            "properties": {"disableBgpRoutePropagation": not propagate,
                           "routes": [{"name": n, "properties": {"addressPrefix": p,
                                       "nextHopType": "VirtualAppliance", "nextHopIpAddress": ip}}
                                      for n, p, ip in routes]}}

def gateway(name, loc, vnet_name):
    return {"id": NET + "/virtualNetworkGateways/" + name, "name": name, "location": loc,
            "type": "Microsoft.Network/virtualNetworkGateways",
            "properties": {"gatewayType": "ExpressRoute", "sku": {"name": "ErGw1AZ", "tier": "ErGw1AZ"},
                           "provisioningState": "Succeeded",
                           "allowRemoteVnetTraffic": False,
                           "ipConfigurations": [{"name": "default", "properties": {"subnet": {
                               "id": NET + "/virtualNetworks/%s/subnets/GatewaySubnet" % vnet_name}}}]}}

def circuit(name, loc):
    return {"id": NET + "/expressRouteCircuits/" + name, "name": name, "location": loc,
            "type": "Microsoft.Network/expressRouteCircuits", "properties": {}}

def connection(gw, ckt, loc, weight):
    name = "%s-%s" % (gw, ckt)
    return {"id": NET + "/connections/" + name, "name": name, "location": loc,
            "type": "Microsoft.Network/connections",
            "properties": {"connectionType": "ExpressRoute", "routingWeight": weight,
                           "virtualNetworkGateway1": {"id": NET + "/virtualNetworkGateways/" + gw},
                           "peer": {"id": NET + "/expressRouteCircuits/" + ckt},
                           "provisioningState": "Succeeded"}}

def nic(name, loc, vnet_name, subnet, ip):
    return {"id": NET + "/networkInterfaces/" + name, "name": name, "location": loc,
            "type": "Microsoft.Network/networkInterfaces",
            "properties": {"enableIPForwarding": True, "ipConfigurations": [{"name": "ipconfig1",
                           "properties": {"privateIPAddress": ip, "subnet": {
                               "id": NET + "/virtualNetworks/%s/subnets/%s" % (vnet_name, subnet)}}}]}}

def ars(name, loc, vnet_name, ips, peers, b2b=True, pref="ExpressRoute"):
    hub = NET + "/virtualHubs/" + name
    res = [{"id": hub, "name": name, "location": loc, "type": "Microsoft.Network/virtualHubs",
            "properties": {"sku": "Standard", "virtualRouterAsn": 65515, "virtualRouterIps": ips,
                           "allowBranchToBranchTraffic": b2b, "hubRoutingPreference": pref,
                           "provisioningState": "Succeeded", "routingState": "Provisioned"}},
           {"id": hub + "/ipConfigurations/ipconfig1", "name": "ipconfig1",
            "type": "Microsoft.Network/virtualHubs/ipConfigurations",
            "properties": {"privateIPAllocationMethod": "Dynamic", "provisioningState": "Succeeded",
                           "subnet": {"id": NET + "/virtualNetworks/%s/subnets/RouteServerSubnet" % vnet_name},
                           "publicIPAddress": {"id": NET + "/publicIPAddresses/%s-pip" % name}}}]
    for pname, ip, asn in peers:
        res.append({"id": hub + "/bgpConnections/" + pname, "name": pname,
                    "type": "Microsoft.Network/virtualHubs/bgpConnections",
                    "properties": {"peerIp": ip, "peerAsn": asn, "connectionState": "Connected",
                                   "provisioningState": "Succeeded"}})
    return res

def pip(name, loc):
    return {"id": NET + "/publicIPAddresses/" + name, "name": name, "location": loc,
            "type": "Microsoft.Network/publicIPAddresses", "sku": {"name": "Standard", "tier": "Regional"},
            "properties": {"publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4"}}

ARS1 = NET + "/virtualHubs/ars1"
ARS2 = NET + "/virtualHubs/ars2"
ONPREM = [{"network": "10.2.0.0/16", "nextHop": "172.16.0.1", "path": "65020"}]

def estate(design, override=True, prepend=True):
    """design: 'a', 'b' or 'transit'."""
    r1, r2 = "westeurope", "northeurope"
    transit = design == "transit"
    hub1 = vnet("hub1", r1, ["10.0.0.0/16"], [("GatewaySubnet", "10.0.0.0/24", "rt-gw1" if design == "a" else None),
                                              ("nva", "10.0.1.0/24", None),
                                              ("RouteServerSubnet", "10.0.2.0/27", None)])
    hub2 = vnet("hub2", r2, ["10.1.0.0/16"], [("GatewaySubnet", "10.1.0.0/24", "rt-gw2" if design == "a" else None),
                                              ("nva", "10.1.1.0/24", None),
                                              ("RouteServerSubnet", "10.1.2.0/27", None)])
    vnets = [hub1, hub2]
    spokes = []
    for i, (reg, hub) in enumerate([(r1, 1), (r1, 1), (r2, 2), (r2, 2)], start=1):
        s = vnet("spoke%d" % i, reg, ["192.168.%d.0/24" % (i - 1)],
                 [("workload", "192.168.%d.0/25" % (i - 1), "rt-spokes%d" % hub)])
        spokes.append((s, hub))
        vnets.append(s)
    nva1_ip, nva2_ip = ("10.3.1.4", "10.4.1.4") if transit else ("10.0.1.4", "10.1.1.4")
    if transit:
        t1 = vnet("transit1", r1, ["10.3.0.0/16"], [("nva", "10.3.1.0/24", None)])
        t2 = vnet("transit2", r2, ["10.4.0.0/16"], [("nva", "10.4.1.0/24", None)])
        vnets += [t1, t2]
        for s, h in spokes:
            t = t1 if h == 1 else t2
            peer(t, s); peer(s, t)
        peer_both(hub1, t1, True); peer_both(hub2, t2, True)
        peer(t1, t2); peer(t2, t1)
        peer(t1, hub2); peer(hub2, t1); peer(t2, hub1); peer(hub1, t2)
    else:
        for s, h in spokes:
            peer_both(hub1 if h == 1 else hub2, s, True)
        peer(hub1, hub2); peer(hub2, hub1)
    res = list(vnets)
    # Spokes: a default route to the local NVA; Option A and transit keep
    # gateway routes out (full inspection), Option B lets them in and
    # overrides the remote supernet.
    for h, ip, other in ((1, nva1_ip, "192.168.2.0/23"), (2, nva2_ip, "192.168.0.0/23")):
        routes = [("default", "0.0.0.0/0", ip)]
        if design == "b":
            routes.append(("remote-region", other, ip))
        res.append(route_table("rt-spokes%d" % h, r1 if h == 1 else r2, routes, design == "b"))
    if design == "a":
        res.append(route_table("rt-gw1", r1, [("spoke1", "192.168.0.0/24", nva1_ip),
                                              ("spoke2", "192.168.1.0/24", nva1_ip)], True))
        res.append(route_table("rt-gw2", r2, [("spoke3", "192.168.2.0/24", nva2_ip),
                                              ("spoke4", "192.168.3.0/24", nva2_ip)], True))
    res += [gateway("gw1", r1, "hub1"), gateway("gw2", r2, "hub2"),
            circuit("exr1", r1), circuit("exr2", r2),
            connection("gw1", "exr1", r1, 100), connection("gw1", "exr2", r1, 0),
            connection("gw2", "exr2", r2, 100), connection("gw2", "exr1", r2, 0),
            nic("nva1-nic", r1, "transit1" if transit else "hub1", "nva", nva1_ip),
            nic("nva2-nic", r2, "transit2" if transit else "hub2", "nva", nva2_ip),
            pip("ars1-pip", r1), pip("ars2-pip", r2)]
    local = design != "b"
    p1 = ([("nva1", nva1_ip, 65001)] if local else []) + [("nva2", nva2_ip, 65002)]
    p2 = ([("nva2", nva2_ip, 65002)] if local else []) + [("nva1", nva1_ip, 65001)]
    res += ars("ars1", r1, "hub1", ["10.0.2.4", "10.0.2.5"], p1)
    res += ars("ars2", r2, "hub2", ["10.1.2.4", "10.1.2.5"], p2)

    def nva(n, ip, asn, local_ars, remote_ars, own, nic_name):
        peers = []
        if design == "a":
            peers.append({"routeServer": local_ars})
            peers.append({"routeServer": remote_ars, "readvertise": [local_ars], "only": own,
                          "asOverride": override})
        elif design == "b":
            sup = "192.168.0.0/23" if n == "nva1" else "192.168.2.0/23"
            peers.append({"routeServer": remote_ars, "advertise": [sup], "asOverride": override})
        else:
            peers.append({"routeServer": local_ars, "advertise": own, "asOverride": override})
            p = {"routeServer": remote_ars, "advertise": own, "asOverride": override}
            if prepend:
                p["prepend"] = 2
            peers.append(p)
        return {"name": n, "nic": NET + "/networkInterfaces/" + nic_name, "ips": [ip], "asn": asn,
                "peers": peers}
    nvas = [nva("nva1", nva1_ip, 65001, ARS1, ARS2, ["192.168.0.0/24", "192.168.1.0/24"], "nva1-nic"),
            nva("nva2", nva2_ip, 65002, ARS2, ARS1, ["192.168.2.0/24", "192.168.3.0/24"], "nva2-nic")]
    return {"format": "netwave.topology/v1", "subscriptions": [SUB[len("/subscriptions/"):]],
            "resources": res,
            "observed": {"circuitRoutes": {NET + "/expressRouteCircuits/exr1": ONPREM,
                                           NET + "/expressRouteCircuits/exr2": ONPREM}},
            "declared": {"nvas": nvas}}

CASES = {
    "option-a.json": estate("a"),
    "option-a-no-override.json": estate("a", override=False),
    "option-b.json": estate("b"),
    "transit.json": estate("transit"),
    "transit-no-prepend.json": estate("transit", prepend=False),
}

if __name__ == "__main__":
    for name, doc in CASES.items():
        with open(name, "w") as f:
            json.dump(doc, f, indent=2, sort_keys=True)
            f.write("\n")
