"""Fill a Hugging Face hub cache by hand, in the hub client's own layout, so tests can read "downloaded" repos
offline (HF_HUB_OFFLINE=1, HF_HUB_CACHE=cache)::

    cache/models--ORG--NAME/refs/main             the commit hash
    cache/models--ORG--NAME/snapshots/<hash>/...  the files (datasets: datasets--ORG--NAME)

The real client stores blobs and symlinks the snapshot's files to them; plain files read the same.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path


def put_in_hub_cache(
    files: Path, cache: Path, repo: str, repo_type: str = "model", subfolder: str = ""
) -> Path:
    """Copy the files under ``files`` into ``cache`` as repo ``repo`` (under ``subfolder`` of it); returns the
    snapshot folder. Calling it again for the same repo adds to the same snapshot."""
    folder = Path(cache) / f"{repo_type}s--{repo.replace('/', '--')}"
    commit = hashlib.sha1(repo.encode()).hexdigest()  # any 40-hex id; fixed per repo so calls add up
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    snapshot = folder / "snapshots" / commit
    shutil.copytree(files, snapshot / subfolder, dirs_exist_ok=True)
    return snapshot
