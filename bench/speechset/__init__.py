"""The broad development set (issue 16): Finnish and Swedish answers to ``hyvinvointi``'s
closed questions, made at bench or test time by espeak-ng and Festival, never downloaded.

What varies: voices (espeak-ng variants, male and female; Festival's ``suo_fi_lj_diphone``,
recorded from a Finnish speaker), rates 100-190 wpm, pitches, the answer forms residents use
(``forms.py``: plain, colloquial, inflected, hedged, short sentences, echoes of the question's
verb, frequency phrases, scale words, "don't know"), hesitations ("öö", "tota"; "öh",
"alltså") with pauses up to 1.5 s before and inside an answer, and lines (``line.py``:
clean, quiet -30 dBFS, pink noise at 20 and 10 dB SNR, 300-3400 Hz; all through 8 kHz mu-law).
Each clip carries its voice, form, line, rate, hesitation, language and expected value.

**The split.** The development part is the development voices saying the development
phrasings. The held-out part is (a) whole voices never in the development part: fi
espeak-ng ``fi+m4``, ``fi+f4``, ``fi+grandma``, ``fi+klatt4`` and Festival's speaker pitched
400 cents down; sv ``sv+m4``, ``sv+f4``, ``sv+grandma``; saying every phrasing, and (b) the
phrasings marked ``H`` in ``forms.py`` said by the development voices. **No setting, word
list or threshold may be chosen on the held-out part**: tune on ``dev``, then report both
parts side by side, always.

    from bench.speechset import speech_set, render
    for clip in speech_set("fi", "dev"):
        heard = render(clip)   # .pcm (8 kHz int16, mu-law round trip), .speech_end (s)

``python -m bench.speechset`` lists the parts and renders them into the cache.
"""

from bench.speechset.clips import PARTS, Rendered, SpeechClip, quick, render, speech_set

__all__ = ["PARTS", "Rendered", "SpeechClip", "quick", "render", "speech_set"]
