"""Rehearsals: a made-up population answers real campaigns through the emulator.

``kanavat simulate`` runs the real server in-process with the local Twilio emulator, on a
copy of the county's configuration in a folder of its own, and acts out residents who answer
by speech or keypad, hesitate, ask for a repeat, give wrong answers, stop, miss calls, let a
machine answer, reply to texts late or never, and open the chat. ``kanavat demo`` does that
for the example county, writes the council reports and leaves the server running.

Modules: ``population`` (who the residents are), ``answers`` (how they say what they mean),
``voice``/``sms``/``chat`` (acting on each channel), ``speech`` (espeak-ng answers),
``rehearsal`` (the config copy), ``runner`` (the whole run), ``cli`` (the commands).
"""
