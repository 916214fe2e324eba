"""Turn the titles of SafeCRS-format samples into catalog items, with the one title matcher.

Samples from the SafeCRS release name their ground truth and the films the user mentioned by title
only. Before scoring, each ``[title, year]`` of the ground truth is matched to the catalog in use;
ground truth that matches nothing is kept on the sample (``unmatched_groundtruth``): it is counted in
|GT| and reported, never silently dropped. Seen titles become ``seen_item_ids`` where they match (the
ones that do not are still removed from recommendation lists by their normalised title). Samples that
already carry item ids (persafe's own builds) are returned unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from persafe.catalog.items import Catalog
from persafe.saferec.schema import SafeRecSample


def _year(value: str) -> int | None:
    value = str(value).strip()
    return int(value) if value.isdigit() else None


def resolve_titles(samples: Sequence[SafeRecSample], catalog: Catalog) -> list[SafeRecSample]:
    """Samples whose ground truth and seen titles are matched to ``catalog`` items (copies; see the module).

    Example:
        >>> from persafe.saferec import ChatMessage
        >>> s = SafeRecSample(sample_id="x", prompt=[ChatMessage(role="user", content="hi")],
        ...                   groundtruth_with_release_year=[["Heat", "1995"], ["Nope", "2001"]])
        >>> [r] = resolve_titles([s], Catalog.from_titles([("Heat", 1995)]))
        >>> r.groundtruth_item_ids, r.unmatched_groundtruth
        (['Heat (1995)'], [['Nope', '2001']])
    """
    from persafe.recsys.parser import parse_title_line

    out = []
    for s in samples:
        if s.groundtruth_item_ids or not (s.groundtruth_with_release_year or s.seen_titles):
            out.append(s)
            continue
        gt: list[str] = []
        unmatched: list[list[str]] = []
        for title, year in s.groundtruth_with_release_year:
            m = catalog.match(title, _year(year))
            if m.index < 0:
                unmatched.append([title, year])
            elif catalog.items[m.index].item_id not in gt:
                gt.append(catalog.items[m.index].item_id)
        seen: list[str] = list(s.seen_item_ids)
        if not seen:
            for text in s.seen_titles:
                parsed = parse_title_line(text)
                m = catalog.match(*(parsed or (text, None)))
                if m.index >= 0 and catalog.items[m.index].item_id not in seen:
                    seen.append(catalog.items[m.index].item_id)
        update: dict[str, Any] = {"groundtruth_item_ids": gt, "unmatched_groundtruth": unmatched, "seen_item_ids": seen}
        copy = s.model_copy(update=update)
        copy._where = s._where
        out.append(copy)
    return out
