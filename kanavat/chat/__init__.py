"""Chat channel: the mobile web chat page and its websocket, and a Rasa-compatible REST endpoint.

Knows its wire formats (the chat JSON protocol, Rasa's REST shapes) and how to show prompts as
bubbles and buttons; knows nothing of question types, lexicons or the store.
"""
