/*
 * Recording in the history: HEAD's tree read into a flat map of paths,
 * the change's resources placed and written as blobs, the tree rebuilt in
 * memory, a commit made with its message and trailers, the branch and tag
 * moved by compare-and-swap, and the working tree checked out.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "plan/jsonutil.h"
#include "plan/vec.h"
#include "state/history_int.h"

/* ---- the tree as a flat map of paths ---------------------------------- */

struct tentry {
	char *path;
	git_oid oid;
	git_filemode_t mode;
	bool old;          /* in HEAD's tree */
	git_oid old_oid;
	char *old_path;    /* the path in HEAD when this record renamed it by case */
	bool deleted;
	size_t written_by; /* 1 + index of the resource written here, 0 none */
	bool removed_by;   /* named in removed_ids */
	size_t redacted;   /* values this record redacted in the file */
};

struct tmap {
	struct tentry *v;
	size_t n, cap;
	size_t *slots; /* 1 + index into v, 0 for empty */
	size_t nslots;
	bool oom;
};

static size_t
path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)hi_ascii_lower(*s);
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

/* The entry whose path equals path case-insensitively, or NULL. */
static struct tentry *
tmap_find(struct tmap *m, const char *path)
{
	size_t i;

	if (m->nslots == 0)
		return NULL;
	for (i = path_hash(path) & (m->nslots - 1); m->slots[i] != 0; i = (i + 1) & (m->nslots - 1))
		if (hi_ascii_ieq(m->v[m->slots[i] - 1].path, path))
			return &m->v[m->slots[i] - 1];
	return NULL;
}

static void
tmap_slot_put(struct tmap *m, size_t idx)
{
	size_t i = path_hash(m->v[idx].path) & (m->nslots - 1);

	while (m->slots[i] != 0)
		i = (i + 1) & (m->nslots - 1);
	m->slots[i] = idx + 1;
}

/* Adds a new entry (the caller checked it is absent); takes path. */
static struct tentry *
tmap_add(struct tmap *m, char *path)
{
	size_t i;

	if (VEC_GROW(m->v, &m->cap, m->n + 1) != 0)
		goto fail;
	if ((m->n + 1) * 2 > m->nslots) {
		size_t nslots = m->nslots != 0 ? m->nslots * 2 : 512;
		size_t *slots;

		while ((m->n + 1) * 2 > nslots)
			nslots *= 2;
		slots = calloc(nslots, sizeof(*slots));
		if (slots == NULL)
			goto fail;
		free(m->slots);
		m->slots = slots;
		m->nslots = nslots;
		for (i = 0; i < m->n; i++)
			tmap_slot_put(m, i);
	}
	memset(&m->v[m->n], 0, sizeof(m->v[m->n]));
	m->v[m->n].path = path;
	m->v[m->n].mode = GIT_FILEMODE_BLOB;
	tmap_slot_put(m, m->n);
	return &m->v[m->n++];
fail:
	free(path);
	m->oom = true;
	return NULL;
}

static void
tmap_free(struct tmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].path);
		free(m->v[i].old_path);
	}
	free(m->v);
	free(m->slots);
}

static int
tree_walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct tmap *m = payload;
	struct tentry *e;
	char *path;

	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE)
		return 0;
	path = malloc(strlen(root) + strlen(git_tree_entry_name(entry)) + 1);
	if (path == NULL) {
		m->oom = true;
		return -1;
	}
	sprintf(path, "%s%s", root, git_tree_entry_name(entry));
	if ((e = tmap_add(m, path)) == NULL)
		return -1;
	git_oid_cpy(&e->oid, git_tree_entry_id(entry));
	git_oid_cpy(&e->old_oid, git_tree_entry_id(entry));
	e->mode = git_tree_entry_filemode(entry);
	e->old = true;
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct tentry *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* Builds the tree of v[0..n) (sorted by path) below the prefix of length off. */
static int
tree_build(git_oid *out, struct history *h, struct tentry **v, size_t n, size_t off,
    struct nw_err *err)
{
	git_treebuilder *tb = NULL;
	char *name = NULL;
	size_t i = 0;
	int rc;

