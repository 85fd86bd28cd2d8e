/*
 * Azure Resource Graph on the emulator's estate (reference/azure-arm.md,
 * section 6): POST /providers/Microsoft.ResourceGraph/resources with the
 * subset of KQL discovery needs (docs/emulator.md, "Resource Graph"):
 *
 *   Resources | where type =~ 'microsoft.network/virtualnetworks'
 *             | where subscriptionId in ('a', 'b') and name startswith 'spoke'
 *             | project id, name, properties
 *             | order by id asc | limit 10
 *
 * The table may also be ResourceContainers: the resource groups and
 * subscriptions, as Resource Graph's resourcecontainers table holds them.
 * Anything outside the subset is answered 400 with what was not
 * understood.  Rows come as objectArray (or table), at most 1,000 a page,
 * continued with $skipToken.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"

#define GRAPH_PAGE 1000

/* --- tokens ------------------------------------------------------------------- */

enum tok_kind { T_END = 0, T_IDENT, T_STRING, T_NUMBER, T_PUNCT };

struct tok {
	enum tok_kind kind;
	char text[512];
	size_t pos;
};

struct node;

struct parser {
	const char *src;
	size_t pos;
	struct tok cur;
	char err[512];
	bool oom;        /* an allocation failed: the answer is 500, not a query error */
	struct node **nodes; /* where each new node goes: the query owns them all */
};

static bool
perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err[0] != '\0')
		return false;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return false;
}

/*
 * Ends the word (a name, or "!" and letters) whose n characters next()
 * copied up to src[i]: a "~" right after it is part of the word.
 */
static void
ident_end(struct parser *p, size_t i, size_t n)
{
	struct tok *t = &p->cur;

	if (p->src[i] == '~' && n < sizeof(t->text) - 1)
		t->text[n++] = p->src[i++];
	t->text[n] = '\0';
	t->kind = T_IDENT;
	p->pos = i;
}

static void
next(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->pos, n = 0;
	struct tok *t = &p->cur;

	while (isspace((unsigned char)s[i]))
		i++;
	t->pos = i;
	t->text[0] = '\0';
	if (s[i] == '\0') {
		t->kind = T_END;
		p->pos = i;
		return;
	}
	if (s[i] == '\'' || s[i] == '"') {
		char q = s[i++];
		while (s[i] != '\0' && s[i] != q) {
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
			if (n + 1 < sizeof(t->text))
				t->text[n++] = s[i];
			i++;
		}
		t->text[n] = '\0';
		if (s[i] != q) {
			perr(p, "unterminated string starting at character %zu", t->pos + 1);
			t->kind = T_END;
			p->pos = i;
			return;
		}
		t->kind = T_STRING;
		p->pos = i + 1;
		return;
	}
	if (isdigit((unsigned char)s[i]) || (s[i] == '-' && isdigit((unsigned char)s[i + 1]))) {
		while ((isdigit((unsigned char)s[i]) || s[i] == '.' || s[i] == '-') &&
		    n + 1 < sizeof(t->text))
			t->text[n++] = s[i++];
		t->text[n] = '\0';
		t->kind = T_NUMBER;
		p->pos = i;
		return;
	}
	if (isalpha((unsigned char)s[i]) || s[i] == '_') {
		while ((isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-') &&
		    n + 1 < sizeof(t->text))
			t->text[n++] = s[i++];
		ident_end(p, i, n);
		return;
	}
	if (s[i] == '!' && (isalpha((unsigned char)s[i + 1]))) {
		t->text[n++] = s[i++];
		while (isalpha((unsigned char)s[i]) && n + 1 < sizeof(t->text))
			t->text[n++] = s[i++];
		ident_end(p, i, n);
		return;
	}
	{
		static const char *const two[] = { "==", "!=", "=~", "!~", "<=", ">=", NULL };
		size_t k;

		for (k = 0; two[k] != NULL; k++)
			if (strncmp(s + i, two[k], 2) == 0) {
				memcpy(t->text, two[k], 3);
				t->kind = T_PUNCT;
				p->pos = i + 2;
				return;
			}
	}
	t->text[0] = s[i];
	t->text[1] = '\0';
	t->kind = T_PUNCT;
	p->pos = i + 1;
}

static bool
is(struct parser *p, const char *text)
{
	return (p->cur.kind == T_PUNCT || p->cur.kind == T_IDENT) &&
	    strcasecmp(p->cur.text, text) == 0;
}

static bool
expect(struct parser *p, const char *text)
{
	if (!is(p, text))
		return perr(p, "expected '%s' at character %zu, found '%s'", text, p->cur.pos + 1,
		    p->cur.kind == T_END ? "end of query" : p->cur.text);
	next(p);
	return true;
}

/* --- expressions ---------------------------------------------------------------- */

enum node_kind { N_AND = 1, N_OR, N_NOT, N_CMP };

/* A node of a where clause; every node belongs to the query's list, not to its parent. */
struct node {
	enum node_kind kind;
	struct node *a, *b;
	json_t *field;   /* array of path segments */
	char op[16];
	json_t *values;  /* array */
	struct node *next; /* the query's list of nodes */
};

/* A new node; NULL (and the parser stops) on out of memory. */
static struct node *
node_new(struct parser *p, enum node_kind kind)
{
	struct node *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		p->oom = true;
		perr(p, "out of memory");
		return NULL;
	}
	n->kind = kind;
	n->next = *p->nodes;
	*p->nodes = n;
	return n;
}

