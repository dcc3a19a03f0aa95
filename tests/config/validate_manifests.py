#!/usr/bin/python3
# Checks JSON files against config/manifest.schema.json with Debian's
# python3-jsonschema (draft 2020-12), for the manifest_schema suite.
#
#   validate_manifests.py SCHEMA FILE...
#
# The files are plain JSON (the test strips comments and trailing commas
# first). Prints one line per file, "ok FILE" or "invalid FILE: PATH: WHY"
# (its first error), and exits 0; exits 2 if the schema itself is not a
# valid draft 2020-12 schema or a file cannot be read.
import json
import sys

import jsonschema


def main(argv):
    if len(argv) < 2:
        print("usage: validate_manifests.py SCHEMA FILE...", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"{argv[1]}: not a draft 2020-12 schema: {e.message}", file=sys.stderr)
        return 2
    validator = jsonschema.Draft202012Validator(schema)
    for name in argv[2:]:
        with open(name, encoding="utf-8") as f:
            instance = json.load(f)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if not errors:
            print(f"ok {name}")
            continue
        e = errors[0]
        path = "/".join(str(p) for p in e.absolute_path)
        print(f"invalid {name}: /{path}: {e.message}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
