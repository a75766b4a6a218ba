"""Notebooks run small and offline under pytest (nbval); their kernels inherit this environment."""

import os

os.environ.setdefault("SAEW_SIZE", "small")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
