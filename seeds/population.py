"""Who is on the platform: users, teams, memberships and subscriptions, as numpy arrays.

Everything here is one array per attribute (a few dozen bytes per user), computed once
from the seed; the big tables (AI usage, challenge participation, RAG logs) are then
streamed from these arrays batch by batch and never held in memory whole.

Time is in integer milliseconds since the epoch. The timeline (``Context``):

- ``start`` = ``until`` - 3 years: content (documents, the first challenges) is written;
- ``launch`` = ``start`` + 45 days: the first users sign up, more and more over time;
- ``until``: the end. Nothing is created or updated after it (only things that lie in
  the future by nature, such as session expiry or the end of a billing period, do).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from learnlab.db.encoding import to_epoch_ms
from seeds import vocabulary as V
from seeds.encode import DAY_MS, HOUR_MS, add_months, ulids_bytes, whole_months
from seeds.scales import AI_USAGE_PER_USER, HISTORY_DAYS, PRELAUNCH_DAYS

PLANS = ("basic", "premium", "pro")
STATUSES = ("incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid")
LIVE_STATUSES = ("trialing", "active", "past_due")
ROLES = ("owner", "admin", "member")
NULL = -1  # "no timestamp" in int64 arrays
TRIAL_MS = 14 * DAY_MS


class Context:
    """The seed, the size and the timeline; hands out independent, reproducible RNG streams."""

    def __init__(self, seed: int, users: int, until, timestamp_format: str = "iso8601", batch_rows: int = 50_000):
        self.seed = seed
        self.n = users
        self.until = until
        self.fmt = timestamp_format
        self.batch_rows = batch_rows
        self.until_ms = to_epoch_ms(until)
        self.start_ms = self.until_ms - HISTORY_DAYS * DAY_MS
        self.launch_ms = self.start_ms + PRELAUNCH_DAYS * DAY_MS

    def rng(self, tag: str, *index: int) -> np.random.Generator:
        """An RNG stream of its own for ``tag`` (and batch ``index``): phases do not disturb each other."""
        return np.random.default_rng(np.random.SeedSequence([self.seed, zlib.crc32(tag.encode()), *index]))


def between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, power: float = 1.0) -> np.ndarray:
    """A random time in ``[lo, hi]`` per element (``power`` > 1 leans towards ``lo``)."""
    lo = np.asarray(lo, dtype=np.int64)
    span = np.maximum(np.asarray(hi, dtype=np.int64) - lo, 0)
    u = rng.random(lo.shape[0]) ** power
    return lo + (u * span).astype(np.int64)


def occurrence(keys: np.ndarray) -> np.ndarray:
    """For each element, how many earlier elements have the same key (0 for the first)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, keys.shape[0]]))
    out = np.empty(keys.shape[0], dtype=np.int64)
    out[order] = np.arange(keys.shape[0]) - group_start
    return out


@dataclass
class Subscriptions:
    """All subscriptions (individual and team), sorted by creation."""

    ids: np.ndarray  # S26
    user: np.ndarray  # user index or -1
    team: np.ndarray  # team index or -1
    plan: np.ndarray  # index into PLANS
    amount: np.ndarray
    status: np.ndarray  # index into STATUSES
    created: np.ndarray
    updated: np.ndarray
    period_start: np.ndarray  # NULL when none
    period_end: np.ndarray
    canceled: np.ndarray

    def __len__(self) -> int:
        return self.ids.shape[0]