/*
 * Appends the current token to path when it is of kind, and moves on;
 * else says what was expected, and where, and returns false.
 */
static bool
take_segment(struct parser *p, json_t *path, enum tok_kind kind, const char *what)
{
	if (p->cur.kind != kind) {
		perr(p, "expected %s at character %zu", what, p->cur.pos + 1);
		return false;
	}
	json_array_append_new(path, json_string(p->cur.text));
	next(p);
	return true;
}

static json_t *
parse_field(struct parser *p)
{
	json_t *path = json_array();
	bool ok;

	if (p->cur.kind != T_IDENT) {
		json_decref(path);
		perr(p, "expected a column name at character %zu, found '%s'", p->cur.pos + 1,
		    p->cur.kind == T_END ? "end of query" : p->cur.text);
		return NULL;
	}
	ok = take_segment(p, path, T_IDENT, "a column name");
	while (ok) {
		if (is(p, ".")) {
			next(p);
			ok = take_segment(p, path, T_IDENT, "a property name after '.'");
		} else if (is(p, "[")) {
			next(p);
			ok = take_segment(p, path, T_STRING, "a quoted key inside []") && expect(p, "]");
		} else {
			return path;
		}
	}
	json_decref(path);
	return NULL;
}

static json_t *
parse_value(struct parser *p)
{
	json_t *v = NULL;

	if (p->cur.kind == T_STRING)
		v = json_string(p->cur.text);
	else if (p->cur.kind == T_NUMBER)
		v = json_real(strtod(p->cur.text, NULL));
	else if (p->cur.kind == T_IDENT && strcasecmp(p->cur.text, "true") == 0)
		v = json_true();
	else if (p->cur.kind == T_IDENT && strcasecmp(p->cur.text, "false") == 0)
		v = json_false();
	if (v == NULL) {
		perr(p, "expected a literal at character %zu, found '%s'", p->cur.pos + 1,
		    p->cur.kind == T_END ? "end of query" : p->cur.text);
		return NULL;
	}
	next(p);
	return v;
}

static const char *const cmp_ops[] = { "==", "!=", "=~", "!~", "<", ">", "<=", ">=", "in", "in~",
	"!in", "!in~", "contains", "!contains", "startswith", "!startswith", "endswith",
	"!endswith", "has", "!has", "contains_cs", "startswith_cs", NULL };

static struct node *parse_or(struct parser *p);

