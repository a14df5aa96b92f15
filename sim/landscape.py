"""The shared problem: an NK landscape whose decisions are owned by organisations.

``N`` binary policy decisions; the contribution of decision ``i`` depends on its
own state and on the states of ``K`` other decisions (Kauffman 1993; Levinthal
1997). Each decision is owned by one organisation; ``cross_boundary`` is the
share of each decision's dependencies that fall on decisions owned by *other*
organisations. Contributions are uniform on [0, 1), so every fitness value is
in [0, 1].

Everything is vectorised: a batch of configurations is an ``(M, N)`` array of
0/1 and is scored in one gather.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

ENUMERATION_CHUNK = 1 << 14
CACHE_MAX_CELLS = 1 << 22  # cache per-configuration table indices up to this many cells
ESTIMATE_WALKS = 512
ENUMERATION_MEMO = 8  # enumerations kept per process (a definition of the implementation, not of the model)

# Exhaustive enumerations of recently drawn landscapes, keyed by a digest of their dependency
# structure (the per-configuration table indices) and of their tables (the sums). Runs on common
# random numbers draw the same landscape for every condition of a replication, so a sweep or an
# optimisation enumerates each one once per process. A hit returns copies of exactly the arrays a
# fresh enumeration would give, so results are unchanged to the bit.
_INDEX_MEMO: OrderedDict[bytes, np.ndarray] = OrderedDict()
_SUM_MEMO: OrderedDict[bytes, np.ndarray] = OrderedDict()


def _digest(*arrays: np.ndarray) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for a in arrays:
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


def _remember(memo: OrderedDict[bytes, np.ndarray], key: bytes, value: np.ndarray) -> None:
    memo[key] = value
    memo.move_to_end(key)
    while len(memo) > ENUMERATION_MEMO:
        memo.popitem(last=False)


def int_to_bits(codes: np.ndarray, n: int) -> np.ndarray:
    """Bit arrays ``(len(codes), n)`` of integer configurations; bit ``i`` is decision ``i``."""
    codes = np.asarray(codes, dtype=np.int64)
    return ((codes[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.uint8)


def bits_to_int(bits: np.ndarray) -> np.ndarray:
    """Integer codes of bit arrays ``(M, n)``."""
    bits = np.atleast_2d(bits).astype(np.int64)
    return bits @ (np.int64(1) << np.arange(bits.shape[1], dtype=np.int64))


def split_decisions(weights: np.ndarray, n: int) -> np.ndarray:
    """Owner of each of ``n`` decisions: blocks in organisation order, sized by weight.

    Every organisation owns at least one decision (largest-remainder rounding).
    """
    weights = np.asarray(weights, dtype=float)
    o = len(weights)
    share = weights / weights.sum() * (n - o)
    counts = np.floor(share).astype(int) + 1
    rest = n - counts.sum()
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    counts[order[:rest]] += 1
    return np.repeat(np.arange(o), counts)


def external_counts(
    owner: np.ndarray, k: int, cross_boundary: float, tiebreak: np.ndarray | None = None
) -> np.ndarray | None:
    """How many of each decision's ``k`` dependencies fall on other organisations.

    ``round(N * k * cross_boundary)`` external dependencies in all, as evenly as
    possible; the decisions with the fewest own-organisation partners take the
    extra ones (ties broken by ``tiebreak`` keys, else by position). So the realised
    share is the requested one to within ``1 / (N k)``.

    Returns:
        ``(N,)`` counts, or ``None`` if the owners' decision structure cannot realise
        the share (an organisation owns too few decisions, or too many).
    """
    n = len(owner)
    sizes = np.bincount(owner)
    own_pool = sizes[owner] - 1
    other_pool = n - sizes[owner]
    total = int(round(n * k * cross_boundary))
    base, rest = divmod(total, n) if n else (0, 0)
    counts = np.full(n, base, dtype=np.int64)
    keys = np.arange(n) if tiebreak is None else tiebreak
    counts[np.lexsort((keys, own_pool))[:rest]] += 1
    if (counts > other_pool).any() or (k - counts > own_pool).any():
        return None
    return counts


def realisable_cross_boundary(owner: np.ndarray, k: int) -> tuple[float, float] | None:
    """Smallest and largest cross-boundary share the decision structure can realise."""
    n = len(owner)
    if k == 0:
        return (0.0, 1.0)
    ok = [e / (n * k) for e in range(n * k + 1) if external_counts(owner, k, e / (n * k)) is not None]
    return (min(ok), max(ok)) if ok else None


def draw_dependencies(
    owner: np.ndarray, k: int, cross_boundary: float, rng: np.random.Generator
) -> np.ndarray:
    """Draw each decision's ``k`` dependencies given who owns what.

    Decision ``i`` gets ``external_counts(...)[i]`` dependencies drawn from decisions
    owned by other organisations and the rest from its owner's other decisions, so
    the realised cross-boundary share equals the requested one (to within
    ``1 / (N k)``).

    Args:
        owner: Owning organisation of each decision, shape ``(N,)``.
        k: Dependencies per decision.
        cross_boundary: Share of dependencies on other organisations.
        rng: Generator of the run.

    Returns:
        ``(N, k + 1)`` int array; column 0 is the decision itself.

    Raises:
        ValueError: If the share cannot be realised with these owners.
    """
    n = len(owner)
    if (owner == owner[0]).all():  # one owner (the docking studies): K random partners per decision, as Kauffman
        deps = np.empty((n, k + 1), dtype=np.int64)
        for i in range(n):
            rng.random()  # the draw that rounded the external count in earlier versions: same streams, same landscapes
            chosen = rng.choice(np.flatnonzero(np.arange(n) != i), k, replace=False)
            rng.choice(np.zeros(0, dtype=np.int64), 0, replace=False)
            deps[i, 0] = i
            deps[i, 1:] = np.sort(chosen)
        return deps
    counts = external_counts(owner, k, cross_boundary, tiebreak=rng.random(n))
    if counts is None:
        raise ValueError(f"cross_boundary={cross_boundary} cannot be realised with K={k} and these owners")
    deps = np.empty((n, k + 1), dtype=np.int64)
    for i in range(n):
        own_pool = np.flatnonzero((owner == owner[i]) & (np.arange(n) != i))
        other_pool = np.flatnonzero(owner != owner[i])
        n_ext = int(counts[i])
        chosen = np.concatenate(
            [rng.choice(own_pool, k - n_ext, replace=False), rng.choice(other_pool, n_ext, replace=False)]
        ).astype(np.int64)
        deps[i, 0] = i
        deps[i, 1:] = np.sort(chosen)
    return deps


class NKLandscape:
    """An NK landscape over ``N`` owned decisions.

    Attributes:
        n: Number of decisions ``N``.
        k: Dependencies per decision ``K``.
        owner: Owning organisation of each decision.
        deps: ``(N, K + 1)`` dependency indices; column 0 is the decision itself.
        tables: ``(N, 2 ** (K + 1))`` contribution tables.
        optimum_method: ``"exact enumeration"`` or a description of the estimate.
    """

    def __init__(
        self,
        n: int,
        k: int,
        rng: np.random.Generator,
        owner: np.ndarray | None = None,
        cross_boundary: float = 0.5,
        exact_optimum_max_n: int = 22,
        mandate_correlation: float = 1.0,
        mandate_rng: np.random.Generator | None = None,
    ) -> None:
        """Draw a landscape.

        Args:
            n: Number of decisions.
            k: Dependencies per decision (``0 <= k < n``).
            rng: Generator the landscape draws from.
            owner: Owning organisation per decision; all one organisation if ``None``.
            cross_boundary: Share of dependencies on other organisations' decisions.
            exact_optimum_max_n: Largest ``n`` for exact enumeration of the optimum.
            mandate_correlation: Correlation of each decision's mandate table with its
                contribution table (1 = the mandate is the shared value).
            mandate_rng: Generator of the mandates' own noise (default: ``rng``). A separate
                stream keeps the shared landscape, the start and the turbulence identical
                whatever the mandates (common random numbers across mandate conditions).
        """
        if not 0 <= k < n:
            raise ValueError(f"K={k} must satisfy 0 <= K < N={n}")
        self.n = n
        self.k = k
        self.rng = rng
        self.owner = np.zeros(n, dtype=np.int64) if owner is None else np.asarray(owner, dtype=np.int64)
        self.deps = draw_dependencies(self.owner, k, cross_boundary, rng)
        self.tables = rng.random((n, 1 << (k + 1)))
        self.mandate_correlation = float(mandate_correlation)
        self.mandate_rng = rng if mandate_rng is None else mandate_rng
        self.mandate_tables = self._mandate(self.tables)
        self._mandate_corr: float | None = None
        self._powers = (np.int64(1) << np.arange(k + 1, dtype=np.int64))
        self._rows = np.arange(n)
        self.exact = n <= exact_optimum_max_n
        self.optimum_method = "exact enumeration" if self.exact else (
            f"estimate: best of {ESTIMATE_WALKS} steepest-ascent walks")
        self._all_idx: np.ndarray | None = None
        self._all_sum: np.ndarray | None = None
        self._optimum: tuple[float, np.ndarray] | None = None
        self._random_mean: float | None = None

    def _mandate(self, tables: np.ndarray) -> np.ndarray:
        """Mandate tables correlated ``rho`` with ``tables``: ``(rho t + sqrt(1 - rho^2) u) / (rho + sqrt(1 - rho^2))``.

        ``u`` is a fresh uniform draw, so the correlation with the shared contribution is
        exactly ``rho`` in expectation and every value stays in [0, 1]. With ``rho = 1``
        the mandate *is* the shared table (the same array).
        """
        rho = self.mandate_correlation
        if rho >= 1.0:
            return tables
        other = np.sqrt(1.0 - rho * rho)
        return (rho * tables + other * self.mandate_rng.random(tables.shape)) / (rho + other)

    def realised_mandate_correlation(self) -> float:
        """Correlation between all contribution and mandate table entries (cached until a redraw)."""
        if self.mandate_tables is self.tables:
            return 1.0
        if self._mandate_corr is None:
            self._mandate_corr = float(np.corrcoef(self.tables.ravel(), self.mandate_tables.ravel())[0, 1])
        return self._mandate_corr

    # ------------------------------------------------------------------ scoring
    def table_index(self, configs: np.ndarray) -> np.ndarray:
        """Row of each decision's table used by each configuration, ``(M, N)``."""
        configs = np.atleast_2d(configs)
        return (configs[:, self.deps].astype(np.int64) * self._powers).sum(axis=-1)

    def contributions(self, configs: np.ndarray) -> np.ndarray:
        """Contribution of every decision under each configuration, ``(M, N)`` in [0, 1)."""
        return self.tables[self._rows, self.table_index(configs)]

    def both_contributions(self, configs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Shared and mandate contributions of each configuration, two ``(M, N)`` arrays (one index)."""
        idx = self.table_index(configs)
        return self.tables[self._rows, idx], self.mandate_tables[self._rows, idx]

    def fitness(self, configs: np.ndarray) -> np.ndarray:
        """Mean contribution (public value, raw) of each configuration, ``(M,)``."""
        return self.contributions(configs).mean(axis=1)

    def owner_performance(self, configs: np.ndarray, n_orgs: int) -> np.ndarray:
        """Mean contribution over each organisation's own decisions, ``(M, n_orgs)``."""
        contrib = self.contributions(configs)
        sums = np.zeros((contrib.shape[0], n_orgs))
        np.add.at(sums.T, self.owner, contrib.T)
        counts = np.bincount(self.owner, minlength=n_orgs)
        return sums / np.maximum(counts, 1)

    # ------------------------------------------------------------------ optimum
    def _enumerate_sums(self) -> np.ndarray:
        """Sum of contributions for every configuration, in code order."""
        total = 1 << self.n
        cache = total * self.n <= CACHE_MAX_CELLS
        if cache and self._all_idx is None:
            key = _digest(self.deps)
            idx = _INDEX_MEMO.get(key)
            if idx is None:
                idx = np.empty((total, self.n), dtype=np.int32)
                for start in range(0, total, ENUMERATION_CHUNK):
                    codes = np.arange(start, min(total, start + ENUMERATION_CHUNK))
                    idx[start:start + len(codes)] = self.table_index(int_to_bits(codes, self.n))
                idx.setflags(write=False)  # shared by the landscapes with this structure; never mutated
            _remember(_INDEX_MEMO, key, idx)
            self._all_idx = idx
        if cache:
            key = _digest(self.deps, self.tables)
            sums = _SUM_MEMO.get(key)
            if sums is None:
                sums = self.tables[self._rows, self._all_idx].sum(axis=1)
                sums.setflags(write=False)
            _remember(_SUM_MEMO, key, sums)
            return sums.copy()  # the caller updates its copy in place after a redraw
        sums = np.empty(total)
        for start in range(0, total, ENUMERATION_CHUNK):
            codes = np.arange(start, min(total, start + ENUMERATION_CHUNK))
            sums[start:start + len(codes)] = self.contributions(int_to_bits(codes, self.n)).sum(axis=1)
        return sums

    def all_fitness(self) -> np.ndarray:
        """Fitness of all ``2 ** N`` configurations in code order (exact case only)."""
        if not self.exact:
            raise ValueError(f"N={self.n} is too large to enumerate")
        if self._all_sum is None:
            self._all_sum = self._enumerate_sums()
        return self._all_sum / self.n

    def optimum(self) -> tuple[float, np.ndarray]:
        """Global optimum fitness and one configuration reaching it.

        Exact by enumeration for ``N <= exact_optimum_max_n``; otherwise the best end
        point of many steepest-ascent walks from random starts (a lower bound).
        """
        if self._optimum is None:
            if self.exact:
                fit = self.all_fitness()
                best = int(np.argmax(fit))
                self._optimum = (float(fit[best]), int_to_bits(np.array([best]), self.n)[0])
            else:
                ends = self.adaptive_walks(
                    self.rng.integers(0, 2, size=(ESTIMATE_WALKS, self.n), dtype=np.uint8), steepest=True)
                fit = self.fitness(ends)
                best = int(np.argmax(fit))
                self._optimum = (float(fit[best]), ends[best].copy())
        return self._optimum

    def random_mean(self) -> float:
        """Exact mean fitness of a uniformly random configuration.

        Decision ``i``'s table row is indexed by the states of ``K + 1`` distinct
        decisions (itself and its dependencies), so under uniformly random
        configurations every row entry is equally likely: the expected contribution
        of ``i`` is the mean of its table, and the expected fitness is the mean over
        decisions of those means, i.e. the mean of all table entries. Exact for any
        ``N`` (no enumeration), and kept current after :meth:`redraw`.
        """
        if self._random_mean is None:
            self._random_mean = float(self.tables.mean(axis=1).mean())
        return self._random_mean

    def local_optima(self) -> np.ndarray:
        """Codes of all one-bit local optima (exact case only)."""
        fit = self.all_fitness()
        codes = np.arange(1 << self.n)
        is_opt = np.ones(len(codes), dtype=bool)
        for i in range(self.n):
            is_opt &= fit >= fit[codes ^ (1 << i)]
        return np.flatnonzero(is_opt)

    # ------------------------------------------------------------------ search
    def adaptive_walks(
        self, starts: np.ndarray, steepest: bool = False, rng: np.random.Generator | None = None,
        max_steps: int = 10_000,
    ) -> np.ndarray:
        """Run one-bit adaptive walks in parallel until each is at a local optimum.

        Args:
            starts: ``(M, N)`` starting configurations.
            steepest: Move to the best improving neighbour; otherwise to a random one.
            rng: Generator for the random choice among improving neighbours.
            max_steps: Safety bound on the number of moves.

        Returns:
            ``(M, N)`` end configurations, each a one-bit local optimum.
        """
        rng = self.rng if rng is None else rng
        x = np.array(starts, dtype=np.uint8, copy=True)
        m = len(x)
        eye = np.eye(self.n, dtype=np.uint8)
        for _ in range(max_steps):
            cur = self.fitness(x)
            neigh = (x[:, None, :] ^ eye[None, :, :]).reshape(m * self.n, self.n)
            gain = self.fitness(neigh).reshape(m, self.n) - cur[:, None]
            better = gain > 1e-12
            moving = better.any(axis=1)
            if not moving.any():
                break
            if steepest:
                flip = np.argmax(np.where(better, gain, -np.inf), axis=1)
            else:
                flip = np.argmax(np.where(better, rng.random((m, self.n)), -1.0), axis=1)
            rows = np.flatnonzero(moving)
            x[rows, flip[rows]] ^= 1
        return x

    # ------------------------------------------------------------------ turbulence
    def redraw(self, decisions: np.ndarray) -> None:
        """Redraw the contribution tables of ``decisions`` (turbulence or a shock)."""
        decisions = np.unique(np.asarray(decisions, dtype=np.int64))
        if len(decisions) == 0:
            return
        new = self.rng.random((len(decisions), self.tables.shape[1]))
        if self.mandate_tables is not self.tables:
            self.mandate_tables[decisions] = self._mandate(new)
        if self._all_sum is not None and self._all_idx is not None:
            for d, row in zip(decisions, new, strict=True):
                col = self._all_idx[:, d]
                self._all_sum += row[col] - self.tables[d, col]
        else:
            self._all_sum = None
        self.tables[decisions] = new
        self._optimum = None
        self._mandate_corr = None
        self._random_mean = None

    def realised_cross_boundary(self) -> float:
        """Share of all dependencies that fall on another organisation's decisions."""
        if self.k == 0:
            return 0.0
        dep_owner = self.owner[self.deps[:, 1:]]
        return float((dep_owner != self.owner[:, None]).sum()) / (self.n * self.k)
