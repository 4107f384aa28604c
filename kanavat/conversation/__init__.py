"""Polis-style conversations (issue 20): statements, votes and opinion groups, with their I/O.

Not to be confused with ``kanavat/conversations.py``, which runs one questionnaire turn. The math
is in ``kanavat/opinions`` (pure); here are the owners of the conversation tables:

- ``statements``: ``conversation_statements`` (seeds from the config, residents' own, moderation).
- ``votes``: ``conversation_votes`` (append-only; the latest per respondent and statement counts).
- ``groups``: ``conversation_groups`` (the last opinion-group update, recomputed as a job).
"""
