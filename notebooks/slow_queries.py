# /// script
# requires-python = ">=3.11"
# dependencies = ["learnlab", "marimo", "altair", "polars"]
# ///
"""Where does the database spend its time? Statements by total time, with slow samples. (engineers)"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="Slow queries")

with app.setup:
    from datetime import datetime, timedelta, timezone

    import altair as alt
    import marimo as mo

    from learnlab import analytics
    from learnlab.mirror import open_reader


@app.cell
def _():
    mo.md("# Slow queries\nStatements by the database time they cost (`QueryStat`), with samples over 20 ms (`SlowQuery`).")
    return


@app.cell
def _():
    days = mo.ui.slider(1, 365, value=30, label="Last days", show_value=True)
    top = mo.ui.number(start=1, stop=200, value=20, label="Top")
    source = mo.ui.text(value="", label="Source (blank: all)")
    mo.hstack([days, top, source], justify="start")
    return days, source, top


@app.cell
def _(days, source, top):
    since = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=days.value)
    with open_reader() as con:
        slow = analytics.run("slow_queries", con, since=since, top=int(top.value), source=source.value or None)
    return (slow,)


@app.cell
def _(slow):
    chart = alt.Chart(slow).mark_bar().encode(
        x=alt.X("total_ms:Q", title="Total time (ms)"),
        y=alt.Y("fingerprint:N", sort="-x", title=None),
        tooltip=["statement", "calls", "mean_ms", "p95_ms", "max_ms", "slow_samples"],
    )
    mo.ui.altair_chart(chart)
    return


@app.cell
def _(slow):
    mo.ui.table(slow, selection=None)
    return


if __name__ == "__main__":
    app.run()
