# /// script
# requires-python = ">=3.11"
# dependencies = ["learnlab", "marimo", "altair", "polars"]
# ///
"""What does AI cost per plan, against what each plan brings in? (product managers)"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="AI cost per plan")

with app.setup:
    from datetime import date

    import altair as alt
    import marimo as mo

    from learnlab import analytics
    from learnlab.mirror import open_reader


@app.cell
def _():
    mo.md("""
    # AI cost per plan
    AI spend (from `AIUsage`), subscription revenue (from `Subscription`) and the margin
    left, per plan and month. A user's plan is their current plan.
    """)
    return


@app.cell
def _():
    since = mo.ui.date(value=date(date.today().year - 1, date.today().month, 1), label="Since")
    plan = mo.ui.dropdown(options=["all", "basic", "premium", "pro"], value="all", label="Plan")
    mo.hstack([since, plan], justify="start")
    return plan, since


@app.cell
def _(plan, since):
    with open_reader() as con:
        costs = analytics.run("cost_per_plan", con, since=since.value,
                              plan=None if plan.value == "all" else plan.value)
    return (costs,)


@app.cell
def _(costs):
    totals = costs.select("ai_cost_usd", "revenue_usd", "margin_usd").sum()
    mo.hstack([
        mo.stat(f"${totals['ai_cost_usd'][0]:,.2f}", label="AI cost"),
        mo.stat(f"${totals['revenue_usd'][0]:,.2f}", label="Revenue"),
        mo.stat(f"${totals['margin_usd'][0]:,.2f}", label="Margin"),
    ])
    return


@app.cell
def _(costs):
    chart = alt.Chart(costs).mark_line(point=True).encode(
        x=alt.X("month:T", title="Month"),
        y=alt.Y("ai_cost_per_active_user_usd:Q", title="AI cost per active user (USD)"),
        color="plan:N",
        tooltip=["plan", "month", "active_users", "ai_cost_usd", "revenue_usd", "margin_usd"],
    )
    mo.ui.altair_chart(chart)
    return


@app.cell
def _(costs):
    mo.ui.table(costs, selection=None)
    return


if __name__ == "__main__":
    app.run()
