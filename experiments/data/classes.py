"""The number of classes, importable without torch (the figures draw the chance level)."""

# Every dataset we load has ten classes.
NUM_CLASSES = 10
