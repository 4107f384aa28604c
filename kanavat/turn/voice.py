"""A resident's answer on a call (speech, keypad, silence): the call's session takes it.

The call itself (who is called, in which session) is settled when its stream starts; a turn
is one answer. Its replies are the prompts the stream plays at once: the line is live, so
they are not queued (after a crash the call is gone, and the next call or a call-back
resumes the session where the stored state says).
"""

from __future__ import annotations

from kanavat.attempts import Outgoing
from kanavat.loop import policy as loop_policy
from kanavat.questions.normalise import Input
from kanavat.turn.context import Context
from kanavat.turn.message import Message, Result, Said


def handle(ctx: Context, message: Message, event_id: int) -> Result:
    if message.kind == "suggestion":  # said on the suggestion line (issue 23)
        return loop_policy.voice_message(ctx, message, event_id)
    assert message.session_id is not None
    given = Input(message.action, message.text, message.confidence, message.alternatives)  # type: ignore[arg-type]
    turn = ctx.conversations.take(message.session_id, given, confirm_below=message.confirm_below)
    said = Said("reply", turn.language, prompts=turn.prompts, session_id=message.session_id)
    return Result(turn.event, (said,), turn)


def render(message: Message, result: Result) -> list[Outgoing]:
    """Nothing to queue: the stream plays the turn's prompts while the resident listens."""
    return []
