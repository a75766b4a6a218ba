"""Config validation: numpy numbers are accepted (and saved as plain JSON), inf and NaN are refused."""

import json

import numpy as np
import pytest

from saewidgets.config import SAEConfig, TrainConfig


def test_numpy_numbers_are_accepted_and_saved_as_plain_json():
    ks = np.arange(4, 12, 4)  # a sweep's k values: np.int64
    cfg = SAEConfig(
        "topk",
        d_in=np.int64(16),
        d_sae=np.int32(64),
        k=ks[0],
        auxk_k=np.int64(8),
        l1_coefficient=np.float32(0.5),
        target_l0=np.float64(3.0),
    )
    assert (cfg.k, cfg.d_in, cfg.d_sae, cfg.auxk_k) == (4, 16, 64, 8)
    assert all(
        type(v) in (int, float) for v in (cfg.k, cfg.d_in, cfg.d_sae, cfg.l1_coefficient, cfg.target_l0)
    )
    assert SAEConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert SAEConfig("relu", 4, 8, k=np.int64(3)).k == 3  # unused by relu, still plain JSON
    train = TrainConfig(
        n_tokens=np.int64(4096),
        batch_size=np.int64(512),
        seed=np.int64(3),
        lr=np.float32(1e-3),
        resample_every=np.int16(5),
        adam_betas=np.array([0.9, 0.99]),
    )
    assert type(train.n_tokens) is int and train.steps == 8 and type(train.adam_betas[0]) is float
    json.dumps(train.to_dict())


def test_bools_are_not_numbers():
    with pytest.raises(ValueError, match="SAEConfig.d_sae"):
        SAEConfig("relu", 4, True)
    with pytest.raises(ValueError, match="TrainConfig.lr"):
        TrainConfig(lr=True)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), np.float32("inf")])
@pytest.mark.parametrize(
    "field",
    [
        "l1_coefficient",
        "l0_coefficient",
        "pre_act_loss_coefficient",
        "auxk_coefficient",
        "jumprelu_bandwidth",
        "jumprelu_init_threshold",
        "jumprelu_tanh_scale",
        "target_l0",
        "batchtopk_threshold_lr",
        "input_scale",
    ],
)
def test_sae_config_refuses_non_finite(field, value):
    with pytest.raises(ValueError, match=rf"SAEConfig\.{field} must be .*; got -?(inf|nan)"):
        SAEConfig("jumprelu", 4, 8, **{field: value})


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
@pytest.mark.parametrize("field", ["lr", "threshold_lr_scale", "grad_clip", "lr_warmup_fraction"])
def test_train_config_refuses_non_finite(field, value):
    with pytest.raises(ValueError, match=rf"TrainConfig\.{field} must be .*; got (inf|nan)"):
        TrainConfig(**{field: value})
    with pytest.raises(ValueError, match=r"adam_betas"):
        TrainConfig(adam_betas=(value, 0.999))


def test_finite_messages_say_what_is_allowed():
    with pytest.raises(ValueError, match=r"TrainConfig\.lr must be a finite number > 0; got inf"):
        TrainConfig(lr=float("inf"))
    with pytest.raises(
        ValueError, match=r"SAEConfig\.jumprelu_bandwidth must be a finite number > 0; got inf"
    ):
        SAEConfig("jumprelu", 4, 8, jumprelu_bandwidth=float("inf"))
    with pytest.raises(
        ValueError, match=r"SAEConfig\.input_scale must be a finite number > 0 or None; got 0"
    ):
        SAEConfig("relu", 4, 8, input_scale=0)
