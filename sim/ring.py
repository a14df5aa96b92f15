"""The ring problem of Hong & Page (2004): a second problem type beside the NK landscape.

A ring of ``size`` solutions carries independent values uniform on ``[0, max_value]``.
A problem solver is a step-size heuristic of the same form professionals carry in
:mod:`sim.search`, ``k`` distinct step sizes from ``1..l``: from its current position
it looks the next step size ahead (cycling through its step sizes, as a
professional's pointer does over the decisions it understands), moves there if the
value is higher, and stops when ``k`` consecutive looks fail. Its *ability* is the
mean value at which it stops, over all starting positions. A group searches in
relay: each member climbs from where the previous one stopped, until a whole round
of the group finds no improvement.

All searches are vectorised over starting positions (and heuristics).
"""

from __future__ import annotations

from itertools import permutations

import numpy as np


class RingProblem:
    """A ring of solutions with random values.

    Attributes:
        values: ``(size,)`` value of each solution.
    """

    def __init__(self, size: int, max_value: float, rng: np.random.Generator) -> None:
        """Draw the values of a ring of ``size`` solutions from ``rng``."""
        if size < 2:
            raise ValueError(f"ring size {size} must be at least 2")
        self.values = rng.uniform(0.0, max_value, size)

    @property
    def size(self) -> int:
        """Number of solutions on the ring."""
        return len(self.values)

    @property
    def optimum(self) -> float:
        """Highest value on the ring."""
        return float(self.values.max())


def all_heuristics(k: int, l: int) -> np.ndarray:  # noqa: E741 - Hong & Page's name
    """Every ordered tuple of ``k`` distinct step sizes from ``1..l``, ``(l!/(l-k)!, k)``."""
    if not 1 <= k <= l:
        raise ValueError(f"need 1 <= k={k} <= l={l}")
    return np.array(list(permutations(range(1, l + 1), k)), dtype=np.int64)


def climb(values: np.ndarray, start: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Climb from each start with the heuristic of its row until ``k`` looks in a row fail.

    Args:
        values: ``(size,)`` ring values.
        start: ``(M,)`` starting positions.
        steps: ``(M, k)`` step sizes of the heuristic used from each start.

    Returns:
        ``(end, moved)``: ``(M,)`` stopping positions and whether each moved at all.
    """
    n = len(values)
    k = steps.shape[1]
    pos = np.array(start, dtype=np.int64, copy=True)
    moved = np.zeros(len(pos), dtype=bool)
    fails = np.zeros(len(pos), dtype=np.int64)
    which = np.zeros(len(pos), dtype=np.int64)
    live = np.arange(len(pos))
    while len(live):
        cand = (pos[live] + steps[live, which[live]]) % n
        better = values[cand] > values[pos[live]]
        up = live[better]
        pos[up] = cand[better]
        moved[up] = True
        fails[live] = np.where(better, 0, fails[live] + 1)
        which[live] = (which[live] + 1) % k
        live = live[fails[live] < k]
    return pos, moved


def ability(values: np.ndarray, heuristics: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Mean stopping value of each heuristic over all starting positions, ``(H,)``."""
    n = len(values)
    out = np.empty(len(heuristics))
    starts = np.arange(n)
    for lo in range(0, len(heuristics), chunk):
        block = heuristics[lo:lo + chunk]
        steps = np.repeat(block, n, axis=0)
        end, _ = climb(values, np.tile(starts, len(block)), steps)
        out[lo:lo + len(block)] = values[end].reshape(len(block), n).mean(axis=1)
    return out


def relay(values: np.ndarray, group: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Stopping positions of a group searching in relay from each start.

    Args:
        values: ``(size,)`` ring values.
        group: ``(G, k)`` heuristics of the members, in the order they take turns.
        start: Starting positions; all positions if ``None``.

    Returns:
        ``(M,)`` positions where no member can improve any more.
    """
    pos = np.arange(len(values)) if start is None else np.array(start, dtype=np.int64)
    live = np.arange(len(pos))
    idle = np.zeros(len(pos), dtype=np.int64)  # members in a row that found nothing
    member = 0
    g = len(group)
    while len(live):
        steps = np.broadcast_to(group[member], (len(live), group.shape[1]))
        end, moved = climb(values, pos[live], steps)
        pos[live] = end
        idle[live] = np.where(moved, 0, idle[live] + 1)
        live = live[idle[live] < g]
        member = (member + 1) % g
    return pos


def group_value(values: np.ndarray, group: np.ndarray) -> float:
    """Mean value a group reaches in relay over all starting positions."""
    return float(values[relay(values, group)].mean())


def diversity(group: np.ndarray) -> float:
    """Hong & Page's diversity: mean share of positions at which two members' heuristics differ."""
    g = len(group)
    if g < 2:
        return 0.0
    differ = (group[:, None, :] != group[None, :, :]).mean(axis=2)
    return float(differ[np.triu_indices(g, 1)].mean())
