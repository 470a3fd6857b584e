# /// script
# requires-python = ">=3.11"
# dependencies = ["learnlab", "marimo", "altair", "polars"]
# ///
"""Which challenges engage learners: participation, completion, scores, badges. (product managers)"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Challenge engagement")

with app.setup:
    from datetime import date, timedelta

    import altair as alt
    import marimo as mo

    from learnlab import analytics
    from learnlab.mirror import open_reader


@app.cell
def _():
    mo.md("# Challenge engagement\nParticipation and completion of the challenges started since a date.")
    return


@app.cell
def _():
    since = mo.ui.date(value=date.today() - timedelta(days=180), label="Started since")
    difficulty = mo.ui.dropdown(options=["all", "beginner", "intermediate", "advanced", "expert"], value="all",
                                label="Difficulty")
    mo.hstack([since, difficulty], justify="start")
    return difficulty, since


@app.cell
def _(difficulty, since):
    with open_reader() as con:
        engagement = analytics.run("challenge_engagement", con, since=since.value,
                                   difficulty=None if difficulty.value == "all" else difficulty.value)
    return (engagement,)


@app.cell
def _(engagement):
    rate = engagement["completions"].sum() / max(engagement["participants"].sum(), 1)
    mo.hstack([
        mo.stat(str(engagement.height), label="Challenges"),
        mo.stat(f"{engagement['participants'].sum():,}", label="Participations"),
        mo.stat(f"{rate:.0%}", label="Completion rate"),
    ])
    return


@app.cell
def _(engagement):
    chart = alt.Chart(engagement).mark_circle(size=80).encode(
        x=alt.X("participants:Q", title="Participants"),
        y=alt.Y("completion_rate:Q", title="Completion rate", axis=alt.Axis(format="%")),
        color="difficulty:N",
        tooltip=["title", "difficulty", "participants", "completion_rate", "avg_score", "badges_awarded"],
    )
    mo.ui.altair_chart(chart)
    return


@app.cell
def _(engagement):
    mo.ui.table(engagement, selection=None)
    return


if __name__ == "__main__":
    app.run()
