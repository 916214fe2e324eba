"""What every ``persafe`` sub-command shares: the console, progress bars, and how errors are shown.

Kept apart from ``persafe.cli`` so the command modules of each package (``penguin/cli.py``,
``agent/cli.py``) and ``demo.py`` import this small module instead of each other.

Errors a user can cause (:class:`~persafe.errors.PersafeError`) are printed as their message alone:
it already says what was wrong, where, and how to fix it. Anything else is a bug or an environment
problem; it is printed with its type and the hint to rerun with ``--debug`` (or ``PERSAFE_DEBUG=1``),
which shows the traceback.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from persafe.errors import PersafeError

console = Console(width=None if sys.stdout.isatty() else 160)  # tables stay readable when piped (make, CI)
err_console = Console(stderr=True)
"""For progress and messages of a command whose stdout is its data (``persafe infer``)."""

EXIT_USAGE = 2
"""Exit status of a command refused for bad input or options (nothing was scored)."""
EXIT_FAILED_SAMPLES = 1
"""Exit status of a run that finished but left samples whose model call failed (rerun to retry them)."""

_debug = os.environ.get("PERSAFE_DEBUG", "") == "1"


def set_debug(on: bool) -> None:
    """Show tracebacks of errors (the ``--debug`` option)."""
    global _debug
    _debug = _debug or on


def debug_enabled() -> bool:
    """Whether ``--debug`` (or ``PERSAFE_DEBUG=1``) is on."""
    return _debug


def error_message(err: BaseException) -> str:
    """The one-line message shown for ``err``: the message of a user error, else type and text with a hint."""
    if isinstance(err, PersafeError):
        return str(err)
    text = str(err).strip() or "(no message)"
    return f"internal error ({type(err).__name__}: {text}); rerun with --debug for the traceback"


def fail(err: BaseException, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``err`` for a person (with the traceback under ``--debug``) and exit with ``code``."""
    if _debug:
        console.print_exception(show_locals=False)
    console.print(f"[red]error:[/red] {escape(error_message(err))}")
    raise typer.Exit(code)


def option_error(err: Exception, renames: dict[str, str] | None = None) -> PersafeError:
    """A pydantic ``ValidationError`` of a command's config as an error naming the command-line option.

    Args:
        err: the validation error.
        renames: config field → option name where they differ (``{"ks": "k"}``).
    """
    from pydantic import ValidationError

    if not isinstance(err, ValidationError):
        return err if isinstance(err, PersafeError) else PersafeError(error_message(err))
    first = err.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    name = (renames or {}).get(field, field).replace("_", "-")
    msg = str(first["msg"]).removeprefix("Value error, ")
    return PersafeError(f"option --{name}: {msg}" if name else msg)


def progress(on: Console | None = None):
    """A transient rich progress bar (description, bar, done/total, elapsed) on ``on`` (default: stdout)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=on or console,
        transient=True,
    )


def report_failed(failed: dict | None, rerun_hint: str = "rerun the same command to retry exactly them") -> None:
    """Say which samples failed (their model call errored) and exit non-zero; a no-op when none did.

    Args:
        failed: the ``failed`` block of a results dict (``{"n", "sample_ids", "errors"}``) or ``None``.
        rerun_hint: how to resume.
    """
    if not failed or not failed.get("n"):
        return
    ids = failed.get("sample_ids") or []
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    reasons = "; ".join(f"{r} ({n})" for r, n in list((failed.get("errors") or {}).items())[:3])
    console.print(
        f"[red]{failed['n']} sample(s) failed[/red] (model call errors, not scored): {escape(shown)}"
        + (f"; errors: {escape(reasons)}" if reasons else "")
        + f". {escape(rerun_hint)}."
    )
    raise typer.Exit(EXIT_FAILED_SAMPLES)