	if ((rc = git_treebuilder_new(&tb, h->repo, NULL)) < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot build tree");
		goto done;
	}
	while (i < n) {
		const char *rest = v[i]->path + off;
		const char *slash = strchr(rest, '/');
		git_oid sub;
		size_t len, j;

		if (slash == NULL) {
			if ((rc = git_treebuilder_insert(NULL, tb, rest, &v[i]->oid, v[i]->mode)) < 0) {
				rc = hi_err_git(err, h, NULL, rc, "cannot add '%s'", v[i]->path);
				goto done;
			}
			i++;
			continue;
		}
		len = (size_t)(slash - rest);
		for (j = i + 1; j < n && strncmp(v[j]->path + off, rest, len + 1) == 0; j++)
			;
		free(name);
		if ((name = strndup(rest, len)) == NULL) {
			rc = hi_oom(err);
			goto done;
		}
		/* a file "x.json" and a directory "x.json" of a child: the ids say so, not us */
		if (git_treebuilder_get(tb, name) != NULL) {
			rc = err_set(err, NW_EINPUT, "'%.*s' would be both a file and a directory in "
			    "history '%s' (from '%s')", (int)(off + len), v[i]->path, h->dir,
			    v[i]->path);
			goto done;
		}
		if ((rc = tree_build(&sub, h, v + i, j - i, off + len + 1, err)) != 0)
			goto done;
		if ((rc = git_treebuilder_insert(NULL, tb, name, &sub, GIT_FILEMODE_TREE)) < 0) {
			rc = hi_err_git(err, h, NULL, rc, "cannot add directory '%.*s'",
			    (int)(off + len), v[i]->path);
			goto done;
		}
		i = j;
	}
	if ((rc = git_treebuilder_write(out, tb)) < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot write tree");
		goto done;
	}
	rc = 0;
done:
	free(name);
	git_treebuilder_free(tb);
	return rc;
}

/* ---- HEAD ------------------------------------------------------------- */

/*
 * The branch HEAD names (malloc'd "refs/heads/..."), and its commit, or
 * NULL when the branch is unborn.  A detached HEAD is refused: commits
 * there would be lost to the next checkout of the branch.
 */
static int
head_read(struct history *h, char **branch, git_commit **commit, struct nw_err *err)
{
	git_reference *head = NULL;
	git_oid oid;
	int rc;

	*branch = NULL;
	*commit = NULL;
	if ((rc = git_reference_lookup(&head, h->repo, "HEAD")) < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot read HEAD");
		goto done;
	}
	if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC) {
		rc = err_set(err, NW_EINPUT, "HEAD is detached in history '%s'; check out a branch "
		    "(git -C '%s' checkout %s)", h->dir, h->dir, HISTORY_BRANCH);
		goto done;
	}
	if ((*branch = strdup(git_reference_symbolic_target(head))) == NULL) {
		rc = hi_oom(err);
		goto done;
	}
	rc = git_reference_name_to_id(&oid, h->repo, *branch);
	if (rc == GIT_ENOTFOUND) {
		rc = 0;
		goto done;
	}
	if (rc < 0 || (rc = git_commit_lookup(commit, h->repo, &oid)) < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot read branch '%s'", *branch);
		goto done;
	}
	rc = 0;
done:
	git_reference_free(head);
	if (rc != 0) {
		free(*branch);
		*branch = NULL;
	}
	return rc;
}

/* ---- the commit message ----------------------------------------------- */

/* A single-line field of the message; NW_EINPUT naming it otherwise. */
static int
check_line(const char *what, const char *v, bool required, struct nw_err *err)
{
	const char *p;

	if (v == NULL || *v == '\0')
		return required ? err_set(err, NW_EINPUT, "history record needs %s", what) : 0;
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, NW_EINPUT, "%s for the history must be one line without "
			    "control characters", what);
	if (isspace((unsigned char)v[0]) || isspace((unsigned char)v[strlen(v) - 1]))
		return err_set(err, NW_EINPUT, "%s for the history has leading or trailing blanks",
		    what);
	return 0;
}

