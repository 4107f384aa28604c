"""Outreach: who is contacted, when and how, and what became of each resident on a campaign."""
