"""Per-layer densities of a sparse MLP from an overall density: the Erdős–Rényi rule.

Mocanu et al. (SET, 2018) give layer l a density proportional to (D_l + K_l) / (D_l·K_l), so
narrow layers keep relatively more weights; Evci et al. (RigL, 2020) add the exponent
("ERK power scale") and the loop that makes a layer dense when its density would exceed 1.
This is the computation of Nerva (``compute_sparse_layer_densities``): the scale ε solves
Σ_l ε·p_l·D_l·K_l = overall_density·Σ_l D_l·K_l over the sparse layers, the dense layers'
weights counting against the budget.
"""


def erdos_renyi_densities(overall_density, layer_sizes, power_scale=1.0):
    """The density of each of the len(layer_sizes) − 1 weight matrices (layer l maps
    layer_sizes[l] inputs to layer_sizes[l+1] outputs) for the given overall density."""
    if not 0 < overall_density <= 1:
        raise ValueError(f"erdos_renyi_densities: overall density must lie in (0, 1], got {overall_density}")
    if len(layer_sizes) < 2 or any(int(n) != n or n < 1 for n in layer_sizes):
        raise ValueError(f"erdos_renyi_densities: expected at least two positive layer sizes, got {layer_sizes}")
    shapes = list(zip(layer_sizes[1:], layer_sizes[:-1]))          # (K, D) of each W
    if overall_density == 1:
        return [1.0] * len(shapes)
    dense = set()
    while True:
        budget, divisor, raw = 0.0, 0.0, [0.0] * len(shapes)
        for l, (K, D) in enumerate(shapes):
            if l in dense:
                budget -= K * D * (1 - overall_density)            # a dense layer overspends
            else:
                budget += K * D * overall_density
                raw[l] = ((K + D) / (K * D)) ** power_scale
                divisor += raw[l] * K * D
        epsilon = budget / divisor
        largest = max(raw)
        if largest * epsilon <= 1:
            return [1.0 if l in dense else epsilon * raw[l] for l in range(len(shapes))]
        dense.update(l for l, p in enumerate(raw) if p == largest)
