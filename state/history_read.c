/*
 * Reading the history: the log with its tags and trailers, one file or
 * commit shown, and the difference between two revisions.
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

#include "plan/json_own.h"
#include "plan/jsonutil.h"
#include "state/history_int.h"

/* ---- reading: log, show, diff ----------------------------------------- */

struct tag_scan {
	git_repository *repo;
	json_t *map; /* commit hex -> [tag names] */
	int rc;
};

static int
tag_scan_cb(const char *name, void *payload)
{
	struct tag_scan *ts = payload;
	git_reference *ref = NULL;
	git_object *obj = NULL;
	char hex[HISTORY_ID_SIZE];
	json_t *list;

	if (git_reference_lookup(&ref, ts->repo, name) < 0 ||
	    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) {
		/* a tag of something else is not ours to list */
		git_reference_free(ref);
		return 0;
	}
	hi_oid_hex(hex, git_object_id(obj));
	list = json_object_get(ts->map, hex);
	if (list == NULL) {
		list = json_array();
		if (list == NULL || json_object_set_new(ts->map, hex, list) != 0)
			ts->rc = NW_ENOMEM;
	}
	if (ts->rc == 0 && json_array_append_new(list, json_string(name + strlen("refs/tags/"))) != 0)
		ts->rc = NW_ENOMEM;
	git_object_free(obj);
	git_reference_free(ref);
	return ts->rc;
}

static int
tags_read(struct history *h, json_t **out, struct nw_err *err)
{
	struct tag_scan ts = { h->repo, json_object(), 0 };
	int rc;

	*out = NULL;
	if (ts.map == NULL)
		return hi_oom(err);
	rc = git_reference_foreach_glob(h->repo, "refs/tags/*", tag_scan_cb, &ts);
	if (ts.rc != 0 || rc < 0) {
		json_decref(ts.map);
		return ts.rc != 0 ? hi_oom(err) : hi_err_git(err, h, NULL, rc, "cannot read tags");
	}
	*out = ts.map;
	return 0;
}

static int
cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* The commit as a JSON object (history_log's entries). */
static int
commit_json(json_t **out, struct history *h, const git_commit *c, const json_t *tagmap,
    struct nw_err *err)
{
	git_message_trailer_array tr = { 0 };
	const git_signature *a = git_commit_author(c);
	const char *body = git_commit_body((git_commit *)c);
	json_t *o = NULL, *parents, *trailers, *tags, *t;
	char hex[HISTORY_ID_SIZE], when[32];
	git_buf shortid = { 0 };
	unsigned i;
	size_t blen;
	int rc;

	*out = NULL;
	if ((rc = git_object_short_id(&shortid, (const git_object *)c)) < 0)
		return hi_err_git(err, h, NULL, rc, "cannot abbreviate a commit id");
	if ((rc = git_message_trailers(&tr, git_commit_message(c))) < 0) {
		git_buf_dispose(&shortid);
		return hi_err_git(err, h, NULL, rc, "cannot read trailers");
	}
	/* the body without the trailer paragraph, which "trailers" carries */
	blen = body != NULL ? strlen(body) : 0;
	while (blen > 0 && isspace((unsigned char)body[blen - 1]))
		blen--;
	if (tr.count > 0 && blen > 0) {
		size_t k = blen;
		while (k >= 2 && !(body[k - 1] == '\n' && body[k - 2] == '\n'))
			k--;
		blen = k >= 2 ? k - 2 : 0;
	}
	hi_oid_hex(hex, git_commit_id(c));
	hi_time_rfc3339(when, sizeof(when), (time_t)git_commit_time(c));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s%, s:{s:s, s:s}}",
	    "commit", hex, "shortId", shortid.ptr, "time", when,
	    "subject", git_commit_summary((git_commit *)c) != NULL ?
	    git_commit_summary((git_commit *)c) : "",
	    "body", body != NULL ? body : "", blen,
	    "author", "name", a->name, "email", a->email);
	parents = json_array();
	trailers = json_object();
	tags = json_array();
	if (o == NULL || json_object_set_new(o, "parents", parents) != 0 ||
	    json_object_set_new(o, "trailers", trailers) != 0 ||
	    json_object_set_new(o, "tags", tags) != 0)
		goto nomem;
	for (i = 0; i < git_commit_parentcount(c); i++) {
		char phex[HISTORY_ID_SIZE];

		hi_oid_hex(phex, git_commit_parent_id(c, i));
		if (json_array_append_new(parents, json_string(phex)) != 0)
			goto nomem;
	}
	for (i = 0; i < tr.count; i++)
		if (json_object_get(trailers, tr.trailers[i].key) == NULL &&
		    json_object_set_new(trailers, tr.trailers[i].key,
		    json_string(tr.trailers[i].value)) != 0)
			goto nomem;
	if ((t = json_object_get(tagmap, hex)) != NULL) {
		size_t k, n = json_array_size(t);
		json_t **v = calloc(n + 1, sizeof(*v));

		if (v == NULL)
			goto nomem;
		for (k = 0; k < n; k++)
			v[k] = json_array_get(t, k);
		qsort(v, n, sizeof(*v), cmp_json_str);
		for (k = 0; k < n; k++)
			if (json_array_append(tags, v[k]) != 0) {
				free(v);
				goto nomem;
			}
		free(v);
	}
	git_message_trailer_array_free(&tr);
	git_buf_dispose(&shortid);
	*out = o;
	return 0;
