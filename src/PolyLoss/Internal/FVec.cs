using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PolyLoss.Internal;

/// <summary>
/// A vector of floats twice as wide (in lanes) as the double vector <typeparamref name="TD"/>: the float32 kernels
/// evaluate exp in float lanes and widen the result to double lanes for the sums.
/// </summary>
internal interface IFVec<TF, TD> where TF : struct, IFVec<TF, TD> where TD : struct, IDVec<TD>
{
    static abstract int Count { get; }
    static abstract TF Splat(float x);
    static abstract TF Load(ref float src);
    static abstract TF operator +(TF a, TF b);
    static abstract TF operator -(TF a, TF b);
    static abstract TF operator *(TF a, TF b);
    static abstract TF Fma(TF a, TF b, TF c);
    static abstract TF Max(TF a, TF b);
    static abstract TF Equal(TF a, TF b);
    static abstract TF Select(TF mask, TF a, TF b);
    /// <summary>Both halves as doubles.</summary>
    static abstract void Widen(TF x, out TD lower, out TD upper);
    /// <summary>From k = n + 1.5 * 2^23 (n an integer in [-1022 - shift, 0]), 2^(n + shift) as doubles.</summary>
    static abstract void Pow2(TF k, long shift, out TD lower, out TD upper);
    /// <summary>Both double halves rounded to floats.</summary>
    static abstract TF Narrow(TD lower, TD upper);
    static abstract void Store(ref float dst, TF v);
    static abstract float Sum(TF v);
}

