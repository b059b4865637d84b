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
}
