/*
 * The baseline for the benchmarks: a plain jansson load of a file, with the
 * same flag the topology loader uses, and nothing else.
 */
#include <stdio.h>

#include <jansson.h>

int
main(int argc, char **argv)
{
	json_error_t e;
	json_t *root;

	if (argc != 2) {
		fprintf(stderr, "usage: jsonload FILE\n");
		return 2;
	}
	root = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &e);
	if (root == NULL) {
		fprintf(stderr, "jsonload: %s: line %d: %s\n", argv[1], e.line, e.text);
		return 1;
	}
	printf("%zu\n", json_array_size(json_object_get(root, "resources")));
	json_decref(root);
	return 0;
}
