"""Drawing for experiments/figures.py: shared style and axes, and one module per experiment
family (lth, supermask, structured) holding the draw functions of its figure kinds."""