internal readonly struct F512(Vector512<float> v) : IFVec<F512, V512>
{
    public readonly Vector512<float> V = v;
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Splat(float x) => new(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Load(ref float src) => new(Vector512.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 operator +(F512 a, F512 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 operator -(F512 a, F512 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 operator *(F512 a, F512 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Fma(F512 a, F512 b, F512 c) => new(Vector512.FusedMultiplyAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Max(F512 a, F512 b) => new(Vector512.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Equal(F512 a, F512 b) => new(Vector512.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Select(F512 m, F512 a, F512 b) => new(Vector512.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Widen(F512 x, out V512 lower, out V512 upper)
    {
        (Vector512<double> l, Vector512<double> u) = Vector512.Widen(x.V);
        lower = new(l); upper = new(u);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pow2(F512 k, long shift, out V512 lower, out V512 upper)
    {
        Vector512<int> n = k.V.AsInt32() - Vector512.Create(12582912f).AsInt32();
        (Vector512<long> l, Vector512<long> u) = Vector512.Widen(n);
        Vector512<long> bias = Vector512.Create(1023L + shift);
        lower = new(Vector512.ShiftLeft(l + bias, 52).AsDouble());
        upper = new(Vector512.ShiftLeft(u + bias, 52).AsDouble());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F512 Narrow(V512 lower, V512 upper) => new(Vector512.Narrow(lower.V, upper.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref float dst, F512 v) => v.V.StoreUnsafe(ref dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(F512 v) => Vector512.Sum(v.V);
}

internal readonly struct F256(Vector256<float> v) : IFVec<F256, V256>
{
    public readonly Vector256<float> V = v;
    public static int Count => Vector256<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Splat(float x) => new(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Load(ref float src) => new(Vector256.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 operator +(F256 a, F256 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 operator -(F256 a, F256 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 operator *(F256 a, F256 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Fma(F256 a, F256 b, F256 c) => new(Vector256.FusedMultiplyAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Max(F256 a, F256 b) => new(Vector256.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Equal(F256 a, F256 b) => new(Vector256.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Select(F256 m, F256 a, F256 b) => new(Vector256.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Widen(F256 x, out V256 lower, out V256 upper)
    {
        (Vector256<double> l, Vector256<double> u) = Vector256.Widen(x.V);
        lower = new(l); upper = new(u);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pow2(F256 k, long shift, out V256 lower, out V256 upper)
    {
        Vector256<int> n = k.V.AsInt32() - Vector256.Create(12582912f).AsInt32();
        (Vector256<long> l, Vector256<long> u) = Vector256.Widen(n);
        Vector256<long> bias = Vector256.Create(1023L + shift);
        lower = new(Vector256.ShiftLeft(l + bias, 52).AsDouble());
        upper = new(Vector256.ShiftLeft(u + bias, 52).AsDouble());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F256 Narrow(V256 lower, V256 upper) => new(Vector256.Narrow(lower.V, upper.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref float dst, F256 v) => v.V.StoreUnsafe(ref dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(F256 v) => Vector256.Sum(v.V);
}

internal readonly struct F128(Vector128<float> v) : IFVec<F128, V128>
{
    public readonly Vector128<float> V = v;
    public static int Count => Vector128<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Splat(float x) => new(Vector128.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Load(ref float src) => new(Vector128.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 operator +(F128 a, F128 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 operator -(F128 a, F128 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 operator *(F128 a, F128 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Fma(F128 a, F128 b, F128 c) => new(Vector128.FusedMultiplyAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Max(F128 a, F128 b) => new(Vector128.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Equal(F128 a, F128 b) => new(Vector128.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Select(F128 m, F128 a, F128 b) => new(Vector128.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Widen(F128 x, out V128 lower, out V128 upper)
    {
        (Vector128<double> l, Vector128<double> u) = Vector128.Widen(x.V);
        lower = new(l); upper = new(u);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pow2(F128 k, long shift, out V128 lower, out V128 upper)
    {
        Vector128<int> n = k.V.AsInt32() - Vector128.Create(12582912f).AsInt32();
        (Vector128<long> l, Vector128<long> u) = Vector128.Widen(n);
        Vector128<long> bias = Vector128.Create(1023L + shift);
        lower = new(Vector128.ShiftLeft(l + bias, 52).AsDouble());
        upper = new(Vector128.ShiftLeft(u + bias, 52).AsDouble());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F128 Narrow(V128 lower, V128 upper) => new(Vector128.Narrow(lower.V, upper.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref float dst, F128 v) => v.V.StoreUnsafe(ref dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(F128 v) => Vector128.Sum(v.V);
}

/// <summary>exp in float lanes for float32 inputs, with the rounding error of z - m carried in.</summary>
internal static class FMath
{
    private const float Log2E = 1.44269504f;
    private const float Ln2Hi = 0.693145752f;          // 0x3F317200: n * Ln2Hi is exact for |n| < 2^12
    private const float Ln2Lo = 1.42860677e-06f;       // ln 2 - Ln2Hi
    private const float Magic = 12582912f;             // 1.5 * 2^23

    /// <summary>
    /// exp(z - m) * 2^shift as two double halves, for float lanes with z &lt;= m (m finite). z - m is split exactly
    /// (TwoSum) and its low part added to the reduced argument; exp(r) = 1 + expm1(r) with expm1 by a degree-7
    /// polynomial in float (relative error about 2^-25 of the result), 1 + expm1 and the scaling done in double.
    /// Lanes where <paramref name="drop"/> is set give 0. Arguments below -708 give about 3e-308 (0 after rounding to float).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exp<TF, TD>(TF z, TF m, TF drop, long shift, out TD lower, out TD upper)
        where TF : struct, IFVec<TF, TD> where TD : struct, IDVec<TD>
    {
        TF zero = TF.Splat(0);
        TF d = z - m;
        TF bb = d - z;
        TF dl = (z - (d - bb)) + (zero - m - bb);
        dl = TF.Select(TF.Equal(d - d, zero), dl, zero); // -inf logits: no correction (and no NaN)
        d = TF.Max(d, TF.Splat(-708f));
        TF k = TF.Fma(d, TF.Splat(Log2E), TF.Splat(Magic));
        TF n = k - TF.Splat(Magic);
        TF r = TF.Fma(n, TF.Splat(-Ln2Hi), d);
        r = TF.Fma(n, TF.Splat(-Ln2Lo), r) + dl;
        TF p = TF.Fma(TF.Splat(1f / 5040), r, TF.Splat(1f / 720));
        p = TF.Fma(p, r, TF.Splat(1f / 120));
        p = TF.Fma(p, r, TF.Splat(1f / 24));
        p = TF.Fma(p, r, TF.Splat(1f / 6));
        p = TF.Fma(p, r, TF.Splat(0.5f));
        TF em1 = TF.Fma(p, r * r, r);
        em1 = TF.Select(drop, TF.Splat(-1f), em1); // 1 + (-1) = 0
        TF.Widen(em1, out TD el, out TD eu);
        TF.Pow2(k, shift, out TD pl, out TD pu);
        TD one = TD.Splat(1);
        lower = (el + one) * pl;
        upper = (eu + one) * pu;
    }
}
