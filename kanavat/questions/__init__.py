"""The conversation engine: questionnaires, answer normalisation and the dialog.

Pure: given data, returns data. It imports nothing of HTTP, Twilio, speech engines, the store
or any channel, so every channel (voice, SMS, chat) runs the same questionnaire the same way.
"""
