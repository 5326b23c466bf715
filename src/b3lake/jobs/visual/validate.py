"""Validation of a visual job's DAG beyond what botocore checks before sending it.

botocore's client-side validation checks required members, Python types and minimum lengths, but
not enum values (``AggFunc="median"`` passes and only the service refuses it, at run time for
some nodes), not patterns, not that an ``Inputs`` entry names a node, and not cycles. This module
checks, against botocore's own Glue service model (so the lists follow the installed botocore):

* every node id matches Glue's ``NodeId`` pattern and every node has exactly one node type, a
  known one (a member of ``CodeGenConfigurationNode``);
* every member is known to its node type; required members are present; strings are in their
  enum (``AggFunc``, ``UpdateBehavior``, ``Compression``…) and match their pattern (``Name``
  may not hold a line break); lists and numbers respect their bounds;
* every input names another existing node, the graph has no cycle and at least one source;
* a ``SparkSQL`` node's aliases name its own inputs, once each, and the query uses them.

The first problem raises :class:`DagError` naming the node (id and display name) and the member.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from b3lake.errors import JobError

NODE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
NODES_MEMBER = "CodeGenConfigurationNodes"


class DagError(JobError):
    """A visual job DAG Glue would refuse (or run wrongly); ``source`` names the node."""


@functools.cache
def _model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("glue")


def known_node_types() -> frozenset[str]:
    """The node types of the installed botocore's Glue model (``S3ParquetSource``, …)."""
    return frozenset(_model().shape_for("CodeGenConfigurationNode").members)


def agg_functions() -> tuple[str, ...]:
    """The ``AggFunc`` values Glue accepts."""
    return tuple(_model().shape_for("AggregateOperation").members["AggFunc"].enum)


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    # The model's patterns are Java regexes over UTF-16 code units: the surrogate-pair range
    # "\uD800\uDC00-\uDBFF\uDFFF" means "any supplementary character" in Python.
    text = text.replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\U00010000-\U0010FFFF")
    try:
        return re.compile(text)
    except re.error:
        return None


def _label(node_id: str, node: Any) -> str:
    name = None
    if isinstance(node, Mapping) and len(node) == 1:
        body = next(iter(node.values()))
        if isinstance(body, Mapping):
            name = body.get("Name")
    return f"node {node_id} ({name})" if isinstance(name, str) and name else f"node {node_id}"


