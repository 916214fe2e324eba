"""Model specs select backends; unknown specs list the valid prefixes."""

from __future__ import annotations

import pytest

from persafe.errors import UnknownNameError
from persafe.llm import CachedChatModel, GenerationParams, Message, load_model


def test_scripted_spec_and_cache(tmp_path):
    model = load_model("scripted:echo", cache=tmp_path / "c.sqlite")
    assert isinstance(model, CachedChatModel)
    g = model.generate([[Message(role="user", content="hi")]], GenerationParams())
    assert g[0].text and not g[0].cached


@pytest.mark.parametrize("spec", ["gpt4", "nope:x", "scripted:other"])
def test_unknown_spec_lists_valid(spec):
    with pytest.raises(UnknownNameError, match="valid"):
        load_model(spec)


def test_openai_spec_parses_model_and_url():
    model = load_model("openai:qwen@http://127.0.0.1:9/v1")
    assert model.name == "openai:qwen@http://127.0.0.1:9/v1"