static struct node *
parse_unary(struct parser *p)
{
	struct node *n;
	size_t k;

	if (is(p, "not")) {
		next(p);
		if (!expect(p, "("))
			return NULL;
		n = node_new(p, N_NOT);
		if (n == NULL)
			return NULL;
		n->a = parse_or(p);
		if (n->a == NULL || !expect(p, ")"))
			return NULL;
		return n;
	}
	if (is(p, "(")) {
		next(p);
		n = parse_or(p);
		if (n == NULL || !expect(p, ")"))
			return NULL;
		return n;
	}
	n = node_new(p, N_CMP);
	if (n == NULL)
		return NULL;
	n->field = parse_field(p);
	if (n->field == NULL)
		return NULL;
	for (k = 0; cmp_ops[k] != NULL; k++)
		if (is(p, cmp_ops[k]))
			break;
	if (cmp_ops[k] == NULL) {
		perr(p, "unsupported operator '%s' at character %zu (supported: ==, !=, =~, !~, <, >, <=, >=, in, in~, !in, !in~, contains, startswith, endswith, has and their ! forms)",
		    p->cur.kind == T_END ? "end of query" : p->cur.text, p->cur.pos + 1);
		return NULL;
	}
	snprintf(n->op, sizeof(n->op), "%s", cmp_ops[k]);
	for (k = 0; n->op[k] != '\0'; k++)
		n->op[k] = (char)tolower((unsigned char)n->op[k]);
	next(p);
	n->values = json_array();
	if (strstr(n->op, "in") != NULL && strchr(n->op, 'c') == NULL &&
	    strcmp(n->op, "startswith") != 0) {
		if (!expect(p, "("))
			return NULL;
		for (;;) {
			json_t *v = parse_value(p);
			if (v == NULL)
				return NULL;
			json_array_append_new(n->values, v);
			if (is(p, ",")) {
				next(p);
				continue;
			}
			break;
		}
		if (!expect(p, ")"))
			return NULL;
	} else {
		json_t *v = parse_value(p);
		if (v == NULL)
			return NULL;
		json_array_append_new(n->values, v);
	}
	return n;
}

/*
 * A left-associative chain of operands joined by word ("and", "or"), each
 * operand read by sub: the two binary levels of the grammar.
 */
static struct node *
parse_chain(struct parser *p, const char *word, enum node_kind kind, struct node *(*sub)(struct parser *))
{
	struct node *l = sub(p);

	while (l != NULL && is(p, word)) {
		struct node *n = node_new(p, kind);

		if (n == NULL)
			return NULL;
		next(p);
		n->a = l;
		n->b = sub(p);
		if (n->b == NULL)
			return NULL;
		l = n;
	}
	return l;
}

static struct node *
parse_and(struct parser *p)
{
	return parse_chain(p, "and", N_AND, parse_unary);
}

static struct node *
parse_or(struct parser *p)
{
	return parse_chain(p, "or", N_OR, parse_and);
}

/* --- evaluation ------------------------------------------------------------------- */

static json_t *
field_get(json_t *row, json_t *path)
{
	json_t *cur = row, *seg;
	size_t i;

	json_array_foreach(path, i, seg) {
		const char *k = json_string_value(seg), *key;
		json_t *v, *found = NULL;

		if (!json_is_object(cur))
			return NULL;
		/* column and property names match case-insensitively at the top */
		json_object_foreach(cur, key, v)
			if ((i == 0 ? strcasecmp(key, k) : strcmp(key, k)) == 0) {
				found = v;
				break;
			}
		cur = found;
		if (cur == NULL)
			return NULL;
	}
	return cur;
}

static bool
as_text(json_t *v, char *buf, size_t size)
{
	if (json_is_string(v))
		snprintf(buf, size, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
	else
		return false;
	return true;
}

static bool
ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; hay[i] != '\0'; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return true;
	return n == 0;
}

