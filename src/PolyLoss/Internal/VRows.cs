using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PolyLoss.Internal;

/// <summary>
/// Vectorized row kernels: the same statistics and finishing code as <see cref="Rows"/>, with the exponential sum
/// done in SIMD. Float inputs run in double lanes with an exp accurate to 2^-36; double inputs carry the rounding
/// error of z - m (TwoSum) into a full-precision exp and accumulate in double-double lanes.
/// Rows whose maximum is not finite (NaN, infinities) are left to the scalar kernel, which defines those cases.
/// </summary>
internal static class VRows
{
    // Exponentials are stored pre-scaled by 2^64 in the gradient buffer so float storage cannot underflow them.
    private const double StoreShift = 64;
    private const double Unshift = 5.421010862427522e-20; // 2^-64

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Max<TIn>(ReadOnlySpan<TIn> z) where TIn : unmanaged, IFloatingPointIeee754<TIn>
        => double.CreateTruncating(TensorPrimitives.Max(z)); // NaN if any element is NaN

    /// <summary>Integer target row; same contract as <see cref="Rows.Target{TIn, TR}"/>.</summary>
    public static double Target<TIn, TR, TV>(ReadOnlySpan<TIn> z, int t, ReadOnlySpan<double> c, Span<TIn> grad, double scale)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        double m = Max(z);
        if (!double.IsFinite(m)) return Rows.Target<TIn, TR>(z, t, c, grad, scale);
        double zt = double.CreateTruncating(z[t]);

