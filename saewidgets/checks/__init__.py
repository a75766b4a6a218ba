"""Exercise checks for the notebooks: compare a learner's function with the library's and give a hint.

The library is the answer key (ARENA style): each ``check_*`` takes the learner's function or class,
runs it next to the reference on small random inputs, prints a tick when they agree, and otherwise
raises an ``ExerciseError`` that names the most likely mistake. The tests check that every check passes
on the reference and fails, with its hint, on typical wrong answers. One module per notebook topic.
"""

from ._core import ExerciseError  # noqa: F401
from .relu import *  # noqa: F401,F403  (01, 02: encoder, L1 penalty)