static int
info_check(const struct history_commit_info *info, struct nw_err *err)
{
	bool needs_plan = info->event == HISTORY_EVENT_APPLY || info->event == HISTORY_EVENT_ROLLBACK;
	const char *fields[] = { info->subject, info->body, info->plan_id, info->wave,
	    info->operator_name, info->tag };
	size_t i;
	int rc;

	if ((rc = check_line("a subject", info->subject, info->event == HISTORY_EVENT_RECORD,
	    err)) != 0 ||
	    (rc = check_line("a plan id", info->plan_id, needs_plan, err)) != 0 ||
	    (rc = check_line("a wave", info->wave, needs_plan, err)) != 0 ||
	    (rc = check_line("an operator", info->operator_name, true, err)) != 0 ||
	    (rc = check_line("a tag", info->tag, false, err)) != 0)
		return rc;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i] != NULL && hi_is_secret_value(fields[i]))
			return err_set(err, NW_EINPUT, "the message for the history looks like it holds "
			    "a secret; it is not recorded");
	if (needs_plan && info->steps < 0)
		return err_set(err, NW_EINPUT, "history record of a wave needs its step count");
	if (info->tag != NULL) {
		char ref[1024];
		int valid = 0;

		snprintf(ref, sizeof(ref), "refs/tags/%s", info->tag);
		if (git_reference_name_is_valid(&valid, ref) < 0 || !valid)
			return err_set(err, NW_EINPUT, "'%s' is not a valid tag name", info->tag);
	}
	return 0;
}

static int
message_build(char **out, const struct history_commit_info *info, size_t nresources,
    const struct history_result *res)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NW_ENOMEM;
	if (info->subject != NULL)
		fputs(info->subject, f);
	else if (info->event == HISTORY_EVENT_DISCOVER)
		fprintf(f, "discover: %zu resource%s", nresources, nresources == 1 ? "" : "s");
	else {
		fprintf(f, "%s wave %s of plan %s", info->event == HISTORY_EVENT_APPLY ? "apply" :
		    "roll back", info->wave, info->plan_id);
		fprintf(f, ": %lld step%s", info->steps, info->steps == 1 ? "" : "s");
	}
	fputs("\n\n", f);
	if (info->body != NULL && info->body[0] != '\0') {
		size_t n = strlen(info->body);

		while (n > 0 && isspace((unsigned char)info->body[n - 1]))
			n--;
		fprintf(f, "%.*s\n\n", (int)n, info->body);
	}
	fprintf(f, "Wrote %zu resource file%s and removed %zu.", res->written,
	    res->written == 1 ? "" : "s", res->deleted);
	if (res->redacted > 0)
		fprintf(f, " Redacted %zu secret-looking value%s.", res->redacted,
		    res->redacted == 1 ? "" : "s");
	fputs("\n\n", f);
	if (info->plan_id != NULL)
		fprintf(f, "Plan-Id: %s\n", info->plan_id);
	if (info->wave != NULL)
		fprintf(f, "Wave: %s\n", info->wave);
	if (info->event == HISTORY_EVENT_APPLY || info->event == HISTORY_EVENT_ROLLBACK)
		fprintf(f, "Steps: %lld\n", info->steps);
	fprintf(f, "Operator: %s\n", info->operator_name);
	if (fclose(f) != 0) {
		free(buf);
		return NW_ENOMEM;
	}
	*out = buf;
	return 0;
}

/* git config's user when it names one, else the tool's own signature. */
static int
signature_make(git_signature **out, struct history *h, time_t when, struct nw_err *err)
{
	git_signature *def = NULL;
	int rc;

	if (git_signature_default(&def, h->repo) == 0)
		rc = git_signature_new(out, def->name, def->email, (git_time_t)when, 0);
	else
		rc = git_signature_new(out, HISTORY_TOOL_NAME, HISTORY_TOOL_EMAIL, (git_time_t)when, 0);
	git_signature_free(def);
	if (rc < 0)
		return hi_err_git(err, h, NULL, rc, "cannot make signature");
	return 0;
}

/* ---- record ----------------------------------------------------------- */

/*
 * Points ref at oid: created when expected is NULL, else moved from
 * expected (compare and swap).  A stale git lock is cleared and the
 * update tried once more.
 */
