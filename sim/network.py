"""The collaboration network between professionals (Lazer & Friedman 2007).

Structures: ``siloed`` (ties within organisations, a few bridges), ``small_world``
(Watts-Strogatz over professionals ordered by organisation, so most ties stay
inside and rewired ones cross), ``random`` (Erdős-Rényi), ``linear`` (a path)
and ``full`` (everyone tied to everyone). Graphs are built with networkx and
stored as sorted undirected edges plus a CSR neighbour index for vectorised
sampling; trust lives on the edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from sim.params import NetworkParams


@dataclass
class Network:
    """Undirected ties with trust, in array form.

    Attributes:
        n: Number of professionals.
        edges: ``(E, 2)`` sorted pairs ``i < j``.
        trust: ``(E,)`` trust on each tie in [0, 1].
        indptr: CSR row pointers, ``(n + 1,)``.
        neighbours: CSR neighbour ids, ``(2E,)``.
        edge_of: Edge id of each CSR entry, ``(2E,)``.
    """

    n: int
    edges: np.ndarray
    trust: np.ndarray
    indptr: np.ndarray
    neighbours: np.ndarray
    edge_of: np.ndarray

    @classmethod
    def from_edges(cls, n: int, edges: np.ndarray, initial_trust: float) -> Network:
        """Build from an ``(E, 2)`` edge array (any order, no self-loops)."""
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        edges = np.sort(edges, axis=1)
        edges = edges[edges[:, 0] != edges[:, 1]]
        codes = np.unique(edges[:, 0] * n + edges[:, 1])
        net = cls(n=n, edges=np.column_stack([codes // n, codes % n]), trust=np.full(len(codes), float(initial_trust)),
                  indptr=np.zeros(n + 1, dtype=np.int64), neighbours=np.zeros(0, dtype=np.int64),
                  edge_of=np.zeros(0, dtype=np.int64))
        net._index()
        return net

    def _index(self) -> None:
        """Rebuild the CSR neighbour index from ``edges`` (sorted by ``i * n + j``)."""
        e = len(self.edges)
        src = np.concatenate([self.edges[:, 0], self.edges[:, 1]])
        dst = np.concatenate([self.edges[:, 1], self.edges[:, 0]])
        order = np.argsort(src * self.n + dst, kind="stable")
        self.indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=self.n), out=self.indptr[1:])
        self.neighbours = dst[order]
        self.edge_of = np.concatenate([np.arange(e), np.arange(e)])[order]

    def add_ties(self, pairs: np.ndarray, trust: np.ndarray) -> int:
        """Add ties ``(M, 2)`` with the given trust; existing ties keep theirs.

        Returns:
            The number of ties actually added.
        """
        pairs = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
        trust = np.asarray(trust, dtype=float)
        keep = pairs[:, 0] != pairs[:, 1]
        pairs, trust = pairs[keep], trust[keep]
        if len(pairs) == 0:
            return 0
        codes = self.edges[:, 0] * self.n + self.edges[:, 1]
        new_codes, first = np.unique(pairs[:, 0] * self.n + pairs[:, 1], return_index=True)
        pos = np.searchsorted(codes, new_codes)
        fresh = (pos >= len(codes)) | (codes[np.minimum(pos, len(codes) - 1)] != new_codes) if len(codes) else \
            np.ones(len(new_codes), dtype=bool)
        if not fresh.any():
            return 0
        all_codes = np.insert(codes, pos[fresh], new_codes[fresh])
        self.trust = np.insert(self.trust, pos[fresh], trust[first[fresh]])
        self.edges = np.column_stack([all_codes // self.n, all_codes % self.n])
        self._index()
        return int(fresh.sum())

    @property
    def degree(self) -> np.ndarray:
        """Number of ties of each professional."""
        return np.diff(self.indptr)

    def random_neighbour(self, who: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One uniformly random neighbour of each professional in ``who``.

        Returns:
            ``(neighbour, edge)`` arrays; ``-1`` where a professional has no tie.
        """
        deg = self.degree[who]
        offset = np.floor(rng.random(len(who)) * np.maximum(deg, 1)).astype(np.int64)
        pos = self.indptr[who] + offset
        has = deg > 0
        pos = np.where(has, pos, 0)
        if len(self.neighbours) == 0:
            return np.full(len(who), -1), np.full(len(who), -1)
        return np.where(has, self.neighbours[pos], -1), np.where(has, self.edge_of[pos], -1)

    def mean_tie_trust(self) -> np.ndarray:
        """Mean trust over each professional's ties (0 for isolates)."""
        sums = np.bincount(self.edges[:, 0], self.trust, self.n) + np.bincount(self.edges[:, 1], self.trust, self.n)
        return sums / np.maximum(self.degree, 1)

    def to_networkx(self, org_of: np.ndarray | None = None) -> nx.Graph:
        """A networkx graph of the ties, with ``trust`` on edges and ``org`` on nodes."""
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        if org_of is not None:
            nx.set_node_attributes(g, {i: int(o) for i, o in enumerate(org_of)}, "org")
        ties = zip(self.edges, self.trust, strict=True)
        g.add_weighted_edges_from(((int(a), int(b), float(t)) for (a, b), t in ties), weight="trust")
        return g


def _graph_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def build_network(params: NetworkParams, org_of: np.ndarray, rng: np.random.Generator) -> Network:
    """Build the collaboration network for professionals ordered by organisation.

    Args:
        params: Network parameters.
        org_of: Organisation of each professional (professionals ordered by it).
        rng: Generator for the network's randomness.

    Returns:
        The network with every tie at ``params.initial_trust``.
    """
    n = len(org_of)
    k = params.degree
    if params.structure == "full":
        g = nx.complete_graph(n)
    elif params.structure == "linear":
        g = nx.path_graph(n)
    elif params.structure == "random":
        g = nx.gnp_random_graph(n, min(1.0, k / max(n - 1, 1)), seed=_graph_seed(rng))
    elif params.structure == "small_world":
        g = nx.watts_strogatz_graph(n, min(k, n - 1), params.rewiring, seed=_graph_seed(rng))
    else:  # siloed: a ring lattice inside each organisation plus a few bridging ties
        g = nx.Graph()
        g.add_nodes_from(range(n))
        for org in np.unique(org_of):
            members = np.flatnonzero(org_of == org)
            m = len(members)
            if m < 2:
                continue
            lattice = nx.watts_strogatz_graph(m, min(k, m - 1), 0.0, seed=_graph_seed(rng))
            g.add_edges_from((int(members[a]), int(members[b])) for a, b in lattice.edges())
        n_bridges = int(round(params.rewiring * g.number_of_edges()))
        orgs = np.unique(org_of)
        if len(orgs) > 1:
            for _ in range(n_bridges):
                a = int(rng.integers(n))
                others = np.flatnonzero(org_of != org_of[a])
                g.add_edge(a, int(rng.choice(others)))
    edges = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return Network.from_edges(n, edges, params.initial_trust)
