/*
 * Replays inputs through a fuzz target without libFuzzer: built with the
 * project's compiler and sanitizers, `make check` runs it over the
 * committed corpus (tests/fuzz/corpus/<target>/) and the inputs that
 * once broke the target (tests/fuzz/regress/<target>/), so what a fuzzer
 * found stays fixed where clang is not installed.
 *
 *   replay_<target>              both directories under $top_srcdir (or .)
 *   replay_<target> PATH...      these files and directories
 *
 * A broken invariant aborts (fuzz.h), which fails the test.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/err.h"
#include "plan/jsonutil.h"
#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET names the target"
#endif

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_file(const char *path, size_t *count)
{
	struct nw_err err = { 0 };
	char *buf = NULL;
	size_t len = 0;

	if (file_read_all(&buf, &len, path, FUZZ_MAX_INPUT, &err) != 0) {
		fprintf(stderr, "replay: %s\n", err.msg);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	(*count)++;
	return 0;
}

/* Files of a directory in name order; a missing directory is none. */
static int
replay_dir(const char *dir, size_t *count, bool must_exist)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (d == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: cannot open '%s': %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **bigger = realloc(names, (cap = cap * 2 + 16) * sizeof(*names));
			if (bigger == NULL) {
				rc = -1;
				goto done;
			}
			names = bigger;
		}
		if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0) {
			rc = -1;
			goto done;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && rc == 0; i++)
		rc = replay_file(names[i], count);
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static int
replay_path(const char *path, size_t *count)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(errno));
		return -1;
	}
	return S_ISDIR(st.st_mode) ? replay_dir(path, count, true) : replay_file(path, count);
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir");
	char *corpus = NULL, *regress = NULL;
	size_t count = 0, seeds;
	int rc = 0, i;

	if (argc > 1) {
		for (i = 1; i < argc && rc == 0; i++)
			rc = replay_path(argv[i], &count);
		printf("replayed %zu inputs through %s\n", count, FUZZ_TARGET);
		return rc == 0 ? 0 : 1;
	}
	if (top == NULL)
		top = ".";
	if (asprintf(&corpus, "%s/tests/fuzz/corpus/%s", top, FUZZ_TARGET) < 0 ||
	    asprintf(&regress, "%s/tests/fuzz/regress/%s", top, FUZZ_TARGET) < 0)
		return 1;
	rc = replay_dir(corpus, &count, true);
	seeds = count;
	if (rc == 0)
		rc = replay_dir(regress, &count, false);
	printf("replayed %zu seed and %zu regression inputs through %s\n", seeds, count - seeds,
	    FUZZ_TARGET);
	if (rc == 0 && seeds == 0) {
		fprintf(stderr, "replay: %s holds no input\n", corpus);
		rc = -1;
	}
	free(corpus);
	free(regress);
	return rc == 0 ? 0 : 1;
}
