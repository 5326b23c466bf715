"""Plotly figures from the report queries' Arrow tables (the HTML report and notebook share them).

plotly is imported inside the functions: the trigger Lambda imports ``b3lake`` without it.
Every builder takes an Arrow table (or a pandas frame) and returns a ``plotly.graph_objects.Figure``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go
    import pyarrow as pa

# Colour-blind-safe palette (Okabe-Ito), then plotly's defaults if there are more series.
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
]
MA_STYLE = {
    "ma_5": ("MA 5", "#E69F00", "solid"),
    "ma_7": ("MA 7", "#009E73", "dash"),
    "ma_21": ("MA 21", "#CC79A7", "dot"),
}
UP, DOWN = "#2ca02c", "#d62728"
FONT = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"
PREFERRED_SOURCE = "cotahist"


def frame(data: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """A pandas frame from Arrow (charts work on pandas; queries return Arrow)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data.copy()
    return data.to_pandas()


def _layout(fig: go.Figure, *, title: str, subtitle: str | None = None, height: int = 420) -> None:
    """One look for every figure: readable type, white template, legend on top."""
    fig.update_layout(
        template="plotly_white",
        title={
            "text": title,
            "subtitle": {"text": subtitle or "", "font": {"size": 13, "color": "#555"}},
            "x": 0.01,
            "xanchor": "left",
            "font": {"size": 18},
        },
        font={"family": FONT, "size": 13, "color": "#222"},
        height=height,
        margin={"l": 70, "r": 24, "t": 84 if subtitle else 60, "b": 40},
        # Legend under the plot: titles and subtitles keep the top line to themselves.
        legend={"orientation": "h", "yanchor": "top", "y": -0.1, "xanchor": "left", "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )


def one_source(df: pd.DataFrame, keys: tuple[str, ...] = ("ticker",)) -> pd.DataFrame:
    """One source per ticker (COTAHIST first) so a ticker landed twice is not drawn twice."""
    if df.empty or "source" not in df.columns:
        return df

    def rank(source: Any) -> tuple[int, str]:
        return (0 if source == PREFERRED_SOURCE else 1, str(source))

    best = df.groupby(list(keys))["source"].agg(lambda s: min(s.unique(), key=rank))
    chosen = df.merge(best.rename("_best").reset_index(), on=list(keys))
    return chosen[chosen["source"] == chosen["_best"]].drop(columns="_best")


def non_session_days(first: dt.date, last: dt.date) -> list[dt.date] | None:
    """Days in ``first..last`` when B3 did not trade (hidden on date axes); None if unknown."""
    from b3lake.errors import B3LakeError
    from b3lake.sources.calendar import sessions

    try:
        open_days = set(sessions(first, last))
    except B3LakeError:
        return None
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return [d for d in days if d not in open_days]


def _session_axis(fig: go.Figure, dates: list[dt.date]) -> None:
    """Hide weekends and B3 holidays on a date axis (a missing *session* stays a visible gap)."""
    if not dates:
        return
    hidden = non_session_days(min(dates), max(dates))
    if hidden is None:
        breaks: list[dict[str, Any]] = [{"bounds": ["sat", "mon"]}]
    else:
        breaks = [{"values": [d.isoformat() for d in hidden]}] if hidden else []
    fig.update_xaxes(rangebreaks=breaks)


def price_figure(quotes: pa.Table | pd.DataFrame, ticker: str) -> go.Figure:
    """Close with the 5/7/21-session moving averages over volume bars, for one ticker."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    df = one_source(frame(quotes))
    df = df[df["ticker"] == ticker].sort_values("dt")
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04
    )
    if df.empty:
        _layout(fig, title=f"{ticker}", subtitle="no quotes in the range")
        return fig
    x = df["dt"]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=df["close"],
            name="Close",
            mode="lines+markers",
            line={"color": "#0072B2", "width": 2.5},
            marker={"size": 5},
            hovertemplate="R$ %{y:,.2f}",
        ),
        row=1,
        col=1,
    )
    for column, (label, color, dash) in MA_STYLE.items():
        if column in df.columns and df[column].notna().any():
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=df[column],
                    name=label,
                    mode="lines",
                    line={"color": color, "width": 1.6, "dash": dash},
                    hovertemplate="R$ %{y:,.2f}",
                ),
                row=1,
                col=1,
            )
    up = (df["close"] >= df["open"]).fillna(True)
    fig.add_trace(
        go.Bar(
            x=x,
            y=df["volume"],
            name="Volume",
            marker={"color": [UP if u else DOWN for u in up], "opacity": 0.75},
            hovertemplate="%{y:,.0f} shares",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    first, last = float(df["close"].iloc[0]), float(df["close"].iloc[-1])
    change = (last / first - 1) if first else 0.0
    name = str(df["name"].dropna().iloc[0]) if "name" in df and df["name"].notna().any() else ""
    source = str(df["source"].iloc[0]) if "source" in df else ""
    subtitle = f"{name} · R$ {last:,.2f}, {change:+.1%} in {len(df)} sessions · {source}"
    _layout(fig, title=f"{ticker}", subtitle=subtitle, height=400)
    fig.update_layout(hovermode="x unified", bargap=0.25, legend={"y": -0.14})
    fig.update_yaxes(title_text="Price (R$)", tickprefix="R$ ", row=1, col=1)
    fig.update_yaxes(title_text="Volume", tickformat="~s", row=2, col=1)
    if len(df) == 1:  # one point: a readable day-wide axis instead of milliseconds
        day = df["dt"].iloc[0]
        fig.update_xaxes(range=[day - dt.timedelta(days=1), day + dt.timedelta(days=1)])
    else:
        _session_axis(fig, list(x))
    return fig


def monthly_returns(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(return, is_in_month) per row: ``monthly_return`` (last close against the previous
    month's last close) where the job could compute it; for a ticker's first month in the lake
    (no previous close) the in-month change, last close / first close - 1, flagged."""
    ret = df["monthly_return"].astype(float)
    in_month = ret.isna()
    if {"first_close", "last_close"} <= set(df.columns):
        ret = ret.where(~in_month, df["last_close"] / df["first_close"] - 1)
    return ret, in_month & ret.notna()


def _ticker_colors(tickers: list[str]) -> dict[str, str]:
    import plotly.colors

    colors = PALETTE + list(plotly.colors.qualitative.Plotly)
    return {t: colors[i % len(colors)] for i, t in enumerate(tickers)}


def monthly_return_figure(monthly: pa.Table | pd.DataFrame) -> go.Figure:
    """Monthly return by ticker (grouped bars, one group per month)."""
    import plotly.graph_objects as go

    df = one_source(frame(monthly), ("month", "ticker"))
    fig = go.Figure()
    ret, in_month = monthly_returns(df)
    df = df.assign(ret=ret, in_month=in_month).sort_values(["month", "ticker"])
    colors = _ticker_colors(sorted(df["ticker"].unique()))
    for ticker, part in df.groupby("ticker", sort=True):
        basis = [
            "first → last close of the month (no previous month)" if f else "vs previous month"
            for f in part["in_month"]
        ]
        fig.add_trace(
            go.Bar(
                x=part["month"],
                y=part["ret"],
                name=str(ticker),
                marker={
                    "color": colors[str(ticker)],
                    "pattern": {"shape": ["/" if f else "" for f in part["in_month"]]},
                },
                text=[f"{v:+.1%}" for v in part["ret"]],
                textposition="outside",
                customdata=list(zip(part["last_close"], part["sessions"], basis, strict=True)),
                hovertemplate=(
                    f"{ticker} %{{x}}: %{{y:+.2%}} (%{{customdata[2]}})<br>"
                    "last close R$ %{customdata[0]:,.2f}, %{customdata[1]} sessions<extra></extra>"
                ),
            )
        )
    note = "last close against the previous month's last close"
    if df["in_month"].any():
        note += "; hatched: first month in the lake, first → last close"
    _layout(fig, title="Monthly return by ticker", subtitle=note, height=380)
    fig.update_layout(barmode="group", bargroupgap=0.08)
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%", zeroline=True, zerolinecolor="#888", title_text="Return")
    return fig


def monthly_traded_value_figure(monthly: pa.Table | pd.DataFrame) -> go.Figure:
    """Traded value (R$) per month and ticker."""
    import plotly.graph_objects as go

    df = one_source(frame(monthly), ("month", "ticker")).sort_values(["month", "ticker"])
    fig = go.Figure()
    colors = _ticker_colors(sorted(df["ticker"].unique()))
    for ticker, part in df.groupby("ticker", sort=True):
        fig.add_trace(
            go.Bar(
                x=part["month"],
                y=part["total_traded_value"],
                name=str(ticker),
                marker_color=colors[str(ticker)],
                customdata=[_brl(v) for v in part["total_traded_value"]],
                hovertemplate=f"{ticker} %{{x}}: %{{customdata}}<extra></extra>",
            )
        )
    _layout(
        fig,
        title="Traded value by month",
        subtitle="sum of the sessions' financial volume",
        height=380,
    )
    fig.update_layout(barmode="group", bargroupgap=0.08)
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickprefix="R$ ", tickformat="~s", title_text="Traded value")
    return fig


def _brl(value: float) -> str:
    """R$ in thousands / millions / billions, as a reader says it."""
    for size, suffix in ((1e9, " bi"), (1e6, " mi"), (1e3, " mil")):
        if abs(value) >= size:
            return f"R$ {value / size:,.1f}{suffix}"
    return f"R$ {value:,.0f}"


def weights_percent(df: pd.DataFrame) -> pd.Series:
    """Constituent weights in percent, whether stored as 0.05 or 5."""
    weight = df["weight"].astype(float)
    return weight * 100 if weight.sum() <= 1.5 else weight


def group_label(df: pd.DataFrame) -> tuple[pd.Series, str]:
    """The sector of each constituent; the share class (ON/PN/UNT) when no sector was given."""
    if "sector" in df.columns and df["sector"].notna().any():
        return df["sector"].fillna("not given").astype(str), "sector"
    share = df.get("share_type")
    if share is None:
        return df["ticker"].map(lambda _: "all"), "share class"
    return share.fillna("?").astype(str).str.split().str[0].fillna("?"), "share class"


def sector_weights_figure(portfolio: pa.Table | pd.DataFrame) -> go.Figure:
    """Index weight by sector (by share class when the export carries no sector)."""
    import plotly.graph_objects as go

    df = frame(portfolio)
    labels, kind = group_label(df)
    df = df.assign(group=labels, pct=weights_percent(df))
    grouped = (
        df.groupby("group")
        .agg(pct=("pct", "sum"), n=("ticker", "count"))
        .sort_values("pct", ascending=True)
    )
    fig = go.Figure(
        go.Bar(
            x=grouped["pct"],
            y=grouped.index,
            orientation="h",
            marker_color="#0072B2",
            text=[f"{v:.1f}%" for v in grouped["pct"]],
            textposition="outside",
            customdata=grouped["n"],
            hovertemplate="%{y}: %{x:.2f}% in %{customdata} constituents<extra></extra>",
        )
    )
    index, day = _portfolio_title(df)
    note = "" if kind == "sector" else " (the portfolio export gives no sector)"
    _layout(
        fig,
        title=f"{index} weight by {kind}",
        subtitle=f"theoretical portfolio of {day}, {len(df)} constituents{note}",
        height=max(320, 90 + 34 * len(grouped)),
    )
    fig.update_xaxes(ticksuffix="%", range=[0, grouped["pct"].max() * 1.18])
    fig.update_yaxes(automargin=True)
    return fig


def _portfolio_title(df: pd.DataFrame) -> tuple[str, str]:
    index = str(df["index"].iloc[0]) if "index" in df.columns and len(df) else "Index"
    day = str(df["dt"].iloc[0]) if "dt" in df.columns and len(df) else "?"
    return index, day


def top_constituents_figure(portfolio: pa.Table | pd.DataFrame, n: int = 15) -> go.Figure:
    """The ``n`` largest constituents by weight, coloured by sector (or share class)."""
    import plotly.graph_objects as go

    df = frame(portfolio)
    labels, kind = group_label(df)
    df = df.assign(group=labels, pct=weights_percent(df)).sort_values("pct", ascending=False)
    top = df.head(n).iloc[::-1]
    groups = list(dict.fromkeys(df["group"]))
    colors = _ticker_colors(groups)
    fig = go.Figure()
    for group in groups:
        part = top[top["group"] == group]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                x=part["pct"],
                y=part["ticker"],
                orientation="h",
                name=group,
                marker_color=colors[group],
                text=[f"{v:.2f}%" for v in part["pct"]],
                textposition="outside",
                customdata=part[["asset"]] if "asset" in part else None,
                hovertemplate="%{y} %{customdata[0]}: %{x:.2f}%<extra></extra>",
            )
        )
    index, day = _portfolio_title(df)
    covered = top["pct"].sum()
    _layout(
        fig,
        title=f"Top {len(top)} {index} constituents",
        subtitle=f"{day}: together {covered:.1f}% of the index; colour = {kind}",
        height=max(360, 110 + 28 * len(top)),
    )
    fig.update_layout(barmode="stack", showlegend=True)
    fig.update_yaxes(categoryorder="array", categoryarray=list(top["ticker"]), automargin=True)
    fig.update_xaxes(ticksuffix="%", range=[0, top["pct"].max() * 1.2])
    return fig


