"""The weighted row sum of the compiled kernels (numba): ``target[f] += sum_e weights[e]
rows[index[e], f]`` over a span of entries, the products behind the overlap's projection
sum_i' G_{ii'} u_i', the support-resolved rho and both passes of Adam's competition refresh
(:mod:`dynamics.kernel`, :mod:`dynamics.kernel_competition`).

Four entries are added per pass over ``target``: the rows are short (the 2 m filters), so adding
one entry at a time makes every pass wait on the last one's store of ``target``; grouping four
cuts those waits fourfold. Only the order of the additions differs from one entry at a time
(round-off).
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def add_weighted_rows(target, rows, index, weights, start, end):
    """``target[f] += sum_{e in [start, end)} weights[e] rows[index[e], f]`` for every f."""
    filters = target.shape[0]
    entry = start
    while entry + 4 <= end:
        first, second = rows[index[entry]], rows[index[entry + 1]]
        third, fourth = rows[index[entry + 2]], rows[index[entry + 3]]
        a, b = weights[entry], weights[entry + 1]
        c, d = weights[entry + 2], weights[entry + 3]
        for f in range(filters):
            target[f] += (first[f] * a + second[f] * b) + (third[f] * c + fourth[f] * d)
        entry += 4
    while entry < end:
        row, weight = rows[index[entry]], weights[entry]
        for f in range(filters):
            target[f] += row[f] * weight
        entry += 1
