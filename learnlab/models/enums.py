"""The schema's 8 enums, stored by name in TEXT columns."""

from __future__ import annotations

from enum import StrEnum


class Plan(StrEnum):
    basic = "basic"
    premium = "premium"
    pro = "pro"


class SubscriptionType(StrEnum):
    individual = "individual"
    team = "team"


class ImagePath(StrEnum):
    users = "users"
    teams = "teams"
    certificates = "certificates"


class ChunkType(StrEnum):
    TEXT = "TEXT"
    CODE = "CODE"
    TABLE = "TABLE"
    HEADING = "HEADING"


class AIUsageType(StrEnum):
    learning_assistant = "learning_assistant"
    code_review = "code_review"
    quiz_generation = "quiz_generation"
    content_summary = "content_summary"
    rag_query = "rag_query"


class SubscriptionStatus(StrEnum):
    incomplete = "incomplete"
    incomplete_expired = "incomplete_expired"
    trialing = "trialing"
    active = "active"
    past_due = "past_due"
    canceled = "canceled"
    unpaid = "unpaid"


class TeamRole(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"


class ChallengeDifficulty(StrEnum):
    beginner = "beginner"
    intermediate = "intermediate"
    advanced = "advanced"
    expert = "expert"


ALL_ENUMS = (Plan, SubscriptionType, ImagePath, ChunkType, AIUsageType, SubscriptionStatus, TeamRole, ChallengeDifficulty)
