"""Early-bird tickets (You et al. 2020, "Drawing Early-Bird Tickets"): a ticket drawn early in
dense training, as soon as the masks that magnitude pruning would draw stop changing.

Round 0 trains the dense network from theta_0 (the trial's data order, as imp's round 0) and
keeps its weights every ``early_bird.check_every`` steps. Round r draws, at each of those
checkpoints, the magnitude mask with the counts of imp's mask of round r (layerwise: each
layer's count; global: the pooled total, as oneshot does), and walks the checkpoints with a FIFO
of the last ``queue`` masks, as the authors' code does: at each checkpoint it measures the
normalised Hamming distance (the fraction of all prunable weights on which two masks differ)
from the newest mask to each older one in the FIFO; the ticket is drawn at the first checkpoint
where the FIFO is full and no distance exceeds ``threshold``. The paper draws channel masks from
batch-norm scales of a VGG or PreResNet trained with network slimming's penalty; our MLP has no
batch norm, so the masks are unstructured magnitude masks, at the same counts as imp's tickets.

The drawn ticket keeps the weights the dense network had at the draw point and trains for the
full T steps from there (fresh optimizer, the schedule from step 0), as the authors' code
retrains the pruned network. Its row adds ``eb_iteration`` (the draw step; T, and ``eb_found``
0, when the masks never settle), ``eb_dist_t`` (the largest distance in the FIFO at checkpoint
t, for every checkpoint, also after the draw), ``train_cost`` (search and retraining, as a
fraction of dense training: experiments/dynamic_sparsity.py) and ``imp_train_cost`` (imp's
rounds 0..r, each a full training, in the same units).
"""

from __future__ import annotations

from collections import deque

from experiments.batched_training import TrainJob
from experiments.masks import Mask, magnitude_prune_like
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.methods.rigl import sparse_fraction
from experiments.training import StateDict

SEPARATOR = "@"  # checkpoint weights are kept as one state dict, keys "ITERATION@NAME"


class EarlyBird(Method):
    roles = ("ticket",)

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        if round_index == 0:
            return (yield from self.search(context))
        snapshots = unpack(context.own.trained_weights(0))
        target = context.required("ticket").mask(round_index)
        masks = {t: ticket_like(context, weights, target) for t, weights in snapshots.items()}
        settings = context.settings.early_bird
        drawn, distances = early_bird_search(list(masks.items()), settings.queue,
                                             settings.threshold)
        found = drawn is not None
        drawn = drawn if found else max(masks)
        mask = masks[drawn]
        result = yield context.job(mask, snapshots[drawn])
        iterations = context.settings.training["iterations"]
        sparse = sparse_fraction(context, mask)
        return mask, {**result.metrics(), "eb_iteration": drawn, "eb_found": int(found),
                      "train_cost": drawn / iterations + sparse,
                      "imp_train_cost": imp_cost(context, round_index),
                      **{f"eb_dist_{t}": d for t, d in distances.items()}}

    def search(self, context: MethodContext) -> RoundRun:
        """Round 0: the dense training, its weights kept at every checkpoint."""
        every = context.settings.early_bird.check_every
        checkpoints = tuple(range(every, context.settings.training["iterations"] + 1, every))
        result = yield TrainJob(context.initial_weights(), context.dense_mask(),
                                context.seeds.data_order, snapshot_iterations=checkpoints)
        context.own.save_trained_weights(0, pack(result.snapshots))
        return context.dense_mask(), {**result.metrics(), "train_cost": 1.0}


def ticket_like(context: MethodContext, weights: StateDict, target: Mask) -> Mask:
    """The magnitude mask of ``weights`` with ``target``'s counts (oneshot's rule)."""
    pruning = context.settings.pruning
    return magnitude_prune_like(weights, context.dense_mask(), target, pruning.scope,
                                context.kinds, output_in_pool=pruning.output_in_pool)


def mask_distance(a: Mask, b: Mask) -> float:
    """Normalised Hamming distance: the fraction of all weights the two masks disagree on."""
    differ = sum(int((a[name] != b[name]).sum()) for name in a)
    return differ / sum(keep.numel() for keep in a.values())


def early_bird_search(masks: list[tuple[int, Mask]], queue: int,
                      threshold: float) -> tuple[int | None, dict[int, float]]:
    """(draw iteration or None, largest FIFO distance at every checkpoint after the first) for
    masks in checkpoint order (module docstring)."""
    recent: deque[Mask] = deque(maxlen=queue)
    distances: dict[int, float] = {}
    drawn = None
    for iteration, mask in masks:
        recent.append(mask)
        if len(recent) < 2:
            continue
        distances[iteration] = max(mask_distance(mask, older) for older in list(recent)[:-1])
        if drawn is None and len(recent) == queue and distances[iteration] <= threshold:
            drawn = iteration
    return drawn, distances


def imp_cost(context: MethodContext, round_index: int) -> float:
    """imp's training compute up to its ticket of ``round_index``: one full training at each
    density of rounds 0..r, as a fraction of one dense training."""
    ticket = context.required("ticket")
    return 1.0 + sum(sparse_fraction(context, ticket.mask(r)) for r in range(1, round_index + 1))


def pack(snapshots: dict[int, StateDict]) -> StateDict:
    return {f"{t}{SEPARATOR}{name}": value for t, weights in snapshots.items()
            for name, value in weights.items()}


def unpack(packed: StateDict) -> dict[int, StateDict]:
    """``pack``'s inverse, checkpoints in training order."""
    snapshots: dict[int, StateDict] = {}
    for key, value in packed.items():
        iteration, _, name = key.partition(SEPARATOR)
        snapshots.setdefault(int(iteration), {})[name] = value
    return dict(sorted(snapshots.items()))