static bool
cmp_one(const char *op, json_t *fv, json_t *lit)
{
	char a[4096], b[1024];
	bool neg = op[0] == '!' && strcmp(op, "!=") != 0 && strcmp(op, "!~") != 0;
	const char *o = neg ? op + 1 : op;
	bool r;

	if (!as_text(fv, a, sizeof(a)))
		return strcmp(op, "!=") == 0 || strcmp(op, "!~") == 0 || neg;
	as_text(lit, b, sizeof(b));
	if (json_is_number(lit) && json_is_number(fv) && strchr("<>", o[0]) != NULL) {
		double x = json_number_value(fv), y = json_number_value(lit);
		if (strcmp(o, "<") == 0)
			return x < y;
		if (strcmp(o, ">") == 0)
			return x > y;
		if (strcmp(o, "<=") == 0)
			return x <= y;
		return x >= y;
	}
	if (strcmp(o, "==") == 0 || strcmp(o, "in") == 0)
		r = strcmp(a, b) == 0;
	else if (strcmp(o, "!=") == 0)
		r = strcmp(a, b) != 0;
	else if (strcmp(o, "=~") == 0 || strcmp(o, "in~") == 0)
		r = strcasecmp(a, b) == 0;
	else if (strcmp(o, "!~") == 0)
		r = strcasecmp(a, b) != 0;
	else if (strcmp(o, "contains") == 0 || strcmp(o, "has") == 0)
		r = ci_contains(a, b);
	else if (strcmp(o, "contains_cs") == 0)
		r = strstr(a, b) != NULL;
	else if (strcmp(o, "startswith") == 0)
		r = strncasecmp(a, b, strlen(b)) == 0;
	else if (strcmp(o, "startswith_cs") == 0)
		r = strncmp(a, b, strlen(b)) == 0;
	else if (strcmp(o, "endswith") == 0)
		r = strlen(a) >= strlen(b) && strcasecmp(a + strlen(a) - strlen(b), b) == 0;
	else
		r = false;
	return neg ? !r : r;
}

static bool
eval(struct node *n, json_t *row)
{
	switch (n->kind) {
	case N_AND:
		return eval(n->a, row) && eval(n->b, row);
	case N_OR:
		return eval(n->a, row) || eval(n->b, row);
	case N_NOT:
		return !eval(n->a, row);
	case N_CMP: {
		json_t *fv = field_get(row, n->field), *lit;
		size_t i;
		bool in = strstr(n->op, "in") != NULL && strchr(n->op, 'c') == NULL &&
		    strcmp(n->op, "startswith") != 0;

		if (in) {
			bool neg = n->op[0] == '!', any = false;
			const char *op = neg ? n->op + 1 : n->op;
			json_array_foreach(n->values, i, lit)
				if (fv != NULL && cmp_one(op, fv, lit))
					any = true;
			return neg ? !any : any;
		}
		return cmp_one(n->op, fv, json_array_get(n->values, 0));
	}
	}
	return false;
}

/* --- the pipeline ----------------------------------------------------------------- */

struct stage {
	enum { S_WHERE = 1, S_PROJECT, S_ORDER, S_LIMIT } kind;
	struct node *where;
	json_t *cols;   /* project: [{name, path}]; order: [{path, desc}] */
	long limit;
};

struct query {
	struct stage *st;
	size_t n;
	bool containers; /* the ResourceContainers table, else Resources */
	struct node *nodes; /* every node parsed, the stages' and those of a failed parse */
};

static void
query_free(struct query *q)
{
	size_t i;

	while (q->nodes != NULL) {
		struct node *n = q->nodes;

		q->nodes = n->next;
		json_decref(n->field);
		json_decref(n->values);
		free(n);
	}
	for (i = 0; i < q->n; i++)
		json_decref(q->st[i].cols);
	free(q->st);
}

static char *
column_name(json_t *path)
{
	char buf[512] = "";
	json_t *seg;
	size_t i;

	json_array_foreach(path, i, seg) {
		if (i > 0)
			strncat(buf, "_", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, json_string_value(seg), sizeof(buf) - strlen(buf) - 1);
	}
	return emu_strdup(buf);
}

