"""NK landscape: enumeration, local search, ownership and cross-boundary structure."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.landscape import NKLandscape, bits_to_int, int_to_bits


def brute_force_fitness(land: NKLandscape, config: tuple[int, ...]) -> float:
    total = 0.0
    for i in range(land.n):
        index = sum(config[d] << j for j, d in enumerate(land.deps[i]))
        total += land.tables[i, index]
    return total / land.n


@pytest.mark.parametrize("k", [0, 2, 5])
def test_enumeration_equals_brute_force(k: int) -> None:
    land = NKLandscape(8, k, np.random.default_rng(k))
    fit = land.all_fitness()
    for code, config in enumerate(itertools.product([0, 1], repeat=8)):
        bits = tuple(reversed(config))  # bit i of the code is decision i
        assert fit[code] == pytest.approx(brute_force_fitness(land, bits))
    best, best_config = land.optimum()
    assert best == pytest.approx(fit.max())
    assert land.fitness(best_config)[0] == pytest.approx(best)


def test_bits_roundtrip() -> None:
    codes = np.arange(64)
    assert np.array_equal(bits_to_int(int_to_bits(codes, 6)), codes)


@pytest.mark.parametrize("seed", range(5))
def test_fitness_in_unit_interval(seed: int) -> None:
    land = NKLandscape(10, 4, np.random.default_rng(seed))
    fit = land.all_fitness()
    assert fit.min() >= 0.0 and fit.max() <= 1.0


@pytest.mark.parametrize("seed", range(10))
def test_k0_adaptive_walks_reach_global_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    land = NKLandscape(12, 0, rng)
    starts = rng.integers(0, 2, (50, 12), dtype=np.uint8)
    ends = land.adaptive_walks(starts, rng=rng)
    assert np.allclose(land.fitness(ends), land.optimum()[0])
    assert len(land.local_optima()) == 1


def test_walks_end_at_local_optima_and_optima_multiply_with_k() -> None:
    counts = []
    for k in (0, 2, 5, 9):
        rng = np.random.default_rng(100 + k)
        land = NKLandscape(10, k, rng)
        ends = land.adaptive_walks(rng.integers(0, 2, (20, 10), dtype=np.uint8), rng=rng)
        optima = set(land.local_optima().tolist())
        assert set(bits_to_int(ends).tolist()) <= optima
        counts.append(len(optima))
    assert counts[0] == 1 and counts == sorted(counts) and counts[-1] > 10


def test_cross_boundary_zero_keeps_dependencies_inside_owner() -> None:
    owner = np.repeat(np.arange(3), 6)  # 3 organisations x 6 decisions, K = 4 fits inside
    land = NKLandscape(18, 4, np.random.default_rng(1), owner=owner, cross_boundary=0.0)
    assert np.all(owner[land.deps] == owner[:, None])
    assert land.realised_cross_boundary() == 0.0


def test_cross_boundary_one_puts_dependencies_outside_owner() -> None:
    owner = np.repeat(np.arange(3), 6)
    land = NKLandscape(18, 4, np.random.default_rng(1), owner=owner, cross_boundary=1.0)
    assert np.all(owner[land.deps[:, 1:]] != owner[:, None])
    assert land.realised_cross_boundary() == 1.0


def test_redraw_keeps_cached_enumeration_exact() -> None:
    land = NKLandscape(10, 3, np.random.default_rng(3))
    land.all_fitness()
    land.redraw(np.array([1, 4, 7]))
    cached = land.all_fitness().copy()
    land._all_sum = None
    assert np.allclose(cached, land.all_fitness())
    assert land.optimum()[0] == pytest.approx(cached.max())


def test_large_n_optimum_is_a_labelled_estimate() -> None:
    land = NKLandscape(24, 2, np.random.default_rng(0), exact_optimum_max_n=22)
    value, config = land.optimum()
    assert land.optimum_method.startswith("estimate")
    assert land.fitness(config)[0] == pytest.approx(value)


def test_enumeration_memo_gives_the_bits_of_a_fresh_enumeration():
    """A landscape drawn again (common random numbers) reuses the enumeration, and it stays exact after redraws."""
    import sim.landscape as landscape

    def drawn() -> NKLandscape:
        return NKLandscape(12, 3, np.random.default_rng(7), owner=np.repeat(np.arange(3), 4), cross_boundary=0.5)

    landscape._INDEX_MEMO.clear()
    landscape._SUM_MEMO.clear()
    fresh = drawn()
    first = fresh.all_fitness().copy()
    assert len(landscape._SUM_MEMO) == 1
    again = drawn()
    assert np.array_equal(again.all_fitness(), first)
    assert again._all_sum is not fresh._all_sum  # its own copy: redraws update it in place
    for land in (fresh, again):
        land.redraw(np.array([2, 5]))
    assert np.array_equal(fresh.all_fitness(), again.all_fitness())
    assert fresh.optimum()[0] == again.optimum()[0]
    assert not np.array_equal(fresh.all_fitness(), first)  # the redraw moved the cached copy, not the memo
    assert np.array_equal(drawn().all_fitness(), first)
    landscape._INDEX_MEMO.clear()
    landscape._SUM_MEMO.clear()
    assert np.array_equal(drawn().all_fitness(), first)  # and a fresh enumeration gives the same bits
