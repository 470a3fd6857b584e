"""The words the seed data is made of: names, topics, prompts, models and their prices, statements.

Everything here is plain data (no randomness); ``seeds.generate`` picks from it with a
seeded RNG. Topics belong to areas, and the embeddings follow that structure: chunks of
one topic are close to each other, topics of one area closer than topics of different areas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FIRST_NAMES = (
    "Ada Alan Grace Linus Margaret Dennis Barbara Ken Radia Guido Frances Edsger Katherine Tim Hedy "
    "Donald Sophie John Mary Niklaus Anita Bjarne Jean Leslie Annie Yukihiro Fran Larry Ruth Brian "
    "Adele Rob Shafi Whitfield Karen Martin Lynn James Evelyn Andrew Joan Vint Hannah Robert Carol "
    "Marvin Amina Kofi Wei Mei Hiroshi Yuki Priya Arjun Fatima Omar Lucia Mateo Sofia Diego Chloe Liam "
    "Emma Noah Olivia Lucas Mia Elias Lea Jonas Lina Felix Ana Pedro Ines Tiago Nora Ivan Olga Dmitri "
    "Zara Kwame Ngozi Chidi Aisha Tariq Leila Reza Sara Yosef Noa Mehmet Elif Kenji Aiko Minh Linh "
    "Jia Hao Sven Astrid Ingrid Mikael Aino Eero Zofia Piotr Milan Petra Luca Giulia Marco Chiara"
).split()

LAST_NAMES = (
    "Lovelace Turing Hopper Torvalds Hamilton Ritchie Liskov Thompson Perlman Rossum Allen Dijkstra "
    "Johnson Berners Lamarr Knuth Wilson Backus Keller Wirth Borg Stroustrup Sammet Lamport Easley "
    "Matsumoto Bilas Page Teitelbaum Kernighan Goldberg Pike Goldwasser Diffie Jones Fowler Conway "
    "Gosling Berezin Ng Clarke Cerf Fry Tarjan Shaw Minsky Mensah Okafor Zhang Chen Tanaka Sato Sharma "
    "Patel Haddad Khan Garcia Fernandez Rossi Lopez Martin Dubois Silva Schmidt Muller Novak Horvat "
    "Kowalski Nowak Ivanova Petrov Adeyemi Mwangi Nakamura Kim Park Nguyen Tran Andersson Nielsen "
    "Virtanen Korhonen Jensen Costa Santos Romano Greco Ferrari Yilmaz Demir Cohen Levi Rahman Hosseini"
).split()

EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "learnlab.test")

# Seeded users can sign in with this password: their hashes are real argon2id hashes of it.
DEV_PASSWORD = "learnlab-dev-password"


@dataclass(frozen=True)
class Topic:
    name: str
    area: str
    language: str
    concepts: tuple[str, ...]

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


TOPICS: tuple[Topic, ...] = (
    Topic("Python basics", "python", "python", ("list comprehensions", "dictionaries", "functions", "exceptions",
                                               "modules", "f-strings", "iterators")),
    Topic("Python async", "python", "python", ("coroutines", "the event loop", "asyncio tasks", "async generators",
                                              "cancellation", "timeouts", "semaphores")),
    Topic("Python testing", "python", "python", ("pytest fixtures", "parametrised tests", "mocking",
                                                "property-based testing", "test coverage", "assertions")),
    Topic("JavaScript fundamentals", "web", "javascript", ("closures", "promises", "the prototype chain",
                                                          "array methods", "destructuring", "modules", "events")),
    Topic("React", "web", "tsx", ("hooks", "useEffect", "component state", "props", "context", "memoisation",
                                 "server components")),
    Topic("TypeScript", "web", "typescript", ("generics", "union types", "type narrowing", "interfaces",
                                             "mapped types", "strict mode")),
    Topic("CSS layout", "web", "css", ("flexbox", "grid", "media queries", "the box model", "positioning",
                                      "container queries")),
    Topic("SQL queries", "data", "sql", ("joins", "window functions", "GROUP BY", "subqueries", "indexes",
                                        "common table expressions", "NULL handling")),
    Topic("Data modeling", "data", "sql", ("normal forms", "foreign keys", "star schemas", "surrogate keys",
                                          "slowly changing dimensions", "constraints")),
    Topic("Pandas", "data", "python", ("DataFrames", "groupby", "merges", "time series", "missing values",
                                      "vectorised operations")),
    Topic("Rust ownership", "systems", "rust", ("borrowing", "lifetimes", "the borrow checker", "smart pointers",
                                               "move semantics", "traits")),
    Topic("Go concurrency", "systems", "go", ("goroutines", "channels", "select", "sync.WaitGroup", "mutexes",
                                             "contexts")),
    Topic("Linux shell", "systems", "bash", ("pipes", "grep", "file permissions", "processes", "environment variables",
                                            "shell scripts")),
    Topic("Git", "systems", "bash", ("branches", "rebasing", "merge conflicts", "commits", "remotes", "bisect")),
    Topic("Machine learning basics", "ml", "python", ("overfitting", "cross-validation", "gradient descent",
                                                     "feature scaling", "regularisation", "loss functions")),
    Topic("Neural networks", "ml", "python", ("backpropagation", "activation functions", "convolutions",
                                             "attention", "embeddings", "batch normalisation")),
    Topic("LLM prompting", "ml", "text", ("few-shot prompts", "system prompts", "retrieval-augmented generation",
                                         "chain of thought", "temperature", "tool calling")),
)

AREAS = tuple(dict.fromkeys(t.area for t in TOPICS))

QUESTION_TEMPLATES = (
    "How do I use {c} in {t}?",
    "What is the difference between {c} and {c2}?",
    "Can you explain {c} with an example?",
    "Why does my {t} code fail when I use {c}?",
    "When should I prefer {c} over {c2}?",
    "What are common mistakes with {c}?",
    "What are the best practices for {c} in {t}?",
    "How does {c} work under the hood?",
)

LEARNING_PROMPTS = (
    "Explain {c} in {t} like I am new to programming.",
    "Give me three exercises to practise {c}.",
    "Summarise the key ideas of {c} in five bullet points.",
    "I am stuck on {c}: walk me through it step by step.",
)

CODE_REVIEW_PROMPTS = (
    "Review this {lang} snippet that uses {c} and point out bugs.",
    "Is this a good way to apply {c} in {lang}? Suggest improvements.",
    "Refactor my {lang} code around {c} for readability.",
)

QUIZ_PROMPTS = (
    "Write a 5-question multiple-choice quiz on {c}.",
    "Create a short quiz about {t} focusing on {c}.",
)

SUMMARY_PROMPTS = (
    "Summarise the lesson '{t}: {c}' in one paragraph.",
    "Give me the TL;DR of the chapter on {c}.",
)

RESPONSE_TEMPLATES = {
    "learning_assistant": (
        "{C} is one of the core ideas of {t}. Start with a small example, then change one thing at a time.",
        "Think of {c} as a tool for a specific job: here is how it fits into {t}, with a short example.",
        "Step 1: understand what {c} is for. Step 2: try it on a toy problem. Step 3: compare with {c2}.",
    ),
    "code_review": (
        "The code works, but {c} is used in a way that hides an edge case; consider handling it explicitly.",
        "Two issues: naming, and how {c} interacts with {c2}. A corrected version is below.",
        "Looks good overall. Small suggestion: extract the {c} logic into its own function.",
    ),
    "quiz_generation": (
        "1. What does {c} do? 2. When would you use {c2}? 3. Spot the bug. 4. True or false. 5. Explain.",
        "Quiz on {c}: five questions with answers and a short explanation for each.",
    ),
    "content_summary": (
        "The lesson covers {c} and {c2} in {t}, their trade-offs, and a worked example.",
        "In short: {c} matters because it keeps {t} code correct; the chapter ends with exercises.",
    ),
    "rag_query": (
        "Based on the course notes on {t}: {c} is explained in the sections retrieved, with an example.",
        "According to the retrieved passages, {c} differs from {c2} mainly in how state is handled.",
    ),
}

ERROR_MESSAGES = (
    "rate_limit_exceeded: too many requests, retry after 20s",
    "upstream timeout after 30000 ms",
    "context_length_exceeded: the prompt is longer than the model's context window",
    "content_filter: the response was blocked by the provider's safety system",
    "provider_unavailable: 503 Service Unavailable",
)


@dataclass(frozen=True)
class AIModel:
    name: str
    input_usd_per_mtok: float  # price per million input tokens
    output_usd_per_mtok: float  # price per million output tokens
    released: str  # first day the platform could use it (YYYY-MM-DD)
    fallback: str | None  # what was used before it existed
    failure_rate: float


AI_MODELS: tuple[AIModel, ...] = (
    AIModel("gpt-3.5-turbo", 0.50, 1.50, "2023-01-01", None, 0.03),
    AIModel("gpt-4-turbo", 10.00, 30.00, "2023-11-06", None, 0.03),
    AIModel("claude-3-haiku-20240307", 0.25, 1.25, "2024-03-13", "gpt-3.5-turbo", 0.02),
    AIModel("gpt-4o", 2.50, 10.00, "2024-05-13", "gpt-4-turbo", 0.02),
    AIModel("gpt-4o-mini", 0.15, 0.60, "2024-07-18", "gpt-3.5-turbo", 0.015),
    AIModel("claude-3-5-sonnet-20241022", 3.00, 15.00, "2024-10-22", "gpt-4-turbo", 0.025),
    AIModel("o3-mini", 1.10, 4.40, "2025-01-31", "gpt-4o", 0.03),
    AIModel("gemini-2.0-flash", 0.10, 0.40, "2025-02-05", "gpt-4o-mini", 0.02),
)

# Which models each plan's users mostly get (weights over AI_MODELS; older models replace
# newer ones before their release).
MODEL_WEIGHTS_BY_PLAN = {
    "basic": {"gpt-4o-mini": 0.55, "claude-3-haiku-20240307": 0.30, "gemini-2.0-flash": 0.15},
    "premium": {"gpt-4o-mini": 0.30, "claude-3-haiku-20240307": 0.15, "gpt-4o": 0.30,
                "claude-3-5-sonnet-20241022": 0.20, "gemini-2.0-flash": 0.05},
    "pro": {"gpt-4o": 0.35, "claude-3-5-sonnet-20241022": 0.35, "o3-mini": 0.15, "gpt-4o-mini": 0.15},
}

# AIUsage types: share of calls, and (median input tokens, median output tokens).
AI_TYPES = {
    "learning_assistant": (0.42, 700, 450),
    "code_review": (0.17, 1800, 650),
    "quiz_generation": (0.15, 500, 900),
    "content_summary": (0.14, 2600, 350),
    "rag_query": (0.12, 1900, 400),  # retrieved context makes the prompt long
}

EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 384

PLAN_PRICES_CENTS = {"basic": 0, "premium": 900, "pro": 1900}

TEAM_ADJECTIVES = (
    "Agile Binary Curious Daring Electric Fearless Golden Hidden Infinite Jolly Kinetic Lucid Mighty "
    "Nimble Open Quantum Rapid Silent Tidal Unstoppable Vivid Wired Young Zen"
).split()
TEAM_NOUNS = (
    "Badgers Comets Dolphins Falcons Foxes Gophers Hackers Koalas Lambdas Lynxes Owls Pandas Pythons "
    "Ravens Rockets Sloths Squirrels Tigers Vectors Wombats"
).split()

CHALLENGE_FORMATS = {
    "sprint": ("{t} Sprint #{n}", "A one-week sprint: solve as many {t} exercises as you can."),
    "marathon": ("{m} {t} Marathon", "A month-long marathon of {t} projects, from warm-up to expert level."),
}

GLOBAL_BADGES = (
    ("Early Adopter", "Joined in the first month after launch."),
    ("Team Player", "Helps run a team as an admin."),
    ("Community Star", "Recognised by the community team for outstanding help."),
)
CHALLENGE_BADGES = (("Bronze", 50), ("Silver", 75), ("Gold", 90))

CODE_SNIPPETS = {
    "python": "def total(items):\n    return sum(item.price for item in items)\n",
    "javascript": "const total = (items) => items.reduce((s, i) => s + i.price, 0);\n",
    "tsx": "export function Counter() {\n  const [n, setN] = useState(0);\n  return <button onClick={() => setN(n + 1)}>{n}</button>;\n}\n",
    "typescript": "function first<T>(xs: T[]): T | undefined {\n  return xs[0];\n}\n",
    "css": ".grid {\n  display: grid;\n  grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr));\n}\n",
    "sql": 'SELECT u.id, count(*) AS n\nFROM "User" u JOIN "AIUsage" a ON a."userId" = u.id\nGROUP BY u.id;\n',
    "rust": "fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {\n    if a.len() > b.len() { a } else { b }\n}\n",
    "go": "for i := 0; i < n; i++ {\n    go func(i int) { results <- work(i) }(i)\n}\n",
    "bash": "grep -rn 'TODO' src/ | sort | uniq -c | sort -rn | head\n",
    "text": "You are a helpful tutor. Answer using only the context below.\n",
}

CHUNK_SENTENCES = (
    "{C} is a central idea in {t}.",
    "Used well, {c} makes programs easier to read and to change.",
    "A common pitfall is to confuse {c} with {c2}.",
    "The example below shows {c} in a realistic setting.",
    "Before moving on, make sure you can explain {c} in your own words.",
    "Performance matters less than clarity here: reach for {c} when it simplifies the code.",
    "Most bugs around {c} come from edge cases such as empty inputs.",
    "Compare this approach with {c2} and note the trade-offs.",
)

# Query monitoring (fingerprints and normal forms from ``learnlab.monitoring``): statements, where
# they come from, and how they behave: (statement, source, calls per hour per 1000 users, typical ms, rows per call).
MONITORED_STATEMENTS = (
    ('SELECT "User"."id", "User"."email", "User"."plan" FROM "User" WHERE "User"."id" = ? LIMIT ?',
     "prisma:app", 900.0, 0.4, 1),
    ('SELECT "Session"."id", "Session"."userId" FROM "Session" WHERE "Session"."id" = ? AND '
     '"Session"."expirationDate" > ?', "prisma:app", 1200.0, 0.3, 1),
    ('INSERT INTO "AIUsage" ("id", "userId", "type", "model", "prompt", "tokensUsed", "costInCents", "success", '
     '"usageMonth", "createdAt", "updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', "prisma:app", 60.0, 1.2, 1),
    ('SELECT sum("AIUsage"."costInCents") FROM "AIUsage" WHERE "AIUsage"."userId" = ? AND "AIUsage"."usageMonth" = ?',
     "prisma:app", 80.0, 2.5, 1),
    ('SELECT "Challenge"."id", "Challenge"."title" FROM "Challenge" WHERE "Challenge"."isActive" = ? '
     'ORDER BY "Challenge"."startDate" DESC LIMIT ?', "prisma:app", 150.0, 0.8, 10),
    ('SELECT "LeaderboardEntry"."userId", "LeaderboardEntry"."score", "LeaderboardEntry"."rank" FROM '
     '"LeaderboardEntry" WHERE "LeaderboardEntry"."challengeId" = ? ORDER BY "LeaderboardEntry"."rank" LIMIT ?',
     "prisma:app", 120.0, 3.5, 50),
    ('UPDATE "UserChallenge" SET "score" = ?, "updatedAt" = ? WHERE "UserChallenge"."id" = ?',
     "prisma:app", 40.0, 1.5, 1),
    ('SELECT "DocumentChunk"."id", "DocumentChunk"."embedding" FROM "DocumentChunk" WHERE '
     '"DocumentChunk"."documentId" IN (?)', "learnlab:rag", 12.0, 18.0, 120),
    ('INSERT INTO "RagQuery" ("id", "userId", "aiUsageId", "query", "embedder", "k", "latencyMs", "createdAt", '
     '"updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', "learnlab:rag", 7.0, 0.9, 1),
    ('SELECT "Subscription"."id", "Subscription"."status" FROM "Subscription" WHERE "Subscription"."userId" = ? '
     'ORDER BY "Subscription"."createdAt" DESC LIMIT ?', "prisma:app", 50.0, 0.6, 1),
    ('SELECT "TeamMember"."teamId", "TeamMember"."role" FROM "TeamMember" WHERE "TeamMember"."userId" = ?',
     "prisma:app", 70.0, 0.5, 2),
    ('SELECT * FROM "AIUsage" WHERE "updatedAt" > ? ORDER BY "updatedAt", "id" LIMIT ?',
     "learnlab:mirror", 2.0, 45.0, 5000),
    ('SELECT * FROM "User" WHERE "updatedAt" > ? ORDER BY "updatedAt", "id" LIMIT ?',
     "learnlab:mirror", 1.0, 12.0, 800),
    ('SELECT "usageMonth", "model", sum("costInCents") FROM "AIUsage" GROUP BY "usageMonth", "model"',
     "notebook:analytics", 0.3, 160.0, 200),
)

SLOW_QUERY_MS = 20.0


def plan_for(statement: str) -> str | None:
    """A plausible ``EXPLAIN QUERY PLAN`` line for a monitored statement (none for INSERTs, as the monitor)."""
    table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', statement)
    name = table.group(1) if table else "?"
    if statement.startswith("INSERT"):
        return None
    if "GROUP BY" in statement and "WHERE" not in statement:
        return f"SCAN {name}\nUSE TEMP B-TREE FOR GROUP BY"
    if '"updatedAt" >' in statement:
        return f"SEARCH {name} USING INDEX {name}_updatedAt_idx (updatedAt>?)"
    if '"id" = ?' in statement:
        return f"SEARCH {name} USING INDEX sqlite_autoindex_{name}_1 (id=?)"
    return f"SEARCH {name} USING INDEX {name}_{'challengeId' if 'challengeId' in statement else 'userId'}_idx"


def fill(template: str, topic: Topic, i: int, j: int) -> str:
    """``template`` with ``{t}``, ``{c}``, ``{C}``, ``{c2}``, ``{lang}`` of ``topic`` (concepts i, j)."""
    c = topic.concepts[i % len(topic.concepts)]
    c2 = topic.concepts[j % len(topic.concepts)]
    if c2 == c:
        c2 = topic.concepts[(i + 1) % len(topic.concepts)]
    return template.format(t=topic.name, c=c, C=c[:1].upper() + c[1:], c2=c2, lang=topic.language)
