"""Supermasks: masks that make a network useful without training its weights (Zhou et al. 2019;
Ramanujan et al. 2020). ``criteria`` scores weights from their initial and trained values;
``learned`` trains the mask itself while the weights stay frozen."""
