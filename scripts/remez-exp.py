#!/usr/bin/env python3
# Minimax (Remez exchange, 50-digit decimal arithmetic, standard library only) for the compact float32 exponential of
# the 256/128-bit kernels (VMath.ExpCompact in src/PolyLoss/Internal/DVec.cs): exp(r) ~ 1 + r + r^2 q(r) on
# |r| <= ln2/2, q of degree 5 (argument 1), minimizing the relative error max |(1 + r + r^2 q(r)) / e^r - 1|.
# Prints q's coefficients (r^0 first) as doubles and the relative error of the polynomial with those doubles,
# evaluated exactly (5.18e-11 = 2^-34.2 for degree 5). Usage: python3 scripts/remez-exp.py [degree of q]
from decimal import Decimal as D, getcontext
import math, sys
getcontext().prec = 50
a = D(2).ln() / 2
nq = int(sys.argv[1]) if len(sys.argv) > 1 else 5
def g(r):  # (e^r - 1 - r)/r^2
    if r == 0: return D(1)/2
    return (r.exp() - 1 - r) / (r*r)
def w(r):  # weight for relative error of exp: r^2 / e^r
    return (r*r) / r.exp()
def err(c, r):
    q = D(0)
    for ci in reversed(c): q = q*r + ci
    return (q - g(r)) * w(r)
def solve(A, b):
    n = len(b); M = [row[:] + [bb] for row, bb in zip(A, b)]
    for i in range(n):
        p = max(range(i, n), key=lambda k: abs(M[k][i])); M[i], M[p] = M[p], M[i]
        for k in range(i+1, n):
            f = M[k][i] / M[i][i]
            for j in range(i, n+1): M[k][j] -= f*M[i][j]
    x = [D(0)]*n
    for i in reversed(range(n)):
        x[i] = (M[i][n] - sum(M[i][j]*x[j] for j in range(i+1, n))) / M[i][i]
    return x
npts = nq + 2
# initial points: Chebyshev extrema
# Initial points: the Chebyshev extrema (these, with the 4000-cell grid below, gave the library's degree-5 q); for an
# even degree of q the first-kind nodes and a finer, odd grid (the error vanishes at r = 0 and the exchange otherwise
# loses a point there): degree 4 gives 3.06e-9 = 2^-28.3, the figure the library's choice of degree 5 rests on.
if nq % 2:
    pts = [a * D(math.cos(math.pi * k / (npts - 1))) for k in range(npts)][::-1]
else:
    pts = sorted([a * D(math.cos(math.pi * (k + 0.5) / npts)) for k in range(npts)])
for it in range(12):
    A = []; b = []
    for k, r in enumerate(pts):
        wr = w(r)
        A.append([wr * r**j for j in range(nq+1)] + [D((-1)**k)])
        b.append(g(r) * wr)
    sol = solve(A, b); c = sol[:-1]; E = sol[-1]
    # dense grid, find extrema
    N = 4000 if nq % 2 else 20001
    grid = [-a + 2*a*D(i)/N for i in range(N+1)]
    ev = [err(c, r) for r in grid]
    ext = [0]
    for i in range(1, N):
        if (ev[i]-ev[i-1])*(ev[i+1]-ev[i]) <= 0: ext.append(i)
    ext.append(N)
    # keep alternating extrema with largest magnitude
    sel = []
    for i in ext:
        if sel and (ev[i] > 0) == (ev[sel[-1]] > 0):
            if abs(ev[i]) > abs(ev[sel[-1]]): sel[-1] = i
        else: sel.append(i)
    while len(sel) > npts:
        if abs(ev[sel[0]]) < abs(ev[sel[-1]]): sel.pop(0)
        else: sel.pop()
    mx = max(abs(e) for e in ev)
    print(it, "E", float(E), "max", float(mx), len(sel), file=sys.stderr)
    if len(sel) == npts: pts = [grid[i] for i in sel]
cd = [float(ci) for ci in c]
# error with double coefficients, Horner in exact arithmetic
mx = max(abs(err([D(x) for x in cd], -a + 2*a*D(i)/20000)) for i in range(20001))
print("q coeffs (r^0..):", [repr(x) for x in cd]); print("max rel err with double coeffs:", float(mx), math.log2(float(mx)))