nomem:
	git_message_trailer_array_free(&tr);
	git_buf_dispose(&shortid);
	json_decref(o);
	return hi_oom(err);
}

int
history_log(struct history *h, size_t max, json_t **out, struct nw_err *err)
{
	git_revwalk *walk = NULL;
	json_t *doc = NULL, *commits, *tagmap = NULL;
	git_oid oid;
	size_t n = 0;
	int rc;

	*out = NULL;
	doc = json_pack("{s:s, s:s, s:[]}", "format", "netwave.history-log/v1", "history", h->dir,
	    "commits");
	if (doc == NULL)
		return hi_oom(err);
	commits = json_object_get(doc, "commits");
	if ((rc = tags_read(h, &tagmap, err)) != 0)
		goto done;
	if ((rc = git_revwalk_new(&walk, h->repo)) < 0 ||
	    (rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL)) < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot walk commits");
		goto done;
	}
	if (git_repository_head_unborn(h->repo) == 1)
		goto finish; /* nothing recorded yet */
	if ((rc = git_revwalk_push_head(walk)) < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot read HEAD");
		goto done;
	}
	while ((max == 0 || n < max) && (rc = git_revwalk_next(&oid, walk)) == 0) {
		git_commit *c = NULL;
		json_t *cj = NULL;

		if ((rc = git_commit_lookup(&c, h->repo, &oid)) < 0) {
			rc = hi_err_git(err, h, NULL, rc, "cannot read a commit");
			goto done;
		}
		rc = commit_json(&cj, h, c, tagmap, err);
		git_commit_free(c);
		if (rc != 0)
			goto done;
		if (json_array_append_new(commits, cj) != 0) {
			rc = hi_oom(err);
			goto done;
		}
		n++;
	}
	if (rc < 0 && rc != GIT_ITEROVER) {
		rc = hi_err_git(err, h, NULL, rc, "cannot walk commits");
		goto done;
	}
finish:
	*out = doc;
	doc = NULL;
	rc = 0;
done:
	git_revwalk_free(walk);
	json_decref(tagmap);
	json_decref(doc);
	return rc;
}

/* The "id" of a stored resource file, or NULL (new reference). */
static json_t *
blob_resource_id(git_repository *repo, const git_oid *oid)
{
	git_blob *b = NULL;
	json_t *doc, *id = NULL;

	if (git_oid_is_zero(oid) || git_blob_lookup(&b, repo, oid) < 0)
		return NULL;
	doc = json_loadb(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), 0, NULL);
	if (json_is_string(json_object_get(doc, "id")))
		id = json_incref(json_object_get(doc, "id"));
	json_decref(doc);
	git_blob_free(b);
	return id;
}

