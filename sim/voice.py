"""Voice: raising proposals, and what the answers do to safety and efficacy (docs/ODD.md, schedule step 4).

Two state variables per professional move with what happens when it speaks up:

- **psychological safety** (Edmondson 1999): the belief that speaking up is safe.
  An appreciative answer raises it by ``safety_gain`` of the distance to 1; a
  dismissive answer (a rejection given without openness) lowers it by
  ``safety_loss`` of its level.
- **voice efficacy** (Morrison 2014): the belief that speaking up makes a
  difference. A raised proposal that is answered (adopted or rejected) or that the
  professional enacts itself raises it by ``efficacy_gain`` of the distance to 1;
  one that goes unanswered lowers it by ``efficacy_loss`` of its level (futility).

Colleagues in the proposer's organisation who are tied to it witness the answer and
take it into their own safety with weight ``vicarious``: safety is a team's shared
belief (Edmondson 1999).

A professional raises a proposal it has made with probability
``voice_b * safety * efficacy * min(1, energy / voice_energy)``, where ``voice_b``
is the propensity of its background (``majority_voice`` or ``minority_voice``).
The background factor is multiplicative, so full safety does not equalise voice
between backgrounds: any convergence has to come from the answers each background
receives.
"""

from __future__ import annotations

import numpy as np

from sim.params import WorkforceParams


def raise_probability(
    minority: np.ndarray, safety: np.ndarray, efficacy: np.ndarray, energy: np.ndarray, wf: WorkforceParams
) -> np.ndarray:
    """Chance each proposer raises its proposal, ``(A,)`` in [0, 1]."""
    base = np.where(minority, wf.minority_voice, wf.majority_voice)
    vigour = np.minimum(1.0, energy / wf.voice_energy) if wf.voice_energy > 0 else np.ones_like(energy)
    return base * safety * efficacy * vigour


def respond(
    safety: np.ndarray,
    efficacy: np.ndarray,
    who: np.ndarray,
    answered: np.ndarray,
    enacted: np.ndarray,
    openness: np.ndarray,
    tone_draws: np.ndarray,
    wf: WorkforceParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Update safety and efficacy of the proposers of raised proposals, in place.

    Args:
        safety, efficacy: ``(P,)`` state of all professionals.
        who: ``(A,)`` proposer of each raised proposal (distinct).
        answered: ``(A,)`` a decision-maker other than the proposer answered it.
        enacted: ``(A,)`` the change was made.
        openness: ``(A,)`` openness of the leader who answers for the proposer's organisation.
        tone_draws: ``(A,)`` uniform draws deciding the tone of a rejection.
        wf: Workforce parameters (gains and losses).

    Returns:
        ``(dismissed, appreciated)`` masks over the proposals (``unanswered`` = neither
        answered nor enacted can be derived by the caller).
    """
    rejected = answered & ~enacted
    dismissed = rejected & (tone_draws >= openness)
    appreciated = answered & ~dismissed
    heard_or_done = answered | enacted
    s, e = safety[who], efficacy[who]
    s = np.where(appreciated, s + wf.safety_gain * (1.0 - s), s)
    s = np.where(dismissed, s - wf.safety_loss * s, s)
    e = np.where(heard_or_done, e + wf.efficacy_gain * (1.0 - e), e - wf.efficacy_loss * e)
    safety[who] = np.clip(s, 0.0, 1.0)
    efficacy[who] = np.clip(e, 0.0, 1.0)
    return dismissed, appreciated


def witness(
    safety: np.ndarray, witnesses: np.ndarray, dismissed: np.ndarray, appreciated: np.ndarray, wf: WorkforceParams
) -> None:
    """Colleagues who saw an answer take it into their own safety with weight ``vicarious``, in place.

    Args:
        safety: ``(P,)`` psychological safety.
        witnesses: ``(W, 2)`` pairs (witness, event row).
        dismissed, appreciated: Masks over the event rows.
        wf: Workforce parameters.
    """
    if len(witnesses) == 0:
        return
    who, row = witnesses[:, 0], witnesses[:, 1]
    change = np.where(appreciated[row], wf.vicarious * wf.safety_gain * (1.0 - safety[who]), 0.0)
    change -= np.where(dismissed[row], wf.vicarious * wf.safety_loss * safety[who], 0.0)
    np.add.at(safety, who, change)
    np.clip(safety, 0.0, 1.0, out=safety)


def hearing_probability(responsiveness: np.ndarray, minority: np.ndarray, status_discount: float) -> np.ndarray:
    """Chance a decision-maker hears a raised proposal: its responsiveness, less a status discount."""
    return responsiveness * np.where(minority, 1.0 - status_discount, 1.0)