static bool
parse_query(struct parser *p, struct query *q)
{
	p->nodes = &q->nodes;
	next(p);
	if (p->cur.kind == T_IDENT && strcasecmp(p->cur.text, "ResourceContainers") == 0)
		q->containers = true;
	else if (p->cur.kind != T_IDENT || strcasecmp(p->cur.text, "Resources") != 0)
		return perr(p, "the query must start with the table Resources or ResourceContainers (found '%s')",
		    p->cur.kind == T_END ? "nothing" : p->cur.text);
	next(p);
	while (p->cur.kind != T_END) {
		struct stage s = { 0 };
		struct stage *ns;

		if (!expect(p, "|"))
			return false;
		if (is(p, "where")) {
			next(p);
			s.kind = S_WHERE;
			s.where = parse_or(p);
			if (s.where == NULL)
				return false;
		} else if (is(p, "project")) {
			next(p);
			s.kind = S_PROJECT;
			s.cols = json_array();
			for (;;) {
				json_t *path;
				char *name = NULL;

				if (p->cur.kind == T_IDENT) {
					/* "alias = path" */
					size_t save = p->pos;
					struct tok t = p->cur;
					next(p);
					if (is(p, "=")) {
						name = emu_strdup(t.text);
						if (name == NULL) {
							json_decref(s.cols);
							p->oom = true;
							return perr(p, "out of memory");
						}
						next(p);
					} else {
						p->pos = save;
						p->cur = t;
					}
				}
				path = parse_field(p);
				if (path == NULL) {
					free(name);
					json_decref(s.cols);
					return false;
				}
				if (name == NULL)
					name = column_name(path);
				if (name == NULL) {
					json_decref(path);
					json_decref(s.cols);
					p->oom = true;
					return perr(p, "out of memory");
				}
				json_array_append_new(s.cols, json_pack("{s:s,s:o}", "name", name, "path", path));
				free(name);
				if (!is(p, ","))
					break;
				next(p);
			}
		} else if (is(p, "order") || is(p, "sort")) {
			next(p);
			if (!expect(p, "by"))
				return false;
			s.kind = S_ORDER;
			s.cols = json_array();
			for (;;) {
				json_t *path = parse_field(p);
				bool desc = true; /* KQL sorts descending unless told */

				if (path == NULL) {
					json_decref(s.cols);
					return false;
				}
				if (is(p, "asc")) {
					desc = false;
					next(p);
				} else if (is(p, "desc")) {
					next(p);
				}
				json_array_append_new(s.cols, json_pack("{s:o,s:b}", "path", path, "desc", desc));
				if (!is(p, ","))
					break;
				next(p);
			}
		} else if (is(p, "limit") || is(p, "take")) {
			next(p);
			if (p->cur.kind != T_NUMBER || strtol(p->cur.text, NULL, 10) < 0)
				return perr(p, "expected a row count after limit at character %zu",
				    p->cur.pos + 1);
			s.kind = S_LIMIT;
			s.limit = strtol(p->cur.text, NULL, 10);
			next(p);
		} else {
			return perr(p, "unsupported operator '%s' at character %zu (supported: where, project, order by, sort by, limit, take)",
			    p->cur.kind == T_END ? "end of query" : p->cur.text, p->cur.pos + 1);
		}
		ns = realloc(q->st, (q->n + 1) * sizeof(*ns));
		if (ns == NULL) {
			json_decref(s.cols);
			p->oom = true;
			return perr(p, "out of memory");
		}
		q->st = ns;
		q->st[q->n++] = s;
	}
	return p->err[0] == '\0';
}

/* The row Resource Graph shows for a resource (borrows from it). */
static json_t *
row_of(json_t *res)
{
	const char *id = json_str(res, "id");
	char *type = emu_lower(json_str(res, "type") != NULL ? json_str(res, "type") : "");
	char *sub = arm_id_part(id, "subscriptions"), *rg = arm_id_part(id, "resourceGroups");
	char *rgl = emu_lower(rg != NULL ? rg : "");
	json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", id,
	    "name", json_str(res, "name") != NULL ? json_str(res, "name") : "",
	    "type", type, "tenantId", "", "kind", json_str(res, "kind") != NULL ? json_str(res, "kind") : "",
	    "location", json_str(res, "location") != NULL ? json_str(res, "location") : "",
	    "resourceGroup", rgl, "subscriptionId", sub != NULL ? sub : "", "managedBy", "");
	static const char *const pass[] = { "sku", "plan", "properties", "tags", "identity", "zones",
		"extendedLocation", NULL };
	size_t i;

	for (i = 0; pass[i] != NULL; i++) {
		json_t *v = json_object_get(res, pass[i]);
		json_object_set(row, pass[i], v != NULL ? v : json_null());
	}
	free(type);
	free(sub);
	free(rg);
	free(rgl);
	return row;
}

