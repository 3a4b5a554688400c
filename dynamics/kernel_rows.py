"""The weighted row sum of the compiled kernels (numba): ``target[f] += sum_e weights[e]
rows[index[e], f]`` over a span of entries, the products behind the overlap's projection
sum_i' G_{ii'} u_i', the support-resolved rho and both passes of Adam's competition refresh
(:mod:`dynamics.kernel`, :mod:`dynamics.kernel_competition`).

Eight entries are added per pass over ``target`` (then four, then one at a time): the rows are
short (the 2 m filters), and each pass costs, besides its arithmetic, a fixed setup (the
vectoriser's check that ``target`` overlaps none of the rows, and a scalar remainder of the
filters) and a wait on the last pass's store of ``target``; wider groups share both among more
entries (eight against four: about 7% off a float32 refresh at the paper's setting, 210 against
227 us, mean of three alternating runs). Only the order of the additions differs from one entry at
a time (round-off).
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def add_weighted_rows(target, rows, index, weights, start, end):
    """``target[f] += sum_{e in [start, end)} weights[e] rows[index[e], f]`` for every f."""
    filters = target.shape[0]
    entry = start
    while entry + 8 <= end:
        r0, r1 = rows[index[entry]], rows[index[entry + 1]]
        r2, r3 = rows[index[entry + 2]], rows[index[entry + 3]]
        r4, r5 = rows[index[entry + 4]], rows[index[entry + 5]]
        r6, r7 = rows[index[entry + 6]], rows[index[entry + 7]]
        w0, w1, w2, w3 = weights[entry], weights[entry + 1], weights[entry + 2], weights[entry + 3]
        w4, w5, w6, w7 = (
            weights[entry + 4],
            weights[entry + 5],
            weights[entry + 6],
            weights[entry + 7],
        )
        for f in range(filters):
            low = (r0[f] * w0 + r1[f] * w1) + (r2[f] * w2 + r3[f] * w3)
            high = (r4[f] * w4 + r5[f] * w5) + (r6[f] * w6 + r7[f] * w7)
            target[f] += low + high
        entry += 8
    if entry + 4 <= end:
        r0, r1 = rows[index[entry]], rows[index[entry + 1]]
        r2, r3 = rows[index[entry + 2]], rows[index[entry + 3]]
        w0, w1, w2, w3 = weights[entry], weights[entry + 1], weights[entry + 2], weights[entry + 3]
        for f in range(filters):
            target[f] += (r0[f] * w0 + r1[f] * w1) + (r2[f] * w2 + r3[f] * w3)
        entry += 4
    while entry < end:
        row, weight = rows[index[entry]], weights[entry]
        for f in range(filters):
            target[f] += row[f] * weight
        entry += 1