@dataclass
class Population:
    ctx: Context
    # users (index = position, sorted by sign-up)
    ids: np.ndarray  # S26 ULIDs
    created: np.ndarray
    last_seen: np.ndarray
    updated: np.ndarray = field(init=False)
    engagement: np.ndarray = field(init=False)
    skill: np.ndarray = field(init=False)
    interest: np.ndarray = field(init=False)
    first: np.ndarray = field(init=False)
    last: np.ndarray = field(init=False)
    name_occurrence: np.ndarray = field(init=False)
    domain: np.ndarray = field(init=False)
    has_name: np.ndarray = field(init=False)
    has_username: np.ndarray = field(init=False)
    image_at: np.ndarray = field(init=False)  # NULL when no avatar
    image_key: np.ndarray = field(init=False)
    password: np.ndarray = field(init=False)  # hash index or -1
    plan: np.ndarray = field(init=False)
    team_plan: np.ndarray = field(init=False)  # bool: plan comes from a team
    subscribed: np.ndarray = field(init=False)
    primary_team: np.ndarray = field(init=False)  # team index or -1
    primary_joined: np.ndarray = field(init=False)
    # teams (sorted by creation)
    team_ids: np.ndarray = field(init=False)
    team_created: np.ndarray = field(init=False)
    team_updated: np.ndarray = field(init=False)
    team_owner: np.ndarray = field(init=False)
    team_name: list = field(init=False)
    team_size: np.ndarray = field(init=False)
    team_image_at: np.ndarray = field(init=False)
    # memberships
    member_user: np.ndarray = field(init=False)
    member_team: np.ndarray = field(init=False)
    member_role: np.ndarray = field(init=False)
    member_joined: np.ndarray = field(init=False)
    member_updated: np.ndarray = field(init=False)
    subscriptions: Subscriptions = field(init=False)
    ai_rate: np.ndarray = field(init=False)  # expected AIUsage rows per day while active

    @property
    def n(self) -> int:
        return self.ids.shape[0]

    @property
    def n_teams(self) -> int:
        return self.team_ids.shape[0]


def build_population(ctx: Context) -> Population:
    """Users, then teams and memberships, then subscriptions, then what the users' rows say about them."""
    rng = ctx.rng("users")
    n = ctx.n
    # Sign-ups grow over time (density rises ~5x from launch to the end).
    growth = 1.6
    x = np.log1p(rng.random(n) * np.expm1(growth)) / growth
    span = ctx.until_ms - HOUR_MS - ctx.launch_ms
    created = np.sort(ctx.launch_ms + (x * span).astype(np.int64))
    ids = ulids_bytes(created, rng)
    engagement = rng.lognormal(-0.32, 0.8, n)  # mean ~1, long tail of heavy users
    remaining = ctx.until_ms - created
    active = rng.random(n) < np.clip(0.3 + 0.25 * engagement, 0.2, 0.92)
    seen_active = ctx.until_ms - np.minimum((rng.exponential(3.0, n) * DAY_MS).astype(np.int64), remaining)
    seen_churned = created + np.minimum((rng.exponential(70.0, n) * engagement * DAY_MS).astype(np.int64), remaining)
    last_seen = np.clip(np.where(active, seen_active, seen_churned), created, ctx.until_ms)

    pop = Population(ctx, ids, created, last_seen)
    # Small dtypes: these arrays are the only per-user state kept for the whole run.
    pop.engagement = engagement.astype(np.float32)
    pop.skill = rng.normal(0.0, 1.0, n).astype(np.float32)
    pop.interest = rng.integers(0, len(V.TOPICS), n).astype(np.int8)
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    pop.name_occurrence = occurrence(first * len(LAST_NAMES) + last).astype(np.int32)
    pop.first, pop.last = first.astype(np.int16), last.astype(np.int16)
    pop.domain = rng.integers(0, len(V.EMAIL_DOMAINS), n).astype(np.int8)
    pop.has_name = rng.random(n) < 0.97
    pop.has_username = rng.random(n) < 0.85
    has_image = rng.random(n) < 0.45
    pop.image_at = np.where(has_image, between(rng, created, last_seen, 2.0), NULL)
    pop.image_key = rng.integers(0, 1 << 32, n).astype(np.uint32)
    pop.password = np.where(rng.random(n) < 0.88, rng.integers(0, 4, n), -1).astype(np.int8)

    _build_teams(ctx, pop)
    _build_subscriptions(ctx, pop)
    _derive_user_state(ctx, pop)

    mult = np.array([1.0, 2.2, 3.5])[pop.plan]
    weight = engagement * mult
    expected = float(np.sum(weight * (last_seen - created) / DAY_MS))
    pop.ai_rate = (weight * (AI_USAGE_PER_USER * n / expected) if expected > 0 else np.zeros(n)).astype(np.float32)
    return pop