/*
 * The ResourceContainers table: subscriptions and resource groups
 * (https://learn.microsoft.com/azure/governance/resource-graph/reference/supported-tables-resources,
 * "resourcecontainers"); types microsoft.resources/subscriptions and
 * microsoft.resources/subscriptions/resourcegroups.  Returns a new array of
 * rows, in id order.
 */
static json_t *
container_rows(struct emulator *e)
{
	json_t *rows = json_array(), *g, *subs = json_object(), *v;
	const char *k;
	size_t i;

	json_object_foreach(e->rgs, k, g) {
		const char *sub = json_str(g, "subscriptionId");
		char *rgl = emu_lower(json_str(g, "name") != NULL ? json_str(g, "name") : "");
		json_t *row = json_pack("{s:O?,s:O?,s:s,s:s,s:s,s:O?,s:s,s:s,s:s}", "id",
		    json_object_get(g, "id"), "name", json_object_get(g, "name"),
		    "type", "microsoft.resources/subscriptions/resourcegroups", "tenantId", "", "kind", "",
		    "location", json_object_get(g, "location"), "resourceGroup", rgl,
		    "subscriptionId", sub != NULL ? sub : "",
		    "managedBy", json_str(g, "managedBy") != NULL ? json_str(g, "managedBy") : "");

		json_object_set(row, "properties", json_object_get(g, "properties") != NULL ?
		    json_object_get(g, "properties") : json_null());
		json_object_set(row, "tags", json_object_get(g, "tags") != NULL ?
		    json_object_get(g, "tags") : json_null());
		json_array_append_new(rows, row);
		if (sub != NULL)
			json_object_set_new(subs, sub, json_true());
		free(rgl);
	}
	json_array_foreach(json_object_get(e->doc, "subscriptions"), i, v) {
		const char *sub = json_string_value(v);
		if (sub != NULL && strncasecmp(sub, "/subscriptions/", 15) == 0)
			sub += 15;
		if (sub != NULL)
			json_object_set_new(subs, sub, json_true());
	}
	json_object_foreach(subs, k, v)
		json_array_append_new(rows, json_pack("{s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s}}",
		    "id", json_sprintf("/subscriptions/%s", k), "name", k,
		    "type", "microsoft.resources/subscriptions", "tenantId", "", "kind", "", "location", "",
		    "resourceGroup", "", "subscriptionId", k, "managedBy", "", "properties", "state",
		    "Enabled"));
	json_decref(subs);
	return rows;
}

static int
cmp_row_id(const void *a, const void *b)
{
	return strcasecmp(json_str(*(json_t *const *)a, "id"), json_str(*(json_t *const *)b, "id"));
}

static int
cmp_rows(const void *a, const void *b, void *order)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b, *c;
	size_t i;

	json_array_foreach((json_t *)order, i, c) {
		char sa[1024] = "", sb[1024] = "";
		json_t *va = field_get(x, json_object_get(c, "path"));
		json_t *vb = field_get(y, json_object_get(c, "path"));
		int d;

		if (json_is_number(va) && json_is_number(vb)) {
			double da = json_number_value(va), db = json_number_value(vb);
			d = da < db ? -1 : da > db ? 1 : 0;
		} else {
			as_text(va, sa, sizeof(sa));
			as_text(vb, sb, sizeof(sb));
			d = strcmp(sa, sb);
		}
		if (d != 0)
			return json_is_true(json_object_get(c, "desc")) ? -d : d;
	}
	return 0;
}

