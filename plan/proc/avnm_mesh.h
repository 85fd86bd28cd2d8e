/*
 * avnm-mesh, the kind's own header: its state and the functions its files
 * share.  The kind's files: avnm_mesh.c (the entry, detection, claims),
 * avnm_mesh_check.c (limits and prerequisites), avnm_mesh_prepare.c (the
 * prepare and HSPE waves), avnm_mesh_waves.c (mesh waves and their route
 * gates), avnm_mesh_decommission.c (the legacy path deleted after the
 * soak), avnm_mesh_intent.c (its intent change).  Nothing outside
 * plan/proc/avnm_mesh*.c includes it but the tests.
 */
#ifndef NETWAVE_PLAN_PROC_AVNM_MESH_H
#define NETWAVE_PLAN_PROC_AVNM_MESH_H

#include "plan/plan_build.h"
#include "plan/procedure.h"

extern const struct procedure procedure_avnm_mesh;

/* Its wave kinds (avnm_mesh.c) and gate kinds (avnm_mesh_gates.c), plan/kinds.h. */
extern const struct wave_kind_def wave_kind_prepare, wave_kind_hspe, wave_kind_mesh, wave_kind_decommission;
#define WAVE_PREPARE (&wave_kind_prepare)           /* features, network manager, group, configuration */
#define WAVE_HSPE (&wave_kind_hspe)                 /* High-Scale Private Endpoints on members */
#define WAVE_MESH (&wave_kind_mesh)                 /* spokes join the connected group */
#define WAVE_DECOMMISSION (&wave_kind_decommission) /* legacy peerings and routes deleted */
extern const struct gate_kind_def gate_kind_deployment_status, gate_kind_feature_registered;
extern const struct gate_kind_def *const mesh_gate_kinds[];
#define GATE_DEPLOYMENT_STATUS (&gate_kind_deployment_status)   /* the commit is Deployed */
#define GATE_FEATURE_REGISTERED (&gate_kind_feature_registered) /* features Registered */

struct mesh {
	const struct topo_connectivity_config *cc;     /* target */
	const struct topo_connectivity_config *cc_cur; /* NULL when new */
	const struct topo_network_manager *nm;         /* target */
	const struct topo_network_manager *nm_cur;
	const struct topo_vnet **members;              /* target VNets, by id */
	size_t nmembers;
	const struct topo_static_member **added;       /* target static members new in this plan */
	size_t nadded;
	const char **regions;                          /* where the target deploys it */
	size_t nregions;
};

struct decom {
	bool peering;            /* else a route */
	const char *parent;      /* VNet or route table id (current) */
	char *id;                /* the child to delete (owned) */
	const char *name;
	const struct topo_vnet *vnet;  /* peering: the VNet it belongs to (current) */
	const struct topo_vnet *remote;
};

/* An HSPE step whose bodies are made after the rehearsal (mesh_hspe_bodies). */
struct hspe_later {
	const struct topo_vnet *v;
	const json_t *rec;             /* its hspe_vnets record */
	const struct topo_subnet *sn;  /* NULL: the VNet's own step */
	const char *sname;             /* the subnet's key in rec's "subnets" */
	json_t *step;                  /* borrowed from its wave */
};

struct mesh_state {
	struct mesh *mesh;
	size_t nmesh;
	json_t *memberset;       /* ids of every mesh member (target), lowercase */
	json_t *newset;          /* ids of VNets new to a mesh in this plan */
	struct cidr_table *member_space; /* members' prefixes */
	struct cidr *member_prefixes;
	size_t nmember_prefixes;
	json_t *features;        /* feature names to register: name -> true */
	json_t *hspe_vnets;      /* cur VNet id lowercase -> object {subnets: {name: policy}, vnet: policy} */
	struct decom *decoms;
	size_t ndecoms, capdecoms;
	json_t *deploy;          /* evolving observed.avnmDeployments (owned) */
	json_t *changed;         /* ids of resources with differences, lowercase */
	size_t *meshed;          /* cur VNet indexes meshed so far (rehearsal) */
	size_t nmeshed;
	json_t *committed;       /* "<manager>|<region>" committed by this plan, lowercase */
	char last_mesh_name[128];
	struct hspe_later *hspe_later; /* in step order, a VNet's together */
	size_t nhspe_later, caphspe_later;
};

static inline struct mesh_state *
mesh_state(const struct plan_ctx *p)
{
	return plan_ctx_state(p, &procedure_avnm_mesh);
}

/* avnm_mesh_intent.c: an intent's avnm-mesh change */
/* An avnm-mesh change of the intent (intent_change.state). */
struct mesh_change {
	const char *network_manager_id;
	const char **scope_subscriptions;      /* networkManager.scope.subscriptions */
	size_t nscope_subscriptions;
	const char **scope_management_groups;  /* networkManager.scope.managementGroups */
	size_t nscope_management_groups;
	const char *network_group;             /* the network group's name */
	struct intent_selector members;
	bool high_scale_private_endpoints;     /* force HSPE even under the thresholds */
	bool global;                           /* isGlobal even when members share a region */
};

static inline const struct mesh_change *
mesh_of(const struct intent_change *c)
{
	return c->state;
}

/* Its part of the intent (avnm_mesh_intent.c), plan/procedure.h. */
extern const struct procedure_intent mesh_intent;

/* avnm_mesh.c */
bool mesh_has_config(const struct plan_ctx *p, const char *cc);

/* avnm_mesh_check.c: limits and prerequisites, the spokes that stay inspected */
int mesh_check(struct plan_ctx *p);

/* avnm_mesh_prepare.c: the prepare wave, then the HSPE batches */
int mesh_wave_prepare(struct plan_ctx *p);
int mesh_waves_hspe(struct plan_ctx *p);
int mesh_hspe_bodies(struct plan_ctx *p);

/* avnm_mesh_waves.c: the mesh waves and their route gates */
int mesh_waves(struct plan_ctx *p);
int mesh_rehearsed(struct plan_ctx *p, struct wave *w, struct rstate *before,
    const struct rstate *after);

/* avnm_mesh_decommission.c */
int mesh_wave_decommission(struct plan_ctx *p);

#endif
