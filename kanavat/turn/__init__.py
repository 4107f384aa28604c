"""A turn, whatever its channel: one inbound message in, the answer, the new state and the
replies to send out, in one transaction (``entry.py``). The policies per kind of resident
(by phone number, by chat visitor, on a call) are ``text.py``, ``chat.py`` and ``voice.py``."""