/* The changed files between two trees (either may be NULL: the empty tree). */
static int
diff_files(json_t **out, struct history *h, git_tree *from, git_tree *to, struct nw_err *err)
{
	git_diff_options opts;
	git_diff *diff = NULL;
	json_t *files = NULL;
	size_t i, n;
	int rc;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	*out = NULL;
	opts.context_lines = 3;
	if ((rc = git_diff_tree_to_tree(&diff, h->repo, from, to, &opts)) < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot compare trees");
		goto done;
	}
	if ((files = json_array()) == NULL) {
		rc = hi_oom(err);
		goto done;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		git_patch *patch = NULL;
		git_buf text = { 0 };
		const char *status;
		json_t *f, *id;

		status = d->status == GIT_DELTA_ADDED ? "added" :
		    d->status == GIT_DELTA_DELETED ? "deleted" : "modified";
		if ((rc = git_patch_from_diff(&patch, diff, i)) < 0 ||
		    (rc = git_patch_to_buf(&text, patch)) < 0) {
			git_patch_free(patch);
			rc = hi_err_git(err, h, NULL, rc, "cannot diff '%s'", d->new_file.path);
			goto done;
		}
		git_patch_free(patch);
		id = blob_resource_id(h->repo, d->status == GIT_DELTA_DELETED ? &d->old_file.id :
		    &d->new_file.id);
		f = json_pack("{s:s, s:s, s:s%, s:o}", "path", d->status == GIT_DELTA_DELETED ?
		    d->old_file.path : d->new_file.path, "status", status, "diff",
		    text.ptr != NULL ? text.ptr : "", text.size, "id", id != NULL ? id : json_null());
		git_buf_dispose(&text);
		if (f == NULL || json_array_append_new(files, f) != 0) {
			rc = hi_oom(err);
			goto done;
		}
	}
	*out = files;
	files = NULL;
	rc = 0;
done:
	json_decref(files);
	git_diff_free(diff);
	return rc;
}

static int
revparse(git_object **out, struct history *h, const char *rev, struct nw_err *err)
{
	int rc = git_revparse_single(out, h->repo, rev);

	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
		return err_set(err, NW_EINPUT, "unknown revision '%s' in history '%s'%s", rev, h->dir,
		    git_repository_head_unborn(h->repo) == 1 ? " (it has no commits yet)" : "");
	if (rc < 0)
		return hi_err_git(err, h, NULL, rc, "cannot resolve '%s'", rev);
	return 0;
}

/* A file at a revision: {format, history, rev, path, id, content}. */
static int
show_file(json_t **out, struct history *h, const char *rev, const char *path, struct nw_err *err)
{
	git_object *obj = NULL;
	json_t *doc = NULL, *content, *id;
	char *spec = NULL;
	int rc;

	if (asprintf(&spec, "%s:%s", rev, path) < 0) {
		spec = NULL;
		return hi_oom(err);
	}
	rc = git_revparse_single(&obj, h->repo, spec);
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) {
		rc = err_set(err, NW_EINPUT, "no file '%s' at '%s' in history '%s'", path, rev, h->dir);
		goto done;
	}
	if (rc < 0) {
		rc = hi_err_git(err, h, NULL, rc, "cannot resolve '%s'", spec);
		goto done;
	}
	if (git_object_type(obj) != GIT_OBJECT_BLOB) {
		rc = err_set(err, NW_EINPUT, "'%s' at '%s' in history '%s' is a directory, not a file",
		    path, rev, h->dir);
		goto done;
	}
	content = json_stringn(git_blob_rawcontent((git_blob *)obj),
	    (size_t)git_blob_rawsize((git_blob *)obj));
	if (content == NULL) {
		rc = err_set(err, NW_EINPUT, "'%s' at '%s' in history '%s' is not UTF-8 text", path,
		    rev, h->dir);
		goto done;
	}
	id = blob_resource_id(h->repo, git_object_id(obj));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "format", "netwave.history-show/v1",
	    "history", h->dir, "rev", rev, "path", path, "content", content, "id",
	    id != NULL ? id : json_null());
	if (doc == NULL) {
		rc = hi_oom(err);
		goto done;
	}
	*out = doc;
	rc = 0;
done:
	free(spec);
	git_object_free(obj);
	return rc;
}

