from __future__ import annotations

import json
from pathlib import Path

import pytest

from b3lake.catalog import Column
from b3lake.catalog.local import LocalCatalog
from b3lake.errors import CatalogError
from b3lake.storage.local import LocalStorage

ROOT = "_b3lake/catalog/default/"
QUOTES = ROOT + "refined_quotes/"
KEYS = [Column("dt", "date"), Column("ticker", "string")]


class CountingStorage(LocalStorage):
    """A local lake that records every write and delete."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.puts: list[str] = []
        self.deletes: list[str] = []

    def put_bytes(self, key: str, data: bytes) -> None:
        self.puts.append(key)
        super().put_bytes(key, data)

    def delete_keys(self, keys: list[str]) -> None:
        self.deletes.extend(keys)
        super().delete_keys(keys)

    def reset(self) -> None:
        self.puts.clear()
        self.deletes.clear()


def _quotes(cat: LocalCatalog) -> None:
    cat.upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=[Column("close", "double")],
        partition_keys=KEYS,
    )


def _parts(days: list[str], tickers: list[str]) -> list[dict[str, str]]:
    return [{"dt": d, "ticker": t} for d in days for t in tickers]


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_tables_and_partitions(tmp_path: Path) -> None:
    cat = LocalCatalog(LocalStorage(tmp_path))
    _quotes(cat)
    cat.add_partitions("refined_quotes", [{"dt": "2021-01-04", "ticker": "PETR4"}])
    cat.add_partitions(
        "refined_quotes",
        [{"dt": "2021-01-04", "ticker": "PETR4"}, {"dt": "2021-01-05", "ticker": "PETR4"}],
    )
    info = LocalCatalog(LocalStorage(tmp_path)).get_table("refined_quotes")
    assert len(info.partitions) == 2  # no duplicates on re-registration
    cat.drop_partitions("refined_quotes", [{"dt": "2021-01-04", "ticker": "PETR4"}])
    assert cat.get_table("refined_quotes").partitions == [{"dt": "2021-01-05", "ticker": "PETR4"}]
    assert [t.name for t in cat.list_tables()] == ["refined_quotes"]


def test_unknown_table_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="unknown table"):
        LocalCatalog(LocalStorage(tmp_path)).get_table("nope")


def test_unknown_table_error_names_it_and_lists_the_known_ones(tmp_path: Path) -> None:
    cat = LocalCatalog(LocalStorage(tmp_path))
    _quotes(cat)
    cat.upsert_table("refined_monthly", location="refined/monthly/", columns=[], partition_keys=[])
    for call in (
        lambda: cat.get_table("nope"),
        lambda: cat.add_partitions("nope", [{"dt": "2021-01-04"}]),
        lambda: cat.drop_partitions("nope", []),
    ):
        with pytest.raises(CatalogError) as err:
            call()
        assert err.value.source == "nope"
        assert "known: refined_monthly, refined_quotes" in str(err.value)
    with pytest.raises(CatalogError, match="none yet"):
        LocalCatalog(LocalStorage(tmp_path), "other").get_table("refined_quotes")


def test_layout_table_json_and_one_shard_per_first_key_value(tmp_path: Path) -> None:
    cat = LocalCatalog(LocalStorage(tmp_path))
    _quotes(cat)
    cat.add_partitions("refined_quotes", _parts(["2021-01-05", "2021-01-04"], ["VALE3", "PETR4"]))
    assert sorted(_files(tmp_path)) == [
        QUOTES + "partitions/dt=2021-01-04.json",
        QUOTES + "partitions/dt=2021-01-05.json",
        QUOTES + "table.json",
    ]
    table = json.loads((tmp_path / QUOTES / "table.json").read_text())
    assert table == {
        "name": "refined_quotes",
        "database": "default",
        "location": "refined/quotes/",
        "columns": [{"name": "close", "type": "double"}],
        "partition_keys": [{"name": "dt", "type": "date"}, {"name": "ticker", "type": "string"}],
    }
    shard = tmp_path / QUOTES / "partitions" / "dt=2021-01-04.json"
    assert json.loads(shard.read_text()) == _parts(["2021-01-04"], ["PETR4", "VALE3"])
    assert shard.read_text() == (
        '[\n{"dt": "2021-01-04", "ticker": "PETR4"},\n{"dt": "2021-01-04", "ticker": "VALE3"}\n]\n'
    )
    assert cat.get_table("refined_quotes").partitions == _parts(
        ["2021-01-04", "2021-01-05"], ["PETR4", "VALE3"]
    )


def test_odd_values_and_unkeyed_tables_get_safe_file_names(tmp_path: Path) -> None:
    cat = LocalCatalog(LocalStorage(tmp_path))
    cat.upsert_table("m", location="m/", columns=[], partition_keys=[Column("month", "string")])
    odd = [{"month": "a/b"}, {"month": "..x"}, {"month": "ç %"}, {"month": ".tmp-1"}]
    cat.add_partitions("m", odd)
    cat.upsert_table("flat", location="flat/", columns=[], partition_keys=[])
    cat.add_partitions("flat", [{"k": "v"}])
    names = sorted(k for k in _files(tmp_path) if "/partitions/" in k)
    assert names == [
        ROOT + "flat/partitions/_.json",
        ROOT + "m/partitions/month=%2E.x.json",
        ROOT + "m/partitions/month=%2Etmp-1.json",
        ROOT + "m/partitions/month=%C3%A7%20%25.json",
        ROOT + "m/partitions/month=a%2Fb.json",
    ]
    got = LocalCatalog(LocalStorage(tmp_path)).get_table("m").partitions
    assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, odd))
    assert cat.get_table("flat").partitions == [{"k": "v"}]
    cat.drop_partitions("m", odd)
    assert cat.get_table("m").partitions == []
    cat.upsert_table("..", location="x/", columns=[], partition_keys=[])
    assert (tmp_path / ROOT / "%2E." / "table.json").is_file()
    assert [t.name for t in cat.list_tables()] == ["..", "flat", "m"]


def test_add_and_drop_touch_only_their_shards(tmp_path: Path) -> None:
    storage = CountingStorage(tmp_path)
    cat = LocalCatalog(storage)
    _quotes(cat)
    days = ["2021-01-04", "2021-01-05", "2021-01-06"]
    cat.add_partitions("refined_quotes", _parts(days, ["PETR4", "VALE3"]))
    storage.reset()
    cat.add_partitions("refined_quotes", _parts(["2021-01-06", "2021-01-07"], ["ITUB4"]))
    assert storage.puts == [
        QUOTES + "partitions/dt=2021-01-06.json",
        QUOTES + "partitions/dt=2021-01-07.json",
    ]
    storage.reset()
    cat.drop_partitions("refined_quotes", [{"dt": "2021-01-05", "ticker": "VALE3"}])
    assert storage.puts == [QUOTES + "partitions/dt=2021-01-05.json"]
    assert storage.deletes == []
    assert len(cat.get_table("refined_quotes").partitions) == 7


def test_rerun_writes_nothing(tmp_path: Path) -> None:
    storage = CountingStorage(tmp_path)
    cat = LocalCatalog(storage)
    _quotes(cat)
    parts = _parts(["2021-01-04", "2021-01-05"], ["PETR4", "VALE3"])
    cat.add_partitions("refined_quotes", parts)
    before = _files(tmp_path)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.json")}
    storage.reset()
    again = LocalCatalog(storage)
    _quotes(again)
    again.add_partitions("refined_quotes", list(reversed(parts[:3])))
    again.drop_partitions("refined_quotes", [{"dt": "2021-01-08", "ticker": "PETR4"}])
    again.drop_partitions("refined_quotes", [{"dt": "2021-01-04", "ticker": "ITUB4"}])
    assert storage.puts == [] and storage.deletes == []
    assert _files(tmp_path) == before
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.json")} == mtimes


def test_upsert_rewrites_only_a_changed_definition_and_keeps_partitions(tmp_path: Path) -> None:
    storage = CountingStorage(tmp_path)
    cat = LocalCatalog(storage)
    _quotes(cat)
    cat.add_partitions("refined_quotes", _parts(["2021-01-04"], ["PETR4"]))
    storage.reset()
    cat.upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=[Column("close", "double"), Column("open", "double")],
        partition_keys=KEYS,
    )
    assert storage.puts == [QUOTES + "table.json"]
    info = cat.get_table("refined_quotes")
    assert [c.name for c in info.columns] == ["close", "open"]
    assert info.partitions == _parts(["2021-01-04"], ["PETR4"])


def test_a_new_first_partition_key_reshards(tmp_path: Path) -> None:
    cat = LocalCatalog(LocalStorage(tmp_path))
    _quotes(cat)
    parts = _parts(["2021-01-04", "2021-01-05"], ["PETR4", "VALE3"])
    cat.add_partitions("refined_quotes", parts)
    cat.upsert_table(
        "refined_quotes",
        location="refined/quotes/",
        columns=[],
        partition_keys=[Column("ticker", "string"), Column("dt", "date")],
    )
    assert sorted(k for k in _files(tmp_path) if "/partitions/" in k) == [
        QUOTES + "partitions/ticker=PETR4.json",
        QUOTES + "partitions/ticker=VALE3.json",
    ]
    assert cat.get_table("refined_quotes").partitions == parts
    cat.drop_partitions("refined_quotes", _parts(["2021-01-04", "2021-01-05"], ["VALE3"]))
    assert cat.get_table("refined_quotes").partitions == _parts(
        ["2021-01-04", "2021-01-05"], ["PETR4"]
    )


def test_dropping_every_partition_of_a_shard_deletes_it(tmp_path: Path) -> None:
    storage = CountingStorage(tmp_path)
    cat = LocalCatalog(storage)
    _quotes(cat)
    cat.add_partitions("refined_quotes", _parts(["2021-01-04", "2021-01-05"], ["PETR4", "VALE3"]))
    storage.reset()
    cat.drop_partitions("refined_quotes", _parts(["2021-01-04"], ["PETR4", "VALE3"]))
    assert storage.deletes == [QUOTES + "partitions/dt=2021-01-04.json"]
    assert storage.puts == []
    assert not (tmp_path / QUOTES / "partitions" / "dt=2021-01-04.json").exists()
    assert cat.get_table("refined_quotes").partitions == _parts(["2021-01-05"], ["PETR4", "VALE3"])


def _legacy_lake(tmp_path: Path) -> dict[str, object]:
    """The single document an earlier version kept (``_b3lake/catalog/default.json``)."""
    doc = {
        "database": "default",
        "tables": {
            "refined_quotes": {
                "name": "refined_quotes",
                "database": "default",
                "location": "refined/quotes/",
                "columns": [{"name": "close", "type": "double"}],
                "partition_keys": [
                    {"name": "dt", "type": "date"},
                    {"name": "ticker", "type": "string"},
                ],
                "partitions": _parts(["2021-01-04", "2021-01-05"], ["PETR4", "VALE3"]),
            },
            "raw_cotahist": {
                "name": "raw_cotahist",
                "database": "default",
                "location": "raw/cotahist/",
                "columns": [{"name": "ticker", "type": "string"}],
                "partition_keys": [{"name": "dt", "type": "date"}],
                "partitions": [{"dt": "2021-01-04"}],
            },
        },
    }
    legacy = tmp_path / "_b3lake" / "catalog" / "default.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps(doc, indent=1, sort_keys=True))
    return doc


def test_an_old_single_document_is_converted_once(tmp_path: Path) -> None:
    _legacy_lake(tmp_path)
    cat = LocalCatalog(LocalStorage(tmp_path))
    info = cat.get_table("refined_quotes")
    assert info.partitions == _parts(["2021-01-04", "2021-01-05"], ["PETR4", "VALE3"])
    assert [c.name for c in info.partition_keys] == ["dt", "ticker"]
    assert sorted(_files(tmp_path)) == [
        ROOT + "raw_cotahist/partitions/dt=2021-01-04.json",
        ROOT + "raw_cotahist/table.json",
        QUOTES + "partitions/dt=2021-01-04.json",
        QUOTES + "partitions/dt=2021-01-05.json",
        QUOTES + "table.json",
    ]
    assert [t.name for t in cat.list_tables()] == ["raw_cotahist", "refined_quotes"]
    # The converted lake is the lake a fresh run makes: same bytes.
    fresh = LocalCatalog(LocalStorage(tmp_path / "fresh"))
    _quotes(fresh)
    fresh.add_partitions("refined_quotes", info.partitions)
    converted = {k: v for k, v in _files(tmp_path).items() if k.startswith(QUOTES)}
    assert converted == _files(tmp_path / "fresh")


def test_an_interrupted_conversion_is_resumed(tmp_path: Path) -> None:
    _legacy_lake(tmp_path)
    # Shards of refined_quotes were written, its table.json not yet (written last).
    shard = tmp_path / QUOTES / "partitions" / "dt=2021-01-04.json"
    shard.parent.mkdir(parents=True)
    shard.write_text('[\n{"dt": "2021-01-04", "ticker": "PETR4"}\n]\n')
    cat = LocalCatalog(LocalStorage(tmp_path))
    assert len(cat.get_table("refined_quotes").partitions) == 4
    assert cat.get_table("raw_cotahist").partitions == [{"dt": "2021-01-04"}]
    assert not (tmp_path / "_b3lake" / "catalog" / "default.json").exists()


def test_writes_after_conversion_keep_the_old_partitions(tmp_path: Path) -> None:
    _legacy_lake(tmp_path)
    cat = LocalCatalog(LocalStorage(tmp_path))
    _quotes(cat)
    cat.add_partitions("refined_quotes", _parts(["2021-01-06"], ["PETR4"]))
    assert len(cat.get_table("refined_quotes").partitions) == 5


def test_bytes_are_deterministic_whatever_the_call_order(tmp_path: Path) -> None:
    parts = _parts(["2021-01-04", "2021-01-05", "2021-01-06"], ["VALE3", "PETR4", "BBAS3"])
    a = LocalCatalog(LocalStorage(tmp_path / "a"))
    _quotes(a)
    a.add_partitions("refined_quotes", parts)
    b = LocalCatalog(LocalStorage(tmp_path / "b"))
    _quotes(b)
    for p in reversed(parts):
        b.add_partitions("refined_quotes", [p])
    b.add_partitions("refined_quotes", [{"dt": "2021-01-07", "ticker": "X"}])
    b.drop_partitions("refined_quotes", [{"dt": "2021-01-07", "ticker": "X"}])
    _quotes(b)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert len(_files(tmp_path / "a")) == 4


def test_get_table_sorts_shards_not_in_the_written_form(tmp_path: Path) -> None:
    cat = LocalCatalog(LocalStorage(tmp_path))
    _quotes(cat)
    cat.add_partitions("refined_quotes", _parts(["2021-01-05"], ["PETR4"]))
    shard = tmp_path / QUOTES / "partitions" / "dt=2021-01-04.json"
    shard.write_text(json.dumps(_parts(["2021-01-04"], ["VALE3", "PETR4", "VALE3"]), indent=2))
    assert cat.get_table("refined_quotes").partitions == _parts(
        ["2021-01-04"], ["PETR4", "VALE3"]
    ) + _parts(["2021-01-05"], ["PETR4"])
