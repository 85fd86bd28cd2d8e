/*
 * The names in a plan's contract: wave kinds and gate kinds, each an enum
 * with exactly one string form.  The planner writes the string, the engine,
 * the report and the status read it back through the parse functions, so a
 * misspelt kind fails to compile instead of becoming "inconclusive" at run
 * time.  docs/plan.md lists the same names with what they mean.
 */
#ifndef NETWAVE_PLAN_KINDS_H
#define NETWAVE_PLAN_KINDS_H

enum wave_kind {
	WAVE_UNKNOWN = 0,
	WAVE_PREPARE,        /* features, network manager, group, configuration */
	WAVE_HSPE,           /* High-Scale Private Endpoints on members */
	WAVE_MESH,           /* spokes join the connected group */
	WAVE_GATEWAY,        /* gateway migration: validate, prepare, execute */
	WAVE_GATEWAY_COMMIT, /* gateway migration: commit (irreversible) */
	WAVE_SUMMARIZE,      /* summarized gateway prefixes on hubs */
	WAVE_DECOMMISSION,   /* legacy peerings and routes deleted */
	WAVE_ROUTE_SERVER,   /* route servers deployed into hubs */
	WAVE_BGP_PEERING,    /* BGP connections from NVAs to route servers */
	WAVE_BRANCH_TO_BRANCH, /* allowBranchToBranchTraffic on route servers */
	WAVE_UDR_CLEANUP,    /* inter-hub user routes the route servers made redundant removed */
};

enum gate_kind {
	GATE_UNKNOWN = 0,
	GATE_RESOURCE_STATE,      /* resources read back as the plan wrote them */
	GATE_DEPLOYMENT_STATUS,   /* the network manager's commit is Deployed */
	GATE_EFFECTIVE_ROUTES,    /* sampled NICs' effective routes */
	GATE_ONPREM_ROUTES,       /* the circuit's route table */
	GATE_FEATURE_REGISTERED,  /* feature registrations Registered */
	GATE_MIGRATION_PHASE,     /* a gateway migration's phase */
	GATE_SOAK,                /* time passes with nothing changed */
	GATE_LEARNED_ROUTES,      /* a BGP connection's learnedRoutes hold and lack what the model says */
};

/* The string form ("mesh", "effective-routes"); "" for an unknown kind. */
const char *wave_kind_name(enum wave_kind k);
const char *gate_kind_name(enum gate_kind k);

/* The kind a string names; WAVE_UNKNOWN / GATE_UNKNOWN for NULL or any other string. */
enum wave_kind wave_kind_parse(const char *s);
enum gate_kind gate_kind_parse(const char *s);

#endif
