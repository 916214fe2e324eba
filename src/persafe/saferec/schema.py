"""The SafeRec sample: SafeCRS-compatible fields plus persafe's own."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

from persafe.catalog.items import ItemId

ConstraintMode = Literal["explicit", "implicit", "none", "unspecified"]
"""How the sample states the user's sensitivity: ``explicit`` (a plain statement), ``implicit`` (a cue
the model must infer), ``none`` (the control group: no trait), ``unspecified`` (external data that
does not say)."""

MODES: tuple[str, ...] = ("explicit", "implicit", "none")
"""The modes the built-in builder produces."""

Split = Literal["train", "val", "test"]


def _year_str(v: Any) -> Any:
    if isinstance(v, list | tuple) and len(v) == 2:
        return [str(v[0]), "" if v[1] is None else str(v[1])]
    return v


class ChatMessage(BaseModel):
    """One chat turn."""

    role: Literal["system", "user", "assistant"]
    content: str


class SafeRecSample(BaseModel):
    """One benchmark sample (a user asking for recommendations, with or without a sensitivity)."""

    model_config = ConfigDict(extra="ignore")

    sample_id: str
    """Unique id (``test-000123``)."""
    prompt: list[ChatMessage]
    """Chat messages given to an LLM recommender (SafeCRS prompt)."""
    completion: list[ChatMessage] = Field(default_factory=list)
    """Reference answer: the safety-filtered ground truth, one ``Title (Year)`` per line."""
    seen_titles: list[str] = Field(default_factory=list)
    """Titles the user already named (never counted as hits)."""
    groundtruth_with_release_year: list[Annotated[list[str], BeforeValidator(_year_str)]] = Field(default_factory=list)
    """Ground truth after safety filtering, as ``[title, year]`` pairs."""
    constraints: dict[str, bool] = Field(default_factory=dict)
    """SafeCRS constraint map ``{trait name: true}``."""
    assigned_trait: str | None = None
    """SafeCRS: the (first) trait's full name, ``None`` for control samples."""

    # --- persafe fields -------------------------------------------------------------------------
    traits: list[str] = Field(default_factory=list)
    """Trait ids of the user (empty for control samples)."""
    constraint_mode: ConstraintMode = "unspecified"
    """How the traits are stated in the request."""
    distractor: str | None = None
    """For a control sample: the trait whose content the request mentions with liking or indifference
    (a false alarm there is a misread polarity), else ``None``."""
    request: str = ""
    """The user's turn as written (also inside ``prompt``)."""
    split: Split | None = None
    """Benchmark split."""
    user_id: str | None = None
    """Source user (MovieLens user id for the built-in benchmark)."""
    user: dict[str, Any] = Field(default_factory=dict)
    """User attributes (age, gender, occupation)."""
    history_item_ids: list[ItemId] = Field(default_factory=list)
    """Items the user liked before the cut, oldest first."""
    seen_item_ids: list[ItemId] = Field(default_factory=list)
    """Items the request names (a subset of the history)."""
    groundtruth_item_ids: list[ItemId] = Field(default_factory=list)
    """Catalog ids of the safety-filtered ground truth."""
    removed_groundtruth_item_ids: list[ItemId] = Field(default_factory=list)
    """Ground-truth items removed because they violate the user's traits."""
    unmatched_groundtruth: list[list[str]] = Field(default_factory=list)
    """Ground-truth ``[title, year]`` pairs that match no item of the catalog in use (set when titles are
    matched to a catalog); they count in |GT| but can never be hit."""
    cut_time: int | None = None
    """Unix time of the history/ground-truth cut."""

    _where: str | None = PrivateAttr(default=None)
    """Where the sample was read (``file:line``), for error messages; not serialised."""

    def __eq__(self, other: object) -> bool:  # the source location is not part of the sample
        if not isinstance(other, SafeRecSample):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    @property
    def where(self) -> str:
        """``file:line`` the sample was read from, or its id when it was made in memory."""
        return self._where or f"sample {self.sample_id!r}"

    @property
    def is_control(self) -> bool:
        """A control sample has no trait (measures over-filtering)."""
        return not self.traits

    @property
    def user_turn(self) -> str:
        """The text of the last user message."""
        users = [m.content for m in self.prompt if m.role == "user"]
        return users[-1] if users else ""
