import re
import subprocess
import sys
from pathlib import Path

import saewidgets


def test_import_is_light_and_lazy():
    # Importing the package pulls in neither torch nor transformers (and so nothing that could reach a hub).
    code = "import sys, saewidgets; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_public_api_and_version():
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert saewidgets.__version__ == re.search(r'^version = "(.+)"', pyproject, re.M).group(1)
    for name in saewidgets.__all__:
        assert getattr(saewidgets, name) is not None
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        saewidgets.nope  # noqa: B018


def test_bundled_model_files_ship_in_the_package():
    from saewidgets.zoo import STORYTELLER_DIR

    names = {p.name for p in STORYTELLER_DIR.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "training.json"} <= names
