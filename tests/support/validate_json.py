#!/usr/bin/env python3
"""validate_json.py SCHEMA DEFINITION: validates the JSON document on stdin against one definition
of docs/json-schema.json (python3-jsonschema). Prints what failed and exits 1."""
import json
import sys

import jsonschema

schema_path, definition = sys.argv[1], sys.argv[2]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
if definition not in schema["definitions"]:
    sys.exit(f"validate_json: no definition '{definition}' in {schema_path}")
document = json.load(sys.stdin)
target = dict(schema)
target.update({"$ref": f"#/definitions/{definition}"})
validator = jsonschema.Draft7Validator(target)
errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
for e in errors:
    print(f"{definition}: at {'/'.join(str(p) for p in e.path) or '(root)'}: {e.message}", file=sys.stderr)
sys.exit(1 if errors else 0)