static int
ref_update(struct history *h, const char *ref, const git_oid *oid, const git_oid *expected,
    const char *log, struct nw_err *err)
{
	git_reference *r = NULL;
	const char *refs[1] = { ref };
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		if (expected == NULL)
			rc = git_reference_create(&r, h->repo, ref, oid, 0, log);
		else
			rc = git_reference_create_matching(&r, h->repo, ref, oid, 1, expected, log);
		git_reference_free(r);
		r = NULL;
		if (rc != GIT_ELOCKED || attempt > 0)
			break;
		if ((rc = hi_git_locks_clear(h, refs, 1, err)) != 0)
			return rc;
	}
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS)
		return err_set(err, NW_EFAIL, "'%s' in history '%s' moved while netwave was "
		    "recording (another git command?); run again", ref, h->dir);
	if (rc < 0)
		return hi_err_git(err, h, NULL, rc, "cannot update '%s'", ref);
	return 0;
}

static int
tag_update(struct history *h, const char *tag, const git_oid *oid, struct nw_err *err)
{
	char ref[1024];
	git_oid cur;
	int rc;

	snprintf(ref, sizeof(ref), "refs/tags/%s", tag);
	rc = git_reference_name_to_id(&cur, h->repo, ref);
	if (rc == GIT_ENOTFOUND)
		return ref_update(h, ref, oid, NULL, "netwave: tag", err);
	if (rc < 0)
		return hi_err_git(err, h, NULL, rc, "cannot read tag '%s'", tag);
	if (git_oid_equal(&cur, oid))
		return 0;
	return ref_update(h, ref, oid, &cur, "netwave: move tag", err);
}

/* Makes the working tree and index match HEAD for people browsing the history. */
static int
worktree_update(struct history *h, struct nw_err *err)
{
	git_checkout_options opts;
	int rc, attempt;

	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_strategy = GIT_CHECKOUT_FORCE;
	for (attempt = 0;; attempt++) {
		rc = git_checkout_head(h->repo, &opts);
		if (rc != GIT_ELOCKED || attempt > 0)
			break;
		if ((rc = hi_git_locks_clear(h, NULL, 0, err)) != 0)
			return rc;
	}
	if (rc < 0)
		return hi_err_git(err, h, NULL, rc, "cannot check out the working tree");
	return 0;
}

/*
 * Places every resource in the map (paths only), refusing bad ids and
 * duplicates.  (*placed)[i] is the index of resource i's entry: indexes,
 * because the map's array moves as it grows.
 */
static int
record_place(struct history *h, struct tmap *m, const struct history_change *c,
    size_t **placed, struct nw_err *err)
{
	size_t i, n = json_array_size(c->resources);
	size_t *v;
	int rc;

	*placed = v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return hi_oom(err);
	for (i = 0; i < n; i++) {
		const json_t *r = json_array_get(c->resources, i);
		const json_t *idv = json_object_get(r, "id");
		const char *id = json_string_value(idv);
		struct tentry *e;
		char *path;

		if (!json_is_object(r))
			return err_set(err, NW_EINPUT, "resource %zu for history '%s' is not an object",
			    i, h->dir);
		if (id == NULL)
			return err_set(err, NW_EINPUT, "resource %zu for history '%s' has no \"id\"", i,
			    h->dir);
		if (strlen(id) != json_string_length(idv))
			return err_set(err, NW_EINPUT, "resource %zu for history '%s' has a NUL in its "
			    "id", i, h->dir);
		if ((rc = history_path_for_id(&path, id, err)) != 0) {
			err_prefix(err, "resource %zu for history '%s'", i, h->dir);
			return rc;
		}
		e = tmap_find(m, path);
		if (e != NULL && e->written_by != 0) {
			free(path);
			return err_set(err, NW_EINPUT, "resources %zu and %zu for history '%s' have one "
			    "id '%s'", e->written_by - 1, i, h->dir, id);
		}
		if (e == NULL) {
			if ((e = tmap_add(m, path)) == NULL)
				return hi_oom(err);
		} else if (strcmp(e->path, path) != 0) {
			/* the id changed case: the file follows it */
			if (e->old && e->old_path == NULL) {
				e->old_path = e->path;
				e->path = path;
			} else {
				free(e->path);
				e->path = path;
			}
		} else {
			free(path);
		}
		e->written_by = i + 1;
		e->deleted = false;
		v[i] = (size_t)(e - m->v);
	}
	return 0;
}

