/*
 * The HCL writer of plan/export_hcl.h.  Values are JSON values written as
 * HCL literals: strings quoted with HCL's escapes, arrays of scalars on
 * one line (`["a", "b"]`), objects and arrays of objects over several
 * lines, object keys sorted so that the output is deterministic.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plan/export_hcl.h"
#include "plan/vec.h"

enum item_kind { ITEM_JSON, ITEM_EXPR, ITEM_BLOCK, ITEM_BLANK };

struct hcl_item {
	enum item_kind kind;
	char *name;              /* attribute name; NULL for blocks and blanks */
	json_t *value;           /* ITEM_JSON */
	char *expr;              /* ITEM_EXPR */
	struct hcl_block *block; /* ITEM_BLOCK */
};

struct hcl_block {
	char *header;
	struct hcl_item *v;
	size_t n, cap;
};

struct hcl_block *
hcl_block_new(const char *header)
{
	struct hcl_block *b = calloc(1, sizeof(*b));

	if (b != NULL && (b->header = strdup(header)) == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

void
hcl_block_free(struct hcl_block *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		free(b->v[i].name);
		json_decref(b->v[i].value);
		free(b->v[i].expr);
		hcl_block_free(b->v[i].block);
	}
	free(b->v);
	free(b->header);
	free(b);
}

static struct hcl_item *
push(struct hcl_block *b, enum item_kind kind, const char *name)
{
	struct hcl_item *it;

	if (b == NULL)
		return NULL;
	if (VEC_GROW(b->v, &b->cap, b->n + 1) != 0)
		return NULL;
	it = &b->v[b->n];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	if (name != NULL && (it->name = strdup(name)) == NULL)
		return NULL;
	b->n++;
	return it;
}

struct hcl_block *
hcl_block_add(struct hcl_block *b, const char *header)
{
	struct hcl_block *c = hcl_block_new(header);
	struct hcl_item *it;

	if (c == NULL)
		return NULL;
	if ((it = push(b, ITEM_BLOCK, NULL)) == NULL) {
		hcl_block_free(c);
		return NULL;
	}
	it->block = c;
	return c;
}

int
hcl_blank(struct hcl_block *b)
{
	return push(b, ITEM_BLANK, NULL) != NULL ? 0 : -1;
}

int
hcl_attr_json(struct hcl_block *b, const char *name, json_t *v)
{
	struct hcl_item *it;

	if (v == NULL || (it = push(b, ITEM_JSON, name)) == NULL) {
		json_decref(v);
		return -1;
	}
	it->value = v;
	return 0;
}

int
hcl_attr_expr(struct hcl_block *b, const char *name, const char *expr)
{
	struct hcl_item *it = push(b, ITEM_EXPR, name);

	if (it == NULL || (it->expr = strdup(expr)) == NULL)
		return -1;
	return 0;
}

int
hcl_attr_str(struct hcl_block *b, const char *name, const char *s)
{
	return hcl_attr_json(b, name, json_string(s != NULL ? s : ""));
}

int
hcl_attr_bool(struct hcl_block *b, const char *name, bool v)
{
	return hcl_attr_json(b, name, json_boolean(v));
}

bool
hcl_is_identifier(const char *s)
{
	const char *p;

	if (s == NULL || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-'))
			return false;
	return true;
}

/* The escapes of an HCL string; other control characters are written \uXXXX. */
static const char *const hcl_escapes[128] = {
	['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
};

void
hcl_write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 128 && hcl_escapes[c] != NULL) {
			fputs(hcl_escapes[c], f);
		} else if (c == '$' || c == '%') {
			/* "${" and "%{" open templates: doubled, they are literal */
			fputc(c, f);
			if (s[1] == '{')
				fputc(c, f);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", (unsigned)c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

static void
indent_to(FILE *f, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fputs("  ", f);
}

static bool
is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

/* True when the value is written on one line. */
static bool
one_line(const json_t *v)
{
	const json_t *x;
	size_t i;

	if (json_is_object(v))
		return json_object_size(v) == 0;
	if (json_is_array(v))
		json_array_foreach(v, i, x)
			if (!is_scalar(x))
				return false;
	return true;
}

static void write_value(FILE *f, const json_t *v, int indent);

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
write_key(FILE *f, const char *k)
{
	if (hcl_is_identifier(k))
		fputs(k, f);
	else
		hcl_write_string(f, k);
}

static size_t
key_width(const char *k)
{
	size_t n = strlen(k), w = n + 2;
	const char *p;

	if (hcl_is_identifier(k))
		return n;
	for (p = k; *p != '\0'; p++)
		if (*p == '"' || *p == '\\')
			w++;
	return w;
}

/* Object items, aligned in runs of one-line values as fmt aligns them. */
static void
write_object(FILE *f, const json_t *o, int indent)
{
	size_t n = json_object_size(o), i, j, k = 0;
	const char **keys = n > 0 ? malloc(n * sizeof(*keys)) : NULL;
	const char *key;
	json_t *v;

	if (n == 0 || keys == NULL) {
		fputs("{}", f);
		free(keys);
		return;
	}
	json_object_foreach((json_t *)o, key, v)
		keys[k++] = key;
	qsort(keys, n, sizeof(*keys), key_cmp);
	fputs("{\n", f);
	for (i = 0; i < n; i = j) {
		size_t width = 0;

		/* a run: one-line values up to and including the first multi-line one */
		for (j = i; j < n; j++) {
			if (!one_line(json_object_get(o, keys[j]))) {
				if (j == i)
					j++;
				break;
			}
			if (key_width(keys[j]) > width)
				width = key_width(keys[j]);
		}
		for (k = i; k < j; k++) {
			const json_t *x = json_object_get(o, keys[k]);

			indent_to(f, indent + 1);
			write_key(f, keys[k]);
			if (one_line(x))
				fprintf(f, "%*s = ", (int)(width - key_width(keys[k])), "");
			else
				fputs(" = ", f);
			write_value(f, x, indent + 1);
			fputc('\n', f);
		}
	}
	indent_to(f, indent);
	fputc('}', f);
	free(keys);
}

static void
write_value(FILE *f, const json_t *v, int indent)
{
	const json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		hcl_write_string(f, json_string_value(v));
		break;
	case JSON_INTEGER:
		fprintf(f, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(f, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", f);
		break;
	case JSON_FALSE:
		fputs("false", f);
		break;
	case JSON_OBJECT:
		write_object(f, v, indent);
		break;
	case JSON_ARRAY:
		if (one_line(v)) {
			fputc('[', f);
			json_array_foreach(v, i, x) {
				fputs(i > 0 ? ", " : "", f);
				write_value(f, x, indent);
			}
			fputc(']', f);
			break;
		}
		fputs("[\n", f);
		json_array_foreach(v, i, x) {
			indent_to(f, indent + 1);
			write_value(f, x, indent + 1);
			fputs(",\n", f);
		}
		indent_to(f, indent);
		fputc(']', f);
		break;
	default:
		fputs("null", f);
	}
}

static bool
item_one_line(const struct hcl_item *it)
{
	return it->kind == ITEM_EXPR || (it->kind == ITEM_JSON && one_line(it->value));
}

void
hcl_block_write(FILE *f, const struct hcl_block *b, int indent)
{
	size_t i, j, k;

	indent_to(f, indent);
	fprintf(f, "%s {\n", b->header);
	for (i = 0; i < b->n; i = j) {
		size_t width = 0;

		if (b->v[i].kind == ITEM_BLANK) {
			fputc('\n', f);
			j = i + 1;
			continue;
		}
		if (b->v[i].kind == ITEM_BLOCK) {
			hcl_block_write(f, b->v[i].block, indent + 1);
			j = i + 1;
			continue;
		}
		for (j = i; j < b->n && (b->v[j].kind == ITEM_JSON || b->v[j].kind == ITEM_EXPR); j++) {
			if (!item_one_line(&b->v[j])) {
				if (j == i)
					j++;
				break;
			}
			if (strlen(b->v[j].name) > width)
				width = strlen(b->v[j].name);
		}
		for (k = i; k < j; k++) {
			const struct hcl_item *it = &b->v[k];

			indent_to(f, indent + 1);
			fputs(it->name, f);
			if (item_one_line(it))
				fprintf(f, "%*s = ", (int)(width - strlen(it->name)), "");
			else
				fputs(" = ", f);
			if (it->kind == ITEM_EXPR)
				fputs(it->expr, f);
			else
				write_value(f, it->value, indent + 1);
			fputc('\n', f);
		}
	}
	indent_to(f, indent);
	fputs("}\n", f);
}
