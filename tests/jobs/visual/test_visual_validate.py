"""Validation of visual DAGs beyond botocore: each broken DAG is refused with an error that names
the node; botocore itself accepts some of them (shown), which is why the checks exist."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from botocore.validate import ParamValidator

from b3lake.errors import B3LakeError, JobError
from b3lake.jobs.visual import dag
from b3lake.jobs.visual.validate import (
    DagError,
    _model,
    agg_functions,
    known_node_types,
    validate_nodes,
    validate_request,
)

CONFIG = dag.VisualJobConfig(
    lake="s3://lake/b3lake", role="arn:aws:iam::123456789012:role/r", script_location="s3://s/v.py"
)
Nodes = dict[str, Any]


def _nodes() -> Nodes:
    return copy.deepcopy(dag.build_nodes(CONFIG))


def _body(nodes: Nodes, node_id: str) -> dict[str, Any]:
    return next(iter(nodes[node_id].values()))


def _botocore_accepts(nodes: Nodes) -> bool:
    request = {**dag.job_request(CONFIG), "CodeGenConfigurationNodes": nodes}
    shape = _model().operation_model("CreateJob").input_shape
    return not ParamValidator().validate(request, shape).has_errors()


def _median(nodes: Nodes) -> None:
    _body(nodes, dag.DAILY)["Aggs"][0]["AggFunc"] = "median"


def _missing_input(nodes: Nodes) -> None:
    _body(nodes, dag.RENAME)["Inputs"] = ["node_nowhere"]


def _cycle(nodes: Nodes) -> None:
    _body(nodes, dag.UNIVERSE)["Inputs"] = [dag.SESSIONS]
    _body(nodes, dag.UNIVERSE)["SqlAliases"][0]["From"] = dag.SESSIONS


def _two_types(nodes: Nodes) -> None:
    nodes[dag.RENAME]["RenameField"] = {
        "Name": "x",
        "Inputs": [dag.UNIVERSE],
        "SourcePath": ["a"],
        "TargetPath": ["b"],
    }


def _unknown_type(nodes: Nodes) -> None:
    nodes[dag.RENAME] = {"ApplyMappings": _body(nodes, dag.RENAME)}


def _bad_id(nodes: Nodes) -> None:
    nodes["node rename!"] = nodes.pop(dag.TARGET)


def _name_with_newline(nodes: Nodes) -> None:
    _body(nodes, dag.DAILY)["Name"] = "A:\nsum"


def _bad_update_behavior(nodes: Nodes) -> None:
    _body(nodes, dag.TARGET)["SchemaChangePolicy"]["UpdateBehavior"] = "UPDATE"


def _unknown_member(nodes: Nodes) -> None:
    _body(nodes, dag.TARGET)["Overwrite"] = True


def _alias_not_an_input(nodes: Nodes) -> None:
    _body(nodes, dag.SESSIONS)["SqlAliases"][0]["From"] = dag.RENAME


def _alias_unused(nodes: Nodes) -> None:
    _body(nodes, dag.SESSIONS)["SqlAliases"][0]["Alias"] = "daily_rows"


def _two_inputs_on_one_input_node(nodes: Nodes) -> None:
    _body(nodes, dag.DAILY)["Inputs"] = [dag.RENAME, dag.UNIVERSE]


def _self_input(nodes: Nodes) -> None:
    _body(nodes, dag.RENAME)["Inputs"] = [dag.RENAME]


CASES: list[tuple[str, Callable[[Nodes], None], str, str, bool]] = [
    # (case, break it, node named in the error, what the error says, botocore accepts it)
    ("agg_func", _median, dag.DAILY, "not one of", True),
    ("missing_input", _missing_input, dag.RENAME, "input names no node", True),
    ("cycle", _cycle, dag.UNIVERSE, "cycle", True),
    ("two_types", _two_types, dag.RENAME, "exactly one node type", True),
    ("unknown_type", _unknown_type, dag.RENAME, "unknown node type", False),
    ("bad_id", _bad_id, "node rename!", "node id", True),
    ("newline_in_name", _name_with_newline, dag.DAILY, "pattern", True),
    ("update_behavior", _bad_update_behavior, dag.TARGET, "not one of", True),
    ("unknown_member", _unknown_member, dag.TARGET, "unknown member", False),
    ("alias_not_an_input", _alias_not_an_input, dag.SESSIONS, "alias must name", True),
    ("alias_unused", _alias_unused, dag.SESSIONS, "does not use the alias", True),
    ("one_input", _two_inputs_on_one_input_node, dag.DAILY, "at most 1", True),
    ("self_input", _self_input, dag.RENAME, "cannot read itself", True),
]


@pytest.mark.parametrize(
    ("case", "breaker", "node", "says", "botocore_ok"), CASES, ids=[c[0] for c in CASES]
)
def test_visual_validation_names_the_node(
    case: str, breaker: Callable[[Nodes], None], node: str, says: str, botocore_ok: bool
) -> None:
    nodes = _nodes()
    validate_nodes(nodes)  # the generator's own DAG is valid
    breaker(nodes)
    with pytest.raises(DagError) as caught:
        validate_nodes(nodes)
    message = str(caught.value)
    assert says in message, message
    assert node in message, message
    assert isinstance(caught.value, JobError) and isinstance(caught.value, B3LakeError)
    if case != "bad_id":
        assert _botocore_accepts(nodes) is botocore_ok


def test_visual_validation_of_the_whole_request_runs_botocore_first() -> None:
    request = dag.job_request(CONFIG)
    del request["Role"]
    with pytest.raises(DagError, match="botocore rejects the CreateJob request"):
        validate_request(request)


def test_visual_validation_needs_a_source_and_a_node() -> None:
    with pytest.raises(DagError, match="at least one node"):
        validate_nodes({})
    nodes = _nodes()
    del nodes[dag.SOURCE]
    _body(nodes, dag.UNIVERSE)["Inputs"] = [dag.SESSIONS]
    _body(nodes, dag.UNIVERSE)["SqlAliases"][0]["From"] = dag.SESSIONS
    with pytest.raises(DagError, match="no source"):
        validate_nodes(nodes)


def test_visual_validation_lists_follow_botocore() -> None:
    assert {"S3ParquetSource", "ApplyMapping", "Aggregate", "SparkSQL", "CustomCode"} <= (
        known_node_types()
    )
    assert {"S3GlueParquetTarget", "S3CatalogSource", "SelectFromCollection"} <= known_node_types()
    assert {"sum", "count", "avg", "countDistinct"} <= set(agg_functions())
    assert "median" not in agg_functions()


def test_visual_interpreter_runs_no_foreign_custom_code(
    sqlframe_engine: Any, tmp_path: Any
) -> None:
    from b3lake.jobs.visual.interpret import run_dag
    from b3lake.storage.local import LocalStorage

    nodes = _nodes()
    _body(nodes, dag.REPLACE)["Code"] += "    import os; os.system('true')\n"
    with pytest.raises(DagError, match="runs no custom code") as caught:
        run_dag(nodes, engine=sqlframe_engine, storage=LocalStorage(tmp_path), lake=CONFIG.lake)
    assert dag.REPLACE in str(caught.value)
