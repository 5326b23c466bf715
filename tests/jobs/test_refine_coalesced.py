"""Coalesced runs: a run refines every raw object changed since the raw manifest recorded it,
so the first run of a burst does the work of all, later ones end without writing, and an object
that lands while a run executes is refined by the next run (SQLFrame/DuckDB, local lake)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
import refine_helpers as H

from b3lake.events.local_bus import LocalEventBus
from b3lake.jobs.refine.args import Universe
from b3lake.jobs.refine.job import main
from b3lake.jobs.refine.plan import plan_changes
from b3lake.jobs.refine.steps import quotes as quote_step
from b3lake.lake import layout, raw_manifest
from b3lake.lake.raw_writer import RawWriter
from b3lake.lambdas import trigger
from b3lake.lambdas.trigger import TriggerConfig
from b3lake.launchers.local import LocalLauncher
from b3lake.storage.local import LocalStorage

SESSIONS = sorted(H.sample_sessions())
SOME = "PETR4,VALE3,ITUB4,BBDC4,ABEV3,MGLU3,HGLG11,KNRI11,BOVA11,B3SA3,WEGE3,SUZB3"


def _days(n: int) -> list[dt.date]:
    return [dt.date(2021, 1, 1) + dt.timedelta(days=i) for i in range(n)]


def test_plan_changes_unions_each_changed_sessions_window() -> None:
    days = _days(120)
    plan = plan_changes(days, {days[5], days[100]})
    assert plan.quote_sessions == days[5:27] + days[100:120]
    assert plan.months == ["2021-01", "2021-04"]
    # Each target month whole, with the 21 sessions before it; nothing in between.
    april = days.index(dt.date(2021, 4, 1))
    assert plan.read_sessions == days[: days.index(dt.date(2021, 1, 31)) + 1] + days[april - 21 :]
    assert plan.removed_sessions == []


def test_plan_changes_of_a_removed_session_rewrites_the_sessions_after_it() -> None:
    days = _days(40)
    gone = dt.date(2021, 1, 10)
    left = [d for d in days if d != gone]
    plan = plan_changes(left, {gone})
    assert plan.removed_sessions == [gone]
    assert plan.quote_sessions == left[left.index(dt.date(2021, 1, 11)) :][:21]
    assert plan.months == ["2021-01"]


def test_plan_changes_with_nothing_changed_plans_nothing() -> None:
    plan = plan_changes(_days(10), set())
    assert (plan.read_sessions, plan.quote_sessions, plan.months) == ([], [], [])


def test_the_first_event_run_refines_every_pending_session_the_rest_write_nothing(
    tmp_path: Path,
) -> None:
    days = SESSIONS[:6]
    storage = H.sample_lake(tmp_path / "burst", days=days)
    first = main(
        H.argv(tmp_path / "burst", raw_key=layout.raw_key("cotahist", days[0]), tickers=SOME)
    )
    assert first.pending_objects == 6 and first.manifest_shards_written == 1
    assert {k.split("/")[2] for k in storage.list_keys("refined/quotes/")} == {
        f"dt={d}" for d in days
    }
    before = H.object_bytes(storage, "")
    for day in days[1:]:  # the other events of the burst, and a duplicate of the first
        report = main(
            H.argv(tmp_path / "burst", raw_key=layout.raw_key("cotahist", day), tickers=SOME)
        )
        assert report.pending_objects == 0 and report.partitions_written == {}
        assert report.manifest_shards_written == 0 and report.objects_deleted == 0
    assert H.object_bytes(storage, "") == before  # not one object written, manifest included
    # The same bytes as one full rebuild of the same sessions.
    full = H.sample_lake(tmp_path / "full", days=days)
    main(H.argv(tmp_path / "full", mode="full", tickers=SOME))
    assert H.object_bytes(storage, "refined/") == H.object_bytes(full, "refined/")
    shard = json.loads(storage.get_bytes(f"{raw_manifest.MANIFEST_PREFIX}cotahist/2021.json"))
    entry = shard["objects"][layout.raw_key("cotahist", days[0])]
    assert entry["run"] == "jr_test"  # the build (Glue's --JOB_RUN_ID) that consumed it
    assert entry["etag"] == storage.list_etags("raw/cotahist/")[layout.raw_key("cotahist", days[0])]


def test_a_replaced_or_removed_raw_object_is_pending_again(tmp_path: Path) -> None:
    days = SESSIONS[-4:]
    storage = H.sample_lake(tmp_path, days=days)
    main(H.argv(tmp_path, mode="full", tickers=SOME))
    day = days[-1]
    vale = f"refined/quotes/dt={day}/ticker=VALE3/part-0.parquet"
    assert storage.exists(vale)
    table = H.sample_sessions()[day]
    key = H.write_cotahist(storage, day, table.filter(pc.not_equal(table["codneg"], "VALE3")))
    report = main(H.argv(tmp_path, raw_key=key, tickers=SOME))
    assert report.pending_objects == 1 and not storage.exists(vale)
    assert report.partitions_written["refined_monthly"] == 1
    # The raw session removed altogether: its refined partitions go, the month is rebuilt.
    storage.delete_keys([key])
    report = main(H.argv(tmp_path, dt=days[0].isoformat(), tickers=SOME))
    assert report.pending_objects == 1
    assert not [k for k in storage.list_keys("refined/quotes/") if f"dt={day}/" in k]
    assert key not in raw_manifest.load(storage, ["cotahist"])


@dataclass
class _Context:
    """The context the local backend hands the trigger (its config and launcher)."""

    b3lake_config: TriggerConfig
    b3lake_launcher: Any
    function_name: str = "b3lake-trigger"
    aws_request_id: str = "local"


def _event_path(lake: Path, job_main: Any = None) -> tuple[LocalStorage, LocalLauncher, RawWriter]:
    storage = LocalStorage(lake)
    launcher = LocalLauncher(storage, job_main=job_main, default_arguments={"--tickers": SOME})
    # The trigger sends the universe with every run (RefineArgs): the same tickers as the job's.
    config = TriggerConfig(
        lake=str(lake), job_name="b3lake-refine", universe=Universe.of(tickers=SOME.split(","))
    )
    bus = LocalEventBus(
        str(lake),
        lambda event: trigger.handler(event, _Context(config, launcher)),
        etag=lambda key: storage.list_etags(key).get(key),
        batch=launcher.batch,
    )
    return storage, launcher, RawWriter(storage, notify=bus.notify)


def _worked(launcher: LocalLauncher) -> list[Any]:
    runs = launcher.list_runs("b3lake-refine")
    assert all(r.state == "SUCCEEDED" for r in runs), [r.error for r in runs]
    return [r for r in runs if r.summary.get("partitions_written")]


def test_an_object_that_lands_while_a_run_executes_is_refined_by_a_later_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the new object's event arrives after the running run listed the raw layer."""
    days = SESSIONS[:5]
    storage, launcher, writer = _event_path(tmp_path / "lake")
    for day in days[:-1]:
        writer.write("cotahist", day, H.sample_sessions()[day])
    late = days[-1]
    real_plan = quote_step.plan_changes
    landed: list[str] = []

    def plan_then_land(*args: Any, **kwargs: Any) -> Any:
        plan = real_plan(*args, **kwargs)
        if not landed:  # once, inside the next run, after it has listed raw/
            landed.append(writer.write("cotahist", late, H.sample_sessions()[late]).key)
        return plan

    monkeypatch.setattr(quote_step, "plan_changes", plan_then_land)
    # A correction of the first session starts a run; the late session lands during it.
    table = H.sample_sessions()[days[0]]
    writer.write("cotahist", days[0], table.filter(pc.not_equal(table["codneg"], "MGLU3")))
    runs = launcher.list_runs("b3lake-refine")
    racing, after = runs[-2], runs[-1]
    assert racing.arguments["--dt"] == days[0].isoformat()
    assert f"dt={late}" not in json.dumps(racing.summary)
    assert racing.summary["pending_objects"] == 1
    assert after.arguments["--raw_key"] == landed[0] and after.summary["pending_objects"] == 1
    assert after.summary["partitions_written"]["refined_quotes"] > 0
    assert [k for k in storage.list_keys("refined/quotes/") if f"dt={late}/" in k]
    monkeypatch.setattr(quote_step, "plan_changes", real_plan)
    # Nothing is left pending, and the lake equals one full rebuild of the same raw data.
    full = LocalStorage(tmp_path / "full")
    for key in storage.list_keys("raw/"):
        full.put_bytes(key, storage.get_bytes(key))
    main(H.argv(tmp_path / "full", mode="full", tickers=SOME))
    # Byte for byte: no stored value depends on which run refined it.
    assert H.object_bytes(storage, "refined/") == H.object_bytes(full, "refined/")
    assert H.object_bytes(storage, "quarantine/") == H.object_bytes(full, "quarantine/")


