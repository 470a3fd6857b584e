"""init: the whole schema, as Prisma's 0_init

Revision ID: 0001_init
Revises: 
Create Date: 2026-11-25 10:45:57.488307
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from learnlab.db.types import SQLType
from learnlab.migrate import forget_prisma_migration, record_prisma_migration

revision = '0001_init'
down_revision = None
branch_labels = None
depends_on = None

# The Prisma migration this revision matches (folder under prisma/migrations), or None.
prisma_migration = "0_init"


def upgrade() -> None:

    op.create_table('Challenge',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('difficulty', sa.Text(), nullable=False),
    sa.Column('startDate', sa.DATETIME(), nullable=False),
    sa.Column('endDate', sa.DATETIME(), nullable=False),
    sa.Column('isActive', sa.BOOLEAN(), server_default=sa.text('true'), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('Challenge', schema=None) as batch_op:
        batch_op.create_index('Challenge_isActive_startDate_idx', ['isActive', 'startDate'], unique=False)
        batch_op.create_index('Challenge_updatedAt_idx', ['updatedAt'], unique=False)

    op.create_table('Document',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('Document', schema=None) as batch_op:
        batch_op.create_index('Document_updatedAt_idx', ['updatedAt'], unique=False)

    op.create_table('QueryStat',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.Text(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('bucketStart', sa.DATETIME(), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('totalMs', sa.REAL(), nullable=False),
    sa.Column('maxMs', sa.REAL(), nullable=False),
    sa.Column('p95Ms', sa.REAL(), nullable=False),
    sa.Column('rows', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('QueryStat', schema=None) as batch_op:
        batch_op.create_index('QueryStat_bucketStart_idx', ['bucketStart'], unique=False)
        batch_op.create_index('QueryStat_fingerprint_source_bucketStart_key', ['fingerprint', 'source', 'bucketStart'], unique=True)
        batch_op.create_index('QueryStat_updatedAt_idx', ['updatedAt'], unique=False)

    op.create_table('SlowQuery',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.Text(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('durationMs', sa.REAL(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=True),
    sa.Column('occurredAt', sa.DATETIME(), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('SlowQuery', schema=None) as batch_op:
        batch_op.create_index('SlowQuery_fingerprint_idx', ['fingerprint'], unique=False)
        batch_op.create_index('SlowQuery_occurredAt_idx', ['occurredAt'], unique=False)
        batch_op.create_index('SlowQuery_updatedAt_idx', ['updatedAt'], unique=False)

    op.create_table('Team',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('Team', schema=None) as batch_op:
        batch_op.create_index('Team_updatedAt_idx', ['updatedAt'], unique=False)

    op.create_table('User',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('username', sa.Text(), nullable=True),
    sa.Column('imageUrl', sa.Text(), nullable=True),
    sa.Column('isSubscribed', sa.BOOLEAN(), server_default=sa.text('false'), nullable=False),
    sa.Column('plan', sa.Text(), server_default='basic', nullable=False),
    sa.Column('subscriptionType', sa.Text(), server_default='individual', nullable=False),
    sa.Column('lastSeenAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('User', schema=None) as batch_op:
        batch_op.create_index('User_email_key', ['email'], unique=True)
        batch_op.create_index('User_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('User_username_key', ['username'], unique=True)

    op.create_table('AIUsage',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=False),
    sa.Column('type', sa.Text(), server_default='learning_assistant', nullable=False),
    sa.Column('model', sa.Text(), nullable=True),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('tokensUsed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('costInCents', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('success', sa.BOOLEAN(), server_default=sa.text('true'), nullable=False),
    sa.Column('errorMessage', sa.Text(), nullable=True),
    sa.Column('usageMonth', sa.Text(), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='AIUsage_userId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('AIUsage', schema=None) as batch_op:
        batch_op.create_index('AIUsage_createdAt_idx', ['createdAt'], unique=False)
        batch_op.create_index('AIUsage_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('AIUsage_usageMonth_idx', ['usageMonth'], unique=False)
        batch_op.create_index('AIUsage_userId_idx', ['userId'], unique=False)
        batch_op.create_index('AIUsage_userId_usageMonth_idx', ['userId', 'usageMonth'], unique=False)

    op.create_table('Badge',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('imageUrl', sa.Text(), nullable=True),
    sa.Column('minScore', sa.Integer(), nullable=True),
    sa.Column('challengeId', sa.Text(), nullable=True),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['challengeId'], ['Challenge.id'], name='Badge_challengeId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('Badge', schema=None) as batch_op:
        batch_op.create_index('Badge_challengeId_name_key', ['challengeId', 'name'], unique=True)
        batch_op.create_index('Badge_updatedAt_idx', ['updatedAt'], unique=False)

    op.create_table('DocumentChunk',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('chunkType', sa.Text(), server_default='TEXT', nullable=False),
    sa.Column('chunkIndex', sa.Integer(), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=False),
    sa.Column('metadata', SQLType('JSONB'), nullable=True),
    sa.Column('documentId', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['documentId'], ['Document.id'], name='DocumentChunk_documentId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('DocumentChunk', schema=None) as batch_op:
        batch_op.create_index('DocumentChunk_documentId_chunkIndex_idx', ['documentId', 'chunkIndex'], unique=False)
        batch_op.create_index('DocumentChunk_documentId_idx', ['documentId'], unique=False)
        batch_op.create_index('DocumentChunk_updatedAt_idx', ['updatedAt'], unique=False)

    op.create_table('Image',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('fileKey', sa.Text(), nullable=False),
    sa.Column('filePath', sa.Text(), server_default='users', nullable=False),
    sa.Column('altText', sa.Text(), nullable=True),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=True),
    sa.Column('teamId', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['teamId'], ['Team.id'], name='Image_teamId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='Image_userId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('Image', schema=None) as batch_op:
        batch_op.create_index('Image_teamId_key', ['teamId'], unique=True)
        batch_op.create_index('Image_userId_key', ['userId'], unique=True)

    op.create_table('LeaderboardEntry',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('challengeId', sa.Text(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['challengeId'], ['Challenge.id'], name='LeaderboardEntry_challengeId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='LeaderboardEntry_userId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('LeaderboardEntry', schema=None) as batch_op:
        batch_op.create_index('LeaderboardEntry_challengeId_rank_idx', ['challengeId', 'rank'], unique=False)
        batch_op.create_index('LeaderboardEntry_challengeId_userId_key', ['challengeId', 'userId'], unique=True)
        batch_op.create_index('LeaderboardEntry_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('LeaderboardEntry_userId_idx', ['userId'], unique=False)

    op.create_table('Password',
    sa.Column('hash', sa.Text(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='Password_userId_fkey', onupdate='CASCADE', ondelete='CASCADE')
    )
    with op.batch_alter_table('Password', schema=None) as batch_op:
        batch_op.create_index('Password_userId_key', ['userId'], unique=True)

    op.create_table('Session',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('expirationDate', sa.DATETIME(), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='Session_userId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('Session', schema=None) as batch_op:
        batch_op.create_index('Session_expirationDate_idx', ['expirationDate'], unique=False)
        batch_op.create_index('Session_userId_idx', ['userId'], unique=False)

    op.create_table('Subscription',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('subscriptionId', sa.Text(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=True),
    sa.Column('teamId', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.Text(), server_default='USD', nullable=False),
    sa.Column('currentPeriodStart', sa.DATETIME(), nullable=True),
    sa.Column('currentPeriodEnd', sa.DATETIME(), nullable=True),
    sa.Column('canceledAt', sa.DATETIME(), nullable=True),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['teamId'], ['Team.id'], name='Subscription_teamId_fkey', onupdate='CASCADE', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='Subscription_userId_fkey', onupdate='CASCADE', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('Subscription', schema=None) as batch_op:
        batch_op.create_index('Subscription_status_idx', ['status'], unique=False)
        batch_op.create_index('Subscription_subscriptionId_key', ['subscriptionId'], unique=True)
        batch_op.create_index('Subscription_teamId_idx', ['teamId'], unique=False)
        batch_op.create_index('Subscription_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('Subscription_userId_idx', ['userId'], unique=False)

    op.create_table('TeamCertificate',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('teamId', sa.Text(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=False),
    sa.Column('challengeId', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('issuedAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('expiresAt', sa.DATETIME(), nullable=True),
    sa.Column('revokedAt', sa.DATETIME(), nullable=True),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['challengeId'], ['Challenge.id'], name='TeamCertificate_challengeId_fkey', onupdate='CASCADE', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['teamId'], ['Team.id'], name='TeamCertificate_teamId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='TeamCertificate_userId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('TeamCertificate', schema=None) as batch_op:
        batch_op.create_index('TeamCertificate_code_key', ['code'], unique=True)
        batch_op.create_index('TeamCertificate_teamId_idx', ['teamId'], unique=False)
        batch_op.create_index('TeamCertificate_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('TeamCertificate_userId_idx', ['userId'], unique=False)

    op.create_table('TeamMember',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), server_default='member', nullable=False),
    sa.Column('joinedAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=False),
    sa.Column('teamId', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['teamId'], ['Team.id'], name='TeamMember_teamId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='TeamMember_userId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('TeamMember', schema=None) as batch_op:
        batch_op.create_index('TeamMember_teamId_idx', ['teamId'], unique=False)
        batch_op.create_index('TeamMember_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('TeamMember_userId_idx', ['userId'], unique=False)
        batch_op.create_index('TeamMember_userId_teamId_key', ['userId', 'teamId'], unique=True)

    op.create_table('TeamSettings',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('teamId', sa.Text(), nullable=False),
    sa.Column('maxMembers', sa.Integer(), server_default=sa.text('25'), nullable=False),
    sa.Column('allowMemberInvites', sa.BOOLEAN(), server_default=sa.text('false'), nullable=False),
    sa.Column('defaultRole', sa.Text(), server_default='member', nullable=False),
    sa.Column('aiMonthlyBudgetCents', sa.Integer(), nullable=True),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['teamId'], ['Team.id'], name='TeamSettings_teamId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('TeamSettings', schema=None) as batch_op:
        batch_op.create_index('TeamSettings_teamId_key', ['teamId'], unique=True)

    op.create_table('UserChallenge',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('score', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('completedAt', sa.DATETIME(), nullable=True),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=False),
    sa.Column('challengeId', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['challengeId'], ['Challenge.id'], name='UserChallenge_challengeId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='UserChallenge_userId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('UserChallenge', schema=None) as batch_op:
        batch_op.create_index('UserChallenge_challengeId_idx', ['challengeId'], unique=False)
        batch_op.create_index('UserChallenge_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('UserChallenge_userId_challengeId_key', ['userId', 'challengeId'], unique=True)
        batch_op.create_index('UserChallenge_userId_idx', ['userId'], unique=False)

    op.create_table('RagQuery',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=True),
    sa.Column('aiUsageId', sa.Text(), nullable=True),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('embedder', sa.Text(), nullable=False),
    sa.Column('k', sa.Integer(), nullable=False),
    sa.Column('latencyMs', sa.REAL(), nullable=False),
    sa.Column('feedback', sa.Integer(), nullable=True),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['aiUsageId'], ['AIUsage.id'], name='RagQuery_aiUsageId_fkey', onupdate='CASCADE', ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='RagQuery_userId_fkey', onupdate='CASCADE', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('RagQuery', schema=None) as batch_op:
        batch_op.create_index('RagQuery_createdAt_idx', ['createdAt'], unique=False)
        batch_op.create_index('RagQuery_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('RagQuery_userId_idx', ['userId'], unique=False)

    op.create_table('UserChallengeBadge',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('userId', sa.Text(), nullable=False),
    sa.Column('badgeId', sa.Text(), nullable=False),
    sa.Column('awardedAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['badgeId'], ['Badge.id'], name='UserChallengeBadge_badgeId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['userId'], ['User.id'], name='UserChallengeBadge_userId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('UserChallengeBadge', schema=None) as batch_op:
        batch_op.create_index('UserChallengeBadge_badgeId_idx', ['badgeId'], unique=False)
        batch_op.create_index('UserChallengeBadge_updatedAt_idx', ['updatedAt'], unique=False)
        batch_op.create_index('UserChallengeBadge_userId_badgeId_key', ['userId', 'badgeId'], unique=True)

    op.create_table('RagQueryResult',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('queryId', sa.Text(), nullable=False),
    sa.Column('chunkId', sa.Text(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.REAL(), nullable=False),
    sa.Column('createdAt', sa.DATETIME(), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('updatedAt', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['chunkId'], ['DocumentChunk.id'], name='RagQueryResult_chunkId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queryId'], ['RagQuery.id'], name='RagQueryResult_queryId_fkey', onupdate='CASCADE', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('RagQueryResult', schema=None) as batch_op:
        batch_op.create_index('RagQueryResult_chunkId_idx', ['chunkId'], unique=False)
        batch_op.create_index('RagQueryResult_queryId_rank_key', ['queryId', 'rank'], unique=True)
        batch_op.create_index('RagQueryResult_updatedAt_idx', ['updatedAt'], unique=False)
    record_prisma_migration(op.get_bind(), prisma_migration)


def downgrade() -> None:
    forget_prisma_migration(op.get_bind(), prisma_migration)

    with op.batch_alter_table('RagQueryResult', schema=None) as batch_op:
        batch_op.drop_index('RagQueryResult_updatedAt_idx')
        batch_op.drop_index('RagQueryResult_queryId_rank_key')
        batch_op.drop_index('RagQueryResult_chunkId_idx')

    op.drop_table('RagQueryResult')
    with op.batch_alter_table('UserChallengeBadge', schema=None) as batch_op:
        batch_op.drop_index('UserChallengeBadge_userId_badgeId_key')
        batch_op.drop_index('UserChallengeBadge_updatedAt_idx')
        batch_op.drop_index('UserChallengeBadge_badgeId_idx')

    op.drop_table('UserChallengeBadge')
    with op.batch_alter_table('RagQuery', schema=None) as batch_op:
        batch_op.drop_index('RagQuery_userId_idx')
        batch_op.drop_index('RagQuery_updatedAt_idx')
        batch_op.drop_index('RagQuery_createdAt_idx')

    op.drop_table('RagQuery')
    with op.batch_alter_table('UserChallenge', schema=None) as batch_op:
        batch_op.drop_index('UserChallenge_userId_idx')
        batch_op.drop_index('UserChallenge_userId_challengeId_key')
        batch_op.drop_index('UserChallenge_updatedAt_idx')
        batch_op.drop_index('UserChallenge_challengeId_idx')

    op.drop_table('UserChallenge')
    with op.batch_alter_table('TeamSettings', schema=None) as batch_op:
        batch_op.drop_index('TeamSettings_teamId_key')

    op.drop_table('TeamSettings')
    with op.batch_alter_table('TeamMember', schema=None) as batch_op:
        batch_op.drop_index('TeamMember_userId_teamId_key')
        batch_op.drop_index('TeamMember_userId_idx')
        batch_op.drop_index('TeamMember_updatedAt_idx')
        batch_op.drop_index('TeamMember_teamId_idx')

    op.drop_table('TeamMember')
    with op.batch_alter_table('TeamCertificate', schema=None) as batch_op:
        batch_op.drop_index('TeamCertificate_userId_idx')
        batch_op.drop_index('TeamCertificate_updatedAt_idx')
        batch_op.drop_index('TeamCertificate_teamId_idx')
        batch_op.drop_index('TeamCertificate_code_key')

    op.drop_table('TeamCertificate')
    with op.batch_alter_table('Subscription', schema=None) as batch_op:
        batch_op.drop_index('Subscription_userId_idx')
        batch_op.drop_index('Subscription_updatedAt_idx')
        batch_op.drop_index('Subscription_teamId_idx')
        batch_op.drop_index('Subscription_subscriptionId_key')
        batch_op.drop_index('Subscription_status_idx')

    op.drop_table('Subscription')
    with op.batch_alter_table('Session', schema=None) as batch_op:
        batch_op.drop_index('Session_userId_idx')
        batch_op.drop_index('Session_expirationDate_idx')

    op.drop_table('Session')
    with op.batch_alter_table('Password', schema=None) as batch_op:
        batch_op.drop_index('Password_userId_key')

    op.drop_table('Password')
    with op.batch_alter_table('LeaderboardEntry', schema=None) as batch_op:
        batch_op.drop_index('LeaderboardEntry_userId_idx')
        batch_op.drop_index('LeaderboardEntry_updatedAt_idx')
        batch_op.drop_index('LeaderboardEntry_challengeId_userId_key')
        batch_op.drop_index('LeaderboardEntry_challengeId_rank_idx')

    op.drop_table('LeaderboardEntry')
    with op.batch_alter_table('Image', schema=None) as batch_op:
        batch_op.drop_index('Image_userId_key')
        batch_op.drop_index('Image_teamId_key')

    op.drop_table('Image')
    with op.batch_alter_table('DocumentChunk', schema=None) as batch_op:
        batch_op.drop_index('DocumentChunk_updatedAt_idx')
        batch_op.drop_index('DocumentChunk_documentId_idx')
        batch_op.drop_index('DocumentChunk_documentId_chunkIndex_idx')

    op.drop_table('DocumentChunk')
    with op.batch_alter_table('Badge', schema=None) as batch_op:
        batch_op.drop_index('Badge_updatedAt_idx')
        batch_op.drop_index('Badge_challengeId_name_key')

    op.drop_table('Badge')
    with op.batch_alter_table('AIUsage', schema=None) as batch_op:
        batch_op.drop_index('AIUsage_userId_usageMonth_idx')
        batch_op.drop_index('AIUsage_userId_idx')
        batch_op.drop_index('AIUsage_usageMonth_idx')
        batch_op.drop_index('AIUsage_updatedAt_idx')
        batch_op.drop_index('AIUsage_createdAt_idx')

    op.drop_table('AIUsage')
    with op.batch_alter_table('User', schema=None) as batch_op:
        batch_op.drop_index('User_username_key')
        batch_op.drop_index('User_updatedAt_idx')
        batch_op.drop_index('User_email_key')

    op.drop_table('User')
    with op.batch_alter_table('Team', schema=None) as batch_op:
        batch_op.drop_index('Team_updatedAt_idx')

    op.drop_table('Team')
    with op.batch_alter_table('SlowQuery', schema=None) as batch_op:
        batch_op.drop_index('SlowQuery_updatedAt_idx')
        batch_op.drop_index('SlowQuery_occurredAt_idx')
        batch_op.drop_index('SlowQuery_fingerprint_idx')

    op.drop_table('SlowQuery')
    with op.batch_alter_table('QueryStat', schema=None) as batch_op:
        batch_op.drop_index('QueryStat_updatedAt_idx')
        batch_op.drop_index('QueryStat_fingerprint_source_bucketStart_key')
        batch_op.drop_index('QueryStat_bucketStart_idx')

    op.drop_table('QueryStat')
    with op.batch_alter_table('Document', schema=None) as batch_op:
        batch_op.drop_index('Document_updatedAt_idx')

    op.drop_table('Document')
    with op.batch_alter_table('Challenge', schema=None) as batch_op:
        batch_op.drop_index('Challenge_updatedAt_idx')
        batch_op.drop_index('Challenge_isActive_startDate_idx')

    op.drop_table('Challenge')

