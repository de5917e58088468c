"""Linear mode connectivity and instability (Frankle et al. 2020, "Linear Mode Connectivity and
the Lottery Ticket Hypothesis").

Two copies of a network start from theta_k (the dense net's weights after ``rewind_iteration`` =
k steps) and train the remaining T - k steps under two different data orders (the trial's, and
one derived for this method): the SGD noise of the paper. Round 0 takes the dense network; the
last round imp_rewind's mask there (the sparsest ticket). Along the straight line between the two
end points (``PATH_POINTS`` evenly spaced, ends included) the test error is measured; the error
barrier is its maximum minus the mean of the two ends. A network is *stable* at k when the
barrier is about zero. The row's accuracies are those of the first copy.
"""

from __future__ import annotations

import torch

from experiments.batched_training import TrainJob
from experiments.method_api import Method, MethodContext, RoundRun
from experiments.seeding import derive_seed
from experiments.training import StateDict, evaluate

PATH_POINTS = 21  # alpha = 0, 0.05, ..., 1: enough to see where along the path the error peaks


def path_columns() -> list[str]:
    return [f"path_err_{i}" for i in range(PATH_POINTS)]


class LinearModeConnectivity(Method):
    roles = ("ticket", "rewound")

    def rounds(self, round_count: int) -> list[int]:
        return [0, round_count] if round_count else [0]

    def run_round(self, context: MethodContext, round_index: int) -> RoundRun:
        k = context.settings.rewind_iteration
        mask = (context.dense_mask() if round_index == 0
                else context.required("rewound").mask(round_index))
        start = context.required("ticket").rewind_weights()
        first = yield context.job(mask, start, start_iteration=k)
        other_order = derive_seed(context.seed, "lmc_data_order")
        second = yield TrainJob(start, mask, other_order, start_iteration=k)
        errors = path_errors(context, first.final_weights, second.final_weights)
        barrier = max(errors) - (errors[0] + errors[-1]) / 2
        return mask, {**first.metrics(), "barrier": barrier,
                      **dict(zip(path_columns(), errors))}


@torch.no_grad()
def path_errors(context: MethodContext, a: StateDict, b: StateDict) -> list[float]:
    """Test error at PATH_POINTS points of the segment from ``a`` to ``b``. Both share one mask,
    so every point keeps the pruned weights at zero."""
    model = context.build_model(0)  # its own weights are replaced below
    errors = []
    for i in range(PATH_POINTS):
        alpha = i / (PATH_POINTS - 1)
        model.load_state_dict({name: (1 - alpha) * a[name] + alpha * b[name] for name in a})
        _, accuracy = evaluate(model, context.dataset.test, context.settings.eval_batch_size)
        errors.append(1.0 - accuracy)
    return errors
