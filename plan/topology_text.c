/*
 * The topology as text (plan/topology_impl.h): limits and syntax checked
 * before jansson sees a file, loading from a buffer or a file, and the
 * canonical dump written back.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/jsonutil.h"
#include "plan/topology_impl.h"
#include "plan/vec.h"

/* ------------------------------------------------------------------ */
/* Text: limits and syntax before jansson sees it                      */

/* Line and column (1-based, columns in characters as jansson counts them) of byte off. */
static void
text_position(const char *buf, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 0;
	for (i = 0; i <= off; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n' && i < off) {
			(*line)++;
			*col = 0;
		} else if ((c & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* Does a byte of w equal c?  (The usual bit trick: exact for "any byte".) */
static inline uint64_t
word_has(uint64_t w, unsigned char c)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t x = w ^ (ones * c);

	return (x - ones) & ~x & (ones << 7);
}

/* The next 8 bytes at p, whatever their alignment. */
static inline uint64_t
word_at(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * One pass over the bytes, before parsing: nesting depth (respecting
 * strings and escapes, so a brace inside a string does not count) and NUL
 * bytes.  jansson would recurse up to its own limit of 2048 and treat a NUL
 * as the end of the text; both deserve a plainer message.
 */
static int
text_scan(const char *buf, size_t len, int max_depth, const char *name, struct nw_err *err)
{
	const unsigned char *p = (const unsigned char *)buf;
	int depth = 0, line, col;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c;

		/* tens of megabytes: step over eight bytes at a time that change nothing */
		while (len - i >= 8) {
			uint64_t w = word_at(p + i);
			if (word_has(w, '"') | word_has(w, '{') | word_has(w, '[') | word_has(w, '}') |
			    word_has(w, ']') | word_has(w, '\0'))
				break;
			i += 8;
		}
		if (i >= len)
			break;
		c = p[i];
		if (c == '"') {
			for (i++; i < len; i++) {
				while (len - i >= 8) {
					uint64_t w = word_at(p + i);
					if (word_has(w, '"') | word_has(w, '\\') | word_has(w, '\0'))
						break;
					i += 8;
				}
				if (i >= len)
					break;
				c = p[i];
				if (c == '"')
					break;
				if (c == '\\') {
					i++;
					continue;
				}
				if (c == '\0')
					goto nul;
			}
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth) {
				text_position(buf, i, &line, &col);
				return err_set(err, NW_EINPUT, "%s: line %d, column %d: nesting deeper "
				    "than %d levels", name, line, col, max_depth);
			}
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == '\0') {
			goto nul;
		}
	}
	return 0;
nul:
	text_position(buf, i, &line, &col);
	return err_set(err, NW_EINPUT, "%s: line %d, column %d: NUL byte: this is binary data, "
	    "not JSON text", name, line, col);
}

static int
load_text(struct topology **out, const char *buf, size_t len, const char *name,
    const struct topology_load_opts *opts, struct nw_err *err)
{
	int max_depth = opts != NULL && opts->max_depth > 0 ? opts->max_depth : TOPOLOGY_MAX_DEPTH;
	json_error_t jerr;
	json_t *root;
	int rc;

	if (len == 0)
		return err_set(err, NW_EINPUT, "%s: the file is empty, expected a JSON object", name);
	if (len >= 2 && (((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) ||
	    ((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF)))
		return err_set(err, NW_EINPUT, "%s: the file is UTF-16 text; save it as UTF-8", name);
	if (json_text_blank(&buf, &len))
		return err_set(err, NW_EINPUT, "%s: the file holds only whitespace, expected a JSON object",
		    name);
	/*
	 * A text the fast parse takes is within the limits text_scan checks;
	 * for any other, the checks and jansson's parse give their messages.
	 */
	root = tl_parse_text(buf, len, max_depth);
	if (root == NULL && (rc = text_scan(buf, len, max_depth, name, err)) != 0)
		return rc;
	if (root == NULL)
		root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			return err_set(err, NW_EINPUT, "%s: line %d, column %d: invalid UTF-8: %s", name,
			    jerr.line, jerr.column, jerr.text);
		return err_set(err, NW_EINPUT, "%s: line %d, column %d: %s", name, jerr.line,
		    jerr.column, jerr.text);
	}
	return topology_load_json(out, root, name, err);
}

int
topology_load_buffer(struct topology **out, const char *buf, size_t len, const char *name,
    const struct topology_load_opts *opts, struct nw_err *err)
{
	size_t max_bytes = opts != NULL && opts->max_bytes > 0 ? opts->max_bytes : TOPOLOGY_MAX_BYTES;

	*out = NULL;
	if (name == NULL)
		name = "<memory>";
	if (len > max_bytes)
		return err_set(err, NW_EINPUT, "%s: input is %zu bytes, over the limit of %zu bytes",
		    name, len, max_bytes);
	return load_text(out, buf, len, name, opts, err);
}

/*
 * A regular file is parsed where it lies, mapped rather than copied into
 * a buffer: on the 5,000-spoke bench estate (56 MB) that saves the copy
 * and the pages of a second 56 MB.  -1 when the file is not one to map
 * (not there, not regular, empty or over the limit: file_read_all then
 * says why, as for any file), else what loading it gave.  As with any
 * mapped file, one truncated by another process while it is parsed
 * stops the process with SIGBUS rather than an error: topology files are
 * written whole and renamed into place (topology_write_file), never
 * cut short.
 */
static int
load_mapped(struct topology **out, const char *path, size_t max_bytes,
    const struct topology_load_opts *opts, struct nw_err *err)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size > max_bytes) {
		close(fd);
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	rc = load_text(out, map, (size_t)st.st_size, path, opts, err);
	munmap(map, (size_t)st.st_size);
	return rc;
}

int
topology_load_file(struct topology **out, const char *path,
    const struct topology_load_opts *opts, struct nw_err *err)
{
	size_t max_bytes = opts != NULL && opts->max_bytes > 0 ? opts->max_bytes : TOPOLOGY_MAX_BYTES;
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (strcmp(path, "-") != 0 && (rc = load_mapped(out, path, max_bytes, opts, err)) >= 0)
		return rc;
	if ((rc = file_read_all(&buf, &len, path, max_bytes, err)) != 0)
		/* The message's code is the one that describes it (a size limit is
		 * bad input even where the reader's return says otherwise). */
		return err != NULL && err->code < 0 ? err->code : rc;
	rc = load_text(out, buf, len, name, opts, err);
	free(buf);
	return rc;
}
/* ------------------------------------------------------------------ */
/* Canonical text                                                      */

struct sort_item {
	const char *id; /* NULL when the element has no string id */
	size_t index;
	json_t *v;
};

static int
cmp_sort_item(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int c;

	if (x->id == NULL || y->id == NULL) {
		if (x->id != y->id)
			return x->id == NULL ? 1 : -1;
	} else {
		c = topo_id_order(x->id, y->id);
		if (c != 0)
			return c;
	}
	return CMP3(x->index, y->index);
}

/*
 * Sorts items[0..n) whose first k are in order already: the rest sorted on
 * their own and merged in, the same order as sorting them all (the order is
 * total), in a fraction of the comparisons when the rest is short.
 */
static int
sort_tail(struct sort_item *items, size_t k, size_t n)
{
	struct sort_item *head;
	size_t a = 0, b = k, o = 0;

	qsort(items + k, n - k, sizeof(*items), cmp_sort_item);
	if (k == 0)
		return 0;
	if ((head = malloc(k * sizeof(*head))) == NULL)
		return -1;
	memcpy(head, items, k * sizeof(*head));
	/* items[o] is written only after items[b] (b >= o) or head[a] was read */
	while (a < k && b < n)
		items[o++] = cmp_sort_item(&head[a], &items[b]) <= 0 ? head[a++] : items[b++];
	while (a < k)
		items[o++] = head[a++];
	free(head);
	return 0;
}

json_t *
topology_canonical_root(json_t *root)
{
	struct sort_item *items = NULL;
	json_t *resources, *copy = NULL, *sorted = NULL, *v;
	size_t i, n;

	resources = json_is_object(root) ? json_object_get(root, "resources") : NULL;
	if (!json_is_array(resources))
		return json_incref(root);
	/* A shallow copy with a sorted array of the same elements: the same text
	 * as a deep copy at a fraction of the memory of a large estate. */
	n = json_array_size(resources);
	if (n > 0 && (items = malloc(n * sizeof(*items))) == NULL)
		goto fail;
	json_array_foreach(resources, i, v) {
		items[i].id = json_str(v, "id");
		items[i].index = i;
		items[i].v = v;
	}
	/* a file netwave wrote is in order already: n - 1 comparisons, no copy */
	for (i = 1; i < n && cmp_sort_item(&items[i - 1], &items[i]) < 0; i++)
		;
	if (i >= n) {
		free(items);
		return json_incref(root);
	}
	/* a target an intent made is its current estate's order with what it changed at the end */
	if (sort_tail(items, i, n) != 0)
		goto fail;
	if ((copy = json_copy(root)) == NULL || (sorted = json_array()) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (json_array_append(sorted, items[i].v) != 0)
			goto fail;
	if (json_object_set_new(copy, "resources", sorted) != 0) {
		sorted = NULL;
		goto fail;
	}
	free(items);
	return copy;
fail:
	json_decref(sorted);
	json_decref(copy);
	free(items);
	return NULL;
}

char *
topology_dump_json(json_t *root)
{
	json_t *canonical = topology_canonical_root(root);
	char *text;

	if (canonical == NULL)
		return NULL;
	text = json_dump_canonical(canonical);
	json_decref(canonical);
	return text;
}

char *
topology_dump(const struct topology *t)
{
	if (t == NULL)
		return NULL;
	return topology_dump_json(t->root);
}

int
topology_write_file(const struct topology *t, const char *path, struct nw_err *err)
{
	char *text = topology_dump(t);
	int rc;

	if (text == NULL)
		return err_set(err, NW_ENOMEM, "cannot write '%s': out of memory", path);
	rc = file_write_atomic(path, text, strlen(text), err);
	free(text);
	return rc;
}
