"""SMS channel: inbound webhook, outbound sending, delivery status.

Knows Twilio's SMS form fields, message length and encoding, and opt-out keywords; knows
nothing of question types, lexicons or skip logic (the engine's prompts say what to send).
"""
