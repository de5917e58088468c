"""The science room: data, models, masks, training, pruning methods, aggregation and figures."""
