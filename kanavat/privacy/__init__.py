"""Residents' control over their data (OmaData), retention, and the outbound number guard.

``data`` says what the county holds about a person, ``erase`` forgets them, ``purge`` deletes
phone numbers and raw inputs once a campaign's retention has passed, ``guard`` keeps every
send and dial inside the allowed country codes, ``commands`` is the resident's SMS and chat
flow (TIETONI, POISTA, KYLLÄ), ``cli`` the officials' ``kanavat person`` and ``kanavat purge``,
``redact`` takes contact details and names out of free text before officials see it.
None of it knows HTTP or Twilio's wire: channels call ``commands`` with plain values.
"""
