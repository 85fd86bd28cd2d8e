#!/usr/bin/env python3
"""Validates JSON documents against netwave's JSON Schemas (docs/schemas/).

usage: schema_check.py SCHEMA_DIR FILE...   (each FILE one document, or
       JSON lines with --lines).  Picks the schema from the document's
       "format" ("netwave.plan/v1" -> plan.schema.json); a document with no
       format, or one whose schema is missing, fails.  Prints one line per
       document and exits 1 when any fails.
"""
import json
import os
import sys

import jsonschema


def check(schema_dir, doc, where):
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if not isinstance(fmt, str) or not fmt.startswith("netwave.") or not fmt.endswith("/v1"):
        return "%s: no netwave format name" % where
    path = os.path.join(schema_dir, fmt[len("netwave."):-len("/v1")] + ".schema.json")
    if not os.path.exists(path):
        return "%s: %s has no schema (%s)" % (where, fmt, path)
    with open(path) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(doc), key=str)
    if errors:
        e = errors[0]
        return "%s: %s: /%s: %s" % (where, fmt, "/".join(map(str, e.absolute_path)), e.message)
    return None


def main(argv):
    lines = "--lines" in argv
    argv = [a for a in argv if a != "--lines"]
    schema_dir, files = argv[1], argv[2:]
    failed = 0
    for name in files:
        with open(name) as f:
            text = f.read()
        docs = [json.loads(l) for l in text.splitlines() if l.strip()] if lines else [json.loads(text)]
        for i, doc in enumerate(docs):
            where = "%s:%d" % (name, i + 1) if lines else name
            msg = check(schema_dir, doc, where)
            if msg:
                failed += 1
                print("invalid: " + msg)
            else:
                print("valid: %s (%s)" % (where, doc["format"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
