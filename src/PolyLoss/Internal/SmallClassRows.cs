using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PolyLoss.Internal;

/// <summary>
/// Integer-target Poly-1 rows with few classes (C &lt;= <see cref="MaxClasses"/>), float32, vectorized across rows:
/// lane i of every vector belongs to row r0 + i, so the per-row work (log1p, divisions, the confident-row series)
/// runs once per group of rows instead of once per row. Same formulas as <see cref="Rows.TargetFinish{TR}"/>.
/// Lanes never mix, so a row's result depends only on its own data, not on its group, the thread split or the batch.
/// </summary>
internal static class SmallClassRows
{
    public const int MaxClasses = 16;

    private const double Unshift = 5.421010862427522e-20; // 2^-64, undoing VMath.ExpScaled's pre-scale

    /// <summary>Handles rows [start, end); returns end.</summary>
    public static unsafe int Run<TV>(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, int start, int end, int numClasses,
        double eps, ReadOnlySpan<double> weights, int ignoreIndex, ReadOnlySpan<float> upstream, double scale,
        Span<float> losses, Span<double> rowLosses, Span<float> grad) where TV : struct, IDVec<TV>
    {
        int w = TV.Count, c = numClasses;
        Span<double> zt = stackalloc double[MaxClasses * 8]; // [k][lane]
        Span<double> laneZt = stackalloc double[8];
        Span<double> laneScale = stackalloc double[8];
        Span<double> outLoss = stackalloc double[8];
        Span<double> outTop = stackalloc double[8];
        Span<double> outPerS = stackalloc double[8];
        Span<double> special = stackalloc double[8];
        Span<int> offsets = stackalloc int[8];
        ref double zr = ref MemoryMarshal.GetReference(zt);
        int r0 = start;
        fixed (float* zp = logits)
        {
            for (; r0 < end; r0 += w)
            {
                // A last, partial group repeats its first row in the spare lanes (outputs dropped): every row goes through
                // the same lane arithmetic, so its result does not depend on how the batch was split.
                int count = Math.Min(w, end - r0);
                bool anyIgnored = false;
                for (int i = 0; i < w; i++)
                {
                    int r = i < count ? r0 + i : r0;
                    offsets[i] = (r - r0) * c;
                    int t = targets[r];
                    bool ignored = t == ignoreIndex;
                    anyIgnored |= ignored;
                    laneZt[i] = logits[r * c + (ignored ? 0 : t)]; // the target's logit; ignored rows take class 0 and are cleared below
                    double u = upstream.IsEmpty ? scale : upstream[r];
                    laneScale[i] = ignored ? 0 : u * (weights.IsEmpty ? 1 : weights[t]);
                }
                float* group = zp + (long)r0 * c;
                // Transpose the group into class-major double lanes, a vector per class (lane i reads row r0 + i).
                ref int off = ref MemoryMarshal.GetReference(offsets);
                TV m = TV.Gather(group, ref off);
                TV.Store(ref zr, m);
                TV zero = TV.Splat(0), one = TV.Splat(1);
                TV ok = TV.Equal(m, m); // all-ones lanes while no NaN was seen
                for (int k = 1; k < c; k++)
                {
                    TV zk = TV.Gather(group + k, ref off);
                    TV.Store(ref Unsafe.Add(ref zr, k * w), zk);
                    m = TV.Max(m, zk);
                    ok = TV.Select(TV.Equal(zk, zk), ok, zero);
                }
                // NaN, +inf and all -inf rows take the per-row kernel, which defines those cases: their lanes hold 0 here.
                TV.Store(ref MemoryMarshal.GetReference(special), TV.Select(ok, TV.Equal(m - m, zero), zero));
                TV sum = zero, ties = TV.Splat(-1);
                bool storing = !grad.IsEmpty;
                for (int k = 0; k < c; k++)
                {
                    TV zk = TV.Load(ref Unsafe.Add(ref zr, k * w));
                    TV isMax = TV.Equal(zk, m);
                    // The kernels' float32 exponential, times 2^64 (the sums of the longer rows take the same one).
                    TV e = VMath.ExpScaled(zk - m, clamp: true, precise: false);
                    sum += TV.AndNot(e, isMax);
                    ties += TV.And(one, isMax);
                    if (storing) TV.Store(ref Unsafe.Add(ref zr, k * w), e); // keep e_k 2^64 for the gradient
                }
                sum = TV.Fma(sum, TV.Splat(Unshift), ties);
                Finish(sum, TV.Load(ref MemoryMarshal.GetReference(laneZt)), m, eps, TV.Load(ref MemoryMarshal.GetReference(laneScale)), out TV loss, out TV top, out TV perS);
                if (count == w && !anyIgnored && grad.IsEmpty && weights.IsEmpty && rowLosses.IsEmpty && AllSet(special, w))
                {
                    TV.Store(ref losses[r0], loss); // the common forward: w float losses at once
                    continue;
                }
                TV.Store(ref MemoryMarshal.GetReference(outLoss), loss);
                TV.Store(ref MemoryMarshal.GetReference(outTop), top);
                TV.Store(ref MemoryMarshal.GetReference(outPerS), perS);
                for (int i = 0; i < count; i++)
                {
                    int r = r0 + i;
                    bool ignored = targets[r] == ignoreIndex;
                    if (special[i] == 0 && !ignored) // all-ones (a NaN pattern) in good lanes
                    {
                        double sc = laneScale[i];
                        double lr = Rows.Target<float, R64>(logits.Slice(r * c, c), targets[r], new ReadOnlySpan<double>(in eps),
                            grad.IsEmpty ? default : grad.Slice(r * c, c), sc);
                        if (!weights.IsEmpty) lr *= weights[targets[r]];
                        if (!rowLosses.IsEmpty) rowLosses[r] = lr;
                        else losses[r] = (float)lr;
                        continue;
                    }
                    double l = ignored ? 0 : outLoss[i] * (weights.IsEmpty ? 1 : weights[targets[r]]);
                    if (!rowLosses.IsEmpty) rowLosses[r] = l;
                    else losses[r] = (float)l;
                    if (grad.IsEmpty) continue;
                    Span<float> g = grad.Slice(r * c, c);
                    if (ignored) { g.Clear(); continue; }
                    double ps = outPerS[i] * Unshift;
                    for (int k = 0; k < c; k++) g[k] = (float)(zt[k * w + i] * ps);
                    g[targets[r]] = (float)outTop[i];
                }
            }
        }
        return r0;
    }

