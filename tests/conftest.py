"""Shared fixtures: MovieLens-100k, the built-in oracle and the reference SafeRec build (once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openai_server import FakeOpenAIServer
from persafe.catalog import MovieLens, SafetyOracle, builtin_oracle, load_movielens
from persafe.saferec import BuildResult, SafeRecConfig, build_saferec, write_saferec


@pytest.fixture(scope="session")
def movielens() -> MovieLens:
    """MovieLens-100k from the installed recbole package."""
    return load_movielens()


@pytest.fixture(scope="session")
def oracle(movielens: MovieLens) -> SafetyOracle:
    """The built-in safety oracle over the curated warnings (τ = 0.66, unknown = safe)."""
    return builtin_oracle(movielens)[2]


@pytest.fixture(scope="session")
def saferec_build(movielens: MovieLens, oracle: SafetyOracle) -> BuildResult:
    """The reference SafeRec-ML100k build (default config; ~4 s, built once)."""
    return build_saferec(movielens, oracle, SafeRecConfig())


@pytest.fixture(scope="session")
def saferec_dir(saferec_build: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference build written to disk ({train,val,test}.jsonl + build.json)."""
    return write_saferec(saferec_build, tmp_path_factory.mktemp("saferec"), SafeRecConfig())


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fake OpenAI-compatible chat-completions server on 127.0.0.1 (ephemeral port), stopped at teardown."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()
