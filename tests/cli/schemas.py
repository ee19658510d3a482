# SPDX-License-Identifier: BSD-3-Clause
"""Validators for docs/report.schema.json and docs/ndjson.schema.json (shared by the CLI tests).

The NDJSON schema refers into the document schema by "$id". jsonschema >= 4.18 resolves that
through the `referencing` registry; Debian's older python3-jsonschema (4.10) only has
RefResolver with a store. Both are supported so the tests run on either.
"""
import json
import os

import jsonschema

LINE_TYPES = ("connection", "anomaly", "stats", "summary")


def load_validators(src):
    """-> {"document": validator, None: any NDJSON line, "<type>": that line type's}."""
    schemas = []
    for name in ("report.schema.json", "ndjson.schema.json"):
        with open(os.path.join(src, "docs", name)) as fh:
            schemas.append(json.load(fh))
    report, ndjson = schemas
    for s in schemas:
        jsonschema.Draft202012Validator.check_schema(s)
    try:
        from referencing import Registry, Resource
    except ImportError:
        store = {s["$id"]: s for s in schemas}

        def make(schema):
            resolver = jsonschema.RefResolver(ndjson["$id"], ndjson, store=store)
            return jsonschema.Draft202012Validator(schema, resolver=resolver)
    else:
        registry = Registry().with_resources(
            [(s["$id"], Resource.from_contents(s)) for s in schemas])

        def make(schema):
            return jsonschema.Draft202012Validator(schema, registry=registry)
    # One validator per line type as well, for readable errors (oneOf only says "none matched").
    v = {t: make({"$ref": f"{ndjson['$id']}#/$defs/{t}_line"}) for t in LINE_TYPES}
    v[None] = make(ndjson)
    v["document"] = jsonschema.Draft202012Validator(report)
    return v