def test_duplicate_deliveries_start_no_duplicate_work(tmp_path: Path) -> None:
    storage, launcher, writer = _event_path(tmp_path)
    day = SESSIONS[0]
    write = writer.write("cotahist", day, H.sample_sessions()[day])
    bus = writer.notify.__self__  # type: ignore[union-attr]
    for _ in range(100):
        bus.notify(write.key, write.size)  # S3 delivers at least once
    assert len(launcher.list_runs("b3lake-refine")) == 1
    assert sum(len(r["coalesced"]) for r in bus.results[1:]) == 100
    assert all(c["into"] == "consumed" for r in bus.results[1:] for c in r["coalesced"])


def test_a_local_burst_starts_one_run_that_refines_every_session(tmp_path: Path) -> None:
    storage, launcher, writer = _event_path(tmp_path)
    bus = writer.notify.__self__  # type: ignore[union-attr]
    with bus.batch():  # what Pipeline does around one extract
        for day in SESSIONS:
            writer.write("cotahist", day, H.sample_sessions()[day])
    assert len(bus.results) == len(SESSIONS)  # every object fired its event into the handler
    runs = launcher.list_runs("b3lake-refine")
    assert len(runs) == 1 and len(_worked(launcher)) == 1
    assert runs[0].summary["pending_objects"] == len(SESSIONS)
    assert sum(len(r["coalesced"]) for r in bus.results) == len(SESSIONS) - 1


def test_a_lake_copied_without_its_timestamps_has_nothing_pending(tmp_path: Path) -> None:
    """Fingerprints are the content's (the MD5 of the bytes, as S3's ETag): a copy of the lake
    whose files all have new modification times refines nothing and writes nothing."""
    import os
    import shutil

    H.sample_lake(tmp_path / "lake", days=SESSIONS[:3])
    main(H.argv(tmp_path / "lake", mode="full", tickers=SOME))
    shutil.copytree(tmp_path / "lake", tmp_path / "copy", copy_function=shutil.copyfile)
    for root, _, files in os.walk(tmp_path / "copy"):
        for name in files:  # every file a day newer, as a copy without timestamps leaves it
            path = os.path.join(root, name)
            os.utime(
                path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 86_400 * 10**9)
            )
    copy = LocalStorage(tmp_path / "copy")
    before = H.object_bytes(copy, "refined/")
    report = main(H.argv(tmp_path / "copy", raw_key=layout.raw_key("cotahist", SESSIONS[2])))
    assert report.pending_objects == 0 and report.partitions_written == {}
    assert H.object_bytes(copy, "refined/") == before
