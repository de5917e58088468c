"""What characterises a winning ticket: measurements of imp's masks against theta_0, no training.

Round r reads imp's mask of round r, oneshot's mask at the same counts, theta_0 and the dense
network imp trained in round 0, and reports (beside imp's own accuracies, which its row repeats):

- ``first_density`` and ``in_pos_P``: the fraction of first-layer weights kept, and of the
  hidden units that keep input position P (the first layer's profile over the input; aggregate
  compares it across seeds, experiments/aggregate.py).
- ``neighbour_kept`` and ``neighbour_chance``: of the kept first-layer weights (unit, P) with a
  position P+1, the fraction whose neighbour (unit, P+1) is kept too, against the same fraction
  for a random mask with the layer's count, (n-1)/(N-1). Above chance means each unit keeps
  runs of adjacent inputs: local receptive fields, as the MNIST-1D lottery notebook shows.
- ``oneshot_overlap`` and ``overlap_chance``: the fraction of imp's kept weights that oneshot
  keeps too, against the expected fraction for a random mask with oneshot's per-layer counts.
- ``kept_init_mag`` and ``pruned_init_mag``: mean |theta_0| of kept and of pruned weights, each
  in units of its layer's standard deviation of theta_0 (so layers of other widths pool).
- ``kept_sign_kept`` and ``pruned_sign_kept``: the fraction of kept and of pruned weights whose
  sign after dense training is their sign at theta_0 (Zhou et al. 2019's sign question).

Weight-level overlap between seeds is not measured: hidden units have no identity across
seeds (any permutation of them is the same network), so only the input profile compares.
Costs milliseconds a round: it reads saved state only.
"""

from __future__ import annotations

import torch

from experiments.masks import Mask
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.training import StateDict


class TicketAnatomy(Method):
    roles = ("ticket", "one_shot")

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        yield from ()  # measured in-process: no job for the scheduler
        ticket = context.required("ticket")
        mask, metrics = ticket.finished_round(round_index)
        if round_index == 0:
            return mask, metrics  # dense: nothing is pruned, nothing to characterise
        other = context.required("one_shot").mask(round_index)
        initial, trained = context.initial_weights(), ticket.trained_weights(0)
        return mask, {**metrics, **first_layer(mask), **overlap(mask, other),
                      **init_statistics(mask, initial, trained)}


def first_layer(mask: Mask) -> dict:
    """Input profile and locality of the first layer's mask (units x input positions)."""
    keep = next(iter(mask.values()))
    if keep.dim() != 2:
        raise ValueError("ticket_anatomy measures a fully connected first layer "
                         f"(units x inputs); this one has shape {tuple(keep.shape)}")
    keep = keep.bool()
    kept, total = int(keep.sum()), keep.numel()
    left = keep[:, :-1]  # weights that have a right-hand neighbour
    pairs = int((left & keep[:, 1:]).sum())
    profile = keep.float().mean(dim=0).tolist()
    return {"first_density": kept / total,
            "neighbour_kept": pairs / max(int(left.sum()), 1),
            "neighbour_chance": (kept - 1) / (total - 1),
            **{f"in_pos_{p}": share for p, share in enumerate(profile)}}


def overlap(mask: Mask, other: Mask) -> dict:
    """Share of ``mask``'s kept weights that ``other`` keeps, and that share by chance."""
    kept = sum(int(keep.sum()) for keep in mask.values())
    shared = sum(int((keep.bool() & other[name].bool()).sum()) for name, keep in mask.items())
    # A random mask with other's count m_l of N_l keeps each of mask's n_l with chance m_l/N_l.
    expected = sum(int(keep.sum()) * int(other[name].sum()) / keep.numel()
                   for name, keep in mask.items())
    return {"oneshot_overlap": shared / kept, "overlap_chance": expected / kept}


def init_statistics(mask: Mask, initial: StateDict, trained: StateDict) -> dict:
    """|theta_0| (in layer standard deviations) and sign persistence, kept against pruned."""
    magnitude = {True: [], False: []}
    same_sign = {True: [], False: []}
    for name, keep in mask.items():
        w0, keep = initial[name], keep.bool()
        scaled = w0.abs() / w0.std()
        agrees = (torch.sign(w0) == torch.sign(trained[name])).float()
        for side in (True, False):
            chosen = keep if side else ~keep
            magnitude[side].append(scaled[chosen])
            same_sign[side].append(agrees[chosen])
    mean = {side: float(torch.cat(magnitude[side]).mean()) for side in magnitude}
    signs = {side: float(torch.cat(same_sign[side]).mean()) for side in same_sign}
    return {"kept_init_mag": mean[True], "pruned_init_mag": mean[False],
            "kept_sign_kept": signs[True], "pruned_sign_kept": signs[False]}
