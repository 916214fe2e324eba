"""Fixtures for the model-backend tests: a scriptable fake OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai_server import FakeOpenAIServer


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fake chat-completions server on 127.0.0.1 (ephemeral port), stopped at teardown."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()
