"""Deep compression (Han et al. 2016) and error-bounded coding (Jin et al. 2019) of a pruned
network, every stage measured from a written and decoded file (experiments/compression/).

Two sources of the pruned network, one catalogue line each:

- ``retrain``: Han et al.'s iterative pruning. Starting from the dense network imp trained in
  round 0, each round prunes the previous round's retrained network by magnitude to the
  per-layer counts of imp's mask of that round and retrains the survivors from their values for
  ``compression.retrain_iterations`` steps at ``compression.retrain_lr`` (the last steps of the
  training schedule's data order). Same counts as the ticket, round for round; only the
  survivors' starting values differ (retrained on, not reset to theta_0).
- ``ticket``: imp's trained network of round r, the winning ticket at the same density.

Its row reports the source's training metrics (the last retraining, or imp's own round) and
the ``dc_*`` columns of experiments/compression/stages.py. It compresses at the last round and
every ``ROUND_STEP``-th round before it: three densities of the lottery experiment (53%, 23%
and 10% of the weights), since each costs seconds of in-process fine-tuning. The retrain chain
runs in-process too; a round's unit runs the chain's rounds since the previous compressed one,
from the weights that one saved.
"""

from __future__ import annotations

from experiments.compression.stages import Stages
from experiments.masks import Mask, magnitude_prune_like
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
            weights, mask, metrics = self.retrain_chain(context, dense, round_index)
            context.own.save_trained_weights(round_index, weights)
        return mask, {**metrics, **stages(context).measure(dense, weights, mask)}

    def retrain_chain(self, context: MethodContext, dense: StateDict,
                      round_index: int) -> tuple[StateDict, Mask, dict]:
        """Prune and retrain from the previous compressed round (or the dense net) to
        ``round_index``: (weights, mask, the last retraining's metrics)."""
        earlier = [r for r in self.rounds(round_index) if r < round_index]
        # rounds(round_index) lists this round and every ROUND_STEP-th before it.
        start = earlier[-1] if earlier else 0
        weights = context.own.trained_weights(start) if start else dense
        mask = context.own.mask(start) if start else context.dense_mask()
        metrics: dict = {}
        for r in range(start + 1, round_index + 1):
            mask = prune_like_ticket(context, weights, mask, r)
            weights, metrics = retrain(context, weights, mask)
        return weights, mask, metrics


def prune_like_ticket(context: MethodContext, weights: StateDict, mask: Mask,
                      round_index: int) -> Mask:
    """``mask`` pruned by the magnitudes of ``weights`` to imp's per-layer counts of the round."""
    pruning = context.settings.pruning
    return magnitude_prune_like(weights, mask, context.required("ticket").mask(round_index),
                                pruning.scope, context.kinds,
                                output_in_pool=pruning.output_in_pool)


def retrain(context: MethodContext, weights: StateDict, mask: Mask) -> tuple[StateDict, dict]:
    """(final weights, metrics) of retraining the survivors of ``mask`` from ``weights``: the
    last ``retrain_iterations`` steps of the schedule at ``retrain_lr``."""
    compression = context.settings.compression
    cfg = dict(context.settings.training, lr=compression.retrain_lr)
    model = context.build_model(context.seeds.init)
    model.load_state_dict(weights)  # train() zeroes the pruned weights
    start = max(cfg["iterations"] - compression.retrain_iterations, 0)
    result = train(model, mask, context.dataset, cfg, data_seed=context.seeds.data_order,
                   start_iteration=start)
    metrics = result.metrics()
    # Retraining is a phase of its own (Han et al.), not a resumed run: ``start`` only picks the
    # schedule's last batches. Its early stop counts retraining steps, the clock of
    # ``iterations``, where train() counts from the dense run's step 0 (right for rewinding).
    metrics["early_stop_iter"] -= start
    return result.final_weights, metrics


def stages(context: MethodContext) -> Stages:
    training = context.settings.training
    return Stages(context.build_model(context.seeds.init), context.dataset,
                  context.settings.compression,
                  (training["batch_size"], training.get("eval_batch_size", 1000)),
                  context.seeds.data_order)