def coverage_figure(
    sessions: pa.Table | pd.DataFrame, missing: list[dt.date] | None = None
) -> go.Figure:
    """Tickers per session, with the B3 sessions that have no data marked in red."""
    import plotly.graph_objects as go

    df = frame(sessions).sort_values("dt")
    missing = missing or []
    fig = go.Figure(
        go.Bar(
            x=df["dt"],
            y=df["tickers"],
            name="tickers with a quote",
            marker_color="#56B4E9",
            hovertemplate="%{x|%Y-%m-%d}: %{y:,} tickers<extra></extra>",
        )
    )
    if missing:
        fig.add_trace(
            go.Scatter(
                x=missing,
                y=[0] * len(missing),
                mode="markers",
                name="missing session",
                marker={"color": DOWN, "size": 14, "symbol": "x"},
                cliponaxis=False,
                hovertemplate="%{x|%Y-%m-%d}: B3 session with no data<extra></extra>",
            )
        )
    _layout(
        fig,
        title="Sessions covered",
        subtitle=f"{len(df)} sessions with data, {len(missing)} B3 sessions missing in the range",
        height=360,
    )
    fig.update_yaxes(title_text="Tickers", tickformat=",", rangemode="tozero")
    _session_axis(fig, [*df["dt"], *missing])
    return fig


