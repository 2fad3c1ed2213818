"""Reduce Webex's official messaging OpenAPI document to what the bot and the sandbox use.

The contract tests validate against the reduced copy committed beside this file, so that they
run on a clean clone without ../shared. Kept: the paths below (every method of each), the
component schemas they reach, and structure only (descriptions, summaries, tags and examples
go). test_contract.py checks that the committed copy is a fresh reduction of the official file.

    python tests/contract/reduce_spec.py [../shared/webex/webex-messaging.json]    # rewrites the copy
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REDUCED = HERE / "webex-messaging.reduced.json"
OFFICIAL = HERE.parents[2] / "shared" / "webex" / "webex-messaging.json"

PATHS = (
    "/people",
    "/people/me",
    "/people/{personId}",
    "/rooms",
    "/rooms/{roomId}",
    "/memberships",
    "/memberships/{membershipId}",
    "/messages",
    "/messages/{messageId}",
    "/attachment/actions",
    "/attachment/actions/{id}",
    "/webhooks",
    "/webhooks/{webhookId}",
)
# Words for people, not structure. A schema's `properties` maps names to schemas, so a property
# that happens to be called "description" is kept (see _strip).
PROSE = frozenset({"description", "summary", "example", "examples", "tags", "externalDocs"})
SCHEMA_PREFIX = "#/components/schemas/"


def _strip(node: Any, *, names: bool = False) -> Any:
    if isinstance(node, list):
        return [_strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:  # the keys are property names, each value a schema
        return {key: _strip(value) for key, value in node.items()}
    return {key: _strip(value, names=key == "properties") for key, value in node.items() if key not in PROSE}


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
    return found.union(*(_refs(value) for value in node.values()))


def reduce(official: dict) -> dict:
    """The reduced document: the kept paths and the schemas they reach, without prose."""
    paths = {path: _strip(official["paths"][path]) for path in PATHS}
    for operation in (op for item in paths.values() for op in item.values() if isinstance(op, dict)):
        for response in operation.get("responses", {}).values():
            response["description"] = ""  # required by OpenAPI in every response object; the words are gone
    schemas = official["components"]["schemas"]
    wanted: set[str] = set()
    todo = _refs(paths)
    while todo:
        ref = todo.pop()
        if not ref.startswith(SCHEMA_PREFIX):
            raise ValueError(f"a reference outside the component schemas: {ref}")
        name = ref.removeprefix(SCHEMA_PREFIX)
        if name not in wanted:
            wanted.add(name)
            todo |= _refs(schemas[name])
    return {
        "openapi": official["openapi"],
        "info": {"title": official["info"]["title"], "version": official["info"]["version"]},
        "paths": paths,
        "components": {"schemas": {name: _strip(schemas[name]) for name in sorted(wanted)}},
    }


def render(document: dict) -> str:
    """The committed file's text (stable, so a fresh reduction compares equal byte for byte)."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    """Write the reduced copy from the official file."""
    source = Path(argv[1]) if len(argv) > 1 else OFFICIAL
    REDUCED.write_text(render(reduce(json.loads(source.read_text(encoding="utf-8")))), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