    /// <summary>Whether the first <paramref name="w"/> lanes of <paramref name="mask"/> are all set (not 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool AllSet(Span<double> mask, int w)
    {
        for (int i = 0; i < w; i++)
            if (mask[i] == 0) return false;
        return true;
    }

    /// <summary>
    /// Lane-wise <see cref="Rows.TargetFinish{TR}"/> for Poly-1 in double: loss, the true-class gradient -q (1 + eps p_t)
    /// and perS = (1 + eps p_t) / S, all times the lane's scale (except the loss).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Finish<TV>(TV sum, TV zt, TV m, double eps, TV scale, out TV loss, out TV top, out TV perS)
        where TV : struct, IDVec<TV>
    {
        TV zero = TV.Splat(0), one = TV.Splat(1), epsV = TV.Splat(eps);
        TV anchor = TV.Equal(zt, m);
        TV s = one + sum;
        TV rs = Div(one, s); // one division for q, p and perS: products with 1/S, a rounding more than a quotient (2^-52)
        TV log1pT = Log1p(sum, s, rs);
        // Target is the maximum: q = T / S, p = 1 / S, loss = TopTerm.
        TV qA = sum * rs, pA = rs;
        TV direct = log1pT + epsV * qA;
        TV lossA = direct;
        if (eps >= -1)
        {
            // Confident rows (T <= 2/63): phi(T) + (1 + eps) q, phi = 2 s^2 / (1 + s) + 2 (s^3/3 + ... + s^13/13), s = T / (2 + T),
            // where 2 s^2 / (1 + s) = T^2 / ((2 + T)(1 + T)) = s q.
            TV sv = Div(sum, sum + TV.Splat(2));
            TV s2 = sv * sv;
            TV phi = sv * qA + TV.Splat(2) * sv * s2 * OddSeries(s2, 13);
            TV confident = TV.Equal(TV.Max(sum, TV.Splat(RowMath.PhiThreshold)), TV.Splat(RowMath.PhiThreshold));
            lossA = TV.Select(confident, TV.Fma(TV.Splat(1 + eps), qA, phi), direct);
        }
        // Target below the maximum: p = e_t / S (<= 1/2), q = 1 - p, loss = log1p(T) + (m - z_t) + eps q.
        TV et = typeof(TV) == typeof(V512)
            ? VMath.Exp(zt - m, fullPrecision: false, 0)
            : VMath.ExpCompact(zt - m, clamp: true) * TV.Splat(Unshift);
        TV pB = et * rs;
        TV qB = one - pB;
        TV lossB = log1pT + (m - zt) + epsV * qB;
        loss = TV.Select(anchor, lossA, lossB);
        TV p = TV.Select(anchor, pA, pB), q = TV.Select(anchor, qA, qB);
        // 1 + eps p without cancellation: for -1 <= eps < 0 it is (1 + eps) + |eps| q.
        TV factor = eps >= 0 || eps < -1 ? TV.Fma(epsV, p, one) : TV.Fma(zero - epsV, q, TV.Splat(1 + eps));
        factor *= scale;
        top = zero - q * factor;
        perS = factor * rs;
    }

