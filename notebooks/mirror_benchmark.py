# /// script
# requires-python = ">=3.11"
# dependencies = ["learnlab", "marimo", "altair", "polars"]
# ///
"""How fast is the DuckDB mirror? First copy, 1%-updated incremental refresh and a refresh with deletions
against DuckDB's sqlite scanner and dlt, on a generated source, with peak memory and the ratios the mirror
aims for. (engineers)"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="Mirror benchmark")

with app.setup:
    import json
    import os
    from pathlib import Path

    import altair as alt
    import marimo as mo
    import polars as pl

    from learnlab.mirror.bench import PHASES, describe_change, run_bench

    # Targets from the mirror's issue: (ratio name, at least / at most, value). They apply to the
    # issue's scenario (updates only); the deletion scenarios' ratios are shown for information.
    TARGETS = {
        "mirror first / scanner copy": ("at most", 1.0),
        "dlt first / mirror first": ("at least", 1.0),
        "dlt-connectorx first / mirror first": ("at least", 1.0),  # dlt's fastest backend
        "mirror first / mirror incremental": ("at least", 20.0),
        "dlt incremental / mirror incremental": ("at least", 3.0),
        "dlt-connectorx incremental / mirror incremental": ("at least", 3.0),
    }


@app.cell
def _():
    mo.md(r"""
    # Mirror benchmark

    A SQLite source with an `AIUsage` table of the chosen size is generated; each contender runs in its
    own process (peak RSS from the kernel). dlt runs twice: with its pyarrow backend (`dlt`) and with
    connectorx (`dlt-connectorx`, its fastest). `pushdown` is the issue's reference incremental as a floor
    (changed rows read through `sqlite_query`, DELETE + INSERT, none of the mirror's guarantees), on a copy
    of the mirror's first refresh. Then three scenarios, one after the other on the same targets:

    - **incremental**: a fraction of the rows is updated (spread over the table), as in the issue's
      targets; the mirror and dlt refresh.
    - **incremental with deletes**: a twentieth of that fraction is deleted and as many rows inserted; the
      mirror and dlt refresh again (dlt's `updatedAt` cursor sees the inserts, never the deletions). This
      mirror refresh also replays the previous one's changes (`--watch` does that between ticks).
    - **incremental, oldest deleted**: a twentieth of that fraction is deleted, the oldest rows (as a
      retention job does); the mirror finds them by their keys, dlt's cursor sees nothing.

    Large sizes take minutes: 2,000,000 rows build a 1.4 GB source.
    """)
    return


@app.cell
def _():
    rows = mo.ui.number(start=1_000, stop=20_000_000, step=1_000,
                        value=int(os.environ.get("LEARNLAB_BENCH_ROWS", "200000")), label="AIUsage rows")
    changed = mo.ui.number(start=0.001, stop=0.5, step=0.001, value=0.01, label="Fraction changed")
    contenders = mo.ui.multiselect(options=list(PHASES), value=list(PHASES), label="Contenders")
    run = mo.ui.run_button(label="Run the benchmark")
    mo.hstack([rows, changed, contenders, run], justify="start")
    return changed, contenders, rows, run


@app.cell
def _(changed, contenders, rows, run):
    # In the editor it waits for the button; run as a script (or an app's first load in CI) it runs at once.
    mo.stop(mo.running_in_notebook() and not run.value, mo.md("Press **Run the benchmark**."))
    with mo.status.spinner(title=f"Benchmarking {rows.value:,} rows ..."):
        results = run_bench(rows=int(rows.value), changed=float(changed.value), contenders=list(contenders.value))
    if os.environ.get("LEARNLAB_BENCH_JSON"):
        Path(os.environ["LEARNLAB_BENCH_JSON"]).write_text(json.dumps(results, indent=2, default=str))
    measures = pl.DataFrame([{k: v for k, v in m.items() if k != "detail"} for m in results["measures"]])
    return measures, results


@app.cell
def _(results):
    src = results["source"]
    changes = " ".join(f"**Before {phase}:** {describe_change(change)}."
                       for phase, change in results["changes"].items())
    mo.md(f"**Source:** {src['rows']:,} rows, {src['bytes'] / 2**20:,.0f} MiB, "
          f"built in {src['seconds']:.1f} s. {changes}")
    return


@app.cell
def _(measures):
    def bars(field: str, title: str):
        return mo.ui.altair_chart(alt.Chart(measures).mark_bar().encode(
            x=alt.X(f"{field}:Q", title=title),
            y=alt.Y("phase:N", title=None),
            color=alt.Color("contender:N"),
            row=alt.Row("contender:N", title=None),
            tooltip=["contender", "phase", "seconds", "rows", "rows_per_second", "peak_rss_mb"],
        ))

    mo.hstack([bars("seconds", "Seconds"), bars("peak_rss_mb", "Peak RSS (MiB)")], justify="start")
    return


@app.cell
def _(results):
    def row(name: str, value: float) -> dict:
        if name not in TARGETS:
            return {"ratio": name, "measured": value, "target": "informational", "met": None}
        bound, limit = TARGETS[name]
        return {"ratio": name, "measured": value, "target": f"{bound} {limit:g}x",
                "met": value <= limit if bound == "at most" else value >= limit}

    ratios = pl.DataFrame([row(name, value) for name, value in results["ratios"].items()])
    mo.ui.table(ratios, selection=None)
    return


@app.cell
def _(measures):
    mo.ui.table(measures, selection=None)
    return


if __name__ == "__main__":
    app.run()
