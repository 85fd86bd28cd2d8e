/*
 * Graphviz pictures (plan/picture.h): the path of a flow, hop by hop with
 * the routes that decide it, and an estate's topology as check sees it.
 * The graphs are built in memory (nodes and edges deduplicated, in order
 * of first use) and then written, so the bytes depend only on the input.
 * Render with `dot -Tpng` or `dot -Tsvg` (https://graphviz.org/doc/info/lang.html).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/picture.h"
#include "plan/vec.h"

struct dnode {
	char *id;
	char *attrs;
	size_t cluster; /* 0: none, else 1 + cluster index */
};

struct dedge {
	char *from, *to, *attrs;
};

struct dcluster {
	char *label;
};

struct dgraph {
	struct dnode *nodes;
	size_t nn, cn;
	struct dedge *edges;
	size_t ne, ce;
	struct dcluster *clusters;
	size_t nc, cc;
	int oom;
};

static void
dgraph_free(struct dgraph *g)
{
	for (size_t i = 0; i < g->nn; i++) {
		free(g->nodes[i].id);
		free(g->nodes[i].attrs);
	}
	for (size_t i = 0; i < g->ne; i++) {
		free(g->edges[i].from);
		free(g->edges[i].to);
		free(g->edges[i].attrs);
	}
	for (size_t i = 0; i < g->nc; i++)
		free(g->clusters[i].label);
	free(g->nodes);
	free(g->edges);
	free(g->clusters);
	memset(g, 0, sizeof(*g));
}

/* A printf into a new string; NULL on out of memory. */
static char *
fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

