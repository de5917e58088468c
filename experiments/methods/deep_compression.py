"""Deep compression (Han et al. 2016) and error-bounded coding (Jin et al. 2019) of a pruned
network, every stage measured from a written and decoded file (experiments/compression/).

Two sources of the pruned network, one catalogue line each:

- ``retrain``: Han et al.'s pruning. The dense network imp trained in round 0 is pruned by
  magnitude in one step to the per-layer counts of imp's round-r mask, and the survivors are
  retrained from their trained values for ``compression.retrain_iterations`` steps at the lower
  ``compression.retrain_lr``, the last steps of the training schedule's data order.
  Han et al. prune and retrain iteratively; one step keeps the counts equal to the ticket's.
- ``ticket``: imp's trained network of round r, the winning ticket at the same density.

Its row reports the source's training metrics (the retrained run's, or imp's own round) and
the ``dc_*`` columns of experiments/compression/stages.py. It compresses at the last round and
every ``ROUND_STEP``-th round before it: three densities of the lottery experiment (51%, 21%
and 10% of the weights), since each costs seconds of in-process fine-tuning.
"""

from __future__ import annotations

from experiments.compression.stages import Stages
from experiments.masks import magnitude_prune_like
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.training import StateDict, train

ROUND_STEP = 4
SOURCES = ("retrain", "ticket")


class DeepCompression(Method):
    roles = ("ticket",)

    def __init__(self, source: str):
        if source not in SOURCES:
            raise ValueError(f"deep compression source {source!r}: one of {SOURCES}")
        self.source = source

    def rounds(self, round_count: int) -> list[int]:
        return [r for r in range(1, round_count + 1) if (round_count - r) % ROUND_STEP == 0]

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        # In-process, nothing yielded: imp deletes round r's weights once it prunes them for
        # round r+1, and the scheduler starts this unit (round r) before that one.
        yield from ()
        ticket = context.required("ticket")
        dense = ticket.trained_weights(0)
        if self.source == "ticket":
            mask, metrics = ticket.finished_round(round_index)
            weights = ticket.trained_weights(round_index)
        else:
            mask = han_mask(context, dense, round_index)
            weights, metrics = retrain(context, dense, mask)
        return mask, {**metrics, **stages(context).measure(dense, weights, mask)}


def han_mask(context: MethodContext, dense: StateDict, round_index: int):
    """The trained dense network's largest weights, as many per layer as imp's round-r mask."""
    pruning = context.settings.pruning
    return magnitude_prune_like(dense, context.dense_mask(),
                                context.required("ticket").mask(round_index), pruning.scope,
                                context.kinds, output_in_pool=pruning.output_in_pool)


def retrain(context: MethodContext, dense: StateDict, mask) -> tuple[StateDict, dict]:
    """(final weights, metrics) of retraining the pruned dense network's survivors: the last
    ``retrain_iterations`` steps of the schedule at ``retrain_lr`` (Adam's moments start at
    zero, so the training rate would first throw the trained values far off)."""
    compression = context.settings.compression
    cfg = dict(context.settings.training, lr=compression.retrain_lr)
    model = context.build_model(context.seeds.init)
    model.load_state_dict(dense)  # train() zeroes the pruned weights
    result = train(model, mask, context.dataset, cfg, data_seed=context.seeds.data_order,
                   start_iteration=max(cfg["iterations"] - compression.retrain_iterations, 0))
    return result.final_weights, result.metrics()


def stages(context: MethodContext) -> Stages:
    training = context.settings.training
    return Stages(context.build_model(context.seeds.init), context.dataset,
                  context.settings.compression,
                  (training["batch_size"], training.get("eval_batch_size", 1000)),
                  context.seeds.data_order)
