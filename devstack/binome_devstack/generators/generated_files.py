"""Files generated from the code (docs, manifests): written, or checked to be up to date."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal


def stale_files(documents: Mapping[str, str], root: Path) -> list[str]:
    """The generated files that are missing under ``root`` or differ from ``documents``."""
    return [
        path
        for path, content in documents.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != content
    ]


def generate_or_check(
    documents: Mapping[str, str],
    root: Path,
    action: Literal["generate", "check"],
    *,
    command: str,
    what: str,
) -> int:
    """``check``: exit code 1 and the stale paths when any file differs from the code;
    ``generate``: write the stale files. ``command`` is what regenerates them."""
    stale = stale_files(documents, root)
    if action == "check":
        if stale:
            print(f"stale generated {what} (run `{command}`):", *stale, sep="\n  ", file=sys.stderr)
            return 1
        return 0
    for path in stale:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(documents[path], encoding="utf-8")
    print(f"{len(stale)} {what} file(s) written, {len(documents) - len(stale)} unchanged")
    return 0