static int
record_remove(struct history *h, struct tmap *m, const struct history_change *c,
    struct nw_err *err)
{
	size_t i;
	int rc;

	if (c->mode == HISTORY_UPDATE) {
		for (i = 0; i < c->nremoved; i++) {
			struct tentry *e;
			char *path;

			if ((rc = history_path_for_id(&path, c->removed_ids[i], err)) != 0) {
				err_prefix(err, "removed id %zu for history '%s'", i, h->dir);
				return rc;
			}
			e = tmap_find(m, path);
			free(path);
			if (e == NULL)
				continue; /* never recorded: nothing to remove */
			if (e->written_by != 0)
				return err_set(err, NW_EINPUT, "'%s' is both written and removed in one "
				    "history record", c->removed_ids[i]);
			e->deleted = true;
			e->removed_by = true;
		}
		return 0;
	}
	/* a whole estate: what was not seen is gone; top-level files are not resources */
	for (i = 0; i < m->n; i++)
		if (m->v[i].written_by == 0 && strchr(m->v[i].path, '/') != NULL)
			m->v[i].deleted = true;
	return 0;
}

/* Cleans, dumps and stores every placed resource as a blob. */
static int
record_blobs(struct history *h, struct tmap *m, const struct history_change *c,
    const size_t *placed, struct nw_err *err)
{
	json_t *clean = NULL;
	char *text = NULL;
	size_t i, n = json_array_size(c->resources);
	int rc = 0;

	for (i = 0; i < n; i++) {
		struct tentry *e;
		size_t red = 0;

		if ((rc = history_resource_clean(&clean, json_array_get(c->resources, i), &red,
		    err)) != 0)
			goto done;
		if ((text = json_dump_canonical(clean)) == NULL) {
			rc = hi_oom(err);
			goto done;
		}
		e = &m->v[placed[i]];
		if ((rc = git_blob_create_from_buffer(&e->oid, h->repo, text, strlen(text))) < 0) {
			rc = hi_err_git(err, h, NULL, rc, "cannot write '%s'", e->path);
			goto done;
		}
		e->mode = GIT_FILEMODE_BLOB;
		e->redacted = red;
		if (h->progress != NULL)
			h->progress(h->progress_arg, i + 1, n);
		json_decref(clean);
		clean = NULL;
		free(text);
		text = NULL;
	}
done:
	json_decref(clean);
	free(text);
	return rc;
}

/* HEAD's tree read into the map (the files as they are), when there is a HEAD. */
static int
record_read_head(struct history *h, git_commit *parent, git_tree **parent_tree, struct tmap *m,
    struct nw_err *err)
{
	int rc;

	if (parent == NULL)
		return 0;
	if ((rc = git_commit_tree(parent_tree, parent)) < 0)
		return hi_err_git(err, h, NULL, rc, "cannot read the tree of HEAD");
	rc = git_tree_walk(*parent_tree, GIT_TREEWALK_PRE, tree_walk_cb, m);
	if (m->oom)
		return hi_oom(err);
	if (rc < 0)
		return hi_err_git(err, h, NULL, rc, "cannot read the tree of HEAD");
	return 0;
}

/* The entries that stay, sorted for tree_build, with out's counts of what changed. */
static int
record_live(struct tentry ***live, size_t *nlive, struct tmap *m, struct history_result *out,
    struct nw_err *err)
{
	size_t i, n = 0;

	if ((*live = calloc(m->n + 1, sizeof(**live))) == NULL)
		return hi_oom(err);
	for (i = 0; i < m->n; i++) {
		struct tentry *e = &m->v[i];

		if (e->deleted) {
			if (e->old)
				out->deleted++;
			continue;
		}
		(*live)[n++] = e;
		if (!e->old || !git_oid_equal(&e->oid, &e->old_oid) || e->old_path != NULL) {
			out->written++;
			out->redacted += e->redacted;
		}
	}
	qsort(*live, n, sizeof(**live), entry_cmp);
	*nlive = n;
	return 0;
}

