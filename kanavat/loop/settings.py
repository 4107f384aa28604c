"""The ``[outcomes]``, ``[suggestions]`` and ``[public]`` sections of config.toml (issue 23).

```toml
[outcomes]
calls_wait_for_recording = true  # an outcome's calls wait for its recording in each language
calls_wait_days = 14             # at most this long; then they go with the placeholder voice

[suggestions]
queues = { palvelut = "Sosiaali- ja terveyspalvelut", vanhusneuvosto = "Vanhusneuvosto" }
default_queue = "palvelut"   # where a new suggestion waits until an official routes it
voice = true                 # a caller with no survey open may say a suggestion

[public]
campaigns = ["vanhukset-2027"]   # shown on the public page (officials choose)
results = ["vanhukset-2027"]     # of those, whose results are shown (disclosure-controlled)
intro = { fi = "...", sv = "...", en = "..." }
```
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcomes(_Model):
    """``calls_wait_for_recording``: residents told by phone hear the official's recording of
    the message, not espeak-ng: an outcome's calls in a language start once
    ``voices/<lang>/outcome.<id>.wav`` is built in (``kanavat voices build``). An outcome may
    say otherwise (``kanavat outcome add --no-wait-for-recording``). ``calls_wait_days``: a
    language still not recorded that many days after the outcome was added is told with the
    placeholder voice rather than not at all (absent: the calls wait until recorded or
    released)."""

    calls_wait_for_recording: bool = False
    calls_wait_days: int | None = Field(default=None, ge=1, le=365)


class Suggestions(_Model):
    queues: dict[str, str] = Field(default_factory=dict)
    default_queue: str | None = None
    voice: bool = True

    @model_validator(mode="after")
    def _known_default(self) -> Suggestions:
        if self.default_queue and self.queues and self.default_queue not in self.queues:
            known = ", ".join(sorted(self.queues))
            raise ValueError(f"default_queue '{self.default_queue}' is no queue; known: {known}")
        return self


class Public(_Model):
    campaigns: list[str] = Field(default_factory=list)
    results: list[str] = Field(default_factory=list)
    intro: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _results_shown(self) -> Public:
        hidden = [c for c in self.results if c not in self.campaigns]
        if hidden:
            raise ValueError(f"results of {', '.join(hidden)} are not public: add to campaigns")
        return self


def unknown_campaigns(public: Public, campaigns: dict[str, object]) -> list[tuple[tuple, str]]:
    """(path, message) for each public campaign the config does not have."""
    known = ", ".join(sorted(campaigns)) or "none"
    return [
        (("public", "campaigns"), f"unknown campaign '{cid}'; known: {known}")
        for cid in public.campaigns
        if cid not in campaigns
    ]
