# /// script
# requires-python = ">=3.11"
# dependencies = ["learnlab", "marimo", "altair", "polars"]
# ///
"""Is retrieval getting better? Feedback, scores, weak retrievals and latency per week. (engineers, PMs)"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="RAG retrieval quality")

with app.setup:
    from datetime import date, timedelta

    import altair as alt
    import marimo as mo

    from learnlab import analytics
    from learnlab.mirror import open_reader


@app.cell
def _():
    mo.md("# RAG retrieval quality\nPer embedder and week, from the retrieval log (`RagQuery`, `RagQueryResult`).")
    return


@app.cell
def _():
    since = mo.ui.date(value=date.today() - timedelta(days=90), label="Since")
    min_score = mo.ui.slider(0.0, 1.0, step=0.05, value=0.2, label="Weak below score", show_value=True)
    mo.hstack([since, min_score], justify="start")
    return min_score, since


@app.cell
def _(min_score, since):
    with open_reader() as con:
        quality = analytics.run("rag_retrieval_quality", con, since=since.value, min_score=min_score.value)
    return (quality,)


@app.cell
def _(quality):
    long = quality.unpivot(index=["embedder", "week"], on=["helpful_rate", "weak_retrieval_rate", "avg_top_score"])
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("week:T", title="Week"), y=alt.Y("value:Q", title=None), color="variable:N",
        strokeDash="embedder:N", tooltip=["embedder", "week", "variable", "value"],
    )
    mo.ui.altair_chart(chart)
    return


@app.cell
def _(quality):
    mo.ui.table(quality, selection=None)
    return


if __name__ == "__main__":
    app.run()
