"""What a turn's policy works with: the configuration, the store, the conversations."""

from __future__ import annotations

from dataclasses import dataclass

from kanavat.config import Config
from kanavat.conversations import Conversations
from kanavat.store import Store


@dataclass(frozen=True)
class Context:
    config: Config
    store: Store
    conversations: Conversations
