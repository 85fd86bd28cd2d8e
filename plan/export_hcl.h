/*
 * A small HCL writer for netwave export (plan/export.c): blocks with
 * attributes and nested blocks, rendered as `terraform fmt` renders them
 * (two-space indents; the `=` of consecutive one-line attributes aligned;
 * a multi-line value or a nested block ends a run).  The alignment rule is
 * hclwrite's (github.com/hashicorp/hcl, hclwrite/format.go, formatCells).
 */
#ifndef NETWAVE_PLAN_EXPORT_HCL_H
#define NETWAVE_PLAN_EXPORT_HCL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

struct hcl_block;

/* A new top-level or nested block with its header (`resource "t" "l"`); NULL on out of memory. */
struct hcl_block *hcl_block_new(const char *header);
void hcl_block_free(struct hcl_block *b);

/* A nested block added at the end (borrowed: freed with its parent); NULL on out of memory. */
struct hcl_block *hcl_block_add(struct hcl_block *b, const char *header);

/* A blank line before the next item (the block's own layout; fmt keeps it). */
int hcl_blank(struct hcl_block *b);

/* An attribute whose value is a JSON value written as an HCL literal (steals v). */
int hcl_attr_json(struct hcl_block *b, const char *name, json_t *v);

/* An attribute whose value is an expression written as given (a reference). */
int hcl_attr_expr(struct hcl_block *b, const char *name, const char *expr);

int hcl_attr_str(struct hcl_block *b, const char *name, const char *s);
int hcl_attr_bool(struct hcl_block *b, const char *name, bool v);

/* Writes the block at an indentation of indent levels. */
void hcl_block_write(FILE *f, const struct hcl_block *b, int indent);

/* Writes s as an HCL quoted string ("${" and "%{" escaped). */
void hcl_write_string(FILE *f, const char *s);

/* True when s can be written bare as an identifier (an object key, a label). */
bool hcl_is_identifier(const char *s);

#endif
