"""Assemble the figures into one self-contained HTML page (plotly.js inlined once, no CDN).

The page must open offline, from a mail attachment or an S3 download, so nothing is fetched:
the figures are ``<div>``s drawn by one inline copy of plotly.js.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from b3lake.report import charts
from b3lake.report.queries import Fetched, ReportData

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOT_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}

CSS = """
:root { --ink:#1d2330; --muted:#5b6473; --line:#e3e7ee; --bg:#f5f7fa; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 Inter, "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
header { background:#14213d; color:#fff; padding:28px 40px 22px; }
header h1 { margin:0 0 6px; font-size:30px; letter-spacing:.2px; }
header p { margin:0; color:#cdd6e6; }
nav { margin-top:14px; display:flex; gap:18px; flex-wrap:wrap; }
nav a { color:#fff; text-decoration:none; border-bottom:1px solid #6b7fa8; font-size:14px; }
main { max-width:1320px; margin:0 auto; padding:24px 32px 60px; }
section.panel { background:#fff; border:1px solid var(--line); border-radius:10px;
  padding:20px 24px 12px; margin:0 0 24px; box-shadow:0 1px 2px rgba(20,33,61,.05); }
section.panel > h2 { margin:0 0 4px; font-size:22px; }
section.panel > p.lead { margin:0 0 14px; color:var(--muted); }
.figure { margin:8px 0 18px; }
.grid { display:grid; grid-template-columns:1fr 1fr; gap:16px; }
.grid .figure { min-width:0; }
.no-data { background:#fff7e6; border:1px solid #f3d19c; color:#7a4b00; padding:10px 14px;
  border-radius:6px; margin:8px 0 16px; }
.no-data code { font-size:12px; color:#7a4b00; }
.facts { display:grid; grid-template-columns:repeat(auto-fit,minmax(190px,1fr)); gap:12px; margin:6px 0 18px; }
.fact { border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
.fact .k { color:var(--muted); font-size:13px; }
.fact .v { font-size:22px; font-weight:600; }
.fact.bad .v { color:#c0392b; } .fact.good .v { color:#1e8449; }
table.data { border-collapse:collapse; margin:6px 0 16px; font-size:14px; }
table.data th, table.data td { border-bottom:1px solid var(--line); padding:6px 12px; text-align:left; }
table.data th { color:var(--muted); font-weight:600; }
footer { color:var(--muted); font-size:13px; text-align:center; padding:0 0 30px; }
@media (max-width: 1000px) { .grid { grid-template-columns:1fr; } }
"""


@dataclass
class Panel:
    """One section of the page: a heading, a lead sentence and figures or "no data" notes."""

    key: str
    title: str
    lead: str = ""
    parts: list[str] = field(default_factory=list)
    figures: int = 0

    def add_figure(self, fig: go.Figure, *, grid: bool = False) -> None:
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            config=PLOT_CONFIG,
            default_width="100%",
            default_height=f"{fig.layout.height or 420}px",
        )
        self.parts.append(f'<div class="figure">{div}</div>')
        self.figures += 1

    def add_html(self, fragment: str) -> None:
        self.parts.append(fragment)

    def no_data(self, what: str, reason: str | None) -> None:
        why = f" <code>{html.escape(reason)}</code>" if reason else ""
        self.parts.append(f'<p class="no-data"><b>No data</b>: {html.escape(what)}.{why}</p>')

    def render(self) -> str:
        lead = f'<p class="lead">{self.lead}</p>' if self.lead else ""
        body = "\n".join(self.parts)
        return (
            f'<section class="panel" id="{self.key}" data-panel="{self.key}">'
            f"<h2>{html.escape(self.title)}</h2>{lead}\n{body}</section>"
        )


def _grid(panel: Panel, figs: list[go.Figure]) -> None:
    """Two figures side by side (they stack on narrow screens)."""
    start = len(panel.parts)
    for fig in figs:
        panel.add_figure(fig)
    inner = "\n".join(panel.parts[start:])
    panel.parts[start:] = [f'<div class="grid">{inner}</div>']


def _reason(f: Fetched) -> str | None:
    return f.reason if f.reason else None


def prices_panel(data: ReportData) -> Panel:
    p = Panel(
        "prices",
        "Prices and moving averages",
        "Daily close with the refine job's 5-, 7- and 21-session moving averages; volume bars "
        "are green on up days (close ≥ open) and red on down days. Weekends and B3 holidays are "
        "hidden, so a gap is a session with no quote.",
    )
    if not data.quotes.ok or data.quotes.table is None:
        p.no_data("refined_quotes", _reason(data.quotes))
        return p
    have = set(data.quotes.table.column("ticker").to_pylist())
    figs = [charts.price_figure(data.quotes.table, t) for t in data.tickers if t in have]
    for ticker in data.tickers:
        if ticker not in have:
            p.no_data(f"refined_quotes for {ticker}", "no quotes in the range")
    _grid(p, figs)
    return p


def monthly_panel(data: ReportData) -> Panel:
    p = Panel(
        "monthly",
        "Monthly",
        "From refined_monthly: each month's return and traded value for the charted tickers.",
    )
    if not data.monthly.ok or data.monthly.table is None:
        p.no_data("refined_monthly", _reason(data.monthly))
        return p
    t = data.monthly.table
    _grid(p, [charts.monthly_return_figure(t), charts.monthly_traded_value_figure(t)])
    return p


def portfolio_panel(data: ReportData) -> Panel:
    p = Panel(
        "portfolio",
        "IBOV portfolio",
        "The latest theoretical portfolio in refined_ibov_portfolio"
        + (f" on or before {data.end}" if data.end else "")
        + ": weight by sector and the largest constituents.",
    )
    if not data.portfolio.ok or data.portfolio.table is None:
        p.no_data("refined_ibov_portfolio", _reason(data.portfolio))
        return p
    t = data.portfolio.table
    _grid(p, [charts.sector_weights_figure(t), charts.top_constituents_figure(t)])
    return p


def _fact(key: str, value: str, tone: str = "") -> str:
    return (
        f'<div class="fact {tone}"><div class="k">{html.escape(key)}</div>'
        f'<div class="v">{html.escape(value)}</div></div>'
    )


def _fmt_days(days: list[dt.date], limit: int = 30) -> str:
    shown = ", ".join(d.isoformat() for d in days[:limit])
    return shown + (f" … and {len(days) - limit} more" if len(days) > limit else "")


def quality_panel(data: ReportData) -> Panel:
    p = Panel(
        "quality",
        "Data quality",
        "Sessions in the lake against the B3 calendar, and the rows the refine job "
        "quarantined, by rule.",
    )
    facts = []
    if data.session_dates:
        facts.append(_fact("Sessions with data", f"{len(data.session_dates):,}"))
        facts.append(_fact("First session", data.session_dates[0].isoformat()))
        facts.append(_fact("Last session", data.session_dates[-1].isoformat()))
    if data.missing_sessions is not None:
        n = len(data.missing_sessions)
        facts.append(_fact("Missing B3 sessions", f"{n:,}", "bad" if n else "good"))
    total_q = 0
    for f in data.quarantine.values():
        if f.ok and f.table is not None:
            total_q += sum(int(v) for v in f.table.column("n_rows").to_pylist())
    if any(f.table is not None for f in data.quarantine.values()):
        facts.append(_fact("Quarantined rows", f"{total_q:,}", "bad" if total_q else "good"))
    if facts:
        p.add_html(f'<div class="facts">{"".join(facts)}</div>')

    if data.missing_sessions:
        p.add_html(
            "<p><b>Missing sessions</b> (B3 trading days with no refined quote): "
            f"{html.escape(_fmt_days(data.missing_sessions))}</p>"
        )
    elif data.missing_sessions is not None:
        p.add_html("<p><b>Missing sessions</b>: none, every B3 session in the range has data.</p>")
    if data.calendar_note:
        p.add_html(f"<p><b>Calendar check</b>: {html.escape(data.calendar_note)}</p>")

    figs = []
    if not data.sessions.ok or data.sessions.table is None:
        p.no_data("sessions covered (refined_quotes)", _reason(data.sessions))
    else:
        figs.append(charts.coverage_figure(data.sessions.table, data.missing_sessions))
    rows = []
    tables: dict[str, Any] = {}
    for name, f in data.quarantine.items():
        if f.table is None:
            p.no_data(name, f.reason)
            rows.append(f"<tr><td>{name}</td><td colspan=3>no data</td></tr>")
            continue
        tables[name] = f.table
        if f.table.num_rows == 0:
            rows.append(f"<tr><td>{name}</td><td colspan=3>no quarantined rows</td></tr>")
        for r in f.table.to_pylist():
            rows.append(
                f"<tr><td>{name}</td><td>{html.escape(str(r['rule']))}</td>"
                f"<td>{int(r['n_rows']):,}</td><td>{r['first_dt']} … {r['last_dt']}</td></tr>"
            )
    fig = charts.quarantine_figure(tables)
    if fig is not None:
        figs.append(fig)
    _grid(p, figs)
    p.add_html(
        '<h3>Quarantined rows by rule</h3><table class="data" data-table="quarantine">'
        "<tr><th>table</th><th>rule</th><th>rows</th><th>sessions</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return p


def adjusted_panel(data: ReportData) -> Panel:
    """Adjusted and unadjusted closes (and total return) of the tickers with B3 events."""
    p = Panel(
        "adjusted",
        "Adjusted prices (B3 corporate actions)",
        "From adjusted_quotes: closes as traded and backward-adjusted by B3's own corporate "
        "actions (cash per share, splits, bonus shares, reverse splits), for the tickers with "
        "the most events in the range. The latest close is unchanged; total return counts the "
        "cash distributions, price return does not.",
    )
    f = data.adjusted
    if f is None or not f.ok or f.table is None:
        p.no_data("adjusted_quotes", f.reason if f is not None else "not loaded")
        return p
    table = f.table
    tickers = sorted(set(table.column("ticker").to_pylist()))
    rows = []
    for r in charts.returns(table).to_dict("records"):
        rows.append(
            f"<tr><td>{html.escape(str(r['ticker']))}</td><td>{r['first']} … {r['last']}</td>"
            f"<td>{r['price_return']:+.2%}</td><td>{r['total_return']:+.2%}</td></tr>"
        )
    p.add_html(
        '<table class="data" data-table="returns">'
        "<tr><th>ticker</th><th>sessions</th><th>price return</th><th>total return</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    _grid(p, [charts.adjusted_figure(table, t) for t in tickers])
    ff = data.factors
    if ff is not None and ff.ok and ff.table is not None:
        events = [
            f"<tr><td>{html.escape(str(r['ticker']))}</td><td>{r['ex_date']}</td>"
            f"<td>{'' if r['cash'] is None else format(r['cash'], '.6g')}</td>"
            f"<td>{r['share_factor']:.6g}</td><td>{r['factor']:.6f}</td></tr>"
            for r in ff.table.slice(0, 100).to_pylist()
        ]
        p.add_html(
            '<h3>Events applied</h3><table class="data" data-table="factors">'
            "<tr><th>ticker</th><th>ex-date</th><th>cash per share</th><th>share factor</th>"
            "<th>price factor</th></tr>" + "".join(events) + "</table>"
        )
    return p


def jumps_html(data: ReportData) -> str:
    """The data-quality panel's list of jumps no event explains, and B3 cross-check findings."""
    parts = []
    f = data.jumps
    if f is not None and f.table is not None:
        n = f.table.num_rows
        parts.append(
            '<div class="facts">'
            + _fact(
                "Unexplained jumps", f"{n:,}" + ("+" if n >= 200 else ""), "bad" if n else "good"
            )
            + "</div>"
        )
        rows = [
            f"<tr><td>{r['dt']}</td><td>{html.escape(str(r['ticker']))}</td>"
            f"<td>{r['prev_close']:.4g}</td><td>{r['close']:.4g}</td><td>{r['ratio']:.3f}</td>"
            f"<td>{r['adj_ratio']:.3f}</td><td>{int(r['events_on_date'])}</td></tr>"
            for r in f.table.slice(0, 50).to_pylist()
        ]
        parts.append(
            "<h3>Jumps nobody explained</h3><p>Close-to-close moves of the adjusted series "
            "beyond ×1.8 or ×0.55 (quality_unexplained_jumps): a raw jump with no B3 event "
            "behind it, or an event the prices do not show. Adjusted data around them cannot "
            "be trusted.</p>"
            '<table class="data" data-table="jumps"><tr><th>session</th><th>ticker</th>'
            "<th>previous close</th><th>close</th><th>ratio</th><th>adjusted ratio</th>"
            "<th>B3 events that day</th></tr>"
            + ("".join(rows) or "<tr><td colspan=7>none</td></tr>")
            + "</table>"
        )
    elif f is not None:
        parts.append(f"<p><b>Unexplained jumps</b>: no data ({html.escape(str(f.reason))}).</p>")
    c = data.ca_findings
    if c is not None and c.table is not None and c.table.num_rows:
        found = ", ".join(f"{r['rule']}: {int(r['n_rows'])}" for r in c.table.to_pylist())
        parts.append(
            "<p><b>Corporate actions against B3's own numbers</b> (quality_corporate_actions): "
            f"{html.escape(found)}</p>"
        )
    return "".join(parts)


def _rows(f: Fetched | None) -> list[dict[str, Any]]:
    return f.table.to_pylist() if f is not None and f.table is not None else []


def indices_panel(data: ReportData) -> Panel:
    """Index closes (index statistics), their checks against B3's calendar and the index report."""
    p = Panel(
        "indices",
        "Index closes",
        "From index_history: the daily close of each index from B3's index statistics "
        "(refined_index_levels), rebased to 100 at its first session in the range. Rows that are "
        "not a session's close (quality_index_levels) and sessions where B3's index report "
        "(BVBG.087) disagrees with the statistics (quality_index_closes) are listed below.",
    )
    f = data.index_history
    if f is None or not f.ok or f.table is None:
        p.no_data("index_history", f.reason if f is not None else "not loaded")
    else:
        p.add_figure(charts.index_levels_figure(f.table))
        last: dict[str, dict[str, Any]] = {}
        for r in f.table.to_pylist():
            last[r["index"]] = r
        p.add_html(
            '<table class="data" data-table="indices"><tr><th>index</th><th>last session</th>'
            "<th>close</th><th>change</th><th>index report</th></tr>"
            + "".join(
                f"<tr><td>{html.escape(str(i))}</td><td>{r['dt']}</td><td>{r['close']:,.2f}</td>"
                f"<td>{'' if r['pct_change'] is None else format(r['pct_change'], '+.2%')}</td>"
                f"<td>{'' if r['report_close'] is None else format(r['report_close'], ',.2f')}</td>"
                "</tr>"
                for i, r in sorted(last.items())
            )
            + "</table>"
        )
    found = _rows(data.index_quality)
    mismatches = _rows(data.index_closes)
    facts = [
        _fact(
            "Index rows off the calendar",
            f"{sum(int(r['n_rows']) for r in found):,}",
            "bad" if found else "good",
        ),
        _fact(
            "Report vs statistics",
            f"{len(mismatches):,} mismatch(es)",
            "bad" if mismatches else "good",
        ),
    ]
    p.add_html('<div class="facts">' + "".join(facts) + "</div>")
    if found:
        p.add_html(
            '<table class="data" data-table="index-quality"><tr><th>rule</th><th>rows</th>'
            "<th>sessions</th></tr>"
            + "".join(
                f"<tr><td>{html.escape(str(r['rule']))}</td><td>{int(r['n_rows']):,}</td>"
                f"<td>{r['first_dt']} … {r['last_dt']}</td></tr>"
                for r in found
            )
            + "</table>"
        )
    if mismatches:
        p.add_html(
            '<table class="data" data-table="index-closes"><tr><th>session</th><th>index</th>'
            "<th>index report</th><th>statistics</th><th>difference</th></tr>"
            + "".join(
                f"<tr><td>{r['dt']}</td><td>{html.escape(str(r['index']))}</td>"
                f"<td>{r['report_close']:,.2f}</td><td>{r['levels_close']:,.2f}</td>"
                f"<td>{r['difference']:+.2f}</td></tr>"
                for r in mismatches
            )
            + "</table>"
        )
    return p


def curve_panel(data: ReportData) -> Panel:
    """The DI x pré curve of the last session in the range (and of the first)."""
    p = Panel(
        "curve",
        "Yield curve: DI x pré",
        "From di_pre_curve (B3's TaxaSwap file, curve PRE): the rate of each vertex in % a year "
        "on 252 business days, for the last session in the range and, dotted, the first.",
    )
    f = data.curve
    if f is None or not f.ok or f.table is None:
        p.no_data("di_pre_curve", f.reason if f is not None else "not loaded")
        return p
    p.add_figure(charts.curve_figure(f.table))
    rows = f.table.to_pylist()
    last = max(r["dt"] for r in rows)
    vertices = [r for r in rows if r["dt"] == last]
    picks = []
    for years in (0, 1, 2, 5, 10):
        best = min(vertices, key=lambda r: abs(r["business_days"] - 252 * years))
        if best not in picks:
            picks.append(best)
    p.add_html(
        f'<table class="data" data-table="curve"><tr><th colspan=4>{last}</th></tr>'
        "<tr><th>business days</th><th>calendar days</th><th>rate (% a year)</th>"
        "<th>discount factor</th></tr>"
        + "".join(
            f"<tr><td>{r['business_days']}</td><td>{r['calendar_days']}</td>"
            f"<td>{r['rate']:.4f}</td><td>{r['discount_factor']:.6f}</td></tr>"
            for r in picks
        )
        + "</table>"
    )
    return p


def options_panel(data: ReportData) -> Panel:
    """The last session's options per underlying (refined_options, from COTAHIST)."""
    p = Panel(
        "options",
        "Options",
        "From refined_options (COTAHIST markets 070 and 080): traded value of calls and puts per "
        "underlying on the last session, the most traded underlyings.",
    )
    f = data.options
    if f is None or not f.ok or f.table is None:
        p.no_data("refined_options", f.reason if f is not None else "not loaded")
        return p
    p.add_figure(charts.options_figure(f.table))
    p.add_html(
        '<table class="data" data-table="options"><tr><th>underlying</th><th>series</th>'
        "<th>trades</th><th>calls (R$)</th><th>puts (R$)</th></tr>"
        + "".join(
            f"<tr><td>{html.escape(str(r['underlying']))}</td><td>{int(r['series']):,}</td>"
            f"<td>{int(r['trades'] or 0):,}</td><td>{r['call_value']:,.0f}</td>"
            f"<td>{r['put_value']:,.0f}</td></tr>"
            for r in f.table.to_pylist()
        )
        + "</table>"
    )
    return p


def panels(data: ReportData) -> list[Panel]:
    """Every panel of the report, in page order."""
    quality = quality_panel(data)
    extra = jumps_html(data)
    if extra:
        quality.add_html(extra)
    return [
        prices_panel(data),
        adjusted_panel(data),
        monthly_panel(data),
        portfolio_panel(data),
        indices_panel(data),
        curve_panel(data),
        options_panel(data),
        quality,
    ]


def plotly_js() -> str:
    """plotly.js as shipped with the plotly package, safe inside an inline ``<script>``."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")


def render(data: ReportData, *, source: str, generated: dt.datetime | None = None) -> str:
    """The whole page as one string."""
    generated = generated or dt.datetime.now(dt.UTC)
    sections = panels(data)
    first, last = data.first_session, data.last_session
    span = f"{data.start or first or '…'} to {data.end or last or '…'}"
    tickers = ", ".join(data.tickers) if data.tickers else "none"
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    notes = "".join(f'<p class="no-data">{html.escape(n)}</p>' for n in data.notes)
    body = "\n".join(s.render() for s in sections)
    n_figs = sum(s.figures for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="b3lake-figures" content="{n_figs}">
<title>b3lake market report · {html.escape(span)}</title>
<style>{CSS}</style>
<script type="text/javascript">{plotly_js()}</script>
</head>
<body>
<header>
<h1>b3lake market report</h1>
<p>Refined B3 data from {html.escape(source)} · {html.escape(span)} · tickers: {html.escape(tickers)}</p>
<nav>{nav}</nav>
</header>
<main>
{notes}
{body}
</main>
<footer>Generated {generated:%Y-%m-%d %H:%M} UTC by b3lake · self-contained: opens offline</footer>
</body>
</html>
"""
