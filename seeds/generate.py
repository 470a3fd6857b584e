"""Generate the platform's rows, batch by batch, from a seed.

Each phase is a generator of *chunks*: a chunk is a list of ``(table, rows)`` written in one
transaction, parents before children (foreign keys stay on). Rows are plain tuples in the
column order of ``COLUMNS``, with values exactly as Prisma's adapter stores them
(``seeds.encode``). Nothing depends on the wall clock: the timeline ends at ``ctx.until``.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

import numpy as np

from learnlab.db.encoding import encode_json
from learnlab.monitoring import fingerprint, normalize
from seeds import vocabulary as V
from seeds.encode import DAY_MS, HOUR_MS, MINUTE_MS, cuids, datetimes, decode, months, ulids, ulids_bytes
from seeds.population import (
    FIRST_NAMES,
    LAST_NAMES,
    NULL,
    PLANS,
    ROLES,
    STATUSES,
    Context,
    Population,
    between,
    build_population,
)

Chunk = list[tuple[str, list[tuple]]]

COLUMNS: dict[str, tuple[str, ...]] = {
    "Document": ("id", "title", "source", "content", "createdAt", "updatedAt"),
    "DocumentChunk": ("id", "chunkType", "chunkIndex", "embedding", "metadata", "documentId", "content",
                      "createdAt", "updatedAt"),
    "Challenge": ("id", "title", "description", "difficulty", "startDate", "endDate", "isActive", "createdAt",
                  "updatedAt"),
    "Badge": ("id", "name", "description", "imageUrl", "minScore", "challengeId", "createdAt", "updatedAt"),
    "User": ("id", "email", "name", "username", "imageUrl", "isSubscribed", "plan", "subscriptionType", "lastSeenAt",
             "createdAt", "updatedAt"),
    "Password": ("hash", "userId"),
    "Session": ("id", "expirationDate", "createdAt", "updatedAt", "userId"),
    "Team": ("id", "name", "description", "createdAt", "updatedAt"),
    "TeamSettings": ("id", "teamId", "maxMembers", "allowMemberInvites", "defaultRole", "aiMonthlyBudgetCents",
                     "createdAt", "updatedAt"),
    "Image": ("id", "fileKey", "filePath", "altText", "createdAt", "updatedAt", "userId", "teamId"),
    "TeamMember": ("id", "role", "joinedAt", "updatedAt", "userId", "teamId"),
    "Subscription": ("id", "subscriptionId", "userId", "teamId", "status", "type", "plan", "amount", "currency",
                     "currentPeriodStart", "currentPeriodEnd", "canceledAt", "createdAt", "updatedAt"),
    "AIUsage": ("id", "userId", "type", "model", "prompt", "response", "tokensUsed", "costInCents", "success",
                "errorMessage", "usageMonth", "createdAt", "updatedAt"),
    "RagQuery": ("id", "userId", "aiUsageId", "query", "embedder", "k", "latencyMs", "feedback", "createdAt",
                 "updatedAt"),
    "RagQueryResult": ("id", "queryId", "chunkId", "rank", "score", "createdAt", "updatedAt"),
    "UserChallenge": ("id", "score", "completedAt", "createdAt", "updatedAt", "userId", "challengeId"),
    "LeaderboardEntry": ("id", "challengeId", "userId", "score", "rank", "createdAt", "updatedAt"),
    "UserChallengeBadge": ("id", "userId", "badgeId", "awardedAt", "updatedAt"),
    "TeamCertificate": ("id", "teamId", "userId", "challengeId", "title", "code", "issuedAt", "expiresAt", "revokedAt",
                        "createdAt", "updatedAt"),
    "QueryStat": ("id", "fingerprint", "statement", "source", "bucketStart", "calls", "totalMs", "maxMs", "p95Ms",
                  "rows", "createdAt", "updatedAt"),
    "SlowQuery": ("id", "fingerprint", "statement", "source", "durationMs", "plan", "occurredAt", "createdAt",
                  "updatedAt"),
}
TABLES = tuple(COLUMNS)


def insert_sql(table: str, rows: int = 1) -> str:
    """``INSERT INTO "table" (...) VALUES (?, ...)``, with ``rows`` tuples of placeholders."""
    cols = COLUMNS[table]
    names = ", ".join('"' + c + '"' for c in cols)
    one = f'({", ".join("?" * len(cols))})'
    return f'INSERT INTO "{table}" ({names}) VALUES {", ".join([one] * rows)}'


@dataclass
class Timings:
    """Seconds spent generating rows, per table (filled by the generating thread)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @contextmanager
    def on(self, table: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[table] += time.perf_counter() - t0


@lru_cache(maxsize=8)
def password_hashes(seed: int) -> tuple[str, ...]:
    """A handful of real argon2id hashes of ``DEV_PASSWORD``, salts from the seed (computed once, not per row).

    OWASP's minimum parameters (19 MiB, 2 passes): ``argon2.PasswordHasher().verify`` accepts
    them, and seeding stays quick and light.
    """
    from argon2.low_level import Type, hash_secret

    rng = np.random.default_rng([seed, 7])
    return tuple(
        hash_secret(V.DEV_PASSWORD.encode(), bytes(rng.integers(0, 256, 16, dtype=np.uint8)),
                    time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, type=Type.ID).decode()
        for _ in range(4)
    )


def _objects(values) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return arr


def _slices(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


class Generator:
    """All phases, in foreign-key order; ``chunks()`` yields everything to write."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.timings = Timings()
        self.pop: Population | None = None

    # -- helpers -------------------------------------------------------------------------
    def dt(self, ms: np.ndarray, null: np.ndarray | None = None) -> list:
        return datetimes(ms, self.ctx.fmt, null)

    def dt_nullable(self, ms: np.ndarray) -> list:
        ms = np.asarray(ms, dtype=np.int64)
        missing = ms == NULL
        return datetimes(np.where(missing, 0, ms), self.ctx.fmt, missing)

    def user_ids(self, idx: np.ndarray) -> list[str]:
        return decode(self.pop.ids[idx])

    def estimate_rows(self) -> int:
        """Roughly how many rows ``chunks()`` will write (for a progress bar)."""
        # per user: the user, password, sessions, image, subscriptions, memberships; ~20 AIUsage rows
        # with ~2.4 RAG queries of ~5.3 results; ~2.8 challenge plays, each with a leaderboard entry
        # and ~0.8 badges. Then documents and chunks, challenges and badges, monitoring.
        per_user = 1 + 0.88 + 1.6 + 0.47 + 0.22 + 0.14 + 20 + 2.4 * 6.3 + 2.8 * 2.8
        return int(self.ctx.n * per_user + self.n_documents() * 9 + 760 + 6500)

    def n_documents(self) -> int:
        return int(np.clip(round(self.ctx.n / 250), 2 * len(V.TOPICS), 4000))

    # -- the phases ----------------------------------------------------------------------
    def chunks(self) -> Iterator[Chunk]:
        with self.timings.on("User"):
            self.pop = build_population(self.ctx)
        yield from self.documents()
        yield from self.challenges()
        yield from self.users()
        yield from self.teams()
        yield from self.ai_usage()
        yield from self.participation()
        yield from self.global_badges()
        yield from self.monitoring()

    # Documents and their chunks, with embeddings: topic centroid + document direction + noise.
    def documents(self) -> Iterator[Chunk]:
        ctx, t = self.ctx, self.timings
        with t.on("DocumentChunk"):
            rng = ctx.rng("embeddings")
            dim = V.EMBEDDING_DIM
            areas = rng.normal(size=(len(V.AREAS), dim))
            areas /= np.linalg.norm(areas, axis=1, keepdims=True)
            own = rng.normal(size=(len(V.TOPICS), dim))
            own /= np.linalg.norm(own, axis=1, keepdims=True)
            centroids = areas[[V.AREAS.index(tp.area) for tp in V.TOPICS]] + 0.8 * own
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        with t.on("Document"):
            rng = ctx.rng("documents")
            n_docs = self.n_documents()
            topic = rng.permutation(np.arange(n_docs) % len(V.TOPICS))
            created = np.sort(between(rng, np.full(n_docs, ctx.start_ms), np.full(n_docs, ctx.launch_ms - DAY_MS)))
            edited = rng.random(n_docs) < 0.3
            updated = np.where(edited, between(rng, created, np.full(n_docs, ctx.until_ms), 1.5), created)
            doc_ids = ulids(created, rng)
            n_chunks = rng.integers(4, 13, n_docs)
        pool_ids: list[list[str]] = [[] for _ in V.TOPICS]
        pool_sims: list[list[float]] = [[] for _ in V.TOPICS]
        kinds = ("TEXT", "CODE", "TABLE", "HEADING")
        noise_by_kind = {"HEADING": 0.3, "TEXT": 0.55, "TABLE": 0.7, "CODE": 0.85}
        for part in _slices(n_docs, 1000):
            docs, chunks = [], []
            for d in range(part.start, part.stop):
                with t.on("DocumentChunk"):
                    tp = V.TOPICS[topic[d]]
                    k = int(n_chunks[d])
                    ci = rng.integers(0, 64, 3)
                    title = (f"{tp.name}: {tp.concepts[ci[0] % len(tp.concepts)]} explained",
                             f"A practical guide to {tp.concepts[ci[0] % len(tp.concepts)]}",
                             f"{tp.name} in depth, part {ci[1] % 5 + 1}")[ci[2] % 3]
                    types = np.where(rng.random(k) < 0.2, 1, np.where(rng.random(k) < 0.1, 2, 0))
                    types[0] = 3
                    direction = rng.normal(size=dim)
                    direction /= np.linalg.norm(direction)
                    noise = rng.normal(size=(k, dim))
                    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
                    scale = np.array([noise_by_kind[kinds[x]] for x in types])[:, None]
                    emb = centroids[topic[d]] + 0.45 * direction + scale * noise
                    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
                    emb = emb.astype("<f4")
                    sims = emb.astype(np.float64) @ centroids[topic[d]]
                    chunk_ids = ulids(np.full(k, created[d]), rng)
                    texts = [self._chunk_text(tp, kinds[x], title, rng) for x in types]
                    c_at, u_at = self.dt(np.full(k, created[d])), self.dt(np.full(k, updated[d]))
                    for i in range(k):
                        meta = encode_json({"model": V.EMBEDDER, "dim": dim, "normalized": True, "topic": tp.slug,
                                            "tokens": len(texts[i].split()) * 4 // 3, "chars": len(texts[i])})
                        chunks.append((chunk_ids[i], kinds[types[i]], i, emb[i].tobytes(), meta, doc_ids[d], texts[i],
                                       c_at[i], u_at[i]))
                        pool_ids[topic[d]].append(chunk_ids[i])
                        pool_sims[topic[d]].append(float(sims[i]))
                with t.on("Document"):
                    source = None if rng.random() < 0.1 else f"https://docs.learnlab.test/{tp.slug}/{d:05d}"
                    docs.append((doc_ids[d], title, source, "\n\n".join(texts), *self.dt(created[d:d + 1]),
                                 *self.dt(updated[d:d + 1])))
            yield [("Document", docs), ("DocumentChunk", chunks)]
        # Retrieval pools: per topic, its chunks from the most to the least central.
        width = max(len(p) for p in pool_ids)
        self.pool_ids = np.empty((len(V.TOPICS), width), dtype=object)
        self.pool_sims = np.zeros((len(V.TOPICS), width))
        self.pool_size = np.zeros(len(V.TOPICS), dtype=np.int64)
        for i, (ids, sims) in enumerate(zip(pool_ids, pool_sims)):
            order = np.argsort(-np.asarray(sims), kind="stable")
            self.pool_ids[i, :len(ids)] = [ids[j] for j in order]
            self.pool_sims[i, :len(ids)] = np.asarray(sims)[order]
            self.pool_size[i] = len(ids)

    @staticmethod
    def _chunk_text(tp: V.Topic, kind: str, title: str, rng: np.random.Generator) -> str:
        if kind == "HEADING":
            return f"# {title}"
        i, j = (int(x) for x in rng.integers(0, 64, 2))
        if kind == "CODE":
            return f"```{tp.language}\n{V.CODE_SNIPPETS[tp.language]}```"
        if kind == "TABLE":
            rows = "\n".join(f"| {c} | {V.fill('{c2}', tp, i + n, j + n)} |" for n, c in enumerate(tp.concepts[:3]))
            return f"| concept | compare with |\n|---|---|\n{rows}"
        picks = rng.permutation(len(V.CHUNK_SENTENCES))[:3]
        return " ".join(V.fill(V.CHUNK_SENTENCES[p], tp, i + n, j + n) for n, p in enumerate(picks))

    # Challenges: weekly sprints and monthly marathons; three badges each, plus a few global badges.
    def challenges(self) -> Iterator[Chunk]:
        ctx, t = self.ctx, self.timings
        with t.on("Challenge"):
            rng = ctx.rng("challenges")
            rows = []  # (start, end, kind, number or month)
            first_monday = (ctx.launch_ms // DAY_MS - 7 - (ctx.launch_ms // DAY_MS - 7 + 3) % 7) * DAY_MS
            start, n = first_monday, 1
            while start <= ctx.until_ms + 21 * DAY_MS:
                rows.append((start, start + 7 * DAY_MS, "sprint", n))
                start, n = start + 7 * DAY_MS, n + 1
            month = np.datetime64(ctx.launch_ms, "ms").astype("datetime64[M]") + 1
            while month.astype("datetime64[ms]").astype(np.int64) <= ctx.until_ms + 21 * DAY_MS:
                m0 = int(month.astype("datetime64[ms]").astype(np.int64))
                m1 = int((month + 1).astype("datetime64[ms]").astype(np.int64))
                rows.append((m0, m1, "marathon", str(month)))
                month += 1
            starts = np.array([r[0] for r in rows], dtype=np.int64)
            created = starts - (rng.integers(7, 15, len(rows)) * DAY_MS + rng.integers(0, DAY_MS, len(rows)))
            keep = (created <= ctx.until_ms) & (created >= ctx.start_ms)
            order = [i for i in np.argsort(created, kind="stable") if keep[i]]
            rows = [rows[i] for i in order]
            created = created[order]
            n_ch = len(rows)
            self.ch_start = np.array([r[0] for r in rows], dtype=np.int64)
            self.ch_end = np.array([r[1] for r in rows], dtype=np.int64)
            marathon = np.array([r[2] == "marathon" for r in rows], dtype=bool)
            topic = rng.integers(0, len(V.TOPICS), n_ch)
            diff = np.where(marathon, rng.choice([2, 3], n_ch, p=[0.6, 0.4]),
                            rng.choice(4, n_ch, p=[0.3, 0.35, 0.25, 0.1]))
            self.ch_marathon, self.ch_difficulty = marathon, diff
            ended = self.ch_end <= ctx.until_ms
            updated = np.where(ended, self.ch_end, created)
            self.ch_ids = ulids(created, rng)
            self.ch_titles = []
            challenge_rows = []
            c_at, u_at = self.dt(created), self.dt(updated)
            s_at, e_at = self.dt(self.ch_start), self.dt(self.ch_end)
            difficulties = ("beginner", "intermediate", "advanced", "expert")
            for i, (_, _, kind, number) in enumerate(rows):
                tp = V.TOPICS[topic[i]]
                if kind == "sprint":
                    title = V.CHALLENGE_FORMATS["sprint"][0].format(t=tp.name, n=number)
                else:
                    label = np.datetime64(number, "M").astype(object).strftime("%B %Y")
                    title = V.CHALLENGE_FORMATS["marathon"][0].format(t=tp.name, m=label)
                self.ch_titles.append(title)
                description = V.CHALLENGE_FORMATS[kind][1].format(t=tp.name)
                challenge_rows.append((self.ch_ids[i], title, description, difficulties[diff[i]], s_at[i], e_at[i],
                                       0 if ended[i] else 1, c_at[i], u_at[i]))
        with t.on("Badge"):
            badge_rows = []
            self.badge_ids = np.empty((n_ch, len(V.CHALLENGE_BADGES)), dtype=object)
            self.badge_min = np.array([m for _, m in V.CHALLENGE_BADGES])
            b_ids = ulids(np.repeat(created, len(V.CHALLENGE_BADGES)), rng)
            for i in range(n_ch):
                for j, (name, minimum) in enumerate(V.CHALLENGE_BADGES):
                    bid = b_ids[i * len(V.CHALLENGE_BADGES) + j]
                    self.badge_ids[i, j] = bid
                    badge_rows.append((bid, name, f"Scored at least {minimum} in {self.ch_titles[i]}.",
                                       f"https://cdn.learnlab.test/badges/{name.lower()}.svg", minimum,
                                       self.ch_ids[i], c_at[i], c_at[i]))
            g_at = np.full(len(V.GLOBAL_BADGES), ctx.launch_ms - DAY_MS)
            self.global_badge_ids = ulids(g_at, rng)
            g_dt = self.dt(g_at)
            for k, (name, description) in enumerate(V.GLOBAL_BADGES):
                slug = name.lower().replace(" ", "-")
                badge_rows.append((self.global_badge_ids[k], name, description,
                                   f"https://cdn.learnlab.test/badges/{slug}.svg", None, None, g_dt[k], g_dt[k]))
        yield [("Challenge", challenge_rows), ("Badge", badge_rows)]

    # Users, their passwords and sessions.
    def users(self) -> Iterator[Chunk]:
        ctx, pop, t = self.ctx, self.pop, self.timings
        hashes = password_hashes(ctx.seed)
        first = [f for f in FIRST_NAMES]
        last = [x for x in LAST_NAMES]
        for b, part in enumerate(_slices(pop.n, ctx.batch_rows)):
            idx = np.arange(part.start, part.stop)
            with t.on("User"):
                ids = self.user_ids(idx)
                occ = pop.name_occurrence[part].tolist()
                f_idx, l_idx = pop.first[part].tolist(), pop.last[part].tolist()
                dom = pop.domain[part].tolist()
                has_name, has_username = pop.has_name[part].tolist(), pop.has_username[part].tolist()
                img_at = pop.image_at[part]
                keys = self._image_keys(idx)
                rows = []
                plans = _objects(PLANS)[pop.plan[part]].tolist()
                kind = np.where(pop.team_plan[part], "team", "individual").tolist()
                sub = pop.subscribed[part].astype(np.int64).tolist()
                seen, c_at, u_at = self.dt(pop.last_seen[part]), self.dt(pop.created[part]), self.dt(pop.updated[part])
                has_img = (img_at != NULL).tolist()
                for i in range(idx.shape[0]):
                    fn, ln = first[f_idx[i]], last[l_idx[i]]
                    suffix = "" if occ[i] == 0 else str(occ[i] + 1)
                    local = f"{fn.lower()}.{ln.lower()}{suffix}"
                    rows.append((ids[i], f"{local}@{V.EMAIL_DOMAINS[dom[i]]}", f"{fn} {ln}" if has_name[i] else None,
                                 f"{fn.lower()}_{ln.lower()}{suffix}" if has_username[i] else None,
                                 f"https://cdn.learnlab.test/{keys[i]}" if has_img[i] else None,
                                 sub[i], plans[i], kind[i], seen[i], c_at[i], u_at[i]))
            with t.on("Password"):
                has_pw = pop.password[part] >= 0
                pw = [(hashes[h], ids[i]) for i, h in enumerate(pop.password[part].tolist()) if h >= 0] \
                    if has_pw.any() else []
            with t.on("Session"):
                rng = ctx.rng("sessions", b)
                count = np.minimum(1 + rng.poisson(0.6 * pop.engagement[part]), 6)
                s_user = np.repeat(idx, count)
                s_at = between(rng, pop.created[s_user], pop.last_seen[s_user])
                order = np.argsort(s_at, kind="stable")
                s_user, s_at = s_user[order], s_at[order]
                s_ids = ulids(s_at, rng)
                expires = self.dt(s_at + 30 * DAY_MS)
                created = self.dt(s_at)
                uids = self.user_ids(s_user)
                sessions = list(zip(s_ids, expires, created, created, uids))
            yield [("User", rows), ("Password", pw), ("Session", sessions)]

    def _image_keys(self, idx: np.ndarray) -> list[str]:
        ids = self.user_ids(idx)
        keys = self.pop.image_key[idx].tolist()
        return [f"users/{uid.lower()}/{key:08x}.webp" for uid, key in zip(ids, keys)]

    # Teams, their settings, images (users' and teams'), memberships and all subscriptions.
    def teams(self) -> Iterator[Chunk]:
        ctx, pop, t = self.ctx, self.pop, self.timings
        rng = ctx.rng("team-rows")
        n_t = pop.n_teams
        with t.on("Team"):
            team_ids = decode(pop.team_ids)
            described = rng.random(n_t) < 0.6
            desc_pick = rng.integers(0, len(V.TOPICS), n_t)
            teams = [
                (team_ids[i], pop.team_name[i],
                 f"We learn {V.TOPICS[desc_pick[i]].name} together." if described[i] else None, c, u)
                for i, (c, u) in enumerate(zip(self.dt(pop.team_created), self.dt(pop.team_updated)))
            ]
        with t.on("TeamSettings"):
            subs = pop.subscriptions
            has_sub = np.zeros(n_t, dtype=bool)
            has_sub[subs.team[subs.team >= 0]] = True
            budget = _objects([5000, 10000, 20000, None])[rng.integers(0, 4, n_t)]
            budget[~has_sub] = None
            changed = rng.random(n_t) < 0.3
            s_updated = np.where(changed, between(rng, pop.team_created, np.full(n_t, ctx.until_ms)), pop.team_created)
            big = pop.team_size > 20
            max_members = np.where(big | (rng.random(n_t) < 0.1), 50, 25).tolist()
            invites = (rng.random(n_t) < 0.35).astype(np.int64).tolist()
            default_role = np.where(rng.random(n_t) < 0.03, "admin", "member").tolist()
            s_ids = ulids(pop.team_created, rng)
            settings = list(zip(s_ids, team_ids, max_members, invites, default_role, budget.tolist(),
                                self.dt(pop.team_created), self.dt(s_updated)))
        yield [("Team", teams), ("TeamSettings", settings)]

        owners = np.flatnonzero(pop.image_at != NULL)
        counter = 0
        for part in _slices(owners.shape[0], ctx.batch_rows):
            with t.on("Image"):
                who = owners[part]
                at = pop.image_at[who]
                ids = cuids(at, rng, start=counter)
                counter += who.shape[0]
                dt = self.dt(at)
                keys = self._image_keys(who)
                uids = self.user_ids(who)
                alt = np.where(rng.random(who.shape[0]) < 0.7, "Profile picture", None).tolist()
                images = list(zip(ids, keys, ["users"] * len(ids), alt, dt, dt, uids, [None] * len(ids)))
            yield [("Image", images)]
        with t.on("Image"):
            images = []
            teams_with = np.flatnonzero(pop.team_image_at != NULL)
            at = pop.team_image_at[teams_with]
            ids = cuids(at, rng, start=counter)
            dt = self.dt(at)
            for i, team in enumerate(teams_with.tolist()):
                images.append((ids[i], f"teams/{team_ids[team].lower()}/logo.png", "teams",
                               f"{pop.team_name[team]} logo", dt[i], dt[i], None, team_ids[team]))
        yield [("Image", images)]

        for part in _slices(pop.member_user.shape[0], ctx.batch_rows):
            with t.on("TeamMember"):
                ids = ulids(pop.member_joined[part], rng)
                roles = _objects(ROLES)[pop.member_role[part]].tolist()
                members = list(zip(ids, roles, self.dt(pop.member_joined[part]), self.dt(pop.member_updated[part]),
                                   self.user_ids(pop.member_user[part]), decode(pop.team_ids[pop.member_team[part]])))
            yield [("TeamMember", members)]

        subs = pop.subscriptions
        for b, part in enumerate(_slices(len(subs), ctx.batch_rows)):
            with t.on("Subscription"):
                user, team = subs.user[part], subs.team[part]
                uids = self.user_ids(np.maximum(user, 0))
                tids = decode(pop.team_ids[np.maximum(team, 0)])
                is_team = (team >= 0).tolist()
                # The payment provider's ids: random UUIDs (v4), from the seed.
                raw_ids = ctx.rng("subscription-ids", b).integers(0, 256, size=(len(uids), 16), dtype=np.uint8)
                provider_ids = [str(uuid.UUID(bytes=bytes(r), version=4)) for r in raw_ids]
                rows = [
                    (sid, provider_ids[i], None if is_team[i] else uids[i], tids[i] if is_team[i] else None, status,
                     "team" if is_team[i] else "individual", plan, amount, "USD", ps, pe, cancel, c, u)
                    for i, (sid, status, plan, amount, ps, pe, cancel, c, u) in enumerate(zip(
                        decode(subs.ids[part]), _objects(STATUSES)[subs.status[part]].tolist(),
                        _objects(PLANS)[subs.plan[part]].tolist(), subs.amount[part].tolist(),
                        self.dt_nullable(subs.period_start[part]), self.dt_nullable(subs.period_end[part]),
                        self.dt_nullable(subs.canceled[part]), self.dt(subs.created[part]), self.dt(subs.updated[part])))
                ]
            yield [("Subscription", rows)]

    # AI usage, in time order, window by window; RAG queries and their results alongside.
    def ai_usage(self) -> Iterator[Chunk]:
        ctx, pop, t = self.ctx, self.pop, self.timings
        with t.on("AIUsage"):
            tables = _AITables.get()
            windows = self._ai_windows()
        for w, (ws, we) in enumerate(windows):
            with t.on("AIUsage"):
                rng = ctx.rng("ai", w)
                hi = int(np.searchsorted(pop.created, we, side="left"))
                idx = np.flatnonzero(pop.last_seen[:hi] > ws)
                if idx.shape[0] == 0:
                    continue
                lo_t = np.maximum(pop.created[idx], ws)
                overlap = np.minimum(pop.last_seen[idx], we) - lo_t
                cdf = np.cumsum(pop.ai_rate[idx] * overlap / DAY_MS)
                total = float(cdf[-1])
                count = int(rng.poisson(total)) if total > 0 else 0
                if count == 0:
                    continue
                pick = np.minimum(np.searchsorted(cdf, rng.random(count) * total, side="right"), idx.shape[0] - 1)
                user = idx[pick]
                at = lo_t[pick] + (rng.random(count) * overlap[pick]).astype(np.int64)
                order = np.argsort(at, kind="stable")
                user, at = user[order], at[order]
            for part in _slices(count, ctx.batch_rows):
                yield self._ai_chunk(rng, tables, user[part], at[part])

    def _ai_windows(self) -> list[tuple[int, int]]:
        """Time windows of about ``batch_rows`` expected AIUsage rows each (whole days)."""
        ctx, pop = self.ctx, self.pop
        n_days = int(-(-(ctx.until_ms - ctx.launch_ms) // DAY_MS))
        d0 = (pop.created - ctx.launch_ms) // DAY_MS
        d1 = (pop.last_seen - ctx.launch_ms) // DAY_MS
        mass = np.zeros(n_days + 2)
        np.add.at(mass, d0, pop.ai_rate)
        np.add.at(mass, d1 + 1, -pop.ai_rate)
        per_day = np.cumsum(mass)[:n_days]
        cum = np.cumsum(np.maximum(per_day, 0))
        cuts = np.unique(np.searchsorted(cum, np.arange(ctx.batch_rows, cum[-1] if cum.size else 0, ctx.batch_rows)))
        bounds = [0, *[int(c) + 1 for c in cuts if 0 <= c < n_days - 1], n_days]
        bounds = sorted(set(bounds))
        edges = [ctx.launch_ms + b * DAY_MS for b in bounds]
        edges[-1] = ctx.until_ms
        return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]

    def _ai_chunk(self, rng: np.random.Generator, tb: "_AITables", user: np.ndarray, at: np.ndarray) -> Chunk:
        ctx, pop, t = self.ctx, self.pop, self.timings
        n = user.shape[0]
        with t.on("AIUsage"):
            kind = np.searchsorted(tb.type_cum, rng.random(n), side="right")
            plan = pop.plan[user]
            model = (rng.random(n)[:, None] > tb.model_cum[plan]).sum(axis=1)
            for _ in range(3):
                early = at < tb.released[model]
                if not early.any():
                    break
                model = np.where(early, tb.fallback[model], model)
            tok_in = np.maximum(rng.lognormal(tb.log_in[kind], 0.5), 8).astype(np.int64)
            tok_out = np.maximum(rng.lognormal(tb.log_out[kind], 0.6), 4).astype(np.int64)
            failed = rng.random(n) < tb.failure[model]
            # USD per million tokens -> cents: tokens * price / 1e6 * 100, rounded up to whole cents
            cost = np.ceil((tok_in * tb.price_in[model] + tok_out * tb.price_out[model]) / 1e4).astype(np.int64)
            tokens = np.where(failed, 0, tok_in + tok_out)
            cost = np.where(failed, 0, cost)
            topic = np.where(rng.random(n) < 0.6, pop.interest[user], rng.integers(0, len(V.TOPICS), n))
            prompt_idx = tb.prompt_off[kind, topic] + (rng.random(n) * tb.prompt_cnt[kind, topic]).astype(np.int64)
            resp_idx = tb.resp_off[kind, topic] + (rng.random(n) * tb.resp_cnt[kind, topic]).astype(np.int64)
            prompts = tb.prompts[prompt_idx]
            responses = tb.responses[resp_idx]
            responses[failed] = None
            errors = tb.errors[rng.integers(0, len(V.ERROR_MESSAGES), n)]
            errors[~failed] = None
            ids = ulids(at, rng)
            uids = self.user_ids(user)
            stamp = self.dt(at)
            usage = list(zip(ids, uids, tb.type_names[kind].tolist(), tb.model_names[model].tolist(),
                             prompts.tolist(), responses.tolist(), tokens.tolist(), cost.tolist(),
                             (~failed).astype(np.int64).tolist(), errors.tolist(), months(at), stamp, stamp))
        with t.on("RagQuery"):
            q = np.flatnonzero(kind == tb.rag_type)
            nq = q.shape[0]
            k = np.array([3, 5, 5, 8])[rng.integers(0, 4, nq)]
            k = np.minimum(k, self.pool_size[topic[q]])
            quality = np.clip(rng.normal(1.0, 0.08, nq), 0.7, 1.15)
            latency = np.round(rng.lognormal(np.log(38.0), 0.45, nq) + 2.0 * k, 1)
            given = (rng.random(nq) < 0.6) & ~failed[q]
            helpful = rng.random(nq) < np.clip(0.35 + (quality - 0.92) * 3.0, 0.05, 0.95)
            feedback = np.where(helpful, 1, -1).astype(object)
            feedback[~given] = None
            fb_at = np.minimum(at[q] + (rng.exponential(90.0, nq) * 1000).astype(np.int64) + 1,
                               np.minimum(pop.last_seen[user[q]], ctx.until_ms))
            fb_at = np.maximum(fb_at, at[q])
            q_updated = np.where(given, fb_at, at[q])
            q_ids = ulids(at[q], rng)
            q_stamp = [stamp[i] for i in q.tolist()]
            rag = list(zip(q_ids, [uids[i] for i in q.tolist()], [ids[i] for i in q.tolist()],
                           prompts[q].tolist(), [V.EMBEDDER] * nq, k.tolist(), latency.tolist(), feedback.tolist(),
                           q_stamp, self.dt(q_updated)))
        with t.on("RagQueryResult"):
            qrow = np.repeat(np.arange(nq), k)
            starts = np.repeat(np.cumsum(k) - k, k)
            j = np.arange(qrow.shape[0]) - starts
            qk = k[qrow]
            # k equal slices of the topic's top chunks, one pick in each: k distinct chunks
            top = qk * np.maximum(np.minimum(self.pool_size[topic[q]][qrow], 3 * qk) // qk, 1)
            pos = ((j + rng.random(qrow.shape[0])) / qk * top).astype(np.int64)
            tq = topic[q][qrow]
            chunk = self.pool_ids[tq, pos]
            score = np.round(np.minimum(self.pool_sims[tq, pos] * quality[qrow] + rng.normal(0, 0.015, qrow.shape[0]),
                                        0.99), 4)
            order = np.lexsort((-score, qrow))
            chunk, score = chunk[order], score[order]
            r_at = at[q][qrow]
            r_stamp = [q_stamp[i] for i in qrow.tolist()]
            results = list(zip(ulids(r_at, rng), [q_ids[i] for i in qrow.tolist()], chunk.tolist(),
                               (j + 1).tolist(), score.tolist(), r_stamp, r_stamp))
        return [("AIUsage", usage), ("RagQuery", rag), ("RagQueryResult", results)]

    # Challenge participation: scores, completions, leaderboards, badges, certificates.
    def participation(self) -> Iterator[Chunk]:
        ctx, pop, t = self.ctx, self.pop, self.timings
        buffer: dict[str, list] = defaultdict(list)
        cert_seq = 0
        difficulty_offset = np.array([12.0, 4.0, -5.0, -14.0])
        for c in range(len(self.ch_ids)):
            start, end = int(self.ch_start[c]), int(self.ch_end[c])
            if start > ctx.until_ms:
                continue
            with t.on("UserChallenge"):
                rng = ctx.rng("challenge", c)
                stop = min(end, ctx.until_ms)
                hi = int(np.searchsorted(pop.created, stop, side="left"))
                cand = np.flatnonzero(pop.last_seen[:hi] >= start)
                rate = 0.07 if self.ch_marathon[c] else 0.05
                p = np.clip(rate * pop.engagement[cand], 0, 0.9)
                who = cand[rng.random(cand.shape[0]) < p]
                m = who.shape[0]
                if m == 0:
                    continue
                lo = np.maximum(start, pop.created[who])
                hi_t = np.minimum(np.minimum(pop.last_seen[who], stop), ctx.until_ms)
                joined = between(rng, lo, hi_t, 1.8)
                raw = 55 + 15 * pop.skill[who] + difficulty_offset[self.ch_difficulty[c]] + rng.normal(0, 10, m)
                score = np.clip(np.round(raw), 0, 100).astype(np.int64)
                score[rng.random(m) < 0.12] = 0
                done = (score >= 40) & (rng.random(m) < np.clip((score - 30) / 70, 0, 0.95))
                last_update = between(rng, joined, hi_t)
                completed = np.where(done, last_update, NULL)
                updated = np.where(score == 0, joined, last_update)
                order = np.argsort(joined, kind="stable")
                who, joined, score, completed, updated = who[order], joined[order], score[order], completed[order], \
                    updated[order]
                done = done[order]
                uids = self.user_ids(who)
                uc_ids = ulids(joined, rng)
                j_at = self.dt(joined)
                u_at = self.dt(updated)
                buffer["UserChallenge"].extend(zip(uc_ids, score.tolist(), self.dt_nullable(completed), j_at, u_at,
                                                   uids, [self.ch_ids[c]] * m))
            with t.on("LeaderboardEntry"):
                ranked = np.sort(score)
                rank = m - np.searchsorted(ranked, score, side="right") + 1  # 1, 2, 2, 4
                last_change = int(updated.max())
                buffer["LeaderboardEntry"].extend(zip(ulids(joined, rng), [self.ch_ids[c]] * m, uids, score.tolist(),
                                                      rank.tolist(), j_at, self.dt(np.full(m, last_change))))
            with t.on("UserChallengeBadge"):
                for b, minimum in enumerate(self.badge_min.tolist()):
                    got = np.flatnonzero(score >= minimum)
                    if got.shape[0]:
                        at = self.dt(updated[got])
                        buffer["UserChallengeBadge"].extend(zip(ulids(updated[got], rng), [uids[i] for i in got.tolist()],
                                                                [self.badge_ids[c, b]] * got.shape[0], at, at))
            with t.on("TeamCertificate"):
                team = pop.primary_team[who]
                cert = done & (team >= 0) & (pop.primary_joined[who] <= completed) & (rng.random(m) < 0.35)
                cw = np.flatnonzero(cert)
                if cw.shape[0]:
                    issued = between(rng, completed[cw], np.minimum(completed[cw] + 3 * DAY_MS, ctx.until_ms))
                    expires = np.where(rng.random(cw.shape[0]) < 0.8, issued + 730 * DAY_MS, NULL)
                    revoked = np.where(rng.random(cw.shape[0]) < 0.03, between(rng, issued, np.full(cw.shape[0],
                                                                                                ctx.until_ms)), NULL)
                    c_updated = np.where(revoked != NULL, revoked, issued)
                    i_at = self.dt(issued)
                    year = (issued.astype("datetime64[ms]").astype("datetime64[Y]").astype(np.int64) + 1970).tolist()
                    tail = decode(ulids_bytes(issued, rng))  # random characters; the sequence makes codes unique
                    codes = [f"LL-{y}-{cert_seq + i:07d}-{tail[i][-5:]}" for i, y in enumerate(year)]
                    cert_seq += cw.shape[0]
                    buffer["TeamCertificate"].extend(zip(
                        ulids(issued, rng), decode(pop.team_ids[team[cw]]), [uids[i] for i in cw.tolist()],
                        [self.ch_ids[c]] * cw.shape[0], [f"{self.ch_titles[c]}: completed"] * cw.shape[0], codes,
                        i_at, self.dt_nullable(expires), self.dt_nullable(revoked), i_at, self.dt(c_updated)))
            if len(buffer["UserChallenge"]) >= ctx.batch_rows:
                yield self._flush(buffer)
        if buffer["UserChallenge"]:
            yield self._flush(buffer)

    @staticmethod
    def _flush(buffer: dict[str, list]) -> Chunk:
        order = ("UserChallenge", "LeaderboardEntry", "UserChallengeBadge", "TeamCertificate")
        chunk = [(table, buffer.pop(table, [])) for table in order]
        return chunk

    # Badges awarded by hand: early adopters, team admins, community stars.
    def global_badges(self) -> Iterator[Chunk]:
        ctx, pop, t = self.ctx, self.pop, self.timings
        with t.on("UserChallengeBadge"):
            rng = ctx.rng("global-badges")
            early = np.flatnonzero(pop.created < ctx.launch_ms + 30 * DAY_MS)
            admins = pop.member_role == 1
            a_user, a_first = np.unique(pop.member_user[admins], return_index=True)
            a_at = pop.member_updated[admins][a_first]
            star = np.flatnonzero(rng.random(pop.n) < 0.003)
            s_at = between(rng, pop.created[star], pop.last_seen[star])
            rows = []
            for badge, who, at in ((0, early, pop.created[early]), (1, a_user, a_at), (2, star, s_at)):
                stamp = self.dt(at)
                rows.extend(zip(ulids(at, rng), self.user_ids(who), [self.global_badge_ids[badge]] * who.shape[0],
                                stamp, stamp))
        yield [("UserChallengeBadge", rows)]

    # Query monitoring: hourly aggregates per statement for the last 14 days, and slow samples.
    def monitoring(self) -> Iterator[Chunk]:
        ctx, t = self.ctx, self.timings
        with t.on("QueryStat"):
            rng = ctx.rng("monitoring")
            end = ctx.until_ms // HOUR_MS * HOUR_MS
            buckets = np.arange(end - 14 * DAY_MS, end, HOUR_MS, dtype=np.int64)
            hour = (buckets // HOUR_MS) % 24
            diurnal = 0.35 + 0.65 * (1 + np.sin(2 * np.pi * (hour - 9) / 24)) / 2
            stats, slow = [], []
            for statement, source, per_hour, typical, rows_per in V.MONITORED_STATEMENTS:
                fp = fingerprint(statement)
                text = normalize(statement)
                calls = rng.poisson(per_hour * ctx.n / 1000 * diurnal)
                live = calls > 0
                b, c = buckets[live], calls[live]
                nb = b.shape[0]
                if nb == 0:
                    continue
                load = c / np.maximum(per_hour * ctx.n / 1000 * diurnal[live], 1e-9)
                mean = typical * rng.lognormal(0, 0.25, nb) * (1 + 0.3 * np.clip(load - 1, 0, 3))
                p95 = mean * rng.uniform(1.6, 3.0, nb)
                mx = p95 * (1 + rng.exponential(0.6, nb))
                single = c == 1
                p95 = np.where(single, mean, p95)
                mx = np.where(single, mean, mx)
                total = np.round(mean * c, 3)
                mx, p95 = np.round(mx, 3), np.round(p95, 3)
                mx = np.maximum(mx, np.maximum(p95, np.round(total / c, 3)))
                n_rows = np.round(c * rows_per * rng.uniform(0.8, 1.2, nb)).astype(np.int64)
                created = b + MINUTE_MS
                updated = b + HOUR_MS - 1000
                stats.extend(zip(ulids(created, rng), [fp] * nb, [text] * nb, [source] * nb, self.dt(b), c.tolist(),
                                 total.tolist(), mx.tolist(), p95.tolist(), n_rows.tolist(), self.dt(created),
                                 self.dt(updated)))
                # Slow samples: the slowest call of every bucket over the threshold, and a few more.
                over = np.flatnonzero(mx > V.SLOW_QUERY_MS)
                if over.shape[0] == 0:
                    continue
                extra = np.minimum(np.where(p95[over] > V.SLOW_QUERY_MS, c[over] // 50, 0), 2)
                s_bucket = np.repeat(over, 1 + extra)
                first = np.r_[True, s_bucket[1:] != s_bucket[:-1]]
                dur = np.where(first, mx[s_bucket],
                               V.SLOW_QUERY_MS + rng.random(s_bucket.shape[0]) * (mx[s_bucket] - V.SLOW_QUERY_MS))
                dur = np.maximum(dur, V.SLOW_QUERY_MS + 0.001)
                occurred = b[s_bucket] + (rng.random(s_bucket.shape[0]) * (HOUR_MS - 1000)).astype(np.int64)
                s_created = np.minimum(occurred + np.ceil(dur).astype(np.int64), ctx.until_ms)
                stamp = self.dt(s_created)
                plan = V.plan_for(statement)
                slow.extend(zip(ulids(s_created, rng), [fp] * s_bucket.shape[0], [text] * s_bucket.shape[0],
                                [source] * s_bucket.shape[0], np.round(dur, 3).tolist(), [plan] * s_bucket.shape[0],
                                self.dt(occurred), stamp, stamp))
        yield [("QueryStat", stats), ("SlowQuery", slow)]


@dataclass
class _AITables:
    """Lookup tables for AI usage rows (prompts, responses, models, prices), built once per seed."""

    type_names: np.ndarray
    type_cum: np.ndarray
    rag_type: int
    log_in: np.ndarray
    log_out: np.ndarray
    model_names: np.ndarray
    model_cum: np.ndarray
    released: np.ndarray
    fallback: np.ndarray
    failure: np.ndarray
    price_in: np.ndarray  # USD per million input tokens
    price_out: np.ndarray
    prompts: np.ndarray
    prompt_off: np.ndarray
    prompt_cnt: np.ndarray
    responses: np.ndarray
    resp_off: np.ndarray
    resp_cnt: np.ndarray
    errors: np.ndarray

    @staticmethod
    @lru_cache(maxsize=1)
    def get() -> "_AITables":
        types = list(V.AI_TYPES)
        share = np.array([V.AI_TYPES[k][0] for k in types])
        names = [m.name for m in V.AI_MODELS]
        weights = np.zeros((len(PLANS), len(names)))
        for p, plan in enumerate(PLANS):
            for name, w in V.MODEL_WEIGHTS_BY_PLAN[plan].items():
                weights[p, names.index(name)] = w
        weights /= weights.sum(axis=1, keepdims=True)
        model_cum = np.cumsum(weights, axis=1)
        model_cum[:, -1] = 1.0 + 1e-9
        released = np.array([np.datetime64(m.released, "ms").astype(np.int64) for m in V.AI_MODELS])
        fallback = np.array([names.index(m.fallback) if m.fallback else i for i, m in enumerate(V.AI_MODELS)])
        prompt_sets = {
            "learning_assistant": V.LEARNING_PROMPTS + V.QUESTION_TEMPLATES,
            "code_review": V.CODE_REVIEW_PROMPTS,
            "quiz_generation": V.QUIZ_PROMPTS,
            "content_summary": V.SUMMARY_PROMPTS,
            "rag_query": V.QUESTION_TEMPLATES,
        }
        prompts, p_off, p_cnt = _texts(types, prompt_sets)
        responses, r_off, r_cnt = _texts(types, V.RESPONSE_TEMPLATES)
        errors = _objects(V.ERROR_MESSAGES)
        return _AITables(
            type_names=_objects(types), type_cum=np.r_[np.cumsum(share)[:-1] / share.sum(), 1.0 + 1e-9],
            rag_type=types.index("rag_query"),
            log_in=np.log([V.AI_TYPES[k][1] for k in types]), log_out=np.log([V.AI_TYPES[k][2] for k in types]),
            model_names=_objects(names), model_cum=model_cum, released=released, fallback=fallback,
            failure=np.array([m.failure_rate for m in V.AI_MODELS]),
            price_in=np.array([m.input_usd_per_mtok for m in V.AI_MODELS]),
            price_out=np.array([m.output_usd_per_mtok for m in V.AI_MODELS]),
            prompts=prompts, prompt_off=p_off, prompt_cnt=p_cnt, responses=responses, resp_off=r_off,
            resp_cnt=r_cnt, errors=errors,
        )


def _texts(types: list[str], templates: dict[str, tuple[str, ...]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every template filled for every topic and pair of concepts; offsets/counts per (type, topic)."""
    texts: list[str] = []
    off = np.zeros((len(types), len(V.TOPICS)), dtype=np.int64)
    cnt = np.zeros((len(types), len(V.TOPICS)), dtype=np.int64)
    for a, kind in enumerate(types):
        for b, tp in enumerate(V.TOPICS):
            off[a, b] = len(texts)
            seen = dict.fromkeys(
                V.fill(tpl, tp, i, j)
                for tpl in templates[kind] for i in range(len(tp.concepts)) for j in range(1, 3)
            )
            texts.extend(seen)
            cnt[a, b] = len(texts) - off[a, b]
    return _objects(texts), off, cnt
