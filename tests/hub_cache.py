"""Fill a Hugging Face hub cache by hand, in the hub client's own layout, so tests can read "downloaded" repos
offline (HF_HUB_OFFLINE=1, HF_HUB_CACHE=cache)::

    cache/models--ORG--NAME/refs/main             the commit hash
    cache/models--ORG--NAME/snapshots/<hash>/...  the files (datasets: datasets--ORG--NAME)

The real client stores blobs and symlinks the snapshot's files to them; plain files read the same.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def put_in_hub_cache(
    files: Path, cache: Path, repo: str, repo_type: str = "model", subfolder: str = "", blobs: bool = False
) -> Path:
    """Copy the files under ``files`` into ``cache`` as repo ``repo`` (under ``subfolder`` of it); returns the
    snapshot folder. Calling it again for the same repo adds to the same snapshot. ``blobs=True`` stores them
    as the real client does: content in ``blobs/<sha256>``, the snapshot's files relative symlinks to it."""
    folder = Path(cache) / f"{repo_type}s--{repo.replace('/', '--')}"
    commit = hashlib.sha1(repo.encode()).hexdigest()  # any 40-hex id; fixed per repo so calls add up
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    snapshot = folder / "snapshots" / commit
    if not blobs:
        shutil.copytree(files, snapshot / subfolder, dirs_exist_ok=True)
        return snapshot
    for path in sorted(p for p in Path(files).rglob("*") if p.is_file()):
        blob = folder / "blobs" / hashlib.sha256(path.read_bytes()).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, blob)
        link = snapshot / subfolder / path.relative_to(files)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return snapshot