        TR others = SumExp<TIn, TR, TV>(z, m, grad);
        // SumExp counted every exp(z_k - m) with z_k < m and the number of maxima; the anchor is one maximum.
        double loss = Rows.TargetFinish(zt, m, zt == m, others, c, scale, out TR factor, out TR perS, out TR q);
        if (!grad.IsEmpty)
        {
            ScaleStored<TIn, TR, TV>(grad, perS);
            grad[t] = TIn.CreateTruncating(TR.ToDouble(-(q * factor)));
        }
        return loss;
    }

    /// <summary>
    /// T = sum of exp(z_k - m) over k with z_k != m, plus (number of k with z_k = m) - 1; i.e. the sum over every class
    /// but one maximum. When <paramref name="store"/> is not empty, exp(z_k - m) * 2^64 is written there.
    /// </summary>
    public static TR SumExp<TIn, TR, TV>(ReadOnlySpan<TIn> z, double m, Span<TIn> store)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        bool dd = typeof(TR) == typeof(R128);
        bool full = typeof(TIn) == typeof(double);
        int n = z.Length, w = TV.Count;
        TV mv = TV.Splat(m), one = TV.Splat(1.0);
        TV hi = TV.Splat(0), lo = TV.Splat(0), eq = TV.Splat(0);
        ref TIn zr = ref MemoryMarshal.GetReference(z);
        ref TIn sr = ref MemoryMarshal.GetReference(store);
        bool storing = !store.IsEmpty;
        int i = 0;
        for (; i <= n - w; i += w)
        {
            TV zv = LoadIn<TIn, TV>(ref Unsafe.Add(ref zr, i));
            TV e = Step(zv, mv, one, full, ref hi, ref lo, ref eq, dd);
            if (storing) StoreIn(ref Unsafe.Add(ref sr, i), e);
        }
        if (i < n)
        {
            // Tail: a padded copy; -inf logits add nothing and are not maxima.
            Span<TIn> buf = stackalloc TIn[TV.Count];
            buf.Fill(TIn.NegativeInfinity);
            z[i..].CopyTo(buf);
            TV e = Step(LoadIn<TIn, TV>(ref MemoryMarshal.GetReference(buf)), mv, one, full, ref hi, ref lo, ref eq, dd);
            if (storing)
            {
                StoreIn(ref MemoryMarshal.GetReference(buf), e);
                buf[..(n - i)].CopyTo(store[i..]);
            }
        }

        double ties = -1;
        for (int k = 0; k < w; k++) ties += TV.Lane(eq, k);
        if (!dd)
        {
            double s = 0;
            for (int k = 0; k < w; k++) s += TV.Lane(hi, k);
            return TR.From(s * Unshift + ties);
        }
        DoubleDouble total = new(ties, 0);
        for (int k = 0; k < w; k++) total += new DoubleDouble(TV.Lane(hi, k) * Unshift, TV.Lane(lo, k) * Unshift);
        return Unsafe.As<DoubleDouble, TR>(ref total);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Step<TV>(TV zv, TV mv, TV one, bool full, ref TV hi, ref TV lo, ref TV eq, bool dd) where TV : struct, IDVec<TV>
    {
        TV isMax = TV.Equal(zv, mv);
        TV d = zv - mv;
        TV e;
        if (full)
        {
            // TwoSum(z, -m): the rounding error of z - m, carried into exp as a factor (1 + dl).
            TV bb = d - zv;
            TV dl = (zv - (d - bb)) + (TV.Splat(0) - mv - bb);
            dl = TV.Select(TV.Equal(d - d, TV.Splat(0)), dl, TV.Splat(0)); // -inf logits: no correction (and no NaN)
            TV eh = VMath.Exp(d, fullPrecision: true, StoreShift, out TV el);
            el = TV.Fma(eh, dl, el);
            if (dd)
            {
                TV ch = TV.AndNot(eh, isMax), cl = TV.AndNot(el, isMax);
                TV s = hi + ch;
                TV bv = s - hi;
                lo += ((hi - (s - bv)) + (ch - bv)) + cl;
                hi = s;
                eq += TV.Select(isMax, one, TV.Splat(0));
                return eh + el;
            }
            e = eh + el;
        }
        else e = VMath.Exp(d, fullPrecision: false, StoreShift);
        eq += TV.Select(isMax, one, TV.Splat(0));
        hi += TV.AndNot(e, isMax);
        return e;
    }

    /// <summary>grad[j] = stored[j] * 2^-64 * factor, in double lanes (the factor's low part too, for double-double).</summary>
    public static void ScaleStored<TIn, TR, TV>(Span<TIn> grad, TR factor)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        double hi, lo = 0;
        if (typeof(TR) == typeof(R128))
        {
            DoubleDouble f = Unsafe.As<TR, DoubleDouble>(ref factor);
            hi = f.Hi * Unshift;
            lo = f.Lo * Unshift;
        }
        else hi = TR.ToDouble(factor) * Unshift;
        int n = grad.Length, w = TV.Count, i = 0;
        TV fh = TV.Splat(hi), fl = TV.Splat(lo);
        ref TIn gr = ref MemoryMarshal.GetReference(grad);
        for (; i <= n - w; i += w)
        {
            ref TIn at = ref Unsafe.Add(ref gr, i);
            TV e = LoadIn<TIn, TV>(ref at);
            StoreIn(ref at, TV.Fma(e, fh, e * fl));
        }
        for (; i < n; i++)
        {
            double e = double.CreateTruncating(grad[i]);
            grad[i] = TIn.CreateTruncating(Math.FusedMultiplyAdd(e, hi, e * lo));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV LoadIn<TIn, TV>(ref TIn src) where TIn : unmanaged where TV : struct, IDVec<TV>
        => typeof(TIn) == typeof(float) ? TV.Load(ref Unsafe.As<TIn, float>(ref src)) : TV.Load(ref Unsafe.As<TIn, double>(ref src));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreIn<TIn, TV>(ref TIn dst, TV v) where TIn : unmanaged where TV : struct, IDVec<TV>
    {
        if (typeof(TIn) == typeof(float)) TV.Store(ref Unsafe.As<TIn, float>(ref dst), v);
        else TV.Store(ref Unsafe.As<TIn, double>(ref dst), v);
    }

    /// <summary>Dense labels row; same contract as <see cref="Rows.Dense{TIn, TR, TL}"/> for DenseLabels.</summary>
    public static double Dense<TIn, TR, TV>(ReadOnlySpan<TIn> z, ReadOnlySpan<TIn> y, ReadOnlySpan<double> weights, double smoothing,
        ReadOnlySpan<double> c, Span<TIn> grad, double scale, Span<TIn> labelGrad)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        int n = z.Length;
        int a = TensorPrimitives.IndexOfMax(z); // first maximum; a NaN's index when there is one
        double m = double.CreateTruncating(z[a]);
        bool wantGrad = !grad.IsEmpty || !labelGrad.IsEmpty;
        // Float64 gradients near the optimum need double-double probabilities: the scalar kernel has them.
        if (!double.IsFinite(m) || (wantGrad && typeof(TR) == typeof(R128)))
            return Rows.Dense<TIn, TR, DenseLabels<TIn>>(z, new DenseLabels<TIn>(y, weights, smoothing, n), c, grad, scale,
                labelGrad, weights, 1 - smoothing);

        bool dd = typeof(TR) == typeof(R128);
        bool full = typeof(TIn) == typeof(double);
        double keep = 1 - smoothing, add = smoothing / n;
        int w = TV.Count;
        TV zero = TV.Splat(0), mv = TV.Splat(m), av = TV.Splat(a), kv = TV.Splat(keep), addv = TV.Splat(add);
        TV tH = zero, tL = zero, yH = zero, yL = zero, gH = zero, gL = zero, qH = zero, qL = zero;
        Span<TIn> zBuf = stackalloc TIn[TV.Count], yBuf = stackalloc TIn[TV.Count];
        Span<double> wBuf = stackalloc double[TV.Count];
        for (int i = 0; i < n; i += w)
        {
            TV zv, yv, idx = TV.Indices + TV.Splat(i);
            if (i <= n - w)
            {
                zv = LoadIn<TIn, TV>(ref Unsafe.Add(ref MemoryMarshal.GetReference(z), i));
                yv = LoadIn<TIn, TV>(ref Unsafe.Add(ref MemoryMarshal.GetReference(y), i));
                if (smoothing != 0) yv = TV.Fma(yv, kv, addv);
                if (!weights.IsEmpty) yv *= TV.Load(ref Unsafe.Add(ref MemoryMarshal.GetReference(weights), i));
            }
            else
            {
                // Tail: padded copies (-inf logits, zero labels and weights) that add nothing.
                zBuf.Fill(TIn.NegativeInfinity); yBuf.Clear(); wBuf.Clear();
                z[i..].CopyTo(zBuf); y[i..].CopyTo(yBuf);
                zv = LoadIn<TIn, TV>(ref MemoryMarshal.GetReference(zBuf));
                yv = LoadIn<TIn, TV>(ref MemoryMarshal.GetReference(yBuf));
                if (smoothing != 0) yv = TV.Fma(yv, kv, addv);
                // Weights of the padding lanes are 0, so smoothing does not leak into them.
                if (!weights.IsEmpty) weights[i..].CopyTo(wBuf);
                else wBuf[..(n - i)].Fill(1.0);
                yv *= TV.Load(ref MemoryMarshal.GetReference(wBuf));
            }
            TV isA = TV.Equal(idx, av);
            TV skip = TV.Or(isA, TV.Equal(yv, zero)); // 0 * log 0 = 0: zero labels contribute nothing
            TV d = zv - mv;
            TV eh, el = zero;
            if (full)
            {
                TV bb = d - zv;
                TV dl = (zv - (d - bb)) + (zero - mv - bb);
                dl = TV.Select(TV.Equal(d - d, zero), dl, zero);
                eh = VMath.Exp(d, fullPrecision: true, 0, out el);
                el = TV.Fma(eh, dl, el);
            }
            else eh = VMath.Exp(d, fullPrecision: false, 0);
            Accumulate(ref tH, ref tL, TV.AndNot(eh, isA), TV.AndNot(el, isA), dd);
            TV ym = TV.AndNot(yv, skip);
            Accumulate(ref yH, ref yL, ym, zero, dd);
            TV gap = mv - zv; // >= 0; +inf for -inf logits, kept only where the label is non-zero
            if (dd)
            {
                TV bb = gap - mv;
                TV gapLo = (mv - (gap - bb)) + (zero - zv - bb);
                TV ph = ym * gap;
                TV pl = TV.Fma(ym, gap, zero - ph) + ym * TV.Select(TV.Equal(gap - gap, zero), gapLo, zero);
                Accumulate(ref gH, ref gL, TV.AndNot(ph, skip), TV.Select(TV.Equal(ph - ph, zero), TV.AndNot(pl, skip), zero), true);
                TV qh = ym * eh;
                TV ql = TV.Fma(ym, eh, zero - qh) + ym * el;
                Accumulate(ref qH, ref qL, qh, ql, true);
            }
            else
            {
                gH += TV.AndNot(ym * gap, skip);
                qH = TV.Fma(ym, eh, qH);
            }
        }
        var sums = new Rows.DenseSums<TR>
        {
            Others = Reduce<TR, TV>(tH, tL), Labels = Reduce<TR, TV>(yH, yL),
            Gaps = Reduce<TR, TV>(gH, gL), LabelExp = Reduce<TR, TV>(qH, qL),
        };
        double ya = double.CreateTruncating(y[a]);
        if (smoothing != 0) ya = keep * ya + add;
        if (!weights.IsEmpty) ya *= weights[a];
        double loss = Rows.DenseFinish(sums, ya, m, a, c, wantGrad, out Rows.DenseState<TR> st);
        if (wantGrad)
        {
            if (double.IsNaN(loss)) { grad.Fill(TIn.NaN); labelGrad.Fill(TIn.NaN); return loss; }
            DenseGradient<TIn, TR, TV>(z, y, weights, smoothing, st, sums.Others, scale, grad, labelGrad);
        }
        return loss;
    }

    /// <summary>Float32 dense gradients: probabilities from a full-precision exp in double lanes (so labels close to p
    /// keep their digits), g_j = p_j B - y_j (1 + E p_j) and dL/dy_j = -log p_j + E (1 - p_j); the top class from the
    /// finished row.</summary>
    private static void DenseGradient<TIn, TR, TV>(ReadOnlySpan<TIn> z, ReadOnlySpan<TIn> y, ReadOnlySpan<double> weights, double smoothing,
        in Rows.DenseState<TR> st, TR others, double scale, Span<TIn> grad, Span<TIn> labelGrad)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        int n = z.Length, w = TV.Count, a = st.A;
        double keep = 1 - smoothing, add = smoothing / n;
        double perS = 1 / TR.ToDouble(st.S), b = TR.ToDouble(st.B), slope = TR.ToDouble(st.Slope), log1pT = TR.ToDouble(st.Log1pT);
        TV mv = TV.Splat(st.M), one = TV.Splat(1.0), ps = TV.Splat(perS), bv = TV.Splat(b), ev = TV.Splat(slope), lv = TV.Splat(log1pT);
        TV sc = TV.Splat(scale), lsc = TV.Splat(scale * keep), kv = TV.Splat(keep), addv = TV.Splat(add);
        Span<TIn> zBuf = stackalloc TIn[TV.Count], yBuf = stackalloc TIn[TV.Count], gBuf = stackalloc TIn[TV.Count], gyBuf = stackalloc TIn[TV.Count];
        Span<double> wBuf = stackalloc double[TV.Count];
        for (int i = 0; i < n; i += w)
        {
            bool whole = i <= n - w;
            TV zv, yv, wv = one;
            if (whole)
            {
                zv = LoadIn<TIn, TV>(ref Unsafe.Add(ref MemoryMarshal.GetReference(z), i));
                yv = LoadIn<TIn, TV>(ref Unsafe.Add(ref MemoryMarshal.GetReference(y), i));
                if (!weights.IsEmpty) wv = TV.Load(ref Unsafe.Add(ref MemoryMarshal.GetReference(weights), i));
            }
            else
            {
                zBuf.Fill(TIn.NegativeInfinity); yBuf.Clear(); wBuf.Clear();
                z[i..].CopyTo(zBuf); y[i..].CopyTo(yBuf);
                zv = LoadIn<TIn, TV>(ref MemoryMarshal.GetReference(zBuf));
                yv = LoadIn<TIn, TV>(ref MemoryMarshal.GetReference(yBuf));
                if (!weights.IsEmpty) { weights[i..].CopyTo(wBuf); wv = TV.Load(ref MemoryMarshal.GetReference(wBuf)); }
            }
            TV ye = TV.Fma(yv, kv, addv) * wv;
            TV p = VMath.Exp(zv - mv, fullPrecision: true, 0) * ps;
            TV g = p * bv - ye * TV.Fma(ev, p, one);
            TV gy = (lv + (mv - zv)) + ev * (one - p);
            if (whole)
            {
                if (!grad.IsEmpty) StoreIn(ref Unsafe.Add(ref MemoryMarshal.GetReference(grad), i), g * sc);
                if (!labelGrad.IsEmpty) StoreIn(ref Unsafe.Add(ref MemoryMarshal.GetReference(labelGrad), i), gy * lsc * wv);
            }
            else
            {
                StoreIn(ref MemoryMarshal.GetReference(gBuf), g * sc);
                StoreIn(ref MemoryMarshal.GetReference(gyBuf), gy * lsc * wv);
                if (!grad.IsEmpty) gBuf[..(n - i)].CopyTo(grad[i..]);
                if (!labelGrad.IsEmpty) gyBuf[..(n - i)].CopyTo(labelGrad[i..]);
            }
        }
        if (!grad.IsEmpty) grad[a] = TIn.CreateTruncating(TR.ToDouble(st.GradTop * TR.From(scale)));
        if (!labelGrad.IsEmpty)
        {
            double wa = weights.IsEmpty ? 1 : weights[a];
            labelGrad[a] = TIn.CreateTruncating(TR.ToDouble(RowMath.TopTerm(others, st.Q, st.Log1pT, slope) * TR.From(wa * keep * scale)));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<TV>(ref TV hi, ref TV lo, TV xh, TV xl, bool dd) where TV : struct, IDVec<TV>
    {
        if (!dd) { hi += xh; return; }
        TV s = hi + xh;
        TV bv = s - hi;
        TV err = (hi - (s - bv)) + (xh - bv);
        // An infinite partial sum has no rounding error to carry (and inf - inf would make one up).
        lo += TV.Select(TV.Equal(s - s, TV.Splat(0)), err, TV.Splat(0)) + xl;
        hi = s;
    }

    private static TR Reduce<TR, TV>(TV hi, TV lo) where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        if (typeof(TR) != typeof(R128))
        {
            double s = 0;
            for (int k = 0; k < TV.Count; k++) s += TV.Lane(hi, k);
            return TR.From(s);
        }
        DoubleDouble total = DoubleDouble.Zero;
        for (int k = 0; k < TV.Count; k++) total += new DoubleDouble(TV.Lane(hi, k), TV.Lane(lo, k));
        return Unsafe.As<DoubleDouble, TR>(ref total);
    }
}