/* Commits tree_oid on parent (may be NULL) and moves the branch there; *head_oid is the commit. */
static int
record_commit(git_oid *head_oid, struct history *h, const char *branch, git_commit *parent,
    const git_oid *tree_oid, const struct history_change *change,
    const struct history_commit_info *info, const struct history_result *out, struct nw_err *err)
{
	const git_commit *parents[1] = { parent };
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	char *msg = NULL;
	int rc;

	if (message_build(&msg, info, json_array_size(change->resources), out) != 0) {
		rc = hi_oom(err);
		goto done;
	}
	if ((rc = signature_make(&sig, h, info->time, err)) != 0)
		goto done;
	if ((rc = git_tree_lookup(&tree, h->repo, tree_oid)) < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot read the new tree");
		goto done;
	}
	rc = git_commit_create(head_oid, h->repo, NULL, sig, sig, NULL, msg, tree,
	    parent != NULL ? 1 : 0, parents);
	if (rc < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot commit");
		goto done;
	}
	rc = ref_update(h, branch, head_oid, parent != NULL ? git_commit_id(parent) : NULL,
	    "netwave: record", err);
done:
	git_tree_free(tree);
	git_signature_free(sig);
	free(msg);
	return rc;
}

/* The tag, then the working tree, once HEAD is head_oid. */
static int
record_finish(struct history *h, const git_oid *head_oid, const struct history_commit_info *info,
    struct history_result *out, struct nw_err *err)
{
	int rc;

	hi_oid_hex(out->commit, head_oid);
	if (info->tag != NULL && (rc = tag_update(h, info->tag, head_oid, err)) != 0)
		return rc;
	if ((rc = worktree_update(h, err)) != 0) {
		if (out->committed)
			err_prefix(err, "committed %.12s", out->commit);
		return rc;
	}
	return 0;
}

int
history_record(struct history *h, const struct history_change *change,
    const struct history_commit_info *info, struct history_result *out, struct nw_err *err)
{
	struct tmap m = { 0 };
	struct tentry **live = NULL;
	size_t *placed = NULL;
	git_commit *parent = NULL;
	git_tree *parent_tree = NULL;
	char *branch = NULL;
	const char *lock_refs[2];
	char tag_ref[1024];
	git_oid tree_oid, head_oid;
	bool took_lock = false;
	size_t nlive = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (change->resources != NULL && !json_is_array(change->resources))
		return err_set(err, NW_EINPUT, "resources for history '%s' are not an array", h->dir);
	if ((rc = info_check(info, err)) != 0)
		return rc;
	if (!h->locked) {
		if ((rc = history_lock(h, err)) != 0)
			return rc;
		took_lock = true;
	}
	if ((rc = head_read(h, &branch, &parent, err)) != 0)
		goto done;
	/* a git lock left by a crash is cleared before anything is committed */
	snprintf(tag_ref, sizeof(tag_ref), "refs/tags/%s", info->tag != NULL ? info->tag : "");
	lock_refs[0] = branch;
	lock_refs[1] = info->tag != NULL ? tag_ref : NULL;
	if ((rc = hi_git_locks_clear(h, lock_refs, 2, err)) != 0 ||
	    (rc = record_read_head(h, parent, &parent_tree, &m, err)) != 0 ||
	    (rc = record_place(h, &m, change, &placed, err)) != 0 ||
	    (rc = record_remove(h, &m, change, err)) != 0 ||
	    (rc = record_blobs(h, &m, change, placed, err)) != 0 ||
	    (rc = record_live(&live, &nlive, &m, out, err)) != 0 ||
	    (rc = tree_build(&tree_oid, h, live, nlive, 0, err)) != 0)
		goto done;

	out->committed = parent != NULL ? !git_oid_equal(&tree_oid, git_commit_tree_id(parent)) :
	    nlive > 0;
	if (out->committed) {
		if ((rc = record_commit(&head_oid, h, branch, parent, &tree_oid, change, info, out,
		    err)) != 0)
			goto done;
	} else {
		out->written = out->deleted = out->redacted = 0;
		if (parent != NULL)
			git_oid_cpy(&head_oid, git_commit_id(parent));
	}
	if (out->committed || parent != NULL)
		rc = record_finish(h, &head_oid, info, out, err);
done:
	if (took_lock)
		history_unlock(h);
	git_tree_free(parent_tree);
	git_commit_free(parent);
	tmap_free(&m);
	free(placed);
	free(live);
	free(branch);
	return rc;
}