FIRST_NAMES = tuple(dict.fromkeys(V.FIRST_NAMES))
LAST_NAMES = tuple(dict.fromkeys(V.LAST_NAMES))


def _build_teams(ctx: Context, pop: Population) -> None:
    rng = ctx.rng("teams")
    n = pop.n
    n_teams = min(n, max(1, round(n * 0.02)))
    owner = rng.choice(n, size=n_teams, replace=False)
    created = between(rng, pop.created[owner], pop.last_seen[owner], 1.5)
    order = np.argsort(created, kind="stable")
    owner, created = owner[order], created[order]
    pop.team_owner = owner
    pop.team_created = created
    pop.team_ids = ulids_bytes(created, rng)
    adjective = rng.integers(0, len(V.TEAM_ADJECTIVES), n_teams)
    noun = rng.integers(0, len(V.TEAM_NOUNS), n_teams)
    pop.team_name = [f"{V.TEAM_ADJECTIVES[a]} {V.TEAM_NOUNS[b]}" for a, b in zip(adjective.tolist(), noun.tolist())]
    renamed = rng.random(n_teams) < 0.15
    pop.team_updated = np.where(renamed, between(rng, created, np.full(n_teams, ctx.until_ms)), created)
    pop.team_image_at = np.where(rng.random(n_teams) < 0.6, between(rng, created, np.full(n_teams, ctx.until_ms), 3.0), NULL)

    # Members besides the owner: candidates still around when the team was created, no repeats.
    wanted = np.minimum(rng.geometric(0.2, n_teams), 24)
    cand_team = np.repeat(np.arange(n_teams), 2 * wanted)
    cand_user = rng.integers(0, n, cand_team.shape[0])
    ok = (pop.last_seen[cand_user] >= created[cand_team]) & (cand_user != owner[cand_team])
    cand_team, cand_user = cand_team[ok], cand_user[ok]
    _, first_idx = np.unique(cand_team.astype(np.int64) * n + cand_user, return_index=True)
    keep = np.zeros(cand_team.shape[0], dtype=bool)
    keep[first_idx] = True
    cand_team, cand_user = cand_team[keep], cand_user[keep]
    order = np.argsort(cand_team, kind="stable")  # back in team order, draws kept in drawn order within a team
    cand_team, cand_user = cand_team[order], cand_user[order]
    within = occurrence(cand_team)
    keep = within < wanted[cand_team]
    m_team, m_user = cand_team[keep], cand_user[keep]
    lo = np.maximum(created[m_team], pop.created[m_user])
    m_joined = between(rng, lo, pop.last_seen[m_user], 2.0)
    m_role = np.where(rng.random(m_team.shape[0]) < 0.2, 1, 2)
    promoted = m_role == 1
    m_updated = np.where(promoted, between(rng, m_joined, np.full(m_joined.shape[0], ctx.until_ms), 2.0), m_joined)

    team = np.r_[np.arange(n_teams), m_team]
    user = np.r_[owner, m_user]
    role = np.r_[np.zeros(n_teams, dtype=np.int64), m_role]
    joined = np.r_[created, m_joined]
    updated = np.r_[created, m_updated]
    order = np.lexsort((user, joined))
    pop.member_team, pop.member_user, pop.member_role = team[order], user[order], role[order]
    pop.member_joined, pop.member_updated = joined[order], updated[order]
    pop.team_size = np.bincount(pop.member_team, minlength=n_teams)

    # A user's primary team: the first one joined.
    pop.primary_team = np.full(n, -1, dtype=np.int32)
    pop.primary_joined = np.full(n, NULL, dtype=np.int64)
    first = occurrence(pop.member_user) == 0  # rows are in joining order
    pop.primary_team[pop.member_user[first]] = pop.member_team[first]
    pop.primary_joined[pop.member_user[first]] = pop.member_joined[first]


