"""Voice channel: TwiML, Media Streams websocket, audio codecs and local speech recognition.

Knows the phone wire formats and audio; knows nothing of question types, lexicons or the store.
"""
