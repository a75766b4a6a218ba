"""TrainingMonitor: live loss / L0 / FVU / dead-fraction curves while an SAE (or a sweep) trains.

    mon = TrainingMonitor()
    display(mon)
    train(sae, acts, callback=mon.callback)     # or: mon.train(sae, acts, n_tokens=...)
    mon.finish()

Rows from ``train``'s callback are packed into one float32 array ``rows`` [n_rows, n_columns] (column names
in ``columns``) that crosses to the browser as a binary buffer. Python sends at most every
``min_interval`` seconds (the newest rows wait for the next send, for ``finish()``, or for a short
trailing timer), and the browser redraws at most ~10 times a second, so a fast loop cannot flood the
front end. The packing and grouping are plain functions below, which the tests call directly.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import traitlets

from . import _palette as palette
from ._base import Array, SaeWidget, static_text
from ._fallback import figure_png, new_figure

COLUMNS = (
    "sae",
    "step",
    "tokens",
    "lr",
    "sparsity_scale",
    "loss",
    "mse",
    "sparsity",
    "aux",
    "l0",
    "fvu",
    "dead_fraction",
    "seconds",
)
"""Column order of ``rows``: the history-row keys of ``saewidgets.training``, the SAE index first."""

PANELS = (
    ("loss", "loss", True),
    ("l0", "L0", False),
    ("fvu", "FVU", False),
    ("dead_fraction", "dead fraction", False),
)
"""(column, title, log-y) for the four panels."""


def columns_for(row: dict) -> list[str]:
    """The known columns, then any extra numeric keys of ``row`` in sorted order."""
    extra = sorted(
        k
        for k, v in row.items()
        if k not in COLUMNS and isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
    )
    return [*COLUMNS, *extra]


def row_vector(row: dict, columns: list[str]) -> np.ndarray:
    """One history row -> float32 [n_columns] in ``columns`` order; a missing key is NaN, "sae" defaults to 0."""
    out = np.full(len(columns), np.nan, dtype=np.float32)  # [n_columns]
    for i, name in enumerate(columns):
        value = row.get(name, 0 if name == "sae" else None)
        if value is not None:
            out[i] = float(value)
    return out


def rows_to_array(rows: list[dict], columns: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """History rows -> (float32 [n_rows, n_columns], columns)."""
    if columns is None:
        columns = columns_for(rows[0]) if rows else list(COLUMNS)
    arr = (
        np.stack([row_vector(r, columns) for r in rows]) if rows else np.zeros((0, len(columns)), np.float32)
    )
    return arr.astype(np.float32), columns


def group_by_sae(rows: np.ndarray, columns: list[str]) -> dict[int, np.ndarray]:
    """Split ``rows`` [n, c] by the "sae" column: {index: rows of that SAE in arrival order}."""
    sae = rows[:, columns.index("sae")].astype(int) if len(rows) else np.zeros(0, int)
    return {int(i): rows[sae == i] for i in np.unique(sae)}


def last_values(rows: np.ndarray, columns: list[str]) -> dict[int, dict[str, float]]:
    """The newest row of each SAE as {index: {column: value}}."""
    return {i: dict(zip(columns, map(float, g[-1]))) for i, g in group_by_sae(rows, columns).items()}


def summary(rows: np.ndarray, columns: list[str], status: str) -> str:
    """One line: "TrainingMonitor(1 SAE, 120 rows, finished, last: step 1200, L0 31.5, FVU 0.048, dead 0.002)"."""
    n = len(group_by_sae(rows, columns))
    if not len(rows):
        return f"TrainingMonitor(no rows yet, {status})"
    last = dict(zip(columns, map(float, rows[-1])))
    sae = f"SAE {int(last['sae'])} " if n > 1 else ""
    return (
        f"TrainingMonitor({n} SAE{'s' if n != 1 else ''}, {len(rows)} rows, {status}, last: {sae}step "
        f"{int(last['step'])}, L0 {last['l0']:.1f}, FVU {last['fvu']:.3f}, dead {last['dead_fraction']:.3f})"
    )


def _short(x: float) -> str:
    """Compact tick text: 4.9M, 12k, 0.05 (matches the browser's axes)."""
    a = abs(x)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


class TrainingMonitor(SaeWidget):
    """Live training curves (loss, L0, FVU, dead fraction) for one SAE or a sweep, one line per SAE."""

    _esm = static_text("common.js", "training_monitor.js")
    _css = static_text("base.css", "training_monitor.css")
    _static_view_updates = True  # its picture is redrawn when the run finishes (finish)

    rows = Array()
    """float32 [n_rows, n_columns]: every history row received so far (as of the last send)."""
    columns = traitlets.List(traitlets.Unicode(), list(COLUMNS)).tag(sync=True)
    """Column names of ``rows``."""
    status = traitlets.Unicode("waiting").tag(sync=True)
    """"waiting" (no rows yet), "running", "finished" or "interrupted"."""
    x_axis = traitlets.Enum(("tokens", "step"), "tokens").tag(sync=True)
    """The shared x axis of the four panels."""
    labels = traitlets.List(traitlets.Unicode(), []).tag(sync=True)
    """Legend names per SAE index (default "SAE i")."""
    title = traitlets.Unicode("SAE training").tag(sync=True)
    extra_panels = traitlets.List(traitlets.Unicode(), []).tag(sync=True)
    """Extra columns of the rows to draw, one panel each after the four (linear y): keys a callback adds to the
    history rows, e.g. ``mon.update(row | {"mean_theta": ...})`` with ``extra_panels=["mean_theta"]`` shows a
    JumpReLU SAE's thresholds climbing (notebook 05)."""
    _palette = traitlets.Dict(palette.PALETTE).tag(sync=True)  # one colour per SAE: widgets/_palette.py
    _html_private = ("_palette",)

    def __init__(self, *, min_interval: float = 0.2, trailing: bool = True, clock=time.monotonic, **kwargs):
        super().__init__(**kwargs)
        self.min_interval, self.trailing, self._clock = float(min_interval), trailing, clock
        self._buf = np.zeros((0, len(self.columns)), np.float32)  # [capacity, n_columns]
        self._n = 0  # rows received (the buffer may hold more capacity)
        self._sent = 0  # rows in the ``rows`` trait
        self._last_send = -np.inf
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None

    # -- receiving rows -------------------------------------------------------------------------------------
    def update(self, row: dict) -> None:
        """Add one history row (the ``callback`` of ``train``/``train_sweep``); sends at most every min_interval."""
        with self._lock:
            if self._n == 0:
                columns = columns_for(row)
                missing = [k for k in self.extra_panels if k not in columns]
                if missing:
                    raise ValueError(
                        f"extra_panels {missing} are not numeric keys of the first row "
                        f"(it has {sorted(row)}): add them to every row the callback sends, e.g. "
                        f"monitor.update(row | {{{missing[0]!r}: value}})"
                    )
                self.columns = columns
                self._buf = np.zeros((64, len(self.columns)), np.float32)
            if self._n == len(self._buf):  # grow by doubling: appending stays O(1) amortised
                self._buf = np.concatenate(
                    [self._buf, np.zeros((max(64, len(self._buf)), len(self.columns)), np.float32)]
                )
            self._buf[self._n] = row_vector(row, self.columns)
            self._n += 1
            if self._clock() - self._last_send >= self.min_interval:
                self._flush(status="running")
            elif self.trailing and self._timer is None:  # the newest rows show up even if no row follows
                self._timer = threading.Timer(self.min_interval, self._flush_pending)
                self._timer.daemon = True
                self._timer.start()

    @property
    def callback(self):
        """``train(sae, acts, callback=mon.callback)``."""
        return self.update

    def _flush_pending(self) -> None:
        with self._lock:
            self._timer = None
            if self._sent < self._n:
                self._flush()

    def _flush(self, status: str | None = None) -> None:
        """Send every row received so far (one state message)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            with self.hold_sync():
                self.rows = self._buf[: self._n].copy()
                if status is not None and self.status != status:
                    self.status = status
            self._sent, self._last_send = self._n, self._clock()

    def flush(self) -> None:
        """Send the rows that are waiting for the throttle now."""
        with self._lock:
            if self._sent < self._n:
                self._flush()

    def finish(self, interrupted: bool = False) -> None:
        """Send the final rows and mark the run finished (or interrupted)."""
        self._flush(status="interrupted" if interrupted else "finished")
        self.refresh_static_view()

    # -- conveniences ---------------------------------------------------------------------------------------
    def train(self, sae, activations, cfg=None, **kwargs):
        """``train`` (one SAE) or ``train_sweep`` (a list) with this monitor as the callback; finishes it."""
        from ..training import train, train_sweep

        fn = train_sweep if isinstance(sae, (list, tuple)) else train
        self.status = "running"
        try:
            result = fn(sae, activations, cfg, callback=self.update, **kwargs)
        except BaseException:
            self.finish(interrupted=True)
            raise
        interrupted = any(r.interrupted for r in result) if isinstance(result, list) else result.interrupted
        self.finish(interrupted=interrupted)
        return result

    @classmethod
    def from_history(cls, history, *, interrupted: bool = False, **kwargs) -> TrainingMonitor:
        """A finished monitor from a TrainResult's ``history`` (or a TrainResult, or a list of them for a sweep)."""
        if hasattr(history, "history"):
            interrupted = interrupted or history.interrupted
            history = history.history
        elif history and hasattr(history[0], "history"):  # [TrainResult, ...] from train_sweep
            interrupted = interrupted or any(r.interrupted for r in history)
            history = [
                r | {"sae": i} if "sae" not in r else r for i, res in enumerate(history) for r in res.history
            ]
        mon = cls(**kwargs)
        arr, columns = rows_to_array(list(history))
        with mon.hold_sync():
            mon.columns = columns
            mon._buf, mon._n = arr, len(arr)
            mon.finish(interrupted=interrupted)
        return mon

    # -- reading --------------------------------------------------------------------------------------------
    @property
    def history(self) -> np.ndarray:
        """float32 [n_rows, n_columns]: every row received, including any still waiting for the throttle."""
        return self._buf[: self._n].copy()

    def per_sae(self) -> dict[int, np.ndarray]:
        return group_by_sae(self.history, self.columns)

    def _summary(self) -> str:
        return summary(self.history, self.columns, self.status)

    def _repr_mimebundle_(self, **kwargs):
        self.flush()
        return super()._repr_mimebundle_(**kwargs)

    def to_html(self, path, title=None):
        self.flush()
        return super().to_html(path, title)

    def _png(self) -> bytes | None:
        groups = self.per_sae()
        if not groups:
            return None
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        plain = FuncFormatter(lambda v, _: _short(v))

        panels = [*PANELS, *((k, k, False) for k in self.extra_panels if k in self.columns)]
        n_rows = (len(panels) + 1) // 2
        fig = new_figure(figsize=(8, 2.5 * n_rows), dpi=80)
        axes = fig.subplots(n_rows, 2, sharex=True).ravel()
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        x_col = self.columns.index(self.x_axis)
        for ax, (col, name, log) in zip(axes, panels):
            j = self.columns.index(col)
            for k, (i, g) in enumerate(groups.items()):
                label = self.labels[i] if i < len(self.labels) else f"SAE {i}"
                ax.plot(g[:, x_col], g[:, j], lw=1.2, label=label, color=palette.color(k))
            if log:
                ax.set_yscale("log")
                ax.yaxis.set_minor_formatter(
                    FuncFormatter(lambda v, _: _short(v) if f"{v:.0e}"[0] in "25" else "")
                )
            ax.yaxis.set_major_formatter(plain)
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.xaxis.set_major_formatter(plain)
            ax.set_title(name + (" (log)" if log else ""), fontsize=10)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
        for ax in axes[len(panels) - 2 : len(panels)]:  # the lowest panel of each column
            ax.set_xlabel(self.x_axis, fontsize=9)
            ax.xaxis.set_tick_params(labelbottom=True)
        if len(groups) > 1:
            axes[0].legend(fontsize=8)
        fig.suptitle(f"{self.title} — {self.status}", fontsize=11)
        return figure_png(fig)