static void
graph_error(struct emu_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
graph_error(struct emu_req *r, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emu_reply_json(r, 400, json_pack("{s:{s:s,s:s,s:[{s:s,s:s},{s:s,s:s}]}}", "error", "code",
	    "BadRequest", "message", "Please provide below info when asking for support: timestamp, correlationId.",
	    "details", "code", "InvalidQuery", "message",
	    "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.",
	    "code", "UnsupportedQuery", "message", msg));
}

/* The request's paging and format: options.$top, $skip, $skipToken, resultFormat. */
struct graph_opts {
	size_t start, top;
	bool table;
};

static bool
graph_options(struct emu_req *r, const json_t *opts, struct graph_opts *g)
{
	const char *fmt = json_str(opts, "resultFormat"), *tok = json_str(opts, "$skipToken");

	g->start = 0;
	g->top = GRAPH_PAGE;
	g->table = fmt != NULL && strcasecmp(fmt, "table") == 0;
	if (fmt != NULL && !g->table && strcasecmp(fmt, "objectArray") != 0) {
		graph_error(r, "resultFormat '%s' is not one of table, objectArray", fmt);
		return false;
	}
	if (json_integer_value(json_object_get(opts, "$top")) > 0) {
		g->top = (size_t)json_integer_value(json_object_get(opts, "$top"));
		if (g->top > GRAPH_PAGE)
			g->top = GRAPH_PAGE;
	}
	if (json_integer_value(json_object_get(opts, "$skip")) > 0)
		g->start = (size_t)json_integer_value(json_object_get(opts, "$skip"));
	if (tok != NULL) {
		char *end;
		if (strncmp(tok, "nwrow", 5) != 0 ||
		    (g->start = strtoul(tok + 5, &end, 10), *end != '\0')) {
			graph_error(r, "$skipToken '%s' is not valid", tok);
			return false;
		}
	}
	return true;
}

static void
rows_free(json_t **arr, size_t n)
{
	while (n > 0)
		json_decref(arr[--n]);
	free(arr);
}

static bool
in_scope(json_t *row, const json_t *subs)
{
	return json_array_size(subs) == 0 ||
	    json_array_has_str(subs, json_str(row, "subscriptionId"), strcasecmp);
}

/* The table's rows in the subscriptions asked, in id order; -1 on out of memory. */
static int
graph_rows(struct emulator *e, const struct query *q, const json_t *subs, json_t ***out,
    size_t *nout)
{
	json_t *containers = NULL, **arr;
	const char **keys = NULL;
	size_t n, i, nrows = 0;

	if (q->containers) {
		containers = container_rows(e);
		n = json_array_size(containers);
	} else {
		emu_store_sorted(e, &keys, &n);
	}
	arr = malloc((n + 1) * sizeof(*arr));
	for (i = 0; arr != NULL && i < n; i++) {
		json_t *row = q->containers ? json_incref(json_array_get(containers, i)) :
		    row_of(json_object_get(e->res, keys[i]));

		if (row == NULL) {
			rows_free(arr, nrows);
			arr = NULL;
		} else if (!in_scope(row, subs)) {
			json_decref(row);
		} else {
			arr[nrows++] = row;
		}
	}
	json_decref(containers);
	if (arr == NULL)
		return -1;
	if (q->containers)
		qsort(arr, nrows, sizeof(*arr), cmp_row_id);
	*out = arr;
	*nout = nrows;
	return 0;
}

/* Runs the query's stages over the rows, in place. */
static void
graph_run(const struct query *q, json_t **arr, size_t *nrows)
{
	size_t i, j;

	for (i = 0; i < q->n; i++) {
		const struct stage *s = &q->st[i];
		size_t k = 0;

		if (s->kind == S_WHERE) {
			for (j = 0; j < *nrows; j++) {
				if (eval(s->where, arr[j]))
					arr[k++] = arr[j];
				else
					json_decref(arr[j]);
			}
			*nrows = k;
		} else if (s->kind == S_PROJECT) {
			for (j = 0; j < *nrows; j++) {
				json_t *nr = json_object(), *c;
				size_t m;
				json_array_foreach(s->cols, m, c) {
					json_t *v = field_get(arr[j], json_object_get(c, "path"));
					json_object_set(nr, json_str(c, "name"), v != NULL ? v : json_null());
				}
				json_decref(arr[j]);
				arr[j] = nr;
			}
		} else if (s->kind == S_ORDER) {
			qsort_r(arr, *nrows, sizeof(*arr), cmp_rows, s->cols);
		} else if (s->kind == S_LIMIT) {
			for (j = (size_t)s->limit; j < *nrows; j++)
				json_decref(arr[j]);
			if ((size_t)s->limit < *nrows)
				*nrows = (size_t)s->limit;
		}
	}
}

/* A page as Resource Graph's table format has it: columns, then rows of values. */
static json_t *
as_table(json_t *page)
{
	json_t *cols = json_array(), *trows = json_array(), *first = json_array_get(page, 0), *v, *c;
	const char *k;
	size_t i, j;

	json_object_foreach(first, k, v)
		json_array_append_new(cols, json_pack("{s:s,s:s}", "name", k, "type",
		    json_is_string(v) ? "string" : json_is_number(v) ? "number" :
		    json_is_boolean(v) ? "boolean" : "object"));
	json_array_foreach(page, i, v) {
		json_t *tr = json_array();
		json_array_foreach(cols, j, c)
			json_array_append(tr, json_object_get(v, json_str(c, "name")) != NULL ?
			    json_object_get(v, json_str(c, "name")) : json_null());
		json_array_append_new(trows, tr);
	}
	return json_pack("{s:o,s:o}", "columns", cols, "rows", trows);
}

/* Answers one page of the rows (which it takes). */
static void
graph_reply(struct emu_req *r, json_t **arr, size_t nrows, const struct graph_opts *g)
{
	json_t *page = json_array(), *out;
	size_t i;

	for (i = g->start; i < nrows && i < g->start + g->top; i++)
		json_array_append(page, arr[i]);
	rows_free(arr, nrows);
	out = json_pack("{s:I,s:I,s:s,s:[]}", "totalRecords", (json_int_t)nrows, "count",
	    (json_int_t)json_array_size(page), "resultTruncated", "false", "facets");
	if (page == NULL || out == NULL) {
		json_decref(page);
		json_decref(out);
		emu_reply_oom(r);
		return;
	}
	if (g->start + g->top < nrows)
		json_object_set_new(out, "$skipToken", json_sprintf("nwrow%zu", g->start + g->top));
	if (g->table) {
		json_object_set_new(out, "data", as_table(page));
		json_decref(page);
	} else {
		json_object_set_new(out, "data", page);
	}
	emu_reply_json(r, 200, out);
}

/* /providers/Microsoft.ResourceGraph/{anything but resources} */
void
graph_unknown(struct emulator *e, struct emu_req *r, const struct emu_call *call)
{
	const char *api = emu_query(r, "api-version");

	(void)e;
	(void)call;
	emu_op_name(r, "resource graph query");
	emu_reply_error(r, 404, "InvalidResourceType",
	    "The resource type could not be found in the namespace 'Microsoft.ResourceGraph' for api version '%s'.",
	    api != NULL ? api : "");
}

void
graph_handle(struct emulator *e, struct emu_req *r, const struct emu_call *call)
{
	struct parser p = { 0 };
	struct query q = { 0 };
	struct graph_opts g;
	json_t *body = r->parsed, **arr = NULL;
	const char *query;
	size_t nrows = 0;

	(void)call;
	emu_op_name(r, "resource graph query");
	if (!emu_api_ok(r, EMU_NS_GRAPH))
		return;
	if (strcmp(r->method, "POST") != 0) {
		emu_reply_bad_method(r);
		return;
	}
	if (!json_is_object(body) || (query = json_str(body, "query")) == NULL) {
		emu_reply_error(r, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: 'a JSON object with a query is required'.");
		return;
	}
	if (!graph_options(r, json_object_get(body, "options"), &g))
		return;
	p.src = query;
	if (!parse_query(&p, &q)) {
		if (p.oom)
			emu_reply_oom(r);
		else
			graph_error(r, "%s", p.err);
	} else if (graph_rows(e, &q, json_object_get(body, "subscriptions"), &arr, &nrows) != 0) {
		emu_reply_oom(r);
	} else {
		graph_run(&q, arr, &nrows);
		graph_reply(r, arr, nrows, &g);
	}
	query_free(&q);
}