def _check(value: Any, shape: Any, where: str, label: str) -> None:
    """``value`` against a botocore shape; DagError naming ``label`` and the member path."""
    kind = shape.type_name
    meta = shape.metadata

    def fail(message: str, shown: Any = None) -> None:
        raise DagError(message, source=label, field=where, value=shown)

    if kind == "structure":
        if not isinstance(value, Mapping):
            fail(f"expected an object ({shape.name})", value)
        unknown = sorted(set(value) - set(shape.members))
        if unknown:
            fail(f"unknown member(s) {unknown} of {shape.name}")
        for name in shape.required_members:
            if name not in value:
                fail(f"missing required member {name} of {shape.name}")
        for name, item in value.items():
            _check(item, shape.members[name], f"{where}.{name}", label)
    elif kind == "list":
        if not isinstance(value, list):
            fail("expected a list", value)
        if "min" in meta and len(value) < meta["min"]:
            fail(f"needs at least {meta['min']} item(s)", value)
        if "max" in meta and len(value) > meta["max"]:
            fail(f"takes at most {meta['max']} item(s)", value)
        for i, item in enumerate(value):
            _check(item, shape.member, f"{where}[{i}]", label)
    elif kind == "map":
        if not isinstance(value, Mapping):
            fail("expected an object", value)
        for key, item in value.items():
            _check(key, shape.key, f"{where} key", label)
            _check(item, shape.value, f"{where}[{key!r}]", label)
    elif kind == "string":
        if not isinstance(value, str):
            fail("expected a string", value)
        if shape.enum and value not in shape.enum:
            fail(f"not one of {list(shape.enum)}", value)
        if "min" in meta and len(value) < meta["min"]:
            fail(f"needs at least {meta['min']} character(s)", value)
        if "max" in meta and len(value) > meta["max"]:
            fail(f"takes at most {meta['max']} characters", value)
        pattern = _pattern(meta["pattern"]) if "pattern" in meta else None
        if pattern is not None and pattern.fullmatch(value) is None:
            fail(f"does not match Glue's pattern {meta['pattern']}", value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            fail("expected true or false", value)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            fail("expected an integer", value)
        if "min" in meta and value < meta["min"]:
            fail(f"must be >= {meta['min']}", value)
        if "max" in meta and value > meta["max"]:
            fail(f"must be <= {meta['max']}", value)
    elif kind in ("double", "float") and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        fail("expected a number", value)


def node_type(node_id: str, node: Any) -> tuple[str, dict[str, Any]]:
    """``(type, body)`` of a node that has exactly one node type; DagError otherwise."""
    label = _label(node_id, node)
    if not isinstance(node, Mapping) or len(node) != 1:
        types = sorted(node) if isinstance(node, Mapping) else None
        raise DagError("a node has exactly one node type", source=label, value=types)
    (kind, body), *_ = node.items()
    known = known_node_types()
    if kind not in known:
        raise DagError(
            "unknown node type (not in botocore's CodeGenConfigurationNode)",
            source=label,
            value=kind,
        )
    if not isinstance(body, Mapping):
        raise DagError("a node's body is an object", source=label, field=kind)
    return kind, dict(body)


def node_inputs(node: Mapping[str, Any]) -> list[str]:
    """The ids a node reads from (empty for a source)."""
    (body,) = node.values()
    inputs = body.get("Inputs") or []
    return list(inputs) if isinstance(inputs, list) else []


def _check_sql(node_id: str, label: str, body: Mapping[str, Any]) -> None:
    inputs = node_inputs({"SparkSQL": body})
    seen: dict[str, str] = {}
    for i, alias in enumerate(body.get("SqlAliases", [])):
        where = f"SparkSQL.SqlAliases[{i}]"
        if alias["From"] not in inputs:
            raise DagError(
                "an alias must name one of the node's inputs",
                source=label,
                field=where,
                value=alias["From"],
            )
        name = alias["Alias"]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise DagError(
                "an alias is a plain SQL identifier", source=label, field=where, value=name
            )
        if name in seen or alias["From"] in seen.values():
            raise DagError("an alias or input appears twice", source=label, field=where, value=name)
        seen[name] = alias["From"]
        if not re.search(rf"\b{re.escape(name)}\b", body["SqlQuery"]):
            raise DagError(
                "the query does not use the alias", source=label, field=where, value=name
            )
    missing = [i for i in inputs if i not in seen.values()]
    if missing:
        raise DagError("every input of a SparkSQL node needs an alias", source=label, value=missing)


def validate_nodes(nodes: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """Check a ``CodeGenConfigurationNodes`` map; ``{id: (type, body)}`` when it is valid."""
    if not isinstance(nodes, Mapping) or not nodes:
        raise DagError("the DAG needs at least one node", source=NODES_MEMBER)
    model = _model()
    parsed: dict[str, tuple[str, dict[str, Any]]] = {}
    for node_id, node in nodes.items():
        label = _label(str(node_id), node)
        if not isinstance(node_id, str) or not NODE_ID.match(node_id):
            raise DagError(
                "a node id is letters, digits, '_' and '-'", source=NODES_MEMBER, value=node_id
            )
        kind, body = node_type(node_id, node)
        _check(body, model.shape_for("CodeGenConfigurationNode").members[kind], kind, label)
        parsed[node_id] = (kind, body)
    for node_id, (kind, body) in parsed.items():
        label = _label(node_id, nodes[node_id])
        for i, ref in enumerate(body.get("Inputs", [])):
            if ref == node_id:
                raise DagError(
                    "a node cannot read itself", source=label, field=f"{kind}.Inputs[{i}]"
                )
            if ref not in parsed:
                raise DagError(
                    "input names no node of the DAG",
                    source=label,
                    field=f"{kind}.Inputs[{i}]",
                    value=ref,
                )
        if kind == "SparkSQL":
            _check_sql(node_id, label, body)
        if kind == "Aggregate":
            for i, agg in enumerate(body["Aggs"]):
                if not agg["Column"]:
                    raise DagError(
                        "an aggregate needs a column", source=label, field=f"Aggregate.Aggs[{i}]"
                    )
    if all(body.get("Inputs") for _, body in parsed.values()):
        raise DagError("the DAG has no source node (every node has inputs)", source=NODES_MEMBER)
    _check_acyclic(nodes, parsed)
    return parsed


def _check_acyclic(
    nodes: Mapping[str, Any], parsed: Mapping[str, tuple[str, dict[str, Any]]]
) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node_id: str, path: list[str]) -> None:
        if state.get(node_id) == 2:
            return
        if state.get(node_id) == 1:
            cycle = path[path.index(node_id) :] + [node_id]
            raise DagError(
                "the DAG has a cycle: " + " -> ".join(cycle),
                source=_label(node_id, nodes[node_id]),
            )
        state[node_id] = 1
        for ref in parsed[node_id][1].get("Inputs", []):
            visit(ref, [*path, node_id])
        state[node_id] = 2

    for node_id in parsed:
        visit(node_id, [])


def topological_order(nodes: Mapping[str, Any]) -> list[str]:
    """Node ids with every node after its inputs (sources first; ties by id)."""
    parsed = validate_nodes(nodes)
    done: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in done:
            return
        for ref in sorted(parsed[node_id][1].get("Inputs", [])):
            visit(ref)
        done.append(node_id)

    for node_id in sorted(parsed):
        visit(node_id)
    return done


def validate_request(request: Mapping[str, Any], operation: str = "CreateJob") -> None:
    """botocore's own parameter validation of a whole request (offline), then the DAG checks."""
    from botocore.validate import ParamValidator

    shape = _model().operation_model(operation).input_shape
    report = ParamValidator().validate(dict(request), shape)
    if report.has_errors():
        raise DagError(
            f"botocore rejects the {operation} request: {report.generate_report()}",
            source=str(request.get("Name") or request.get("JobName") or operation),
        )
    nodes = request.get(NODES_MEMBER)
    if nodes is None and isinstance(request.get("JobUpdate"), Mapping):
        nodes = request["JobUpdate"].get(NODES_MEMBER)
    validate_nodes(nodes)