def lifecycle(rng: np.random.Generator, start: np.ndarray, until_ms: int) -> dict[str, np.ndarray]:
    """Statuses and billing periods of subscriptions started at ``start``, as seen at ``until``.

    14-day trial, then monthly calendar periods anchored at the trial's end. Some never
    complete payment (incomplete, expired after 23 h), most are active, some canceled
    (``canceledAt`` set, the period it fell in), past_due (the last renewal failed) or unpaid.
    """
    n = start.shape[0]
    until = np.full(n, until_ms, dtype=np.int64)
    trial_end = start + TRIAL_MS
    status = np.full(n, STATUSES.index("active"))
    ps = np.full(n, NULL, dtype=np.int64)
    pe = np.full(n, NULL, dtype=np.int64)
    canceled = np.full(n, NULL, dtype=np.int64)
    updated = start.copy()

    u = rng.random(n)
    v = rng.random(n)
    incomplete = u < 0.03
    expired = incomplete & (until - start >= 23 * HOUR_MS)
    status[incomplete] = STATUSES.index("incomplete")
    status[expired] = STATUSES.index("incomplete_expired")
    updated[expired] = start[expired] + 23 * HOUR_MS

    in_trial = ~incomplete & (until < trial_end)
    status[in_trial] = STATUSES.index("trialing")
    ps[in_trial], pe[in_trial] = start[in_trial], trial_end[in_trial]

    paid = ~incomplete & ~in_trial
    k = whole_months(trial_end, until)
    cur_start, cur_end = add_months(trial_end, k), add_months(trial_end, k + 1)
    prev_k = np.maximum(k - 1, 0)
    prev_start, prev_end = add_months(trial_end, prev_k), add_months(trial_end, prev_k + 1)

    active = paid & (v >= 0.29)
    ps[active], pe[active] = cur_start[active], cur_end[active]
    updated[active] = cur_start[active]  # last renewal (or the trial's conversion)

    past_due = paid & (v >= 0.22) & (v < 0.28)
    status[past_due] = STATUSES.index("past_due")
    ps[past_due], pe[past_due] = cur_start[past_due], cur_end[past_due]
    updated[past_due] = np.minimum(cur_start[past_due] + HOUR_MS, until_ms)

    unpaid = paid & (v >= 0.28) & (v < 0.29)
    status[unpaid] = STATUSES.index("unpaid")
    ps[unpaid], pe[unpaid] = prev_start[unpaid], prev_end[unpaid]
    updated[unpaid] = np.minimum(prev_start[unpaid] + 15 * DAY_MS, until_ms)

    cancel = (paid & (v < 0.22)) | (in_trial & (v < 0.1))
    at = between(rng, start, until, 1.3)
    kc = whole_months(trial_end, at)
    in_trial_cancel = at < trial_end
    c_start = np.where(in_trial_cancel, start, add_months(trial_end, kc))
    c_end = np.where(in_trial_cancel, trial_end, add_months(trial_end, kc + 1))
    status[cancel] = STATUSES.index("canceled")
    ps[cancel], pe[cancel] = c_start[cancel], c_end[cancel]
    canceled[cancel] = at[cancel]
    updated[cancel] = at[cancel]
    return {"status": status, "period_start": ps, "period_end": pe, "canceled": canceled, "updated": updated}


