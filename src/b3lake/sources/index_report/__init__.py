"""Source ``index_report``: B3's index report of each session (BVBG.087: open, low, high, close).

Declaration only (light to import): :mod:`.parse` reads the ISO 20022 XML (strict, errors name
the XML line and the field's path), :mod:`.client` downloads ``IR<yymmdd>.zip``.

Raw layout: ``raw/index_report/dt=<session>/part-0.parquet`` (a few dozen indices a session);
``refined_index_report`` by ``dt`` (``tables/index_report.py``), cross-checked against the index
statistics' closes by the ``quality_index_closes`` view.
"""

from __future__ import annotations

from b3lake.sources.archive import SessionFileSource


class IndexReportSource(SessionFileSource):
    name = "index_report"
    raw = "index_report"
    summary = "Land B3's index report (BVBG.087: open, low, high, close) in raw/index_report/."
    example = "b3lake extract index-report --file IR210423.zip"
    file_help = "B3's IR<yymmdd>.zip download or the BVBG.087 XML it holds."
    package = "b3lake.sources.index_report"
    parser = "parse_index_report"
    fetcher = "fetch_index_report"


SOURCE = IndexReportSource()
