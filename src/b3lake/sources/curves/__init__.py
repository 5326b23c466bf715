"""Source ``curves``: B3's yield curves of each session, from its TaxaSwap file.

Declaration only (light to import): :mod:`.parse` reads ``TaxaSwap.txt`` (fixed width, every
curve of the session, strict) and opens B3's archive around it; :mod:`.client` downloads
``TS<yymmdd>.ex_`` from B3's "Pesquisa por pregão".

Raw layout: ``raw/taxa_swap/dt=<session>/part-0.parquet``, one object a session (a few thousand
vertices); the refine keeps ``refined_curves`` by ``dt`` (``tables/curves.py``).
"""

from __future__ import annotations

from b3lake.sources.archive import SessionFileSource


class CurvesSource(SessionFileSource):
    name = "curves"
    raw = "taxa_swap"
    summary = (
        "Land B3's yield curves (TaxaSwap: DI x pré, IPCA, cupom cambial...) in raw/taxa_swap/."
    )
    example = "b3lake extract curves --date 2026-09-11"
    file_help = "TaxaSwap.txt, or B3's TS<yymmdd>.ex_ download (zip)."
    package = "b3lake.sources.curves"
    parser = "parse_taxa_swap"
    fetcher = "fetch_taxa_swap"


SOURCE = CurvesSource()