/* text as the inside of a dot string: quotes and backslashes escaped, newlines as \n. */
static char *
esc(const char *text)
{
	size_t n = 1;
	char *s, *p;

	for (const char *c = text; *c; c++)
		n += (*c == '"' || *c == '\\' || *c == '\n') ? 2 : 1;
	if ((s = malloc(n)) == NULL)
		return NULL;
	for (p = s; *text; text++) {
		if (*text == '"' || *text == '\\') {
			*p++ = '\\';
			*p++ = *text;
		} else if (*text == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else {
			*p++ = *text;
		}
	}
	*p = '\0';
	return s;
}

/* A cluster (a subgraph drawn as a box); returns its number for dnode.cluster. */
static size_t
cluster_add(struct dgraph *g, const char *label)
{
	if (VEC_GROW(g->clusters, &g->cc, g->nc + 1) != 0 ||
	    (g->clusters[g->nc].label = esc(label)) == NULL) {
		g->oom = 1;
		return 0;
	}
	return ++g->nc;
}

/* Adds node id with a label and extra attributes (may be ""), once. */
static void
node_add(struct dgraph *g, size_t cluster, const char *id, const char *label, const char *extra)
{
	struct dnode *nv;
	char *el;

	for (size_t i = 0; i < g->nn; i++)
		if (strcmp(g->nodes[i].id, id) == 0)
			return;
	if (VEC_GROW(g->nodes, &g->cn, g->nn + 1) != 0 || (el = esc(label)) == NULL) {
		g->oom = 1;
		return;
	}
	nv = g->nodes;
	nv[g->nn].id = esc(id);
	nv[g->nn].attrs = fmt("label=\"%s\"%s%s", el, extra[0] ? ", " : "", extra);
	nv[g->nn].cluster = cluster;
	free(el);
	if (nv[g->nn].id == NULL || nv[g->nn].attrs == NULL) {
		free(nv[g->nn].id);
		free(nv[g->nn].attrs);
		g->oom = 1;
		return;
	}
	g->nn++;
}

/* Adds an edge with a label (may be "") and extra attributes, once. */
static void
edge_add(struct dgraph *g, const char *from, const char *to, const char *label, const char *extra)
{
	struct dedge *ev;
	char *el = esc(label), *f = esc(from), *t = esc(to), *attrs = NULL;

	if (el != NULL)
		attrs = fmt("%s%s%s%s%s", label[0] ? "label=\"" : "", el, label[0] ? "\"" : "",
		    label[0] && extra[0] ? ", " : "", extra);
	free(el);
	if (f == NULL || t == NULL || attrs == NULL) {
		g->oom = 1;
		goto fail;
	}
	for (size_t i = 0; i < g->ne; i++)
		if (strcmp(g->edges[i].from, f) == 0 && strcmp(g->edges[i].to, t) == 0 &&
		    strcmp(g->edges[i].attrs, attrs) == 0)
			goto fail;
	if (VEC_GROW(g->edges, &g->ce, g->ne + 1) != 0) {
		g->oom = 1;
		goto fail;
	}
	ev = g->edges;
	ev[g->ne].from = f;
	ev[g->ne].to = t;
	ev[g->ne].attrs = attrs;
	g->ne++;
	return;
fail:
	free(f);
	free(t);
	free(attrs);
}

static int
dgraph_write(FILE *o, const struct dgraph *g, const char *name, const char *title,
    const char *rankdir, struct nw_err *err)
{
	char *et;

	if (g->oom || (et = esc(title)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory drawing the %s", name);
	fprintf(o, "digraph \"netwave-%s\" {\n", name);
	fprintf(o, "\tgraph [rankdir=%s, labelloc=t, fontname=\"Helvetica\", label=\"%s\"];\n",
	    rankdir, et);
	fputs("\tnode [fontname=\"Helvetica\", fontsize=11, shape=box, style=rounded];\n", o);
	fputs("\tedge [fontname=\"Helvetica\", fontsize=9];\n", o);
	free(et);
	for (size_t c = 0; c <= g->nc; c++) {
		if (c > 0)
			fprintf(o, "\tsubgraph \"cluster_%zu\" {\n\t\tlabel=\"%s\";\n\t\tstyle=rounded;\n",
			    c, g->clusters[c - 1].label);
		for (size_t i = 0; i < g->nn; i++)
			if (g->nodes[i].cluster == c)
				fprintf(o, "%s\t\"%s\" [%s];\n", c > 0 ? "\t" : "", g->nodes[i].id,
				    g->nodes[i].attrs);
		if (c > 0)
			fputs("\t}\n", o);
	}
	for (size_t i = 0; i < g->ne; i++)
		fprintf(o, "\t\"%s\" -> \"%s\"%s%s%s;\n", g->edges[i].from, g->edges[i].to,
		    g->edges[i].attrs[0] ? " [" : "", g->edges[i].attrs, g->edges[i].attrs[0] ? "]" : "");
	fputs("}\n", o);
	if (ferror(o))
		return err_set(err, NW_EIO, "cannot write the %s picture", name);
	return 0;
}

/* ---- the path ---- */

static const char *const class_color[PATH_NCLASSES] = {
	[PATH_LOCAL] = "gray40", [PATH_PEERING] = "darkgreen", [PATH_MESH] = "forestgreen",
	[PATH_VIA_APPLIANCE] = "royalblue", [PATH_HAIRPIN] = "darkorange",
	[PATH_ON_PREMISES] = "purple", [PATH_UNREACHABLE] = "red",
};

static void
route_label(char *buf, size_t n, const struct path_result *r)
{
	char pfx[CIDR_STRLEN], ip[CIDR_STRLEN] = "";

	if (!r->has_route) {
		snprintf(buf, n, "no route");
		return;
	}
	cidr_format(&r->route.prefix, pfx);
	if (r->route.has_next_hop_ip)
		cidr_format_addr(&r->route.next_hop_ip, ip);
	snprintf(buf, n, "%s -> %s%s%s\n(%s%s%s)", pfx, topo_next_hop_name(r->route.next_hop),
	    ip[0] ? " " : "", ip, route_source_name(r->route.source),
	    r->route.name != NULL ? ", route " : "", r->route.name != NULL ? r->route.name : "");
}

static void
prefixes_label(char *buf, size_t n, const struct cidr *v, size_t nv)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nv && i < 3 && used < n; i++) {
		char p[CIDR_STRLEN];

		cidr_format(&v[i], p);
		used += (size_t)snprintf(buf + used, n - used, "\n%s", p);
	}
	if (nv > 3 && used < n)
		snprintf(buf + used, n - used, "\n(%zu more)", nv - 3);
}

/* The hops of one row after its source: gateways, circuit, appliance or a drop. */
static void
path_row(struct dgraph *g, const struct path_result *r, size_t i, const char *src)
{
	char rl[600], extra[64], id[700], id2[700], lbl[700];
	const struct route *rt = &r->route;

	route_label(rl, sizeof(rl), r);
	snprintf(extra, sizeof(extra), "color=%s, fontcolor=%s", class_color[r->cls],
	    class_color[r->cls]);
	switch (r->cls) {
	case PATH_LOCAL:
	case PATH_PEERING:
	case PATH_MESH:
		edge_add(g, src, "dst", rl, extra);
		return;
	case PATH_VIA_APPLIANCE:
		snprintf(id, sizeof(id), "appliance:%s", r->detail);
		snprintf(lbl, sizeof(lbl), "appliance\n%s", r->detail);
		node_add(g, 0, id, lbl, "shape=hexagon");
		edge_add(g, src, id, rl, extra);
		edge_add(g, id, "dst", "", extra);
		return;
	case PATH_HAIRPIN:
	case PATH_ON_PREMISES:
		if (rt->gateway == NULL || rt->circuit == NULL) {
			node_add(g, 0, "on-premises", "on-premises", "shape=box3d");
			edge_add(g, src, "on-premises", rl, extra);
			if (r->cls == PATH_HAIRPIN)
				edge_add(g, "on-premises", "dst", "", extra);
			return;
		}
		snprintf(id, sizeof(id), "gateway:%s", rt->gateway->res->id);
		snprintf(lbl, sizeof(lbl), "gateway\n%s", rt->gateway->res->name);
		node_add(g, 0, id, lbl, "shape=component");
		edge_add(g, src, id, rl, extra);
		snprintf(id2, sizeof(id2), "circuit:%s", rt->circuit->res->id);
		snprintf(lbl, sizeof(lbl), "ExpressRoute circuit\n%s", rt->circuit->res->name);
		node_add(g, 0, id2, lbl, "shape=ellipse");
		edge_add(g, id, id2, "", extra);
		if (r->has_circuit_route) {
			char cp[CIDR_STRLEN];

			cidr_format(&r->circuit_route.prefix, cp);
			if (r->circuit_route.origin != NULL) {
				snprintf(id, sizeof(id), "gateway:%s", r->circuit_route.origin->res->id);
				snprintf(lbl, sizeof(lbl), "gateway\n%s", r->circuit_route.origin->res->name);
				node_add(g, 0, id, lbl, "shape=component");
				snprintf(rl, sizeof(rl), "circuit route %s", cp);
				edge_add(g, id2, id, rl, extra);
				edge_add(g, id, "dst", "", extra);
				return;
			}
			snprintf(rl, sizeof(rl), "circuit route %s", cp);
		} else {
			rl[0] = '\0';
		}
		node_add(g, 0, "on-premises", "on-premises", "shape=box3d");
		edge_add(g, id2, "on-premises", rl, extra);
		return;
	case PATH_UNREACHABLE:
	default:
		snprintf(id, sizeof(id), "unreachable:%zu", i);
		snprintf(lbl, sizeof(lbl), "unreachable\n%s", r->detail);
		node_add(g, 0, id, lbl, "shape=octagon, color=red");
		edge_add(g, src, id, rl, extra);
		return;
	}
}

int
picture_path_dot(FILE *o, const struct route_endpoint *a, const struct route_endpoint *b,
    const struct path_result *rows, size_t n, size_t worst, struct nw_err *err)
{
	struct dgraph g = { 0 };
	const struct cidr *dst;
	size_t ndst;
	char la[256], lb[256], pl[256], lbl[700], title[1400];
	const char *detail;
	int rc;

	routes_endpoint_label(la, sizeof(la), a);
	routes_endpoint_label(lb, sizeof(lb), b);
	routes_endpoint_prefixes(&dst, &ndst, b);
	prefixes_label(pl, sizeof(pl), dst, ndst);
	snprintf(lbl, sizeof(lbl), "%s%s", lb, pl);
	node_add(&g, 0, "dst", lbl, "peripheries=2");
	for (size_t i = 0; i < n; i++) {
		const struct topo_subnet *s = rows[i].from_subnet;
		char id[600];

		snprintf(id, sizeof(id), "src:%zu", i);
		if (s != NULL) {
			prefixes_label(pl, sizeof(pl), s->prefixes.v, s->prefixes.n);
			snprintf(lbl, sizeof(lbl), "%s%s%s/%s",
			    a->kind == ENDPOINT_NIC || a->kind == ENDPOINT_ADDRESS ? la : "",
			    a->kind == ENDPOINT_NIC || a->kind == ENDPOINT_ADDRESS ? " in " : "",
			    a->vnet->res->name, s->name);
			snprintf(lbl + strlen(lbl), sizeof(lbl) - strlen(lbl), "%s", pl);
		} else {
			snprintf(lbl, sizeof(lbl), "%s", la);
		}
		node_add(&g, 0, id, lbl, "");
		path_row(&g, &rows[i], i, id);
	}
	detail = rows[worst].cls == PATH_HAIRPIN ? arm_id_name(rows[worst].detail) : rows[worst].detail;
	snprintf(title, sizeof(title), "%s -> %s: %s%s%s", la, lb, path_class_name(rows[worst].cls),
	    detail[0] ? " " : "", detail);
	rc = dgraph_write(o, &g, "path", title, "LR", err);
	dgraph_free(&g);
	return rc;
}

/* ---- the topology ---- */

/* The hub a spoke hangs from: the first hub it has a Connected peering to. */
static const struct topo_vnet *
spoke_hub(const struct topo_vnet *v)
{
	for (size_t p = 0; p < v->npeerings; p++) {
		const struct topo_vnet *r = v->peerings[p].remote;

		if (v->peerings[p].state == PEERING_CONNECTED && r != NULL && findings_is_hub(r))
			return r;
	}
	return NULL;
}

struct sgroup {
	const struct topo_vnet *hub; /* NULL: no hub */
	unsigned classes;            /* bit per path class of its flows */
	size_t n;
	size_t first;                /* the first member's VNet index */
	char names[200];             /* the first members' names */
};

static unsigned
vnet_classes(const struct findings *f, const struct topology *t, size_t v)
{
	unsigned m = 0;

	for (int c = 0; f->eastwest.by_vnet != NULL && c < PATH_NCLASSES; c++)
		if (f->eastwest.by_vnet[v][c] > 0)
			m |= 1u << c;
	(void)t;
	return m;
}

static void
group_label(char *buf, size_t n, const struct sgroup *sg)
{
	size_t used = (size_t)snprintf(buf, n, "%zu spoke%s\n", sg->n, sg->n == 1 ? "" : "s");

	for (int c = 0; c < PATH_NCLASSES && used < n; c++)
		if (sg->classes & (1u << c))
			used += (size_t)snprintf(buf + used, n - used, "%s%s",
			    used > 0 && buf[used - 1] != '\n' ? " + " : "", path_class_name((enum path_class)c));
	if (sg->classes == 0 && used < n)
		used += (size_t)snprintf(buf + used, n - used, "no east-west flows");
	if (used < n)
		snprintf(buf + used, n - used, "\n%s%s", sg->names, sg->n > 4 ? ", ..." : "");
}

/* Groups spokes by hub and by the set of classes their flows take. */
static int
spoke_groups(struct sgroup **out, size_t *nout, const struct topology *t, const struct findings *f)
{
	struct sgroup *g = NULL;
	size_t n = 0, cap = 0;

	for (size_t v = 0; v < t->nvnets; v++) {
		const struct topo_vnet *vn = &t->vnets[v];
		const struct topo_vnet *hub;
		unsigned cl;
		size_t k;

		if (findings_is_hub(vn))
			continue;
		hub = spoke_hub(vn);
		cl = vnet_classes(f, t, v);
		for (k = 0; k < n && !(g[k].hub == hub && g[k].classes == cl); k++)
			;
		if (k == n) {
			if (VEC_GROW(g, &cap, n + 1) != 0) {
				free(g);
				return NW_ENOMEM;
			}
			memset(&g[n], 0, sizeof(g[n]));
			g[n].hub = hub;
			g[n].classes = cl;
			g[n].first = v;
			n++;
		}
		if (g[k].n < 4)
			snprintf(g[k].names + strlen(g[k].names), sizeof(g[k].names) - strlen(g[k].names),
			    "%s%s", g[k].n > 0 ? ", " : "", vn->res->name);
		g[k].n++;
	}
	*out = g;
	*nout = n;
	return 0;
}

/* Hubs in clusters with their gateways and appliances; circuits and connections. */
static void
topo_hubs(struct dgraph *g, const struct topology *t)
{
	char id[700], lbl[700], pl[256];

	for (size_t v = 0; v < t->nvnets; v++) {
		const struct topo_vnet *h = &t->vnets[v];
		size_t c;

		if (!findings_is_hub(h))
			continue;
		snprintf(lbl, sizeof(lbl), "hub %s%s%s", h->res->name,
		    h->res->location != NULL ? ", " : "", h->res->location != NULL ? h->res->location : "");
		c = cluster_add(g, lbl);
		prefixes_label(pl, sizeof(pl), h->prefixes.v, h->prefixes.n);
		snprintf(lbl, sizeof(lbl), "%s%s", h->res->name, pl);
		node_add(g, c, h->res->id, lbl, "style=\"rounded,bold\"");
		for (size_t k = 0; k < h->ngateways; k++) {
			const struct topo_gateway *gw = h->gateways[k];

			snprintf(lbl, sizeof(lbl), "%s gateway\n%s%s%s", gw->gateway_type ? gw->gateway_type : "",
			    gw->res->name, gw->sku ? "\n" : "", gw->sku ? gw->sku : "");
			node_add(g, c, gw->res->id, lbl, "shape=component");
			edge_add(g, h->res->id, gw->res->id, "", "dir=none");
		}
		/* appliances: next hops of user routes that sit in this hub's subnets */
		for (size_t r = 0; r < t->nroute_tables; r++)
			for (size_t k = 0; k < t->route_tables[r].nroutes; k++) {
				const struct topo_route *ro = &t->route_tables[r].routes[k];
				char ip[CIDR_STRLEN];

				if (!ro->has_next_hop_ip || topology_subnet_by_addr(h, &ro->next_hop_ip) == NULL)
					continue;
				cidr_format_addr(&ro->next_hop_ip, ip);
				snprintf(id, sizeof(id), "appliance:%s", ip);
				snprintf(lbl, sizeof(lbl), "appliance\n%s", ip);
				node_add(g, c, id, lbl, "shape=hexagon");
				edge_add(g, h->res->id, id, "", "dir=none");
			}
	}
	for (size_t i = 0; i < t->nconnections; i++) {
		const struct topo_connection *cn = &t->connections[i];

		if (cn->gateway == NULL || cn->circuit == NULL)
			continue;
		snprintf(lbl, sizeof(lbl), "ExpressRoute circuit\n%s", cn->circuit->res->name);
		node_add(g, 0, cn->circuit->res->id, lbl, "shape=ellipse");
		edge_add(g, cn->gateway->res->id, cn->circuit->res->id, cn->res->name, "dir=none");
	}
}

/* Edges from a spoke group to the appliances its members' route tables name. */
static void
group_appliances(struct dgraph *g, const struct topology *t, const struct findings *f,
    const struct sgroup *sg, const char *gid)
{
	if (!(sg->classes & (1u << PATH_VIA_APPLIANCE)))
		return;
	for (size_t v = sg->first; v < t->nvnets; v++) {
		const struct topo_vnet *vn = &t->vnets[v];

		if (findings_is_hub(vn) || spoke_hub(vn) != sg->hub ||
		    vnet_classes(f, t, v) != sg->classes)
			continue;
		for (size_t s = 0; s < vn->nsubnets; s++) {
			const struct topo_route_table *rt = vn->subnets[s].route_table;

			for (size_t k = 0; rt != NULL && k < rt->nroutes; k++) {
				char ip[CIDR_STRLEN], id[CIDR_STRLEN + 16];

				if (!rt->routes[k].has_next_hop_ip)
					continue;
				cidr_format_addr(&rt->routes[k].next_hop_ip, ip);
				snprintf(id, sizeof(id), "appliance:%s", ip);
				for (size_t i = 0; i < g->nn; i++)
					if (strcmp(g->nodes[i].id, id) == 0)
						edge_add(g, gid, id, "user route",
						    "style=dashed, color=royalblue");
			}
		}
		break; /* the group's first member stands for its route tables */
	}
}

int
picture_topology_dot(FILE *o, const struct topology *t, const struct findings *f,
    struct nw_err *err)
{
	struct dgraph g = { 0 };
	struct sgroup *sg = NULL;
	size_t ng = 0;
	char title[600], lbl[600], gid[64];
	int rc;

	topo_hubs(&g, t);
	if (spoke_groups(&sg, &ng, t, f) != 0)
		return err_set(err, NW_ENOMEM, "out of memory drawing the topology");
	for (size_t i = 0; i < ng; i++) {
		group_label(lbl, sizeof(lbl), &sg[i]);
		snprintf(gid, sizeof(gid), "spokes:%zu", i);
		node_add(&g, 0, gid, lbl, sg[i].classes & (1u << PATH_HAIRPIN) ?
		    "color=darkorange" : "");
		if (sg[i].hub != NULL)
			edge_add(&g, gid, sg[i].hub->res->id, "peering", "dir=none");
		group_appliances(&g, t, f, &sg[i], gid);
	}
	/* hub to hub peerings */
	for (size_t v = 0; v < t->nvnets; v++) {
		const struct topo_vnet *h = &t->vnets[v];

		for (size_t p = 0; findings_is_hub(h) && p < h->npeerings; p++) {
			const struct topo_vnet *r = h->peerings[p].remote;

			if (r != NULL && findings_is_hub(r) && r > h &&
			    h->peerings[p].state == PEERING_CONNECTED)
				edge_add(&g, h->res->id, r->res->id, "peering", "dir=none, style=bold");
		}
	}
	snprintf(title, sizeof(title), "%s: %zu hubs, %zu spokes, %zu gateways, %zu circuits",
	    t->source, f->nhubs, f->nspokes, t->ngateways, t->ncircuits);
	rc = dgraph_write(o, &g, "topology", title, "TB", err);
	dgraph_free(&g);
	free(sg);
	return rc;
}
