using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PolyLoss.Internal;

/// <summary>
/// A float vector as wide (in bits) as the double vector of a kernel path: the float32 row scan (max, min, first
/// index of the max) reads 2x as many lanes per instruction as the double-lane arithmetic that follows it.
/// </summary>
internal interface IFVec<TF> where TF : struct, IFVec<TF>
{
    static abstract int Count { get; }
    static abstract TF Splat(float x);
    static abstract TF Load(ref float src);
    static abstract TF Max(TF a, TF b);
    static abstract TF Min(TF a, TF b);
    static abstract float MaxAcross(TF v);
    static abstract float MinAcross(TF v);
    /// <summary>Bit i set where lane i equals x.</summary>
    static abstract uint EqualBits(TF v, float x);
    /// <summary>0, 1, 2, ... as floats.</summary>
    static abstract TF Indices { get; }
    static abstract TF operator +(TF a, TF b);
    /// <summary>a &gt; b ? x : y, lane-wise.</summary>
    static abstract TF SelectGreater(TF a, TF b, TF x, TF y);
    /// <summary>a == b ? x : y, lane-wise.</summary>
    static abstract TF SelectEqual(TF a, TF b, TF x, TF y);
}

internal readonly struct F512(Vector512<float> v) : IFVec<F512>
{
    public readonly Vector512<float> V = v;
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Splat(float x) => new(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Load(ref float src) => new(Vector512.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Max(F512 a, F512 b) => new(Vector512.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Min(F512 a, F512 b) => new(Vector512.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(F512 v) => F256.MaxAcross(new(Vector256.MaxNative(v.V.GetLower(), v.V.GetUpper())));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MinAcross(F512 v) => F256.MinAcross(new(Vector256.MinNative(v.V.GetLower(), v.V.GetUpper())));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint EqualBits(F512 v, float x) => (uint)Vector512.Equals(v.V, Vector512.Create(x)).ExtractMostSignificantBits();
    public static F512 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector512<float>.Indices); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 operator +(F512 a, F512 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static F512 SelectGreater(F512 a, F512 b, F512 x, F512 y) => new(Vector512.ConditionalSelect(Vector512.GreaterThan(a.V, b.V), x.V, y.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static F512 SelectEqual(F512 a, F512 b, F512 x, F512 y) => new(Vector512.ConditionalSelect(Vector512.Equals(a.V, b.V), x.V, y.V));
}

internal readonly struct F256(Vector256<float> v) : IFVec<F256>
{
    public readonly Vector256<float> V = v;
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Splat(float x) => new(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Load(ref float src) => new(Vector256.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Max(F256 a, F256 b) => new(Vector256.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Min(F256 a, F256 b) => new(Vector256.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(F256 v) => F128.MaxAcross(new(Vector128.MaxNative(v.V.GetLower(), v.V.GetUpper())));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MinAcross(F256 v) => F128.MinAcross(new(Vector128.MinNative(v.V.GetLower(), v.V.GetUpper())));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint EqualBits(F256 v, float x) => Vector256.Equals(v.V, Vector256.Create(x)).ExtractMostSignificantBits();
    public static F256 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector256<float>.Indices); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 operator +(F256 a, F256 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static F256 SelectGreater(F256 a, F256 b, F256 x, F256 y) => new(Vector256.ConditionalSelect(Vector256.GreaterThan(a.V, b.V), x.V, y.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static F256 SelectEqual(F256 a, F256 b, F256 x, F256 y) => new(Vector256.ConditionalSelect(Vector256.Equals(a.V, b.V), x.V, y.V));
}

internal readonly struct F128(Vector128<float> v) : IFVec<F128>
{
    public readonly Vector128<float> V = v;
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Splat(float x) => new(Vector128.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Load(ref float src) => new(Vector128.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Max(F128 a, F128 b) => new(Vector128.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Min(F128 a, F128 b) => new(Vector128.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(F128 v)
    {
        Vector128<float> x = Vector128.MaxNative(v.V, Vector128.Shuffle(v.V, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MaxNative(x, Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MinAcross(F128 v)
    {
        Vector128<float> x = Vector128.MinNative(v.V, Vector128.Shuffle(v.V, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MinNative(x, Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint EqualBits(F128 v, float x) => Vector128.Equals(v.V, Vector128.Create(x)).ExtractMostSignificantBits();
    public static F128 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector128<float>.Indices); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 operator +(F128 a, F128 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static F128 SelectGreater(F128 a, F128 b, F128 x, F128 y) => new(Vector128.ConditionalSelect(Vector128.GreaterThan(a.V, b.V), x.V, y.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static F128 SelectEqual(F128 a, F128 b, F128 x, F128 y) => new(Vector128.ConditionalSelect(Vector128.Equals(a.V, b.V), x.V, y.V));
}

/// <summary>The float32 row scan of the SIMD kernels.</summary>
internal static class RowScan
{
    /// <summary>Beyond this spread (max - min) the float32 exponential must clamp its argument (see
    /// <see cref="VMath.ExpScaled{TV}"/>): 1e13 for the 512-bit table form, <see cref="VMath.CompactFloor"/> for the other
    /// widths' <see cref="VMath.ExpCompact{TV}"/> (a JIT-time constant).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double MaxUnclampedSpread<TF>() where TF : struct, IFVec<TF> => typeof(TF) == typeof(F512) ? 1e13 : VMath.CompactFloor;

    /// <summary>
    /// The row's maximum, its first index and whether the exponentials need the clamped form (a spread above
    /// <see cref="MaxUnclampedSpread{TF}"/>, infinities or NaN). Max and min are order-free, so the overlapping last
    /// vector is harmless and every width gives the same answer. A NaN may or may not reach the maximum (the
    /// hardware max drops it in some lanes); either way it reaches the exponential sum, which makes the row NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxArg<TV>(ReadOnlySpan<float> z, out int argMax, out bool clamp) where TV : struct, IDVec<TV>
        => typeof(TV) == typeof(V512) ? Scan<F512>(z, out argMax, out clamp)
        : typeof(TV) == typeof(V256) ? Scan<F256>(z, out argMax, out clamp)
        : Scan<F128>(z, out argMax, out clamp);

    /// <summary>The row's maximum, its first index and the clamp flag (see <see cref="MaxArg{TV}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RowMax Max<TV>(ReadOnlySpan<float> z) where TV : struct, IDVec<TV>
    {
        RowMax r;
        r.Max = MaxArg<TV>(z, out r.ArgMax, out r.Clamp);
        return r;
    }

    /// <summary>Up to this many classes the scan tracks the first index of the maximum lane by lane (no branch that
    /// depends on where the maximum is); longer rows search for it afterwards, which reads less.</summary>
    public const int TrackedArgMaxClasses = 1024;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scan<TF>(ReadOnlySpan<float> z, out int argMax, out bool clamp) where TF : struct, IFVec<TF>
    {
        int n = z.Length, w = TF.Count;
        if (n >= w && n <= TrackedArgMaxClasses) return ScanTracked<TF>(z, out argMax, out clamp);
        ref float zr = ref MemoryMarshal.GetReference(z);
        float max, min;
        if (n < w)
        {
            max = min = z[0];
            for (int k = 1; k < n; k++) { max = MathF.Max(max, z[k]); min = MathF.Min(min, z[k]); }
        }
        else
        {
            TF hi0 = TF.Load(ref zr), lo0 = hi0, hi1 = hi0, lo1 = hi0;
            int i = 0;
            for (; i <= n - 2 * w; i += 2 * w)
            {
                TF a = TF.Load(ref Unsafe.Add(ref zr, i)), b = TF.Load(ref Unsafe.Add(ref zr, i + w));
                hi0 = TF.Max(hi0, a); lo0 = TF.Min(lo0, a);
                hi1 = TF.Max(hi1, b); lo1 = TF.Min(lo1, b);
            }
            TF last = TF.Load(ref Unsafe.Add(ref zr, n - w)); // covers the rest (at most 2w - 1 elements) with the next line
            if (i < n - w) { TF c = TF.Load(ref Unsafe.Add(ref zr, i)); hi0 = TF.Max(hi0, c); lo0 = TF.Min(lo0, c); }
            hi1 = TF.Max(hi1, last); lo1 = TF.Min(lo1, last);
            max = TF.MaxAcross(TF.Max(hi0, hi1));
            min = TF.MinAcross(TF.Min(lo0, lo1));
        }
        argMax = IndexOf<TF>(z, max);
        clamp = !((double)max - min <= MaxUnclampedSpread<TF>()); // also NaN and infinities
        return max;
    }

    /// <summary><see cref="Scan"/> for w &lt;= n &lt;= <see cref="TrackedArgMaxClasses"/>: per lane the largest value seen
    /// and the first position holding it (strict &gt;, positions in increasing order), the overlapping last vector
    /// included; the first argmax is the smallest position among the lanes holding the maximum. Positions are exact floats.</summary>
    private static float ScanTracked<TF>(ReadOnlySpan<float> z, out int argMax, out bool clamp) where TF : struct, IFVec<TF>
    {
        int n = z.Length, w = TF.Count;
        ref float zr = ref MemoryMarshal.GetReference(z);
        // Two chains (even and odd vectors) halve the loop-carried compare/select latency; the overlapping last vector
        // joins the odd chain, whose positions per lane still increase.
        TF hi0 = TF.Splat(float.NegativeInfinity), hi1 = hi0, lo0 = TF.Splat(float.PositiveInfinity), lo1 = lo0;
        TF at0 = TF.Splat(0), at1 = at0, pos = TF.Indices, step = TF.Splat(w), step2 = TF.Splat(2 * w);
        int i = 0;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            TF a = TF.Load(ref Unsafe.Add(ref zr, i)), b = TF.Load(ref Unsafe.Add(ref zr, i + w)), posB = pos + step;
            at0 = TF.SelectGreater(a, hi0, pos, at0);
            hi0 = TF.SelectGreater(a, hi0, a, hi0); // NaN never enters (the exponential sum sees it)
            lo0 = TF.Min(lo0, a);
            at1 = TF.SelectGreater(b, hi1, posB, at1);
            hi1 = TF.SelectGreater(b, hi1, b, hi1);
            lo1 = TF.Min(lo1, b);
            pos += step2;
        }
        if (i <= n - w)
        {
            TF a = TF.Load(ref Unsafe.Add(ref zr, i));
            at0 = TF.SelectGreater(a, hi0, pos, at0);
            hi0 = TF.SelectGreater(a, hi0, a, hi0);
            lo0 = TF.Min(lo0, a);
            i += w;
        }
        if (i < n)
        {
            TF b = TF.Load(ref Unsafe.Add(ref zr, n - w)), posB = TF.Indices + TF.Splat(n - w);
            at1 = TF.SelectGreater(b, hi1, posB, at1);
            hi1 = TF.SelectGreater(b, hi1, b, hi1);
            lo1 = TF.Min(lo1, b);
        }
        // Lane-wise: the larger value, and on a tie the smaller position.
        TF at = TF.SelectGreater(hi1, hi0, at1, TF.SelectEqual(hi1, hi0, TF.Min(at0, at1), at0));
        TF hi = TF.SelectGreater(hi1, hi0, hi1, hi0), lo = TF.Min(lo0, lo1);
        float max = TF.MaxAcross(hi), min = TF.MinAcross(lo);
        argMax = (int)TF.MinAcross(TF.SelectEqual(hi, TF.Splat(max), at, TF.Splat(float.PositiveInfinity)));
        if (!(max > float.NegativeInfinity)) argMax = 0; // all -inf or NaN: the scalar kernel takes the row
        clamp = !((double)max - min <= MaxUnclampedSpread<TF>());
        return max;
    }

    /// <summary>First index of x in z (x is an element of z), or 0 when there is none (a NaN maximum).</summary>
    private static int IndexOf<TF>(ReadOnlySpan<float> z, float x) where TF : struct, IFVec<TF>
    {
        int n = z.Length, w = TF.Count, i = 0;
        ref float zr = ref MemoryMarshal.GetReference(z);
        for (; i <= n - w; i += w)
        {
            uint bits = TF.EqualBits(TF.Load(ref Unsafe.Add(ref zr, i)), x);
            if (bits != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(bits);
        }
        for (; i < n; i++)
            if (z[i] == x) return i;
        return 0;
    }
}

/// <summary>A float32 row's maximum, the first index holding it, and whether its exponentials need the clamped form.</summary>
internal struct RowMax
{
    public float Max;
    public int ArgMax;
    public bool Clamp;
}
