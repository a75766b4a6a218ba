"""The widgets' JS explains itself (no browser, no node): each file says which helpers it takes from the files
concatenated before it, and each widget's Model typedef names every trait Python syncs to it."""

import re

import pytest

from saewidgets.widgets._base import STATIC, SaeWidget
from saewidgets.widgets.cluster_browser import ClusterBrowser
from saewidgets.widgets.diff_bars import DiffBars
from saewidgets.widgets.feature_activations import FeatureActivations
from saewidgets.widgets.frontier_plot import FrontierPlot
from saewidgets.widgets.npmi_scatter import NPMIScatter
from saewidgets.widgets.retrieval_box import RetrievalBox
from saewidgets.widgets.steering_panel import SteeringPanel
from saewidgets.widgets.training_monitor import TrainingMonitor

WIDGETS = {
    FrontierPlot: "frontier_plot.js",
    TrainingMonitor: "training_monitor.js",
    FeatureActivations: "feature_activations.js",
    ClusterBrowser: "cluster_browser.js",
    DiffBars: "diff_bars.js",
    NPMIScatter: "npmi_scatter.js",
    RetrievalBox: "retrieval_box.js",
    SteeringPanel: "steering_panel.js",
}
HELPER_FILES = ["frontier_plot_select.js", "markers.js", "datacentric.js", "feature_activations_panels.js"]


def code(name: str) -> str:
    """A static file without its comments (// lines and /* */ blocks), so only code is searched."""
    text = re.sub(r"/\*.*?\*/", "", (STATIC / name).read_text(), flags=re.S)
    return re.sub(r"^\s*//.*$", "", text, flags=re.M)


def defined(name: str) -> set[str]:
    """Top-level functions and consts of a static file."""
    return set(re.findall(r"^(?:function|const) (\w+)", (STATIC / name).read_text(), flags=re.M))


def uses(name: str) -> dict[str, set[str]]:
    """The header's "Uses from a.js: x, y; from b.js: z." as {"a.js": {"x", "y"}, "b.js": {"z"}}."""
    head = "".join(line[2:] for line in (STATIC / name).read_text().splitlines() if line.startswith("//"))
    listed = re.search(r"Uses from (.*?)\.(?:\s|$)", head)
    assert listed, f"{name} does not say which helpers it uses"
    out = {}
    for part in listed.group(1).split(";"):
        source, names = re.match(r"\s*(?:from\s+)?(\S+\.js)(?:\s*\([^)]*\))?:\s*(.*)", part).groups()
        out[source] = {n.strip() for n in names.split(",")}
    return out


@pytest.mark.parametrize("name", [*WIDGETS.values(), *HELPER_FILES])
def test_header_lists_exactly_the_common_helpers_used(name):
    listed = uses(name)
    for source, names in listed.items():
        missing = names - defined(source)
        assert not missing, f"{name} lists {missing} from {source}, which does not define them"
    helpers = defined("common.js") - {"SVG_NS", "NUM_UNITS"}  # internal to common.js
    # a call, not a method (x.h() is not h()); a spread argument (...quoted(t)) is a call
    called = {h for h in helpers if re.search(rf"(?:(?<=\.\.\.)|(?<![\w.$-])){h}\(", code(name))}
    assert called == listed.get("common.js", set()), f"{name}: header vs code"


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: w.__name__)
def test_model_typedef_names_every_synced_trait(widget):
    text = (STATIC / WIDGETS[widget]).read_text()
    typedef = re.search(r"@typedef \{Object\} Model\n(.*?)\*/", text, flags=re.S)
    assert typedef, f"{WIDGETS[widget]} has no Model typedef"
    documented = set(re.findall(r"@property \{.*?\} \[?(\w+)", typedef.group(1)))
    # the base class's own (_static_key) is read by common.js, not by each widget
    synced = set(widget.class_trait_names(sync=True)) - set(SaeWidget.class_trait_names(sync=True))
    assert synced - documented == set(), f"traits missing from {WIDGETS[widget]}'s typedef"
    assert documented - synced <= {"_offline", "_fronts_by_metric", "_higher_is_better"}  # offline page only


@pytest.mark.parametrize("name", sorted(p.name for p in STATIC.glob("*.js")))
def test_files_stay_short(name):
    assert len((STATIC / name).read_text().splitlines()) < 350