def quarantine_figure(quarantine: dict[str, pa.Table | pd.DataFrame | None]) -> go.Figure | None:
    """Quarantined rows by rule and table; None when no table has a quarantined row."""
    import plotly.graph_objects as go

    fig = go.Figure()
    colors = _ticker_colors(list(quarantine))
    bars = 0
    for table, data in quarantine.items():
        if data is None:
            continue
        df = frame(data)
        if df.empty:
            continue
        bars += len(df)
        fig.add_trace(
            go.Bar(
                x=df["n_rows"],
                y=df["rule"],
                orientation="h",
                name=table,
                marker_color=colors[table],
                text=[f"{v:,}" for v in df["n_rows"]],
                textposition="outside",
                hovertemplate=f"{table}: %{{y}}: %{{x:,}} rows<extra></extra>",
            )
        )
    if bars == 0:
        return None
    _layout(fig, title="Quarantined rows by rule", height=max(360, 120 + 36 * bars))
    fig.update_layout(barmode="group", margin={"l": 150})
    longest = max(max(frame(d)["n_rows"]) for d in quarantine.values() if d is not None and len(d))
    fig.update_xaxes(title_text="Rows", tickformat=",d", rangemode="tozero")
    if longest <= 10:
        fig.update_xaxes(tick0=0, dtick=1, range=[0, longest * 1.15])
    fig.update_yaxes(automargin=True)
    return fig