    /// <summary>1/3 + s2/5 + s2^2/7 + ... + s2^((last - 3) / 2)/last by Horner (the atanh series after its first term);
    /// <paramref name="last"/> odd, from 5 to 15. The coefficients come from <see cref="InverseOdd"/>: the JIT keeps this
    /// loop, and a 1.0 / n in it was a scalar division per step, eleven per group of rows (independent of the data, so
    /// the core ran them ahead: no measurable cost, but needless).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV OddSeries<TV>(TV s2, int last) where TV : struct, IDVec<TV>
    {
        ReadOnlySpan<double> inv = InverseOdd;
        TV sum = TV.Fma(s2, TV.Splat(inv[last]), TV.Splat(inv[last - 2]));
        for (int n = last - 4; n >= 3; n -= 2) sum = TV.Fma(sum, s2, TV.Splat(inv[n]));
        return sum;
    }

    /// <summary>1.0 / n at the odd n up to 15 (the same correctly rounded quotients as the division; zeros elsewhere).</summary>
    private static ReadOnlySpan<double> InverseOdd =>
        [0, 1, 0, 1.0 / 3, 0, 1.0 / 5, 0, 1.0 / 7, 0, 1.0 / 9, 0, 1.0 / 11, 0, 1.0 / 13, 0, 1.0 / 15];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Div<TV>(TV a, TV b) where TV : struct, IDVec<TV> => TV.Divide(a, b);

    /// <summary>log(1 + x) for x &gt;= 0 in double lanes, relative error about 2^-45 (ample for float32 results):
    /// u = 1 + x split as 2^k f with f in [sqrt(1/2), sqrt(2)), log f = 2 atanh((f - 1) / (f + 1)), plus the rounding
    /// of 1 + x corrected to first order; <paramref name="u"/> = 1 + x and its reciprocal <paramref name="ru"/> come from
    /// the caller (the finishing has them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Log1p<TV>(TV x, TV u, TV ru) where TV : struct, IDVec<TV>
    {
        TV one = TV.Splat(1);
        TV corr = (x - (u - one)) * ru;
        TV k = TV.Exponent(u * TV.Splat(1.4142135623730951)); // f = u / 2^k lands in [sqrt(1/2), sqrt(2))
        TV f = u * TV.Pow2Neg(k);
        TV s = Div(f - one, f + one);
        TV s2 = s * s;
        TV logf = TV.Splat(2) * TV.Fma(s * s2, OddSeries(s2, 15), s);
        return TV.Fma(k, TV.Splat(0.69314718055994530942), logf) + corr;
    }
}
