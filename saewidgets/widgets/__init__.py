"""anywidget components. Thin: traits + a plain ES module in saewidgets/static; logic lives in Python."""