def _build_subscriptions(ctx: Context, pop: Population) -> None:
    rng = ctx.rng("subscriptions")
    n, until = pop.n, ctx.until_ms
    price = np.array([V.PLAN_PRICES_CENTS[p] for p in PLANS])

    # Individual subscriptions: ~20% of users, started while they were around.
    subscriber = np.flatnonzero(rng.random(n) < 0.2)
    i_plan = np.where(rng.random(subscriber.shape[0]) < 0.7, 1, 2)
    i_start = between(rng, pop.created[subscriber], pop.last_seen[subscriber], 1.5)
    first = lifecycle(rng, i_start, until)
    # Some who canceled come back later (a second subscription, maybe another plan).
    came_back = (first["canceled"] != NULL) & (first["canceled"] < pop.last_seen[subscriber] - DAY_MS)
    came_back &= rng.random(subscriber.shape[0]) < 0.3
    r_user = subscriber[came_back]
    r_start = between(rng, first["canceled"][came_back], pop.last_seen[r_user])
    r_plan = np.where(rng.random(r_user.shape[0]) < 0.7, i_plan[came_back], 3 - i_plan[came_back])
    again = lifecycle(rng, r_start, until)

    # Team subscriptions: half the teams, paid per seat.
    t_idx = np.flatnonzero(rng.random(pop.n_teams) < 0.5)
    t_plan = np.where(rng.random(t_idx.shape[0]) < 0.65, 1, 2)
    t_start = between(rng, pop.team_created[t_idx],
                      np.minimum(pop.team_created[t_idx] + 30 * DAY_MS, until), 1.0)
    team_life = lifecycle(rng, t_start, until)

    user = np.r_[subscriber, r_user, np.full(t_idx.shape[0], -1)]
    team = np.r_[np.full(subscriber.shape[0] + r_user.shape[0], -1), t_idx]
    plan = np.r_[i_plan, r_plan, t_plan]
    seats = np.r_[np.ones(subscriber.shape[0] + r_user.shape[0], dtype=np.int64), pop.team_size[t_idx]]
    created = np.r_[i_start, r_start, t_start]
    parts = (first, again, team_life)
    cols = {key: np.concatenate([p[key] for p in parts]) for key in first}
    order = np.argsort(created, kind="stable")
    pop.subscriptions = Subscriptions(
        ids=ulids_bytes(created[order], rng),
        user=user[order], team=team[order], plan=plan[order], amount=(price[plan] * seats)[order],
        status=cols["status"][order], created=created[order], updated=cols["updated"][order],
        period_start=cols["period_start"][order], period_end=cols["period_end"][order],
        canceled=cols["canceled"][order],
    )


def _derive_user_state(ctx: Context, pop: Population) -> None:
    """Plan, subscription type, isSubscribed and updatedAt, from subscriptions and teams."""
    n = pop.n
    subs = pop.subscriptions
    live = np.isin(subs.status, [STATUSES.index(s) for s in LIVE_STATUSES])
    pop.plan = np.zeros(n, dtype=np.int8)
    pop.team_plan = np.zeros(n, dtype=bool)
    pop.subscribed = np.zeros(n, dtype=bool)
    changed = pop.last_seen.copy()
    np.maximum(changed, np.where(pop.image_at != NULL, pop.image_at, 0), out=changed)

    own = subs.user >= 0
    # Each subscription change touched its user (upgrade at start, downgrade when canceled...).
    np.maximum.at(changed, subs.user[own], subs.updated[own])
    # The latest individual subscription decides (subscriptions are sorted by creation).
    latest = np.full(n, -1, dtype=np.int64)
    np.maximum.at(latest, subs.user[own], np.flatnonzero(own))
    has = latest >= 0
    live_own = np.zeros(n, dtype=bool)
    live_own[has] = live[latest[has]]
    pop.plan[live_own] = subs.plan[latest[live_own]]
    pop.subscribed[live_own] = True

    # Members of a team whose subscription is live get the team's plan (unless they pay themselves).
    team_plan = np.zeros(pop.n_teams, dtype=np.int64)
    team_since = np.zeros(pop.n_teams, dtype=np.int64)
    tsub = (subs.team >= 0) & live
    team_plan[subs.team[tsub]] = subs.plan[tsub]
    team_since[subs.team[tsub]] = subs.created[tsub]
    m_plan = team_plan[pop.member_team]
    via_team = (m_plan > 0) & ~live_own[pop.member_user]
    best = np.zeros(n, dtype=np.int64)
    np.maximum.at(best, pop.member_user[via_team], m_plan[via_team])
    got = best > 0
    pop.plan[got] = best[got]
    pop.team_plan[got] = True
    pop.subscribed[got] = True
    since = np.maximum(pop.member_joined[via_team], team_since[pop.member_team[via_team]])
    np.maximum.at(changed, pop.member_user[via_team], since)
    pop.updated = np.minimum(np.maximum(changed, pop.created), ctx.until_ms)