def returns(adjusted: pa.Table | pd.DataFrame) -> pd.DataFrame:
    """Per ticker: first and last session, price return (as traded) and total return (adjusted
    for B3's corporate actions: dividends reinvested, splits neutral) over the range."""
    import pandas as pd

    df = one_source(frame(adjusted)).sort_values(["ticker", "dt"])
    rows = []
    for ticker, g in df.groupby("ticker", sort=True):
        first, last = g.iloc[0], g.iloc[-1]
        rows.append(
            {
                "ticker": ticker,
                "first": first["dt"],
                "last": last["dt"],
                "price_return": last["close"] / first["close"] - 1,
                "total_return": last["adj_close"] / first["adj_close"] - 1,
            }
        )
    return pd.DataFrame(rows)


def adjusted_figure(adjusted: pa.Table | pd.DataFrame, ticker: str) -> go.Figure:
    """One ticker's close as traded and backward-adjusted (the latest close is the same)."""
    import plotly.graph_objects as go

    df = one_source(frame(adjusted))
    df = df[df["ticker"] == ticker].sort_values("dt")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=df["dt"],
            y=df["close"],
            name="close (as traded)",
            line={"color": "#999999"},
            hovertemplate="%{x|%Y-%m-%d}: %{y:.2f}<extra>close</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=df["dt"],
            y=df["adj_close"],
            name="adjusted close",
            line={"color": "#0072B2"},
            hovertemplate="%{x|%Y-%m-%d}: %{y:.4f}<extra>adjusted</extra>",
        )
    )
    r = returns(df)
    subtitle = None
    if len(r):
        row = r.iloc[0]
        subtitle = (
            f"price return {row['price_return']:+.2%}, total return {row['total_return']:+.2%}"
        )
    _layout(fig, title=f"{ticker}: adjusted vs unadjusted close", subtitle=subtitle, height=380)
    _session_axis(fig, list(df["dt"]))
    return fig


