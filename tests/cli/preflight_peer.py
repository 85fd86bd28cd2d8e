#!/usr/bin/env python3
"""Peers spoke-01-0001 and spoke-01-0002 by hand in a synthesized estate
(cli_preflight.sh): the mesh's clean-up deletes such a peering.

usage: preflight_peer.py IN OUT
"""
import copy
import json
import sys

d = json.load(open(sys.argv[1]))
vnets = {r["name"]: r for r in d["resources"] if r.get("type") == "Microsoft.Network/virtualNetworks"}
for a, b in (("spoke-01-0001", "spoke-01-0002"), ("spoke-01-0002", "spoke-01-0001")):
    va, vb = vnets[a], vnets[b]
    p = copy.deepcopy(va["properties"]["virtualNetworkPeerings"][0])
    p["name"] = "to-" + b
    p["id"] = va["id"] + "/virtualNetworkPeerings/to-" + b
    p["properties"]["remoteVirtualNetwork"] = {"id": vb["id"]}
    p["properties"]["remoteAddressSpace"] = vb["properties"]["addressSpace"]
    p["properties"]["useRemoteGateways"] = False
    p["properties"]["allowGatewayTransit"] = False
    va["properties"]["virtualNetworkPeerings"].append(p)
json.dump(d, open(sys.argv[2], "w"), indent=2)
