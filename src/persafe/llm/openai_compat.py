"""A :class:`~persafe.llm.base.ChatModel` for any OpenAI-compatible chat-completions server.

Works with OpenAI itself and with local servers that speak the same protocol (vLLM, Ollama, the
llama.cpp server, ...). Requests go through the official ``openai`` client with its own retries
turned off; this module retries timeouts, connection errors, HTTP 429 and 5xx itself, with bounded
exponential backoff that honours ``Retry-After``, so retry behaviour is explicit and testable. A
request that still fails comes back as a :class:`~persafe.llm.base.Generation` with ``error`` set:
``generate`` never raises mid-batch.

The API key is read from an environment variable and never appears in ``name``, ``repr``, logs or
error strings.

Example:
    >>> model = OpenAIChatModel("qwen2.5-7b-instruct", base_url="http://127.0.0.1:8000/v1")  # doctest: +SKIP
    >>> model.generate([[Message(role="user", content="hi")]], GenerationParams())[0].text  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

try:
    import openai
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "persafe.llm.openai_compat needs the `openai` package; install it with `pip install 'persafe[llm]'`"
    ) from exc

from persafe.llm.base import Conversation, Generation, GenerationParams, as_messages

if TYPE_CHECKING:
    from persafe.llm.constrained import CatalogLines, ListConstraint

__all__ = ["DEFAULT_BASE_URL", "OpenAIChatModel"]

logger = logging.getLogger("persafe.llm")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
"""Where requests go when no ``base_url`` is given."""

_PLACEHOLDER_KEY = "EMPTY"
_MAX_BACKOFF = 8.0
_MAX_RETRY_AFTER = 30.0
_MAX_ERROR_CHARS = 200

_sleep = time.sleep  # indirection so tests can observe backoff delays without waiting


class _Retryable(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class _Fatal(Exception):
    """Internal: one attempt failed in a way retrying cannot fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OpenAIChatModel:
    """Batched chat generation against an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        model: the model name the server expects (e.g. ``gpt-4o-mini`` or the path vLLM serves).
        base_url: the API root including ``/v1``; ``None`` means OpenAI (``https://api.openai.com/v1``).
            The ``OPENAI_BASE_URL`` environment variable is deliberately *not* consulted, so ``name``
            always says where requests go.
        api_key_env: name of the environment variable holding the API key. When it is unset or empty
            the placeholder ``"EMPTY"`` is sent (local servers need no key).
        max_concurrency: at most this many requests in flight at once.
        timeout: seconds before one attempt times out.
        max_retries: retries after the first attempt (so ``max_retries + 1`` attempts at most).
        backoff: base delay in seconds; attempt ``k`` (from 0) waits ``backoff * 2**k``, capped at 8 s,
            unless the server sent ``Retry-After`` (seconds, capped at 30 s).

    Raises:
        ValueError: a numeric argument is out of range.

    Attributes:
        name: ``openai:{model}@{base_url}`` (no key), the cache identifier.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if backoff < 0:
            raise ValueError(f"backoff must be >= 0 seconds, got {backoff}")
        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.name = f"openai:{model}@{base_url or DEFAULT_BASE_URL}"
        api_key = os.environ.get(api_key_env) or _PLACEHOLDER_KEY
        # Kept only to scrub it from error text; never logged or shown.
        self._secret = api_key if api_key != _PLACEHOLDER_KEY else None
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key, timeout=timeout, max_retries=0)
        self._schema_style = "json_schema"  # how this server takes a JSON schema (see _response_format)

    def __repr__(self) -> str:
        return (
            f"OpenAIChatModel(model={self.model!r}, base_url={self.base_url!r}, api_key_env={self.api_key_env!r}, "
            f"max_concurrency={self.max_concurrency}, timeout={self.timeout}, max_retries={self.max_retries}, "
            f"backoff={self.backoff})"
        )

    def close(self) -> None:
        """Close the underlying HTTP connections (the model is unusable afterwards)."""
        self._client.close()

    supports_constraints = True
    """``generate`` accepts ``constraints``: sent as a JSON schema (``response_format``), then checked."""

    def catalog_trie(self, lines: Sequence[str | None]) -> CatalogLines:
        """The catalog lines a constrained answer may write (the server constrains; no tokenizer here)."""
        from persafe.llm.constrained import CatalogLines

        return CatalogLines(lines)

    def generate(
        self,
        conversations: Sequence[Conversation],
        params: GenerationParams,
        constraints: Sequence[ListConstraint | None] | None = None,
    ) -> list[Generation]:
        """Answer each conversation, at most ``max_concurrency`` at a time.

        Args:
            conversations: the requests; each is a sequence of messages (``Message`` or role/content dicts).
            params: sampling parameters, mapped onto the chat-completions request.
            constraints: per conversation, the catalog lines it may answer with (or ``None``). Sent as the
                OpenAI ``response_format`` JSON schema ``{"titles": [k distinct lines]}``, which vLLM
                (structured outputs) and the llama.cpp server enforce; every answer is then checked,
                and ``constrained.honoured`` says whether the server kept to it.

        Returns:
            One ``Generation`` per conversation, in input order. Failed requests have ``error`` set and
            empty ``text``.
        """
        if not conversations:
            return []
        request = self._request_kwargs(params)
        jobs: list[tuple[Conversation, dict[str, Any], tuple[list[str], int] | None]] = []
        for i, conv in enumerate(conversations):
            c = constraints[i] if constraints is not None else None
            if c is None:
                jobs.append((conv, request, None))
                continue
            allowed = c.trie.allowed(c.exclude) if hasattr(c.trie, "allowed") else []
            budget = max(params.max_new_tokens, 32 * c.k + 16)  # JSON around k titles of up to ~30 tokens
            jobs.append((conv, {**request, "max_tokens": budget}, (allowed, c.k)))
        workers = min(self.max_concurrency, len(conversations))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="persafe-openai") as pool:
            return list(pool.map(lambda job: self._constrained_one(*job, params), jobs))

    def _response_format(self, allowed: list[str], k: int) -> dict[str, Any]:
        """The schema in the form this server takes: OpenAI's ``json_schema`` (vLLM, llama.cpp's
        llama-server, OpenAI), or ``json_object`` with a ``schema`` (llama-cpp-python's server, which
        refuses the former)."""
        from persafe.llm.constrained import list_schema

        schema = list_schema(allowed, k)
        if self._schema_style == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": "titles", "schema": schema, "strict": True}}

    def _constrained_one(
        self,
        conv: Conversation,
        request: Mapping[str, Any],
        check: tuple[list[str], int] | None,
        params: GenerationParams,
    ) -> Generation:
        if check is None:
            return self._generate_one(conv, params, request)
        style = self._schema_style
        gen = self._generate_one(conv, params, {**request, "response_format": self._response_format(*check)})
        if gen.error and "response_format" in gen.error and style == "json_schema":
            logger.warning(
                "%s: the server refuses a json_schema response_format; sending json_object + schema", self.name
            )
            self._schema_style = "json_object"
            gen = self._generate_one(conv, params, {**request, "response_format": self._response_format(*check)})
        if gen.error:
            return gen
        from persafe.llm.constrained import check_answer

        verdict = check_answer(gen.text, *check)
        if not verdict["honoured"]:
            logger.warning("%s: the answer does not keep to the catalog constraint (server ignored it?)", self.name)
        return gen.model_copy(update={"constrained": verdict})

    # -- one request -------------------------------------------------------------------------------

    def _request_kwargs(self, params: GenerationParams) -> dict[str, Any]:
        """The chat-completions arguments that ``params`` maps to."""
        kwargs: dict[str, Any] = {
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.logprobs:
            kwargs["logprobs"] = True
        return kwargs

    def _generate_one(
        self, conversation: Conversation, params: GenerationParams, request: Mapping[str, Any]
    ) -> Generation:
        """One request with retries; never raises."""
        try:
            messages = [{"role": m.role, "content": m.content} for m in as_messages(conversation)]
        except Exception as exc:  # malformed input: report it for this request only
            return Generation(text="", error=self._scrub(f"invalid conversation: {type(exc).__name__}: {exc}"))
        attempts = self.max_retries + 1
        reason = "no attempt made"
        for attempt in range(attempts):
            try:
                return self._attempt(messages, params, request)
            except _Retryable as failure:
                reason = failure.reason
                if attempt + 1 >= attempts:
                    break
                delay = self._delay(attempt, failure.retry_after)
                logger.warning(
                    "%s: %s (attempt %d/%d); retrying in %.2f s", self.name, reason, attempt + 1, attempts, delay
                )
                _sleep(delay)
            except _Fatal as failure:
                logger.warning("%s: %s (not retried)", self.name, failure.reason)
                return Generation(text="", error=failure.reason)
        error = f"{reason} after {attempts} attempt{'s' if attempts != 1 else ''}"
        logger.warning("%s: giving up: %s", self.name, error)
        return Generation(text="", error=error)

    def _attempt(
        self, messages: list[dict[str, str]], params: GenerationParams, request: Mapping[str, Any]
    ) -> Generation:
        """One HTTP attempt; raises ``_Retryable`` or ``_Fatal`` on failure."""
        try:
            response = self._client.chat.completions.create(model=self.model, messages=messages, **request)
        except openai.APITimeoutError as exc:
            raise _Retryable("timeout") from exc
        except openai.APIConnectionError as exc:
            raise _Retryable("connection error") from exc
        except openai.APIStatusError as exc:
            status = exc.status_code
            if "response_format" in _error_message(exc.body):  # a refused request field is not transient
                raise _Fatal(self._scrub(f"HTTP {status}: {_error_message(exc.body)}")) from exc
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status}", _retry_after(exc.response.headers)) from exc
            raise _Fatal(self._scrub(f"HTTP {status}: {_error_message(exc.body)}")) from exc
        except Exception as exc:  # malformed responses, client bugs: fail this request, not the batch
            raise _Fatal(self._scrub(f"{type(exc).__name__}: {exc}")) from exc
        try:
            return _to_generation(response, params)
        except Exception as exc:
            raise _Fatal(self._scrub(f"unexpected response ({type(exc).__name__}: {exc})")) from exc

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(retry_after, _MAX_RETRY_AFTER)
        return min(self.backoff * 2**attempt, _MAX_BACKOFF)

    def _scrub(self, text: str) -> str:
        """Shorten ``text`` and remove the API key should a server have echoed it."""
        if self._secret:
            text = text.replace(self._secret, "***")
        return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 3] + "..."


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds, or ``None`` when absent or not a number of seconds."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:  # an HTTP date: fall back to exponential backoff
        return None
    return seconds if seconds >= 0 and seconds == seconds else None  # reject negatives and NaN


def _error_message(body: object) -> str:
    """The human-readable part of an error body (``{"message": ...}`` or anything else)."""
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return body["message"]
    return str(body) if body is not None else "(no details)"


def _to_generation(response: Any, params: GenerationParams) -> Generation:
    """Turn a ``ChatCompletion`` into a ``Generation``."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise ValueError(f"no choices in the {type(response).__name__} response")
    choice = choices[0]
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None) or ""
    token_logprobs = None
    if params.logprobs:
        content = getattr(getattr(choice, "logprobs", None), "content", None)
        if content:
            token_logprobs = [float(t.logprob) for t in content]
    usage = getattr(response, "usage", None)
    return Generation(
        text=text,
        finish_reason=getattr(choice, "finish_reason", None),
        token_logprobs=token_logprobs,
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
    )
