"""The seed's data flows, each one transaction with validated input.

- ``users``: registration (user, session, profile image, password), login, access
  control, anonymisation, session clean-up.
- ``subscriptions``: create, renew and cancel subscriptions, keeping the payer's plan in step.
- ``ai_usage``: record AI usage against the plan's monthly quota.
- ``teams`` and ``challenges``: membership, certificates, scores, leaderboards, badges.
"""