int
history_show(struct history *h, const char *rev, const char *path, json_t **out,
    struct nw_err *err)
{
	git_object *obj = NULL;
	git_commit *c = NULL, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	json_t *doc = NULL, *files = NULL, *tagmap = NULL;
	const char *colon;
	int rc;

	*out = NULL;
	if (path != NULL)
		return show_file(out, h, rev, path, err);
	if ((colon = strchr(rev, ':')) != NULL) {
		char *r = strndup(rev, (size_t)(colon - rev));

		if (r == NULL)
			return hi_oom(err);
		rc = show_file(out, h, *r != '\0' ? r : "HEAD", colon + 1, err);
		free(r);
		return rc;
	}
	if ((rc = revparse(&obj, h, rev, err)) != 0)
		goto done;
	if ((rc = git_object_peel((git_object **)&c, obj, GIT_OBJECT_COMMIT)) < 0) {
		rc = err_set(err, NW_EINPUT, "'%s' in history '%s' is not a commit", rev, h->dir);
		goto done;
	}
	if ((rc = git_commit_tree(&tree, c)) < 0 ||
	    (git_commit_parentcount(c) > 0 && ((rc = git_commit_parent(&parent, c, 0)) < 0 ||
	    (rc = git_commit_tree(&ptree, parent)) < 0))) {
		rc = hi_err_git(err, h, NULL, rc, "cannot read '%s'", rev);
		goto done;
	}
	if ((rc = tags_read(h, &tagmap, err)) != 0 ||
	    (rc = commit_json(&doc, h, c, tagmap, err)) != 0 ||
	    (rc = diff_files(&files, h, ptree, tree, err)) != 0)
		goto done;
	if (json_object_set_new(doc, "files", files) != 0 ||
	    json_object_set_new(doc, "format", json_string("netwave.history-show/v1")) != 0 ||
	    json_object_set_new(doc, "history", json_string(h->dir)) != 0 ||
	    json_object_set_new(doc, "rev", json_string(rev)) != 0) {
		files = NULL;
		rc = hi_oom(err);
		goto done;
	}
	files = NULL;
	*out = doc;
	doc = NULL;
	rc = 0;
done:
	json_release_all(&doc, &files, &tagmap);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	git_commit_free(c);
	git_object_free(obj);
	return rc;
}

/* A revision's tree and the id to show for it (the commit's when it is one). */
static int
rev_tree(git_tree **tree, char hex[HISTORY_ID_SIZE], struct history *h, const char *rev,
    struct nw_err *err)
{
	git_object *obj = NULL, *commit = NULL;
	int rc;

	*tree = NULL;
	if ((rc = revparse(&obj, h, rev, err)) != 0)
		return rc;
	if (git_object_peel((git_object **)tree, obj, GIT_OBJECT_TREE) < 0) {
		git_object_free(obj);
		return err_set(err, NW_EINPUT, "'%s' in history '%s' is neither a commit nor a tree",
		    rev, h->dir);
	}
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) == 0)
		hi_oid_hex(hex, git_object_id(commit));
	else
		hi_oid_hex(hex, git_tree_id(*tree));
	git_object_free(commit);
	git_object_free(obj);
	return 0;
}

int
history_diff(struct history *h, const char *rev1, const char *rev2, json_t **out,
    struct nw_err *err)
{
	git_tree *a = NULL, *b = NULL;
	json_t *files = NULL;
	char ha[HISTORY_ID_SIZE], hb[HISTORY_ID_SIZE];
	int rc;

	*out = NULL;
	if ((rc = rev_tree(&a, ha, h, rev1, err)) != 0 ||
	    (rc = rev_tree(&b, hb, h, rev2, err)) != 0 ||
	    (rc = diff_files(&files, h, a, b, err)) != 0)
		goto done;
	*out = json_pack("{s:s, s:s, s:s, s:s, s:o}", "format", "netwave.history-diff/v1",
	    "history", h->dir, "from", ha, "to", hb, "files", files);
	files = NULL; /* stolen by "o", also on failure */
	if (*out == NULL)
		rc = hi_oom(err);
done:
	json_decref(files);
	git_tree_free(a);
	git_tree_free(b);
	return rc;
}

