"""stages.model.simulate: the table-driven Poisson sampler and the simulated distributions' shape."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stages.model.simulate import mean_factor, poisson_draws, poisson_table


def _pmf(lam: float, k: np.ndarray) -> np.ndarray:
    return np.array([math.exp(int(x) * math.log(lam) - lam - math.lgamma(int(x) + 1)) for x in k])


@pytest.mark.parametrize("lam", [0.05, 0.7, 3.3, 9.7, 31.0])
def test_table_poisson_matches_the_poisson_pmf_and_mean(lam: float):
    rng = np.random.default_rng(3)
    table = poisson_table(40.0)
    draws = poisson_draws(rng, np.full(400_000, lam, dtype=np.float32), table)
    assert draws.dtype == np.float32 and (draws >= 0).all()
    k = np.arange(int(lam + 6 * math.sqrt(lam) + 6))
    observed = np.array([(draws == x).mean() for x in k])
    assert np.abs(observed - _pmf(lam, k)).max() < 3e-3  # sampling noise at 400k draws is about 8e-4
    assert abs(draws.mean() - lam) < 4 * math.sqrt(lam / len(draws)) + 2e-3


def test_table_poisson_is_exact_at_zero_and_follows_lambda_per_element():
    rng = np.random.default_rng(4)
    table = poisson_table(10.0)
    assert (poisson_draws(rng, np.zeros(1000, dtype=np.float32), table) == 0).all()
    lam = np.repeat(np.array([[1.0], [8.0]], dtype=np.float32), 50_000, axis=1)
    means = poisson_draws(rng, lam, table).mean(axis=1)
    np.testing.assert_allclose(means, [1.0, 8.0], atol=0.05)


def test_mean_factor_maps_each_mean_onto_the_tier_line_and_stays_bounded():
    mean = np.array([1.5, 10.0, 40.0, 1e-9])
    factor = mean_factor(mean, np.full(4, 1.05), np.full(4, -1.0))
    np.testing.assert_allclose((mean * factor)[1:3], [-1.0 + 1.05 * 10.0, -1.0 + 1.05 * 40.0])
    assert factor[0] == 0.5 and factor[3] == 0.5  # -1 + 1.05 x 1.5 would cut it by more than half