# ------------------------------------------------------------ more of the market (issue 23)


def index_levels_figure(history: pa.Table | pd.DataFrame) -> go.Figure:
    """Each index's close rebased to 100 at its first session in the range (indices differ by
    orders of magnitude); the hover shows B3's close."""
    import plotly.graph_objects as go

    df = frame(history).sort_values(["index", "dt"])
    fig = go.Figure()
    for i, (index, g) in enumerate(df.groupby("index", sort=True)):
        base = g["close"].iloc[0]
        fig.add_trace(
            go.Scatter(
                x=g["dt"],
                y=g["close"] / base * 100,
                name=str(index),
                line={"color": PALETTE[i % len(PALETTE)]},
                customdata=g["close"],
                hovertemplate="%{x|%Y-%m-%d}: %{customdata:,.2f}<extra>" + str(index) + "</extra>",
            )
        )
    first, last = df["dt"].min(), df["dt"].max()
    _layout(fig, title="Index closes (rebased to 100)", subtitle=f"{first} … {last}", height=400)
    fig.update_yaxes(title_text="close, first session = 100")
    _session_axis(fig, list(df["dt"]))
    return fig


def curve_figure(curve: pa.Table | pd.DataFrame) -> go.Figure:
    """The DI x pré curve (rate in % a year against years of 252 business days), one line a
    session."""
    import plotly.graph_objects as go

    df = frame(curve).sort_values(["dt", "business_days"])
    fig = go.Figure()
    sessions = sorted(df["dt"].unique(), reverse=True)
    for i, day in enumerate(sessions):
        g = df[df["dt"] == day]
        fig.add_trace(
            go.Scatter(
                x=g["business_days"] / 252,
                y=g["rate"],
                name=str(day),
                mode="lines+markers" if len(g) < 40 else "lines",
                line={"color": PALETTE[i % len(PALETTE)], "dash": "solid" if i == 0 else "dot"},
                customdata=g[["business_days", "calendar_days"]],
                hovertemplate="%{customdata[0]} business days (%{customdata[1]} calendar): "
                "%{y:.3f}%<extra>" + str(day) + "</extra>",
            )
        )
    _layout(fig, title="DI x pré curve (B3 TaxaSwap, PRE)", subtitle="rate, % a year (252)")
    fig.update_xaxes(title_text="years (business days / 252)", rangemode="tozero")
    fig.update_yaxes(title_text="% a year")
    return fig


def options_figure(options: pa.Table | pd.DataFrame) -> go.Figure:
    """Traded value of calls and puts per underlying on the last session."""
    import plotly.graph_objects as go

    df = frame(options).sort_values("traded_value")
    fig = go.Figure()
    for column, name, color in (("call_value", "calls", UP), ("put_value", "puts", DOWN)):
        fig.add_trace(
            go.Bar(
                x=df[column],
                y=df["underlying"].fillna("?"),
                name=name,
                orientation="h",
                marker_color=color,
                hovertemplate="%{y}: R$ %{x:,.0f}<extra>" + name + "</extra>",
            )
        )
    day = df["dt"].max() if len(df) else ""
    _layout(fig, title="Options traded by underlying", subtitle=f"session {day}", height=420)
    fig.update_layout(barmode="stack", margin={"l": 90})
    fig.update_xaxes(title_text="traded value (R$)", tickformat=",.0f")
    return fig
