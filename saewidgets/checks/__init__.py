"""Exercise checks for the notebooks: compare a learner's function with the library's and give a hint.

The library is the answer key (ARENA style): each ``check_*`` takes the learner's function or class,
runs it next to the reference on small random inputs, prints a tick when they agree, and otherwise
raises an ``ExerciseError`` that names the most likely mistake. The tests check that every check passes
on the reference and fails, with its hint, on typical wrong answers. One module per notebook topic.
"""

from ._core import ExerciseError  # noqa: F401
from .capstone import *  # noqa: F401,F403  (12: training targets, a concept latent, a steering window)
from .datacentric import *  # noqa: F401,F403  (09: NPMI from counts, Jaccard similarity)
from .diagnostics import *  # noqa: F401,F403  (03: L2 ratio, firing density, dead and dense latents)
from .evals import *  # noqa: F401,F403  (11: a k-sparse probe, one token's absorption fraction)
from .frontier import *  # noqa: F401,F403  (06: Pareto front, a metric at matched L0)
from .gated_loss import *  # noqa: F401,F403  (04: the Gated loss with its frozen-decoder auxiliary term)
from .gated_topk import *  # noqa: F401,F403  (04: TopK activation, Gated encoder, AuxK loss)
from .interpret import *  # noqa: F401,F403  (07: logit effects, precision and recall)
from .jumprelu import *  # noqa: F401,F403  (05: Heaviside and JumpReLU autograd functions)
from .jumprelu_sae import *  # noqa: F401,F403  (05: the JumpReLU SAE from them, and its training)
from .relu import *  # noqa: F401,F403  (01, 02: encoder, L1 penalty)
from .splice import *  # noqa: F401,F403  (02: the splice hook behind ΔCE)
from .steering import *  # noqa: F401,F403  (08: add a steering direction to the residual stream)
from .training import *  # noqa: F401,F403  (02: the SAE module, its loss, a training step, L0, FVU)
