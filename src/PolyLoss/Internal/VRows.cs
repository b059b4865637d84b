using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PolyLoss.Internal;

/// <summary>
/// Vectorized row kernels: the same statistics and finishing code as <see cref="Rows"/>, with the exponential sum
/// done in SIMD. Float inputs are widened to double lanes, take the table exponential (<see cref="VMath.ExpScaled{TV}"/>)
/// and sum in double; double inputs carry the rounding error of z - m (TwoSum) into a full-precision exp and accumulate
/// in double-double lanes.
/// Rows whose maximum is not finite (NaN, infinities) are left to the scalar kernel, which defines those cases.
/// </summary>
internal static class VRows
{
    // Exponentials are stored pre-scaled by 2^64 in the gradient buffer so float storage cannot underflow them.
    private const double StoreShift = VMath.ScaledShift;
    private const double Unshift = 5.421010862427522e-20; // 2^-64
    private const double TwoTo64 = 18446744073709551616.0;

    /// <summary>From this many classes on, the float32 exponential pass prefetches the next row.</summary>
    internal const int PrefetchMinClasses = 64;

    /// <summary>Integer target row; same contract as <see cref="Rows.Target{TIn, TR}"/>.</summary>
    public static double Target<TIn, TR, TV>(ReadOnlySpan<TIn> z, int t, ReadOnlySpan<double> c, Span<TIn> grad, double scale)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        double zt = double.CreateTruncating(z[t]), m;
        TR others;
        // Float64: one pass relative to the target's logit when it can (see DoubleTargetSum), else the scanned path.
        if (typeof(TIn) == typeof(double) && DoubleTargetSum<TIn, TR, TV>(z, t, grad, out others)) m = zt;
        else if (!Stats<TIn, TR, TV>(z, grad, precise: false, out m, out others)) return Rows.Target<TIn, TR>(z, t, c, grad, scale);
        // T sums every class but one maximum (the anchor); with z_t = m the target can be that one.
        double loss = Rows.TargetFinish(zt, m, zt == m, others, c, scale, out TR factor, out TR perS, out TR q);
        if (!grad.IsEmpty)
        {
            ScaleStored<TIn, TR, TV>(grad, perS);
            grad[t] = TIn.CreateTruncating(TR.ToDouble(-(q * factor)));
        }
        return loss;
    }

    /// <summary>
    /// The row statistics: m = max z and T = the sum of exp(z_k - m) over every class but one maximum. When
    /// <paramref name="store"/> is not empty, exp(z_k - m) * 2^64 is written there (2^64 at the maxima). Returns false,
    /// computing nothing, when m is not finite (NaN, infinities): the scalar kernels define those rows.
    /// </summary>
    /// <remarks>Float32 rows: exp by <see cref="VMath.ExpScaled{TV}"/> (or <see cref="VMath.ExpParts"/> on 512-bit lanes) in double lanes (2^-29 per term, or about 1 ulp of
    /// double with <paramref name="precise"/>, which the focal loss asks for: it raises 1 - p_t to a power), sums in double.
    /// Float64 rows: TwoSum(z, -m) carried into a full-precision exp, double-double sums.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Stats<TIn, TR, TV>(ReadOnlySpan<TIn> z, Span<TIn> store, bool precise, out double m, out TR others)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        if (typeof(TIn) == typeof(float))
        {
            ReadOnlySpan<float> zf = MemoryMarshal.Cast<TIn, float>(z);
            Span<float> sf = MemoryMarshal.Cast<TIn, float>(store);
            RowMax own = RowScan.Max<TV>(zf);
            m = own.Max;
            bool finite = FloatStats<TV>(zf, sf, own, precise, out double t);
            others = TR.From(t);
            return finite;
        }
        m = double.CreateTruncating(TensorPrimitives.Max(z)); // NaN if any element is NaN
        if (!double.IsFinite(m)) { others = default; return false; }
        others = DoubleSumExp<TIn, TR, TV>(z, m, store);
        return true;
    }

    /// <summary>
    /// Float32 <see cref="Stats"/> for a row scanned already (<paramref name="own"/>, from <see cref="RowScan.Max{TV}"/>):
    /// callers that scan several rows first let their latencies overlap. Returns false, with T = 0, when the maximum is
    /// not finite.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool FloatStats<TV>(ReadOnlySpan<float> z, Span<float> store, in RowMax own, bool precise, out double others)
        where TV : struct, IDVec<TV>
    {
        if (!float.IsFinite(own.Max)) { others = 0; return false; }
        others = TwoFactors<TV>(precise) ? FactorSum(z, own.Max, own.ArgMax, store) : (own.Clamp, precise) switch
        {
            (false, false) => FloatSumExp<TV, No, No>(z, own.Max, own.ArgMax, store),
            (true, false) => FloatSumExp<TV, Yes, No>(z, own.Max, own.ArgMax, store),
            (false, true) => FloatSumExp<TV, No, Yes>(z, own.Max, own.ArgMax, store),
            _ => FloatSumExp<TV, Yes, Yes>(z, own.Max, own.ArgMax, store),
        };
        return true;
    }

    /// <summary><see cref="TargetStats{TV}"/> takes rows whose U is at most this (2^63): every stored term
    /// exp(z_k - z_t) 2^64 is then at most 2^127, within float range. The forward takes the same limit, so that a row's
    /// loss has the same bits whether or not its gradient is asked for.</summary>
    internal const double MaxTargetSum = 9223372036854775808.0;

    /// <summary>Up to this many classes the 256- and 128-bit lanes take the one-pass rows (<see cref="TargetStats{TV}"/>):
    /// their clamped exponential costs about two cycles a vector more than the unclamped one, which longer rows pay for
    /// less well than the scan they save (Zen 3, one thread, against the scanned rows: 64 classes 11% faster, 128 15%,
    /// 256 18%; 512 5% slower, 1000 8% slower).</summary>
    internal const int OnePassMaxClassesNarrow = 384;

    /// <summary>Whether float32 integer-target rows of <paramref name="classes"/> classes on <typeparamref name="TV"/> lanes
    /// take <see cref="TargetStats{TV}"/>: 512-bit lanes with AVX-512 (whose exponentials saturate) always, the other
    /// widths (with the clamped compact exponential) up to <see cref="OnePassMaxClassesNarrow"/> classes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool OnePassFloatTargets<TV>(int classes) where TV : struct, IDVec<TV>
        => typeof(TV) == typeof(V512) ? Avx512F.IsSupported : classes <= OnePassMaxClassesNarrow;

    /// <summary>
    /// Float32 integer-target rows in one pass (every width): U = the sum of exp(z_k - z_t) over every class but the
    /// target t, taken relative to the target's logit instead of the row's maximum, so that no scan of the row comes
    /// first. The target is then the anchor of <see cref="Rows.TargetFinish{TR}"/>'s formulas (m = z_t, T = U): loss
    /// log1p(U) + eps U / (1 + U), p_t = 1 / (1 + U), p_k = exp(z_k - z_t) / (1 + U); classes tied with the target add
    /// exp(0) = 1 like ties of the maximum. The terms have the same 2^-29 relative error as in <see cref="FloatStats"/>
    /// (z_k - z_t is exact in double, and a term above 1 is as accurate as one below), so the accuracy bounds are those
    /// of the scanned path. When <paramref name="store"/> is not empty, exp(z_k - z_t) * 2^64 is written there.
    /// Returns false, and the caller takes the scanned path (which rewrites the store), when z_t is not finite, when U
    /// is not a finite number in [0, <see cref="MaxTargetSum"/>] (a NaN or an infinity in the row, a target more than
    /// about 43 below the maximum; the exponential needs no clamp: gaps far below give 0, far above +inf, never a
    /// wrong finite value, see <see cref="VMath.ExpParts"/>; the other widths take the clamped
    /// <see cref="VMath.ExpCompact{TV}"/>, whose gaps above 600 saturate above 2^929 and below -745 give 0). Targets with
    /// |z_t| beyond <see cref="VMath.MaxFusedAnchor"/> form z_k - z_t exactly first (512-bit lanes; the other widths
    /// always do).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TargetStats<TV>(ReadOnlySpan<float> z, int t, Span<float> store, out double sum) where TV : struct, IDVec<TV>
    {
        sum = 0;
        if (!OnePassFloatTargets<TV>(z.Length)) return false;
        float zt = z[t];
        if (!float.IsFinite(zt)) return false;
        // Other widths: the clamped compact exponential (gaps above 600 saturate far above MaxTargetSum; below -745, 0).
        sum = TwoFactors<TV>(precise: false) ? FactorSum(z, zt, t, store)
            : typeof(TV) == typeof(V512) ? FloatSumExp<TV, No, No>(z, zt, t, store) : FloatSumExp<TV, Yes, No>(z, zt, t, store);
        return sum >= 0 && sum <= MaxTargetSum;
    }

    /// <summary>
    /// Float64 integer-target rows in one pass (every width): U = the sum of exp(z_k - z_t) over every class but the
    /// target, relative to the target's logit as in <see cref="TargetStats{TV}"/> (no maximum found first, no ties
    /// counted: classes tied with the target add exp(0) = 1 exactly), z - z_t kept exact by TwoSum and carried into the
    /// full-precision exponential, double-double lane sums. Logits are capped at z_t + 800 first (MINPD keeps NaN), so
    /// that the exponential's power-of-two factors stay in range: a capped lane overflows to infinity. When
    /// <paramref name="store"/> is not empty, exp(z_k - z_t) * 2^64 is written there. Returns false (the caller takes
    /// the scanned path, which rewrites the store) when U is not a finite number in
    /// [0, <see cref="MaxTargetSum"/>]: NaN or infinities in the row, a target more than about 43 below the maximum;
    /// also when |z_t| &gt;= 1e15, where z_t + 800 would round too far to cap the gaps.
    /// </summary>
    private static bool DoubleTargetSum<TIn, TR, TV>(ReadOnlySpan<TIn> z, int t, Span<TIn> store, out TR sum)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        sum = default;
        double zt = double.CreateTruncating(z[t]);
        if (!(Math.Abs(zt) < 1e15)) return false; // NaN, infinities, and logits where z_t + 800 would not be the cap
        bool dd = typeof(TR) == typeof(R128);
        int n = z.Length, w = TV.Count, i = 0;
        TV mv = TV.Splat(zt), cap = TV.Splat(zt + 800), zero = TV.Splat(0), hi = zero, lo = zero;
        ref TIn zr = ref MemoryMarshal.GetReference(z);
        ref TIn sr = ref MemoryMarshal.GetReference(store);
        bool storing = !store.IsEmpty;
        for (; i <= n - w; i += w)
        {
            TV zv = TV.Min(cap, LoadIn<TIn, TV>(ref Unsafe.Add(ref zr, i)));
            TV eh = ExpOfGap(zv, mv, full: true, StoreShift, out TV el);
            if (storing) StoreIn(ref Unsafe.Add(ref sr, i), eh + el);
            if ((uint)(t - i) < (uint)w)
            {
                TV drop = TV.Equal(TV.Indices, TV.Splat(t - i));
                eh = TV.AndNot(eh, drop);
                el = TV.AndNot(el, drop);
            }
            // Unguarded: an infinite or NaN term makes the sum non-finite, and then the row is handed back.
            Accumulate(ref hi, ref lo, eh, el, dd, guard: false);
        }
        if (i < n)
        {
            // Tail: a padded copy; -inf logits add nothing.
            Span<TIn> buf = stackalloc TIn[TV.Count];
            buf.Fill(TIn.NegativeInfinity);
            z[i..].CopyTo(buf);
            TV eh = ExpOfGap(TV.Min(cap, LoadIn<TIn, TV>(ref MemoryMarshal.GetReference(buf))), mv, full: true, StoreShift, out TV el);
            if (storing)
            {
                StoreIn(ref MemoryMarshal.GetReference(buf), eh + el);
                buf[..(n - i)].CopyTo(store[i..]);
            }
            TV drop = TV.Equal(TV.Indices, TV.Splat(t - i));
            Accumulate(ref hi, ref lo, TV.AndNot(eh, drop), TV.AndNot(el, drop), dd, guard: false);
        }
        sum = Reduce<TR, TV>(hi, lo, Unshift);
        double u = TR.ToDouble(sum);
        return u >= 0 && u <= MaxTargetSum;
    }

    /// <summary>Compile-time flags for the row loops (clamped exponential, precise exponential, infinity guards).</summary>
    private struct Yes;
    private struct No;

    /// <summary>Whether <see cref="FloatSumExp"/> takes the exponential in two factors (<see cref="VMath.ExpParts"/>:
    /// 512-bit lanes with AVX-512 DQ, the cubic; a JIT-time constant).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TwoFactors<TV>(bool precise) where TV : struct, IDVec<TV>
        => typeof(TV) == typeof(V512) && Avx512F.IsSupported && Avx512DQ.IsSupported && !precise;

    /// <summary><see cref="FactorSumExp{TWide}"/> for a row with anchor <paramref name="m"/>: with y = z log2(e) -
    /// m log2(e) in one FMA while |m| is at most <see cref="VMath.MaxFusedAnchor"/>, else from the exact gap z - m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double FactorSum(ReadOnlySpan<float> z, float m, int a, Span<float> store)
        => Math.Abs(m) <= VMath.MaxFusedAnchor ? FactorSumExp<No>(z, m, a, store) : FactorSumExp<Yes>(z, m, a, store);

    /// <summary>One vector of <see cref="FactorSumExp{TWide}"/>'s terms exp(z_k - m) 2^64 as the two factors of
    /// <see cref="VMath.ExpParts"/>, whose product is the term (returned by value, not through out parameters).</summary>
    private struct Factors
    {
        /// <summary>2^(j/16 + 64) 2^e.</summary>
        public V512 Scale;
        /// <summary>The cubic for 2^f.</summary>
        public V512 Poly;
    }

    /// <summary>The <see cref="Factors"/> of the 8 float32 logits at <paramref name="src"/>; <paramref name="m512"/> the
    /// anchor, <paramref name="nml512"/> -m log2(e); <paramref name="exactGap"/> as in <see cref="VMath.ExpParts"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Factors ExpFactors(ref float src, Vector512<double> m512, Vector512<double> nml512, bool exactGap)
    {
        Vector512<double> scale = VMath.ExpParts(V512.Load(ref src).V, m512, nml512, exactGap, out Vector512<double> poly);
        return new Factors { Scale = new V512(scale), Poly = new V512(poly) };
    }

    /// <summary>The term of <see cref="ExpFactors"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V512 Term(Factors f) => f.Scale * f.Poly;

    /// <summary>acc + the term of <see cref="ExpFactors"/>, by one FMA (one rounding, as an add of the term would have).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V512 AddTerm(V512 acc, Factors f) => V512.Fma(f.Scale, f.Poly, acc);

    /// <summary>
    /// Float32 rows: T = the sum of exp(z_k - m) over k != a (a = first index of the maximum, or the anchor the caller
    /// chose; other maxima add exp(0) = 1, and then T &gt;= 1 so their rounding does not matter), in double lanes with
    /// the table exponential (<see cref="VMath.ExpScaled{TV}"/>), two accumulators. The vector holding a and the last,
    /// overlapping vector drop lanes by index; a row shorter than a vector goes through a padded copy. Where
    /// <see cref="TwoFactors{TV}"/> holds the callers take <see cref="FactorSumExp{TWide}"/> instead.
    /// <typeparamref name="TWide"/>: the clamped exponential (rows whose spread needs it, from the scan).
    /// </summary>
    private static unsafe double FloatSumExp<TV, TWide, TPrecise>(ReadOnlySpan<float> z, float m, int a, Span<float> store)
        where TV : struct, IDVec<TV>
    {
        bool wide = typeof(TWide) == typeof(Yes), precise = typeof(TPrecise) == typeof(Yes);
        if (typeof(TV) != typeof(V512) && !precise) return CompactSumExp<TV, TWide>(z, m, a, store);
        // Two vectors a step. (Eight a step, as FactorSumExp runs, put this method past the JIT's inlining budget on
        // 256-bit lanes: their longer polynomial then stayed calls, 8x slower.)
        int n = z.Length, w = TV.Count, full = n - n % w, va = a - a % w;
        TV mv = TV.Splat(m), acc0 = TV.Splat(0), acc1 = acc0;
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float sr = ref MemoryMarshal.GetReference(store);
        bool storing = !store.IsEmpty;
        // Long rows: touch the same offset one row ahead (the next row of a batch; a prefetch never faults), so the
        // next row's pass (or scan) finds its data in cache while this row computes.
        bool prefetch = n >= PrefetchMinClasses && Sse.IsSupported;
        int i = 0;
        for (; i <= full - 2 * w; i += 2 * w)
        {
            if (prefetch) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref zr, i + n)));
            TV e0 = VMath.ExpScaled(TV.Load(ref Unsafe.Add(ref zr, i)) - mv, wide, precise);
            TV e1 = VMath.ExpScaled(TV.Load(ref Unsafe.Add(ref zr, i + w)) - mv, wide, precise);
            if (storing) { TV.Store(ref Unsafe.Add(ref sr, i), e0); TV.Store(ref Unsafe.Add(ref sr, i + w), e1); }
            if (i == va) e0 = DropLane(e0, a - i);
            else if (i + w == va) e1 = DropLane(e1, a - i - w);
            acc0 += e0;
            acc1 += e1;
        }
        if (i < full)
        {
            TV e = VMath.ExpScaled(TV.Load(ref Unsafe.Add(ref zr, i)) - mv, wide, precise);
            if (storing) TV.Store(ref Unsafe.Add(ref sr, i), e);
            acc0 += i == va ? DropLane(e, a - i) : e;
        }
        if (full < n)
        {
            if (n < w) return ShortRowSumExp<TV>(z, m, a, precise, store);
            // The last w elements: lanes before `full` were summed already (their stores are rewritten, identically).
            int s = n - w;
            TV e = VMath.ExpScaled(TV.Load(ref Unsafe.Add(ref zr, s)) - mv, wide, precise);
            if (storing) TV.Store(ref Unsafe.Add(ref sr, s), e);
            acc1 += TV.AndNot(e, TV.Or(TV.LessThan(TV.Indices, TV.Splat(full - s)), TV.Equal(TV.Indices, TV.Splat(a - s))));
        }
        return TV.Sum(acc0 + acc1) * Unshift;
    }

    /// <summary>
    /// <see cref="FloatSumExp"/> with the compact exponential (<see cref="VMath.ExpCompact{TV}"/>: 256- and 128-bit lanes,
    /// the cubic's accuracy class): four vectors a step into four accumulators (the vectors holding a found by one unsigned
    /// range check), then one at a time, and the last, overlapping vector. Its own method, as
    /// <see cref="FactorSumExp{TWide}"/> is: four exponentials a step inside <see cref="FloatSumExp"/> put that method past
    /// the JIT's inlining budget (its exponentials and vector operators stayed calls, 2.5x slower), and two a step left
    /// the core waiting on the exponential's dependent chain. <typeparamref name="TWide"/>: the clamped form.
    /// </summary>
    private static unsafe double CompactSumExp<TV, TWide>(ReadOnlySpan<float> z, float m, int a, Span<float> store)
        where TV : struct, IDVec<TV>
    {
        bool wide = typeof(TWide) == typeof(Yes);
        int n = z.Length, w = TV.Count, full = n - n % w, va = a - a % w;
        if (n < w) return ShortRowSumExp<TV>(z, m, a, precise: false, store);
        TV mv = TV.Splat(m), acc0 = TV.Splat(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float sr = ref MemoryMarshal.GetReference(store);
        bool storing = !store.IsEmpty;
        // Long rows: touch the same offset one row ahead (the next row of a batch; a prefetch never faults), so the
        // next row's pass (or scan) finds its data in cache while this row computes.
        bool prefetch = n >= PrefetchMinClasses && Sse.IsSupported;
        int i = 0;
        for (; i <= full - 4 * w; i += 4 * w)
        {
            if (prefetch) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref zr, i + n)));
            TV e0 = VMath.ExpCompact(TV.Load(ref Unsafe.Add(ref zr, i)) - mv, wide);
            TV e1 = VMath.ExpCompact(TV.Load(ref Unsafe.Add(ref zr, i + w)) - mv, wide);
            TV e2 = VMath.ExpCompact(TV.Load(ref Unsafe.Add(ref zr, i + 2 * w)) - mv, wide);
            TV e3 = VMath.ExpCompact(TV.Load(ref Unsafe.Add(ref zr, i + 3 * w)) - mv, wide);
            if (storing)
            {
                TV.Store(ref Unsafe.Add(ref sr, i), e0); TV.Store(ref Unsafe.Add(ref sr, i + w), e1);
                TV.Store(ref Unsafe.Add(ref sr, i + 2 * w), e2); TV.Store(ref Unsafe.Add(ref sr, i + 3 * w), e3);
            }
            if ((uint)(va - i) < (uint)(4 * w))
            {
                int l = a - i;
                e0 = DropLane(e0, l); e1 = DropLane(e1, l - w); e2 = DropLane(e2, l - 2 * w); e3 = DropLane(e3, l - 3 * w);
            }
            acc0 += e0;
            acc1 += e1;
            acc2 += e2;
            acc3 += e3;
        }
        for (; i < full; i += w)
        {
            TV e = VMath.ExpCompact(TV.Load(ref Unsafe.Add(ref zr, i)) - mv, wide);
            if (storing) TV.Store(ref Unsafe.Add(ref sr, i), e);
            acc2 += i == va ? DropLane(e, a - i) : e;
        }
        if (full < n)
        {
            // The last w elements: lanes before `full` were summed already (their stores are rewritten, identically).
            int s = n - w;
            TV e = VMath.ExpCompact(TV.Load(ref Unsafe.Add(ref zr, s)) - mv, wide);
            if (storing) TV.Store(ref Unsafe.Add(ref sr, s), e);
            acc3 += TV.AndNot(e, TV.Or(TV.LessThan(TV.Indices, TV.Splat(full - s)), TV.Equal(TV.Indices, TV.Splat(a - s))));
        }
        return TV.Sum((acc0 + acc2) + (acc1 + acc3)) * Unshift;
    }

    /// <summary><see cref="FloatSumExp"/> on 512-bit lanes with the two-factor exponential (<see cref="VMath.ExpParts"/>):
    /// eight vectors a step into four accumulators (the vectors holding a found by one unsigned range check), then two,
    /// one, and the last, overlapping vector; each term summed by one FMA, the stored term their product. The callers
    /// take it instead of <see cref="FloatSumExp"/> where <see cref="TwoFactors{TV}"/> holds (<see cref="FactorSum"/>).
    /// <typeparamref name="TWide"/>: y from the exact gap z - m (anchors beyond <see cref="VMath.MaxFusedAnchor"/>).</summary>
    private static unsafe double FactorSumExp<TWide>(ReadOnlySpan<float> z, float m, int a, Span<float> store)
    {
        bool wide = typeof(TWide) == typeof(Yes);
        int n = z.Length, w = V512.Count, full = n - n % w, va = a - a % w;
        V512 acc0 = V512.Splat(0), acc1 = acc0;
        Vector512<double> m512 = Vector512.Create((double)m), nml512 = Vector512.Create(-(double)m * 1.4426950408889634);
        ref float zr = ref MemoryMarshal.GetReference(z);
        ref float sr = ref MemoryMarshal.GetReference(store);
        bool storing = !store.IsEmpty;
        // Long rows: touch the same offset one row ahead (the next row of a batch; a prefetch never faults), so the
        // next row's pass (or scan) finds its data in cache while this row computes.
        bool prefetch = n >= PrefetchMinClasses && Sse.IsSupported;
        int i = 0;
        {
            // Eight vectors a step into four accumulators; the vectors holding a are found by one unsigned range check.
            V512 acc2 = acc0, acc3 = acc0;
            for (; i <= full - 8 * w; i += 8 * w)
            {
                if (prefetch)
                {
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref zr, i + n)));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref zr, i + n + 2 * w)));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref zr, i + n + 4 * w)));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref zr, i + n + 6 * w)));
                }
                Factors s0 = ExpFactors(ref Unsafe.Add(ref zr, i), m512, nml512, wide);
                Factors s1 = ExpFactors(ref Unsafe.Add(ref zr, i + w), m512, nml512, wide);
                Factors s2 = ExpFactors(ref Unsafe.Add(ref zr, i + 2 * w), m512, nml512, wide);
                Factors s3 = ExpFactors(ref Unsafe.Add(ref zr, i + 3 * w), m512, nml512, wide);
                Factors s4 = ExpFactors(ref Unsafe.Add(ref zr, i + 4 * w), m512, nml512, wide);
                Factors s5 = ExpFactors(ref Unsafe.Add(ref zr, i + 5 * w), m512, nml512, wide);
                Factors s6 = ExpFactors(ref Unsafe.Add(ref zr, i + 6 * w), m512, nml512, wide);
                Factors s7 = ExpFactors(ref Unsafe.Add(ref zr, i + 7 * w), m512, nml512, wide);
                if (storing)
                {
                    V512.Store(ref Unsafe.Add(ref sr, i), Term(s0)); V512.Store(ref Unsafe.Add(ref sr, i + w), Term(s1));
                    V512.Store(ref Unsafe.Add(ref sr, i + 2 * w), Term(s2)); V512.Store(ref Unsafe.Add(ref sr, i + 3 * w), Term(s3));
                    V512.Store(ref Unsafe.Add(ref sr, i + 4 * w), Term(s4)); V512.Store(ref Unsafe.Add(ref sr, i + 5 * w), Term(s5));
                    V512.Store(ref Unsafe.Add(ref sr, i + 6 * w), Term(s6)); V512.Store(ref Unsafe.Add(ref sr, i + 7 * w), Term(s7));
                }
                if ((uint)(va - i) < (uint)(8 * w))
                {
                    // Dropped from the scale: 0 times the cubic (finite, or NaN only where the row is NaN anyway).
                    int l = a - i;
                    s0.Scale = DropLane(s0.Scale, l); s1.Scale = DropLane(s1.Scale, l - w); s2.Scale = DropLane(s2.Scale, l - 2 * w); s3.Scale = DropLane(s3.Scale, l - 3 * w);
                    s4.Scale = DropLane(s4.Scale, l - 4 * w); s5.Scale = DropLane(s5.Scale, l - 5 * w); s6.Scale = DropLane(s6.Scale, l - 6 * w); s7.Scale = DropLane(s7.Scale, l - 7 * w);
                }
                acc0 = AddTerm(AddTerm(acc0, s0), s4);
                acc1 = AddTerm(AddTerm(acc1, s1), s5);
                acc2 = AddTerm(AddTerm(acc2, s2), s6);
                acc3 = AddTerm(AddTerm(acc3, s3), s7);
            }
            acc0 += acc2; acc1 += acc3;
        }
        for (; i <= full - 2 * w; i += 2 * w)
        {
            if (prefetch) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref zr, i + n)));
            Factors s0 = ExpFactors(ref Unsafe.Add(ref zr, i), m512, nml512, wide);
            Factors s1 = ExpFactors(ref Unsafe.Add(ref zr, i + w), m512, nml512, wide);
            if (storing) { V512.Store(ref Unsafe.Add(ref sr, i), Term(s0)); V512.Store(ref Unsafe.Add(ref sr, i + w), Term(s1)); }
            if (i == va) s0.Scale = DropLane(s0.Scale, a - i);
            else if (i + w == va) s1.Scale = DropLane(s1.Scale, a - i - w);
            acc0 = AddTerm(acc0, s0);
            acc1 = AddTerm(acc1, s1);
        }
        if (i < full)
        {
            Factors s0 = ExpFactors(ref Unsafe.Add(ref zr, i), m512, nml512, wide);
            if (storing) V512.Store(ref Unsafe.Add(ref sr, i), Term(s0));
            if (i == va) s0.Scale = DropLane(s0.Scale, a - i);
            acc0 = AddTerm(acc0, s0);
        }
        if (full < n)
        {
            if (n < w) return ShortRowSumExp<V512>(z, m, a, precise: false, store);
            // The last w elements: lanes before `full` were summed already (their stores are rewritten, identically).
            int s = n - w;
            Factors s0 = ExpFactors(ref Unsafe.Add(ref zr, s), m512, nml512, wide);
            if (storing) V512.Store(ref Unsafe.Add(ref sr, s), Term(s0));
            s0.Scale = V512.AndNot(s0.Scale, V512.Or(V512.LessThan(V512.Indices, V512.Splat(full - s)), V512.Equal(V512.Indices, V512.Splat(a - s))));
            acc1 = AddTerm(acc1, s0);
        }
        return V512.Sum(acc0 + acc1) * Unshift;
    }

    /// <summary><see cref="FloatSumExp"/> for a row shorter than a vector: a padded copy whose -inf lanes give 0 (clamped form).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double ShortRowSumExp<TV>(ReadOnlySpan<float> z, float m, int a, bool precise, Span<float> store) where TV : struct, IDVec<TV>
    {
        Span<float> buf = stackalloc float[TV.Count];
        buf.Fill(float.NegativeInfinity);
        z.CopyTo(buf);
        TV e = VMath.ExpScaled(TV.Load(ref MemoryMarshal.GetReference(buf)) - TV.Splat(m), clamp: true, precise);
        if (!store.IsEmpty)
        {
            TV.Store(ref MemoryMarshal.GetReference(buf), e);
            buf[..z.Length].CopyTo(store);
        }
        return TV.Sum(DropLane(e, a)) * Unshift;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV DropLane<TV>(TV e, int lane) where TV : struct, IDVec<TV> => TV.AndNot(e, TV.Equal(TV.Indices, TV.Splat(lane)));

    /// <summary>
    /// Float64 rows: T = sum of exp(z_k - m) over k with z_k != m, plus (number of k with z_k = m) - 1; i.e. the sum
    /// over every class but one maximum, in double-double lanes. When <paramref name="store"/> is not empty,
    /// exp(z_k - m) * 2^64 is written there.
    /// </summary>
    private static TR DoubleSumExp<TIn, TR, TV>(ReadOnlySpan<TIn> z, double m, Span<TIn> store)
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
        return Reduce<TR, TV>(hi, lo, Unshift, ties);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Step<TV>(TV zv, TV mv, TV one, bool full, ref TV hi, ref TV lo, ref TV eq, bool dd) where TV : struct, IDVec<TV>
    {
        TV isMax = TV.Equal(zv, mv);
        TV eh = ExpOfGap(zv, mv, full, StoreShift, out TV el);
        eq += TV.Select(isMax, one, TV.Splat(0));
        Accumulate(ref hi, ref lo, TV.AndNot(eh, isMax), TV.AndNot(el, isMax), dd);
        return eh + el;
    }

    /// <summary>
    /// exp(z - m) * 2^shift in double lanes. With <paramref name="full"/> (float64 inputs): TwoSum(z, -m) keeps the
    /// rounding error of z - m, carried into the full-precision exp as a factor (1 + dl), and <paramref name="low"/>
    /// returns the result's rounding error for double-double sums; otherwise the 2^-36 exp and a zero low part.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ExpOfGap<TV>(TV zv, TV mv, bool full, double shift, out TV low) where TV : struct, IDVec<TV>
    {
        TV zero = TV.Splat(0);
        TV d = zv - mv;
        if (!full)
        {
            low = zero;
            return VMath.Exp(d, fullPrecision: false, shift);
        }
        TV bb = d - zv;
        TV dl = (zv - (d - bb)) + (zero - mv - bb);
        dl = TV.Select(TV.Equal(d - d, zero), dl, zero); // -inf logits: no correction (and no NaN)
        TV eh = VMath.Exp(d, fullPrecision: true, shift, out TV el);
        low = TV.Fma(eh, dl, el);
        return eh;
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
        if (typeof(TIn) == typeof(float) && typeof(TR) != typeof(R128) && FloatScale.Applies(hi))
        {
            FloatScale.Run<TV>(MemoryMarshal.Cast<TIn, float>(grad), hi);
            return;
        }
        int n = grad.Length, w = TV.Count, i = 0;
        TV fh = TV.Splat(hi), fl = TV.Splat(lo);
        ref TIn gr = ref MemoryMarshal.GetReference(grad);
        for (; i <= n - w; i += w)
        {
            ref TIn at = ref Unsafe.Add(ref gr, i);
            TV e = LoadIn<TIn, TV>(ref at);
            StoreIn(ref at, typeof(TR) == typeof(R128) ? TV.Fma(e, fh, e * fl) : e * fh);
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
        int n = z.Length, a;
        double m;
        bool clamp = true;
        if (typeof(TIn) == typeof(float)) m = RowScan.MaxArg<TV>(MemoryMarshal.Cast<TIn, float>(z), out a, out clamp);
        else m = double.CreateTruncating(z[a = TensorPrimitives.IndexOfMax(z)]); // first maximum; a NaN's index when there is one
        if (!double.IsFinite(m))
            return Rows.Dense<TIn, TR, DenseLabels<TIn>>(z, new DenseLabels<TIn>(y, weights, smoothing, n), c, grad, scale,
                labelGrad, weights, 1 - smoothing);

        if (typeof(TIn) == typeof(float))
        {
            // Float32: the table exp in double lanes, sums in double (see FloatDenseSums); the gradient (DenseGradient)
            // redoes them with the precise exponential for rows near their optimum.
            return DenseFinishAndGradient<TIn, TR, TV>(z, y, weights, smoothing, c, grad, scale, labelGrad,
                FloatSums<TIn, TR, TV>(z, y, weights, smoothing, m, a, clamp, precise: false), m, a, clamp);
        }
        // Finite sums show that no infinity or NaN met the unguarded arithmetic; otherwise redo the row with the guards.
        Rows.DenseSums<TR> sums = DoubleDenseSums<TIn, TR, TV, No>(z, y, weights, smoothing, m, a);
        if (!(double.IsFinite(TR.ToDouble(sums.Others)) && double.IsFinite(TR.ToDouble(sums.Labels))
            && double.IsFinite(TR.ToDouble(sums.Gaps)) && double.IsFinite(TR.ToDouble(sums.LabelExp))))
            sums = DoubleDenseSums<TIn, TR, TV, Yes>(z, y, weights, smoothing, m, a);
        return DenseFinishAndGradient<TIn, TR, TV>(z, y, weights, smoothing, c, grad, scale, labelGrad, sums, m, a);
    }

    /// <summary>
    /// Dense row sums over k != a in double-double lanes (float64): T = sum e_k, Y = sum y_k, D = sum y_k (m - z_k) and
    /// Q = sum y_k e_k, with z - m and the products kept exact. Without <typeparamref name="TGuard"/> = <see cref="Yes"/>
    /// the infinity guards are left out except in the padded tail (the caller checks that the sums came out finite).
    /// </summary>
    private static Rows.DenseSums<TR> DoubleDenseSums<TIn, TR, TV, TGuard>(ReadOnlySpan<TIn> z, ReadOnlySpan<TIn> y,
        ReadOnlySpan<double> weights, double smoothing, double m, int a)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        bool guarded = typeof(TGuard) == typeof(Yes);
        int n = z.Length, w = TV.Count, i = 0;
        double keep = 1 - smoothing, add = smoothing / n;
        TV zero = TV.Splat(0), mv = TV.Splat(m), av = TV.Splat(a), kv = TV.Splat(keep), addv = TV.Splat(add);
        var acc = new DenseAccumulators<TV>(zero);
        // Whole vectors with the guards known at compile time; then the tail, whose padding holds -inf logits (guarded).
        for (; i <= n - w; i += w)
        {
            TV zv = LoadIn<TIn, TV>(ref Unsafe.Add(ref MemoryMarshal.GetReference(z), i));
            TV yv = LoadIn<TIn, TV>(ref Unsafe.Add(ref MemoryMarshal.GetReference(y), i));
            if (smoothing != 0) yv = TV.Fma(yv, kv, addv);
            if (!weights.IsEmpty) yv *= TV.Load(ref Unsafe.Add(ref MemoryMarshal.GetReference(weights), i));
            DoubleDenseStep<TIn, TR, TV>(ref acc, zv, yv, TV.Equal(TV.Indices + TV.Splat(i), av), mv, guarded);
        }
        if (i < n)
        {
            // Tail: padded copies (-inf logits, zero labels and weights) that add nothing.
            Span<TIn> zBuf = stackalloc TIn[TV.Count], yBuf = stackalloc TIn[TV.Count];
            Span<double> wBuf = stackalloc double[TV.Count];
            zBuf.Fill(TIn.NegativeInfinity); yBuf.Clear(); wBuf.Clear();
            z[i..].CopyTo(zBuf); y[i..].CopyTo(yBuf);
            TV zv = LoadIn<TIn, TV>(ref MemoryMarshal.GetReference(zBuf));
            TV yv = LoadIn<TIn, TV>(ref MemoryMarshal.GetReference(yBuf));
            if (smoothing != 0) yv = TV.Fma(yv, kv, addv);
            // Weights of the padding lanes are 0, so smoothing does not leak into them.
            if (!weights.IsEmpty) weights[i..].CopyTo(wBuf);
            else wBuf[..(n - i)].Fill(1.0);
            yv *= TV.Load(ref MemoryMarshal.GetReference(wBuf));
            DoubleDenseStep<TIn, TR, TV>(ref acc, zv, yv, TV.Equal(TV.Indices + TV.Splat(i), av), mv, guard: true);
        }
        return new Rows.DenseSums<TR>
        {
            Others = Reduce<TR, TV>(acc.TH, acc.TL), Labels = Reduce<TR, TV>(acc.YH, acc.YL),
            Gaps = Reduce<TR, TV>(acc.GH, acc.GL), LabelExp = Reduce<TR, TV>(acc.QH, acc.QL),
        };
    }

    /// <summary>The running (hi, lo) lane sums of <see cref="DoubleDenseSums"/>.</summary>
    private struct DenseAccumulators<TV>(TV zero) where TV : struct, IDVec<TV>
    {
        public TV TH = zero, TL = zero, YH = zero, YL = zero, GH = zero, GL = zero, QH = zero, QL = zero;
    }

    /// <summary>One vector of <see cref="DoubleDenseSums"/> (inlined with <paramref name="guard"/> a constant per call site).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DoubleDenseStep<TIn, TR, TV>(ref DenseAccumulators<TV> acc, TV zv, TV yv, TV isA, TV mv, bool guard)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        bool dd = typeof(TR) == typeof(R128), full = typeof(TIn) == typeof(double);
        TV zero = TV.Splat(0);
        // 0 * log 0 = 0: zero labels contribute nothing (unguarded: exact zeros, as every logit is finite then).
        TV skip = guard ? TV.Or(isA, TV.Equal(yv, zero)) : isA;
        TV eh = ExpOfGap(zv, mv, full, 0, out TV el);
        Accumulate(ref acc.TH, ref acc.TL, TV.AndNot(eh, isA), TV.AndNot(el, isA), dd, guard);
        TV ym = TV.AndNot(yv, skip);
        Accumulate(ref acc.YH, ref acc.YL, ym, zero, dd, guard);
        TV gap = mv - zv; // >= 0; +inf for -inf logits, kept only where the label is non-zero
        if (dd)
        {
            TV bb = gap - mv;
            TV gapLo = (mv - (gap - bb)) + (zero - zv - bb);
            TV ph = ym * gap;
            if (guard)
            {
                TV pl = TV.Fma(ym, gap, zero - ph) + ym * TV.Select(TV.Equal(gap - gap, zero), gapLo, zero);
                Accumulate(ref acc.GH, ref acc.GL, TV.AndNot(ph, skip), TV.Select(TV.Equal(ph - ph, zero), TV.AndNot(pl, skip), zero), true, true);
            }
            else Accumulate(ref acc.GH, ref acc.GL, ph, TV.Fma(ym, gap, zero - ph) + ym * gapLo, true, false);
            TV qh = ym * eh;
            TV ql = TV.Fma(ym, eh, zero - qh) + ym * el;
            Accumulate(ref acc.QH, ref acc.QL, qh, ql, true, guard);
        }
        else
        {
            acc.GH += TV.AndNot(ym * gap, skip);
            acc.QH = TV.Fma(ym, eh, acc.QH);
        }
    }

    private static double DenseFinishAndGradient<TIn, TR, TV>(ReadOnlySpan<TIn> z, ReadOnlySpan<TIn> y, ReadOnlySpan<double> weights,
        double smoothing, ReadOnlySpan<double> c, Span<TIn> grad, double scale, Span<TIn> labelGrad, in Rows.DenseSums<TR> sums, double m, int a,
        bool clamp = true)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        int n = z.Length;
        double keep = 1 - smoothing, add = smoothing / n;
        bool wantGrad = !grad.IsEmpty || !labelGrad.IsEmpty;
        double ya = double.CreateTruncating(y[a]);
        if (smoothing != 0) ya = keep * ya + add;
        if (!weights.IsEmpty) ya *= weights[a];
        double loss = Rows.DenseFinish(sums, ya, m, a, c, wantGrad, out Rows.DenseState<TR> st);
        if (wantGrad)
        {
            if (double.IsNaN(loss)) { grad.Fill(TIn.NaN); labelGrad.Fill(TIn.NaN); return loss; }
            if (typeof(TR) == typeof(R128))
            {
                // Float64: probabilities near the optimum need double-double; DenseGradient64 does those elements so,
                // or hands rows whose sums are not exact enough back to the scalar kernel.
                if (!DenseGradient64<TIn, TR, TV>(z, y, weights, smoothing, st, sums.Others, scale, grad, labelGrad))
                    Rows.Dense<TIn, TR, DenseLabels<TIn>>(z, new DenseLabels<TIn>(y, weights, smoothing, n), c, grad, scale,
                        labelGrad, weights, keep); // its loss is the same within the bound; the vector loss is kept
            }
            else if (!DenseGradient<TIn, TR, TV>(z, y, weights, smoothing, st, sums.Others, scale, grad, labelGrad, clamp, preciseSums: false))
            {
                // Near the row's optimum the gradient is a small difference of the sums' terms: with the sums' 2^-29 its
                // bound would not hold. Redo the sums and the gradient with the precise exponential (the loss stays).
                Rows.DenseSums<TR> precise = FloatSums<TIn, TR, TV>(z, y, weights, smoothing, m, a, clamp, precise: true);
                Rows.DenseFinish(precise, ya, m, a, c, wantGrad, out Rows.DenseState<TR> stp);
                DenseGradient<TIn, TR, TV>(z, y, weights, smoothing, stp, precise.Others, scale, grad, labelGrad, clamp, preciseSums: true);
            }
        }
        return loss;
    }

    /// <summary>The first pass of <see cref="Rows.DenseGradient64"/> in SIMD (float64 rows): plain-double gradients, their
    /// parts' magnitudes and the row maxima (lane a and the padding excluded); then <see cref="Rows.DenseGradient64Redo"/>.</summary>
    private static bool DenseGradient64<TIn, TR, TV>(ReadOnlySpan<TIn> z, ReadOnlySpan<TIn> y, ReadOnlySpan<double> weights, double smoothing,
        in Rows.DenseState<TR> st, TR others, double scale, Span<TIn> grad, Span<TIn> labelGrad)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        int n = z.Length, w = TV.Count;
        double keep = 1 - smoothing;
        double[] parts = Rows.GradientParts(n);
        TV zero = TV.Splat(0), one = TV.Splat(1), mv = TV.Splat(st.M), nm = TV.Splat(-st.M), av = TV.Splat(st.A), last = TV.Splat(n - 1);
        // The exponentials come pre-scaled by 2^64 (VMath.ExpScaled); 1/S takes the scale off.
        TV ps = TV.Splat(Unshift / TR.ToDouble(st.S)), bv = TV.Splat(TR.ToDouble(st.B)), ev = TV.Splat(TR.ToDouble(st.Slope));
        TV lv = TV.Splat(TR.ToDouble(st.Log1pT)), kv = TV.Splat(keep), addv = TV.Splat(smoothing / n);
        TV maxG = zero, maxGy = zero, maxP = zero, sc = TV.Splat(scale), lsc = TV.Splat(keep * scale);
        bool wantGy = !labelGrad.IsEmpty;
        Span<TIn> zBuf = stackalloc TIn[TV.Count], yBuf = stackalloc TIn[TV.Count], gBuf = stackalloc TIn[TV.Count], gyBuf = stackalloc TIn[TV.Count];
        Span<double> wBuf = stackalloc double[TV.Count], pBuf = stackalloc double[TV.Count], pyBuf = stackalloc double[TV.Count];
        ref double pr = ref parts[0];
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
            TV d = zv - mv;
            TV bb = d - zv;
            TV dl = (zv - (d - bb)) + (nm - bb);
            // The precise table exponential (below 5e-16; about 1 ulp elsewhere than on 512 bits): elements where that
            // could show against the row's largest gradient are redone in double-double below.
            TV ex = VMath.ExpScaled(d, clamp: true, precise: true);
            ex = TV.Select(TV.Equal(d - d, zero), TV.Fma(ex, dl, ex), ex); // the z - m rounding error, where d is finite
            TV p = ex * ps;
            TV pos = p * bv, neg = ye * TV.Fma(ev, p, one);
            TV g = pos - neg;
            TV idx = TV.Indices + TV.Splat(i);
            TV skip = TV.Or(TV.Equal(idx, av), TV.LessThan(last, idx)); // lane a and the padding
            TV partG = TV.AndNot(TV.Abs(pos) + TV.Abs(neg), skip), partGy = zero, gy = zero, gs = g * sc;
            maxG = TV.Max(maxG, TV.AndNot(TV.Abs(g), skip));
            maxP = TV.Max(maxP, partG);
            if (wantGy)
            {
                TV gap = lv - d, tail = ev * (one - p);
                gy = gap + tail;
                partGy = TV.AndNot(TV.Abs(gap) + TV.Abs(tail), skip);
                maxGy = TV.Max(maxGy, TV.AndNot(TV.Abs(gy), skip));
                gy *= lsc * wv; // the labels gradient's scale: weight, 1 - smoothing, upstream
            }
            if (whole)
            {
                TV.Store(ref Unsafe.Add(ref pr, i), partG);
                if (!grad.IsEmpty) StoreIn(ref Unsafe.Add(ref MemoryMarshal.GetReference(grad), i), gs);
                if (wantGy)
                {
                    TV.Store(ref Unsafe.Add(ref pr, n + i), partGy);
                    StoreIn(ref Unsafe.Add(ref MemoryMarshal.GetReference(labelGrad), i), gy);
                }
            }
            else
            {
                TV.Store(ref MemoryMarshal.GetReference(pBuf), partG);
                pBuf[..(n - i)].CopyTo(parts.AsSpan(i));
                StoreIn(ref MemoryMarshal.GetReference(gBuf), gs);
                if (!grad.IsEmpty) gBuf[..(n - i)].CopyTo(grad[i..]);
                if (wantGy)
                {
                    TV.Store(ref MemoryMarshal.GetReference(pyBuf), partGy);
                    pyBuf[..(n - i)].CopyTo(parts.AsSpan(n + i));
                    StoreIn(ref MemoryMarshal.GetReference(gyBuf), gy);
                    gyBuf[..(n - i)].CopyTo(labelGrad[i..]);
                }
            }
        }
        double mg = 0, mgy = 0, mp = 0;
        for (int k = 0; k < w; k++) { mg = Math.Max(mg, TV.Lane(maxG, k)); mgy = Math.Max(mgy, TV.Lane(maxGy, k)); mp = Math.Max(mp, TV.Lane(maxP, k)); }
        // The sums behind S and B are only about double-accurate here (their exponentials carry 2^-54): where the
        // logits gradient is a difference of terms more than 8 times larger than the row's largest gradient (labels
        // near p, close to the optimum), that would show in ulps of the row maximum. The caller then redoes the row
        // with the scalar kernel, whose sums take the double-double exponential. (8 is a measured margin: the errors
        // seen were about 0.3 ulp per unit of that ratio; docs/accuracy.md.)
        if (!grad.IsEmpty && !(mp <= 8 * Math.Max(mg, Math.Abs(TR.ToDouble(st.GradTop))))) return false;
        Rows.DenseGradient64Redo(z, new DenseLabels<TIn>(y, weights, smoothing, n), st, others, scale, grad, labelGrad, weights, keep,
            parts, mg, mgy);
        return true;
    }

    /// <summary>Float32 dense row sums over k != a: T = sum e_k, Y = sum y_k, D = sum y_k (m - z_k), Q = sum y_k e_k
    /// (zero labels skipped), with effective labels y = w (keep y + s/C); the table exp (<see cref="VMath.ExpScaled{TV}"/>),
    /// everything in double lanes.</summary>
    private static (double T, double Y, double D, double Q) FloatDenseSums<TV, TClamp, TPrecise>(ReadOnlySpan<float> z, ReadOnlySpan<float> y,
        ReadOnlySpan<double> weights, double smoothing, double m, int a, int classes)
        where TV : struct, IDVec<TV>
    {
        bool clamp = typeof(TClamp) == typeof(Yes), precise = typeof(TPrecise) == typeof(Yes);
        int n = z.Length, w = TV.Count;
        if (n < w) return ShortDenseSums<TV>(z, y, weights, smoothing, m, a, precise);
        if (typeof(TV) != typeof(V512) && !precise) return CompactDenseSums<TV, TClamp>(z, y, weights, smoothing, m, a, classes);
        double keep = 1 - smoothing, add = smoothing / classes;
        TV zero = TV.Splat(0), one = TV.Splat(1), mv = TV.Splat(m), av = TV.Splat(a), kv = TV.Splat(keep), addv = TV.Splat(add);
        TV t = zero, ys = zero, ds = zero, qs = zero;
        bool adjust = smoothing != 0 || !weights.IsEmpty;
        ref float zr = ref MemoryMarshal.GetReference(z), yr = ref MemoryMarshal.GetReference(y);
        ref double wr = ref MemoryMarshal.GetReference(weights);
        // The last vector overlaps the one before it.
        int va = a - a % w, last = n - w;
        for (int i = 0; i < n; i += w)
        {
            int at = Math.Min(i, last);
            TV zv = TV.Load(ref Unsafe.Add(ref zr, at)), yv = TV.Load(ref Unsafe.Add(ref yr, at));
            if (adjust) yv = TV.Fma(yv, kv, addv) * (weights.IsEmpty ? one : TV.Load(ref Unsafe.Add(ref wr, at)));
            TV d = zv - mv; // exact (float32 logits in double); also the gap m - z_k, negated: D is summed negated
            TV e = VMath.ExpScaled(d, clamp, precise);
            // Lane a is dropped in its vector, and in the overlapping last vector together with the lanes summed already.
            if (at != i || i == va)
            {
                TV idx = TV.Indices + TV.Splat(at);
                TV drop = TV.Or(TV.LessThan(idx, TV.Splat(i)), TV.Equal(idx, av));
                e = TV.AndNot(e, drop);
                yv = TV.AndNot(yv, drop);
            }
            AddDense(ref t, ref ys, ref ds, ref qs, e, yv, d, clamp);
        }
        return (TV.Sum(t) * Unshift, TV.Sum(ys), -TV.Sum(ds), TV.Sum(qs) * Unshift);
    }

    /// <summary>One vector's terms into the dense sums: T += e, Y += y, D += y (z - m) (summed negated), Q += y e. Zero
    /// labels add exact zeros (0 log 0 = 0); only next to a -inf logit (<paramref name="clamp"/>: rows that may hold one)
    /// is 0 * inf cleared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddDense<TV>(ref TV t, ref TV ys, ref TV ds, ref TV qs, TV e, TV yv, TV d, bool clamp) where TV : struct, IDVec<TV>
    {
        t += e;
        ys += yv;
        if (clamp) ds += TV.AndNot(yv * d, TV.Equal(yv, TV.Splat(0)));
        else ds = TV.Fma(yv, d, ds);
        qs = TV.Fma(yv, e, qs);
    }

    /// <summary>
    /// <see cref="FloatDenseSums"/> with the compact exponential (256- and 128-bit lanes, <see cref="VMath.ExpCompact{TV}"/>):
    /// two vectors a step (the lanes of a are dropped after one unsigned range check), then one, then the last,
    /// overlapping vector; n &gt;= TV.Count. Its own method, as <see cref="CompactSumExp"/> is: one vector a step with a
    /// branch for the overlapping vector left about 30 instructions per exponential, too many for the core to overlap
    /// enough of their dependent chains. <typeparamref name="TClamp"/>: the clamped form.
    /// </summary>
    private static (double T, double Y, double D, double Q) CompactDenseSums<TV, TClamp>(ReadOnlySpan<float> z, ReadOnlySpan<float> y,
        ReadOnlySpan<double> weights, double smoothing, double m, int a, int classes)
        where TV : struct, IDVec<TV>
    {
        bool clamp = typeof(TClamp) == typeof(Yes);
        int n = z.Length, w = TV.Count, full = n - n % w, va = a - a % w;
        double keep = 1 - smoothing, add = smoothing / classes;
        TV zero = TV.Splat(0), one = TV.Splat(1), mv = TV.Splat(m), kv = TV.Splat(keep), addv = TV.Splat(add);
        TV t0 = zero, t1 = zero, ys = zero, ds = zero, qs = zero;
        bool adjust = smoothing != 0 || !weights.IsEmpty;
        ref float zr = ref MemoryMarshal.GetReference(z), yr = ref MemoryMarshal.GetReference(y);
        ref double wr = ref MemoryMarshal.GetReference(weights);
        int i = 0;
        for (; i <= full - 2 * w; i += 2 * w)
        {
            TV y0 = TV.Load(ref Unsafe.Add(ref yr, i)), y1 = TV.Load(ref Unsafe.Add(ref yr, i + w));
            if (adjust)
            {
                y0 = TV.Fma(y0, kv, addv) * (weights.IsEmpty ? one : TV.Load(ref Unsafe.Add(ref wr, i)));
                y1 = TV.Fma(y1, kv, addv) * (weights.IsEmpty ? one : TV.Load(ref Unsafe.Add(ref wr, i + w)));
            }
            TV d0 = TV.Load(ref Unsafe.Add(ref zr, i)) - mv, d1 = TV.Load(ref Unsafe.Add(ref zr, i + w)) - mv; // exact
            TV e0 = VMath.ExpScaled(d0, clamp, precise: false), e1 = VMath.ExpScaled(d1, clamp, precise: false);
            if ((uint)(va - i) < (uint)(2 * w))
            {
                int l = a - i;
                e0 = DropLane(e0, l); y0 = DropLane(y0, l);
                e1 = DropLane(e1, l - w); y1 = DropLane(y1, l - w);
            }
            AddDense(ref t0, ref ys, ref ds, ref qs, e0, y0, d0, clamp);
            AddDense(ref t1, ref ys, ref ds, ref qs, e1, y1, d1, clamp);
        }
        for (int last = n - w; i < n; i += w)
        {
            // The rest: at most one whole vector, then the last, overlapping one (lanes summed already are dropped).
            int at = Math.Min(i, last);
            TV yv = TV.Load(ref Unsafe.Add(ref yr, at));
            if (adjust) yv = TV.Fma(yv, kv, addv) * (weights.IsEmpty ? one : TV.Load(ref Unsafe.Add(ref wr, at)));
            TV d = TV.Load(ref Unsafe.Add(ref zr, at)) - mv;
            TV e = VMath.ExpScaled(d, clamp, precise: false);
            TV idx = TV.Indices + TV.Splat(at);
            TV drop = TV.Or(TV.LessThan(idx, TV.Splat(i)), TV.Equal(idx, TV.Splat(a)));
            e = TV.AndNot(e, drop);
            yv = TV.AndNot(yv, drop);
            AddDense(ref t0, ref ys, ref ds, ref qs, e, yv, d, clamp);
        }
        return (TV.Sum(t0 + t1) * Unshift, TV.Sum(ys), -TV.Sum(ds), TV.Sum(qs) * Unshift);
    }

    /// <summary><see cref="FloatDenseSums"/> of a float32 row (<typeparamref name="TIn"/> is float) as the finishing's
    /// sums.</summary>
    private static Rows.DenseSums<TR> FloatSums<TIn, TR, TV>(ReadOnlySpan<TIn> z, ReadOnlySpan<TIn> y, ReadOnlySpan<double> weights,
        double smoothing, double m, int a, bool clamp, bool precise)
        where TIn : unmanaged where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        ReadOnlySpan<float> zf = MemoryMarshal.Cast<TIn, float>(z), yf = MemoryMarshal.Cast<TIn, float>(y);
        int n = z.Length;
        var fs = (clamp, precise) switch
        {
            (false, false) => FloatDenseSums<TV, No, No>(zf, yf, weights, smoothing, m, a, n),
            (true, false) => FloatDenseSums<TV, Yes, No>(zf, yf, weights, smoothing, m, a, n),
            (false, true) => FloatDenseSums<TV, No, Yes>(zf, yf, weights, smoothing, m, a, n),
            _ => FloatDenseSums<TV, Yes, Yes>(zf, yf, weights, smoothing, m, a, n),
        };
        return new Rows.DenseSums<TR> { Others = TR.From(fs.T), Labels = TR.From(fs.Y), Gaps = TR.From(fs.D), LabelExp = TR.From(fs.Q) };
    }

    /// <summary><see cref="FloatDenseSums"/> for a row shorter than a vector: padded copies (-inf logits, zero labels, and
    /// zero weights on the padding so smoothing adds nothing there) through the clamped form.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (double T, double Y, double D, double Q) ShortDenseSums<TV>(ReadOnlySpan<float> z, ReadOnlySpan<float> y,
        ReadOnlySpan<double> weights, double smoothing, double m, int a, bool precise) where TV : struct, IDVec<TV>
    {
        Span<float> zBuf = stackalloc float[TV.Count], yBuf = stackalloc float[TV.Count];
        Span<double> wBuf = stackalloc double[TV.Count];
        zBuf.Fill(float.NegativeInfinity); yBuf.Clear(); wBuf.Clear();
        z.CopyTo(zBuf); y.CopyTo(yBuf);
        if (!weights.IsEmpty) weights.CopyTo(wBuf);
        else wBuf[..z.Length].Fill(1.0);
        return precise ? FloatDenseSums<TV, Yes, Yes>(zBuf, yBuf, wBuf, smoothing, m, a, z.Length)
            : FloatDenseSums<TV, Yes, No>(zBuf, yBuf, wBuf, smoothing, m, a, z.Length);
    }

    /// <summary>Float32 dense gradients in double lanes: g_j = p_j B - y_j (1 + E p_j) and dL/dy_j = -log p_j + E (1 - p_j);
    /// the top class from the finished row. Returns false, having written nothing final, when the row's constants came
    /// from the cubic sums (<paramref name="preciseSums"/> false) and the error bound fails (labels close to p: near the
    /// optimum); the caller then redoes the row with precise sums.</summary>
    private static bool DenseGradient<TIn, TR, TV>(ReadOnlySpan<TIn> z, ReadOnlySpan<TIn> y, ReadOnlySpan<double> weights, double smoothing,
        in Rows.DenseState<TR> st, TR others, double scale, Span<TIn> grad, Span<TIn> labelGrad, bool clamp, bool preciseSums)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        int n = z.Length, w = TV.Count, a = st.A;
        double keep = 1 - smoothing, add = smoothing / n;
        double perS = Unshift / TR.ToDouble(st.S), b = TR.ToDouble(st.B), slope = TR.ToDouble(st.Slope), log1pT = TR.ToDouble(st.Log1pT);
        bool wantG = !grad.IsEmpty, wantGy = !labelGrad.IsEmpty, adjust = smoothing != 0 || !weights.IsEmpty;
        Span<TIn> zBuf = stackalloc TIn[TV.Count], yBuf = stackalloc TIn[TV.Count], gBuf = stackalloc TIn[TV.Count], gyBuf = stackalloc TIn[TV.Count];
        Span<double> wBuf = stackalloc double[TV.Count];
        bool padded = n < w; // rows shorter than a vector: padded copies (-inf logits, so the clamped exponential)
        ref TIn zr = ref padded ? ref MemoryMarshal.GetReference(zBuf) : ref MemoryMarshal.GetReference(z);
        ref TIn yr = ref padded ? ref MemoryMarshal.GetReference(yBuf) : ref MemoryMarshal.GetReference(y);
        ref double wr = ref padded ? ref MemoryMarshal.GetReference(wBuf) : ref MemoryMarshal.GetReference(weights);
        ref TIn gr = ref padded ? ref MemoryMarshal.GetReference(gBuf) : ref MemoryMarshal.GetReference(grad);
        ref TIn gyr = ref padded ? ref MemoryMarshal.GetReference(gyBuf) : ref MemoryMarshal.GetReference(labelGrad);
        if (padded)
        {
            zBuf.Fill(TIn.NegativeInfinity); yBuf.Clear(); wBuf.Clear();
            z.CopyTo(zBuf); y.CopyTo(yBuf);
            if (!weights.IsEmpty) weights.CopyTo(wBuf);
            clamp = true;
        }
        // The last vector overlaps the one before it (n >= w): its stores rewrite those elements with the same values.
        var row = new DenseGradRow<TIn>(ref zr, ref yr, ref wr, ref gr, ref gyr)
        {
            N = n, Last = padded ? 0 : n - w, Unweighted = weights.IsEmpty, WantG = wantG,
            M = st.M, PBS = perS * b * scale, NPES = -(perS * slope * scale), NSC = -scale,
            PerS = perS, Slope = slope, Log1pT = log1pT, LScale = scale * keep, Keep = keep, Add = add,
        };
        // The row's constants (S, B, ...) come from sums with the cubic exponential (2^-29) unless preciseSums. Then the
        // pass checks its error bound, a few 2^-29 of |p B| + |y (1 + E p)| per element, against an ulp of the
        // row's largest gradient: near the optimum the two terms cancel and the check fails, and the caller redoes
        // the sums and the gradient with the precise exponential. For the logits gradient alone the checked pass
        // itself takes the cubic too.
        if (preciseSums || !wantG)
        {
            // (The labels gradient, -log p_j + E (1 - p_j), does not cancel against the row's largest: no check.)
            DenseGradientPass<TIn, TV, No, No>(row, clamp, adjust, wantGy);
        }
        else
        {
            bool ok = !wantGy
                ? DenseGradientPass<TIn, TV, Yes, Yes>(row, clamp, adjust, labels: false)
                : DenseGradientPass<TIn, TV, No, Yes>(row, clamp, adjust, wantGy);
            if (!ok) return false;
        }
        if (padded)
        {
            if (wantG) gBuf[..n].CopyTo(grad);
            if (wantGy) gyBuf[..n].CopyTo(labelGrad);
        }
        if (!grad.IsEmpty) grad[a] = TIn.CreateTruncating(TR.ToDouble(st.GradTop * TR.From(scale)));
        if (!labelGrad.IsEmpty)
        {
            double wa = weights.IsEmpty ? 1 : weights[a];
            labelGrad[a] = TIn.CreateTruncating(TR.ToDouble(RowMath.TopTerm(others, st.Q, st.Log1pT, slope) * TR.From(wa * keep * scale)));
        }
        return true;
    }

    /// <summary>A float32 dense row for <see cref="DenseGradientPass"/>: its buffers (logits, labels, weights, gradients)
    /// and the row constants of g_j = (p_j B - y_j (1 + E p_j)) scale with p = e perS, folded: PBS = perS B scale,
    /// NPES = -perS E scale, NSC = -scale.</summary>
    private readonly ref struct DenseGradRow<TIn>(ref TIn z, ref TIn y, ref double w, ref TIn g, ref TIn gy)
    {
        public readonly ref TIn Z = ref z, Y = ref y, G = ref g, GY = ref gy;
        public readonly ref double W = ref w;
        public int N { get; init; }
        public int Last { get; init; }
        public bool Unweighted { get; init; }
        public bool WantG { get; init; }
        public double M { get; init; }
        public double PBS { get; init; }
        public double NPES { get; init; }
        public double NSC { get; init; }
        public double PerS { get; init; }
        public double Slope { get; init; }
        public double Log1pT { get; init; }
        public double LScale { get; init; }
        public double Keep { get; init; }
        public double Add { get; init; }
    }

    /// <summary>One pass of <see cref="DenseGradient"/>: the flags become compile-time constants of one loop
    /// (<see cref="DenseGradientLoop"/>), which keeps its constants in registers.</summary>
    private static bool DenseGradientPass<TIn, TV, TCubic, TCheck>(in DenseGradRow<TIn> row, bool clamp, bool adjust, bool labels)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TV : struct, IDVec<TV>
        => (clamp, adjust, labels) switch
        {
            (false, false, false) => DenseGradientLoop<TIn, TV, TCubic, TCheck, No, No, No>(row),
            (false, false, true) => DenseGradientLoop<TIn, TV, TCubic, TCheck, No, No, Yes>(row),
            (false, true, false) => DenseGradientLoop<TIn, TV, TCubic, TCheck, No, Yes, No>(row),
            (false, true, true) => DenseGradientLoop<TIn, TV, TCubic, TCheck, No, Yes, Yes>(row),
            (true, false, false) => DenseGradientLoop<TIn, TV, TCubic, TCheck, Yes, No, No>(row),
            (true, false, true) => DenseGradientLoop<TIn, TV, TCubic, TCheck, Yes, No, Yes>(row),
            (true, true, false) => DenseGradientLoop<TIn, TV, TCubic, TCheck, Yes, Yes, No>(row),
            _ => DenseGradientLoop<TIn, TV, TCubic, TCheck, Yes, Yes, Yes>(row),
        };

    /// <summary>
    /// The gradient loop over a float32 dense row: g_j (stored when wanted) and, with <typeparamref name="TLabels"/>,
    /// dL/dy_j. The exponential is the cubic (<typeparamref name="TCubic"/>, 2^-29) or the precise form. With
    /// <typeparamref name="TCheck"/> it returns whether the error bound holds: per element |p B scale| +
    /// |y (1 + E p) scale| &lt;= s (bounded with the row's largest label and p &lt;= 1/S), and the error, at most 6.8e-9 s
    /// (the sums' and the pass's cubic exponentials), must stay within 2^-24 of the largest |g|, an ulp of the row's
    /// largest float32 gradient. Otherwise it returns true.
    /// </summary>
    private static bool DenseGradientLoop<TIn, TV, TCubic, TCheck, TClamp, TAdjust, TLabels>(in DenseGradRow<TIn> row)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TV : struct, IDVec<TV>
    {
        bool cubic = typeof(TCubic) == typeof(Yes), check = typeof(TCheck) == typeof(Yes), clamp = typeof(TClamp) == typeof(Yes);
        bool adjust = typeof(TAdjust) == typeof(Yes), labels = typeof(TLabels) == typeof(Yes);
        ref TIn zr = ref row.Z, yr = ref row.Y, gr = ref row.G, gyr = ref row.GY;
        ref double wr = ref row.W;
        int n = row.N, last = row.Last;
        bool unweighted = row.Unweighted, wantG = row.WantG;
        TV one = TV.Splat(1.0), mv = TV.Splat(row.M), pbs = TV.Splat(row.PBS), npes = TV.Splat(row.NPES), nsc = TV.Splat(row.NSC);
        TV ps = TV.Splat(row.PerS), ev = TV.Splat(row.Slope), lv = TV.Splat(row.Log1pT), lsc = TV.Splat(row.LScale);
        TV kv = TV.Splat(row.Keep), addv = TV.Splat(row.Add), maxY = TV.Splat(0), maxG = maxY;
        int i = 0;
        // Two vectors a step while two whole vectors remain (4.5% faster at 4096x1000 on one thread), then one at a time
        // with the last vector overlapping the one before it.
        for (; i <= n - 2 * TV.Count; i += 2 * TV.Count)
        {
            int at = i, bt = i + TV.Count;
            TV zv = LoadIn<TIn, TV>(ref Unsafe.Add(ref zr, at)), yv = LoadIn<TIn, TV>(ref Unsafe.Add(ref yr, at));
            TV zv2 = LoadIn<TIn, TV>(ref Unsafe.Add(ref zr, bt)), yv2 = LoadIn<TIn, TV>(ref Unsafe.Add(ref yr, bt));
            TV wv = !adjust || unweighted ? one : TV.Load(ref Unsafe.Add(ref wr, at));
            TV wv2 = !adjust || unweighted ? one : TV.Load(ref Unsafe.Add(ref wr, bt));
            TV ye = adjust ? TV.Fma(yv, kv, addv) * wv : yv;
            TV ye2 = adjust ? TV.Fma(yv2, kv, addv) * wv2 : yv2;
            TV e = VMath.ExpScaled(zv - mv, clamp, precise: !cubic);
            TV e2 = VMath.ExpScaled(zv2 - mv, clamp, precise: !cubic);
            TV g = TV.Fma(ye, TV.Fma(e, npes, nsc), e * pbs);
            TV g2 = TV.Fma(ye2, TV.Fma(e2, npes, nsc), e2 * pbs);
            if (wantG) { StoreIn(ref Unsafe.Add(ref gr, at), g); StoreIn(ref Unsafe.Add(ref gr, bt), g2); }
            if (labels)
            {
                StoreIn(ref Unsafe.Add(ref gyr, at), ((lv + (mv - zv)) + ev * (one - e * ps)) * lsc * wv);
                StoreIn(ref Unsafe.Add(ref gyr, bt), ((lv + (mv - zv2)) + ev * (one - e2 * ps)) * lsc * wv2);
            }
            if (check)
            {
                maxY = TV.Max(maxY, TV.Max(TV.Abs(ye), TV.Abs(ye2)));
                maxG = TV.Max(maxG, TV.Max(TV.Abs(g), TV.Abs(g2)));
            }
        }
        for (; i < n; i += TV.Count)
        {
            int at = Math.Min(i, last);
            TV zv = LoadIn<TIn, TV>(ref Unsafe.Add(ref zr, at)), yv = LoadIn<TIn, TV>(ref Unsafe.Add(ref yr, at));
            TV wv = !adjust || unweighted ? one : TV.Load(ref Unsafe.Add(ref wr, at));
            TV ye = adjust ? TV.Fma(yv, kv, addv) * wv : yv;
            TV e = VMath.ExpScaled(zv - mv, clamp, precise: !cubic);
            // (p B - y (1 + E p)) scale with p = e perS, the constants folded: three multiply-pipe operations.
            TV g = TV.Fma(ye, TV.Fma(e, npes, nsc), e * pbs);
            if (wantG) StoreIn(ref Unsafe.Add(ref gr, at), g);
            if (labels) StoreIn(ref Unsafe.Add(ref gyr, at), ((lv + (mv - zv)) + ev * (one - e * ps)) * lsc * wv);
            if (check)
            {
                maxY = TV.Max(maxY, TV.Abs(ye));
                maxG = TV.Max(maxG, TV.Abs(g));
            }
        }
        if (!check) return true;
        double ymax = 0, gmax = 0;
        for (int k = 0; k < TV.Count; k++) { ymax = Math.Max(ymax, TV.Lane(maxY, k)); gmax = Math.Max(gmax, TV.Lane(maxG, k)); }
        // e <= 2^64 (the stored scale), so p <= 1/S, and Pt = sum y p <= ymax. With each exponential within 1.7e-9
        // (cubic): p = e perS within 3.4e-9 (e and S), B = S_y + E Pt within |E| Pt 3.4e-9 (Q and S), so the error of
        // p B - y (1 + E p) is at most 3.4e-9 (|p B| + 2 ymax |E| / S) <= 6.8e-9 s. It must stay within 2^-24 of the
        // largest |g|, at most one ulp of the row's largest float32 gradient (with the final rounding, 1.5 ulp against
        // the bound's 4). A NaN fails the test (the redo then writes it).
        double s = TwoTo64 * Math.Abs(row.PBS) + ymax * (Math.Abs(row.NSC) + TwoTo64 * Math.Abs(row.NPES));
        return s * 7e-9 <= gmax * 5.9604644775390625e-8; // 2^-24
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<TV>(ref TV hi, ref TV lo, TV xh, TV xl, bool dd, bool guard = true) where TV : struct, IDVec<TV>
    {
        if (!dd) { hi += xh; return; }
        TV s = hi + xh;
        TV bv = s - hi;
        TV err = (hi - (s - bv)) + (xh - bv);
        // An infinite partial sum has no rounding error to carry (and inf - inf would make one up).
        lo += (guard ? TV.Select(TV.Equal(s - s, TV.Splat(0)), err, TV.Splat(0)) : err) + xl;
        hi = s;
    }

    /// <summary>(sum of the lanes) * factor + addend, factor a power of two: in lane order in double, or exactly in
    /// double-double (<see cref="SumLanes"/>) for <see cref="R128"/>.</summary>
    private static TR Reduce<TR, TV>(TV hi, TV lo, double factor = 1, double addend = 0) where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        if (typeof(TR) != typeof(R128))
        {
            double s = 0;
            for (int k = 0; k < TV.Count; k++) s += TV.Lane(hi, k);
            return TR.From(s * factor + addend);
        }
        DoubleDouble total = SumLanes(hi, lo, factor) + addend;
        return Unsafe.As<DoubleDouble, TR>(ref total);
    }

    /// <summary>The double-double sum of the lanes' (hi + lo) pairs times a power of two: a TwoSum chain over the high
    /// parts with every error and low part gathered in one compensation term (cheaper than double-double adds).</summary>
    private static DoubleDouble SumLanes<TV>(TV hi, TV lo, double factor) where TV : struct, IDVec<TV>
    {
        double s = TV.Lane(hi, 0), c = TV.Lane(lo, 0);
        for (int k = 1; k < TV.Count; k++)
        {
            double h = TV.Lane(hi, k);
            double t = s + h;
            double bb = t - s;
            c += ((s - (t - bb)) + (h - bb)) + TV.Lane(lo, k);
            s = t;
        }
        if (!double.IsFinite(s)) return new DoubleDouble(s, 0);
        double sum = s + c;
        return new DoubleDouble(sum * factor, (c - (sum - s)) * factor);
    }
}
