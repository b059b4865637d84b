using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PolyLoss.Internal;

/// <summary>
/// A vector of doubles of one hardware width. The row kernels are written once against this interface and
/// instantiated for 512, 256 and 128 bits (the operator-struct pattern of TensorPrimitives); float inputs are
/// widened to double on load, so every path computes the same formula in the same precision.
/// </summary>
internal interface IDVec<TV> where TV : struct, IDVec<TV>
{
    static abstract int Count { get; }
    static abstract bool IsSupported { get; }
    static abstract TV Splat(double x);
    static abstract TV Indices { get; }
    static abstract TV Load(ref double src);
    static abstract TV Load(ref float src);
    static abstract void Store(ref double dst, TV v);
    static abstract void Store(ref float dst, TV v);
    static abstract TV operator +(TV a, TV b);
    static abstract TV operator -(TV a, TV b);
    static abstract TV operator *(TV a, TV b);
    static abstract TV Fma(TV a, TV b, TV c);
    static abstract TV Max(TV a, TV b);
    /// <summary>Lane-wise minimum (MINPD: the second operand when either is NaN).</summary>
    static abstract TV Min(TV a, TV b);
    /// <summary>All-ones lanes where a == b.</summary>
    static abstract TV Equal(TV a, TV b);
    /// <summary>All-ones lanes where a &lt; b.</summary>
    static abstract TV LessThan(TV a, TV b);
    /// <summary>mask ? a : b, lane-wise.</summary>
    static abstract TV Select(TV mask, TV a, TV b);
    static abstract TV AndNot(TV a, TV mask);
    /// <summary>a &amp; mask, bitwise.</summary>
    static abstract TV And(TV a, TV mask);
    static abstract TV Or(TV a, TV b);
    static abstract TV Abs(TV a);
    static abstract TV Divide(TV a, TV b);
    /// <summary>floor(log2(x)) as a double, for positive normal x.</summary>
    static abstract TV Exponent(TV x);
    /// <summary>2^-k for integer-valued k in [-1022, 1022].</summary>
    static abstract TV Pow2Neg(TV k);
    /// <summary>
    /// From k = n + 1.5 * 2^52 (n a small integer held in k's low mantissa bits), the factors 2^(n1) and
    /// 2^(n - n1 + shift), n1 = floor(n / 2), both normal for n in [-1160, 0] and shift in [0, 64]: integer arithmetic only.
    /// </summary>
    static abstract TV Pow2Halves(TV k, long shift, out TV second);
    /// <summary>
    /// p 2^n from k = n + 1.5 * 2^52 (n an integer held in k's low mantissa bits): n added to p's exponent field by integer
    /// arithmetic, bits(p) + bits(k) * 2^52 (one shift, one add), for positive normal p with p 2^n normal; NaN p stays NaN
    /// when k is NaN from a widened float32 (whose low 12 bits are zero).
    /// </summary>
    static abstract TV AddExponent(TV p, TV k);
    /// <summary>Lane i = src[offsets[i]] widened to double.</summary>
    static abstract unsafe TV Gather(float* src, ref int offsets);
    static abstract double Lane(TV v, int i);
    /// <summary>The sum of the lanes (a fixed order per width).</summary>
    static abstract double Sum(TV v);
}

internal readonly struct V512(Vector512<double> v) : IDVec<V512>
{
    public readonly Vector512<double> V = v;
    public static int Count => Vector512<double>.Count;
    public static bool IsSupported => Vector512.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Splat(double x) => new(Vector512.Create(x));
    public static V512 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector512.Create(0.0, 1, 2, 3, 4, 5, 6, 7)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Load(ref double src) => new(Vector512.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Load(ref float src) => Avx512F.IsSupported
        ? new(Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref src))) // one VCVTPS2PD from memory
        : new(Vector512.WidenLower(Vector512.Create(Vector256.LoadUnsafe(ref src), Vector256<float>.Zero)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref double dst, V512 v) => v.V.StoreUnsafe(ref dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float dst, V512 v)
    {
        if (Avx512F.IsSupported) Avx512F.ConvertToVector256Single(v.V).StoreUnsafe(ref dst);
        else Vector512.Narrow(v.V, v.V).GetLower().StoreUnsafe(ref dst);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator +(V512 a, V512 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator -(V512 a, V512 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 operator *(V512 a, V512 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Fma(V512 a, V512 b, V512 c) => new(Vector512.FusedMultiplyAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Max(V512 a, V512 b) => new(Vector512.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Min(V512 a, V512 b) => new(Vector512.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Equal(V512 a, V512 b) => new(Vector512.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 LessThan(V512 a, V512 b) => new(Vector512.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Select(V512 m, V512 a, V512 b) => new(Vector512.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 AndNot(V512 a, V512 m) => new(Vector512.AndNot(a.V, m.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 And(V512 a, V512 m) => new(a.V & m.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Or(V512 a, V512 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Abs(V512 a) => new(Vector512.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Divide(V512 a, V512 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Exponent(V512 x) => new(Vector512.ConvertToDouble((Vector512.ShiftRightLogical(x.V.AsInt64(), 52) & Vector512.Create(0x7FFL)) - Vector512.Create(1023L)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Pow2Neg(V512 k) => new(Vector512.ShiftLeft(Vector512.Create(1023L) - Vector512.ConvertToInt64(k.V), 52).AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe V512 Gather(float* src, ref int offsets)
    {
        // Scalar loads into a register and one VCVTPS2PD, as on 256-bit lanes (VGATHERDPS measured no faster on Zen 3;
        // the 512-bit width was not timed).
        Vector256<float> f = Vector256.Create(src[offsets], src[Unsafe.Add(ref offsets, 1)], src[Unsafe.Add(ref offsets, 2)], src[Unsafe.Add(ref offsets, 3)],
            src[Unsafe.Add(ref offsets, 4)], src[Unsafe.Add(ref offsets, 5)], src[Unsafe.Add(ref offsets, 6)], src[Unsafe.Add(ref offsets, 7)]);
        return Avx512F.IsSupported ? new(Avx512F.ConvertToVector512Double(f)) : new(Vector512.WidenLower(Vector512.Create(f, Vector256<float>.Zero)));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 AddExponent(V512 p, V512 k) => new((p.V.AsInt64() + Vector512.ShiftLeft(k.V.AsInt64(), 52)).AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V512 Pow2Halves(V512 k, long shift, out V512 second)
    {
        Vector512<long> n = k.V.AsInt64() - Vector512.Create(6755399441055744.0).AsInt64();
        Vector512<long> n1 = Vector512.ShiftRightArithmetic(n, 1);
        Vector512<long> bias = Vector512.Create(1023L);
        second = new(Vector512.ShiftLeft(n - n1 + Vector512.Create(shift) + bias, 52).AsDouble());
        return new(Vector512.ShiftLeft(n1 + bias, 52).AsDouble());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Lane(V512 v, int i) => v.V.GetElement(i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(V512 v) => Vector512.Sum(v.V);
}

internal readonly struct V256(Vector256<double> v) : IDVec<V256>
{
    public readonly Vector256<double> V = v;
    public static int Count => Vector256<double>.Count;
    public static bool IsSupported => Vector256.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Splat(double x) => new(Vector256.Create(x));
    public static V256 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector256.Create(0.0, 1, 2, 3)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Load(ref double src) => new(Vector256.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Load(ref float src) => Avx.IsSupported
        ? new(Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref src)))
        : new(Vector256.WidenLower(Vector256.Create(Vector128.LoadUnsafe(ref src), Vector128<float>.Zero)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref double dst, V256 v) => v.V.StoreUnsafe(ref dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref float dst, V256 v)
    {
        if (Avx.IsSupported) Avx.ConvertToVector128Single(v.V).StoreUnsafe(ref dst);
        else Vector256.Narrow(v.V, v.V).GetLower().StoreUnsafe(ref dst);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator +(V256 a, V256 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator -(V256 a, V256 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 operator *(V256 a, V256 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Fma(V256 a, V256 b, V256 c) => new(Vector256.FusedMultiplyAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Max(V256 a, V256 b) => new(Vector256.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Min(V256 a, V256 b) => new(Vector256.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Equal(V256 a, V256 b) => new(Vector256.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 LessThan(V256 a, V256 b) => new(Vector256.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Select(V256 m, V256 a, V256 b) => new(Vector256.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 AndNot(V256 a, V256 m) => new(Vector256.AndNot(a.V, m.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 And(V256 a, V256 m) => new(a.V & m.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Or(V256 a, V256 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Abs(V256 a) => new(Vector256.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Divide(V256 a, V256 b) => new(a.V / b.V);
    // Without AVX-512 DQ, Vector256's int64 <-> double conversions are done element by element through memory (about
    // ten times the cost of the rest of the finishing); these two take the exponent field through 2^52's mantissa instead.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Exponent(V256 x) => new((Vector256.ShiftRightLogical(x.V.AsInt64(), 52) | Vector256.Create(0x4330000000000000L)).AsDouble()
        - Vector256.Create(4503599627371519.0)); // the biased exponent e + 1023 as 2^52 + e + 1023, minus 2^52 + 1023
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Pow2Neg(V256 k) => new(Vector256.ShiftLeft((Vector256.Create(4503599627371519.0) - k.V).AsInt64(), 52).AsDouble()); // (2^52 + 1023 - k) << 52
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe V256 Gather(float* src, ref int offsets) => Avx.IsSupported
        // Four scalar loads into a register (VMOVSS, VINSERTPS) and one VCVTPS2PD: faster than VGATHERDPS on AMD's cores.
        ? new(Avx.ConvertToVector256Double(Vector128.Create(src[offsets], src[Unsafe.Add(ref offsets, 1)], src[Unsafe.Add(ref offsets, 2)], src[Unsafe.Add(ref offsets, 3)])))
        : new(Vector256.Create(src[offsets], src[Unsafe.Add(ref offsets, 1)], src[Unsafe.Add(ref offsets, 2)], src[Unsafe.Add(ref offsets, 3)]));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 AddExponent(V256 p, V256 k) => new((p.V.AsInt64() + Vector256.ShiftLeft(k.V.AsInt64(), 52)).AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V256 Pow2Halves(V256 k, long shift, out V256 second)
    {
        Vector256<long> n = k.V.AsInt64() - Vector256.Create(6755399441055744.0).AsInt64();
        Vector256<long> n1 = Vector256.ShiftRightArithmetic(n, 1);
        Vector256<long> bias = Vector256.Create(1023L);
        second = new(Vector256.ShiftLeft(n - n1 + Vector256.Create(shift) + bias, 52).AsDouble());
        return new(Vector256.ShiftLeft(n1 + bias, 52).AsDouble());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Lane(V256 v, int i) => v.V.GetElement(i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(V256 v) => Vector256.Sum(v.V);
}

internal readonly struct V128(Vector128<double> v) : IDVec<V128>
{
    public readonly Vector128<double> V = v;
    public static int Count => Vector128<double>.Count;
    public static bool IsSupported => Vector128.IsHardwareAccelerated;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Splat(double x) => new(Vector128.Create(x));
    public static V128 Indices { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => new(Vector128.Create(0.0, 1)); }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Load(ref double src) => new(Vector128.LoadUnsafe(ref src));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Load(ref float src) => new(Vector128.WidenLower(Vector128.Create(Vector64.LoadUnsafe(ref src), Vector64<float>.Zero)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref double dst, V128 v) => v.V.StoreUnsafe(ref dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(ref float dst, V128 v) => Vector128.Narrow(v.V, v.V).GetLower().StoreUnsafe(ref dst);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator +(V128 a, V128 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator -(V128 a, V128 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 operator *(V128 a, V128 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Fma(V128 a, V128 b, V128 c) => new(Vector128.FusedMultiplyAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Max(V128 a, V128 b) => new(Vector128.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Min(V128 a, V128 b) => new(Vector128.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Equal(V128 a, V128 b) => new(Vector128.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 LessThan(V128 a, V128 b) => new(Vector128.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Select(V128 m, V128 a, V128 b) => new(Vector128.ConditionalSelect(m.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 AndNot(V128 a, V128 m) => new(Vector128.AndNot(a.V, m.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 And(V128 a, V128 m) => new(a.V & m.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Or(V128 a, V128 b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Abs(V128 a) => new(Vector128.Abs(a.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Divide(V128 a, V128 b) => new(a.V / b.V);
    // Without AVX-512 DQ, Vector128's int64 <-> double conversions are done element by element through memory (about
    // ten times the cost of the rest of the finishing); these two take the exponent field through 2^52's mantissa instead.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Exponent(V128 x) => new((Vector128.ShiftRightLogical(x.V.AsInt64(), 52) | Vector128.Create(0x4330000000000000L)).AsDouble()
        - Vector128.Create(4503599627371519.0)); // the biased exponent e + 1023 as 2^52 + e + 1023, minus 2^52 + 1023
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Pow2Neg(V128 k) => new(Vector128.ShiftLeft((Vector128.Create(4503599627371519.0) - k.V).AsInt64(), 52).AsDouble()); // (2^52 + 1023 - k) << 52
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe V128 Gather(float* src, ref int offsets) => new(Vector128.Create(src[offsets], src[Unsafe.Add(ref offsets, 1)]));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 AddExponent(V128 p, V128 k) => new((p.V.AsInt64() + Vector128.ShiftLeft(k.V.AsInt64(), 52)).AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 Pow2Halves(V128 k, long shift, out V128 second)
    {
        Vector128<long> n = k.V.AsInt64() - Vector128.Create(6755399441055744.0).AsInt64();
        Vector128<long> n1 = Vector128.ShiftRightArithmetic(n, 1);
        Vector128<long> bias = Vector128.Create(1023L);
        second = new(Vector128.ShiftLeft(n - n1 + Vector128.Create(shift) + bias, 52).AsDouble());
        return new(Vector128.ShiftLeft(n1 + bias, 52).AsDouble());
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Lane(V128 v, int i) => v.V.GetElement(i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(V128 v) => Vector128.Sum(v.V);
}

/// <summary>Vector math written once over <see cref="IDVec{TV}"/>.</summary>
internal static class VMath
{
    private const double Log2E = 1.4426950408889634;
    private const double Ln2Hi = 6.93147180369123816490e-01; // fdlibm split: n * Ln2Hi is exact for |n| < 2^20
    private const double Ln2Lo = 1.90821492927058770002e-10;
    private const double RoundMagic = 6755399441055744.0; // 1.5 * 2^52

    private const double TableMagic = 422212465065984.0; // 1.5 * 2^48: k = d log2(e) + TableMagic rounds to 1/16 units
    private const double Ln2 = 0.69314718055994531;

    /// <summary>The pre-scale of <see cref="ExpScaled{TV}"/>: float storage of its results cannot underflow.</summary>
    public const double ScaledShift = 64;

    /// <summary>
    /// exp(d) * 2^64 for d &lt;= 0, the float32 kernels' exponential. On 512-bit lanes: d = (e + j/16) ln 2 + r with
    /// |r| &lt;= ln2/32, a 16-entry table of 2^(j/16 + 64) (VPERMT2PD), exp(r) by a minimax cubic 1 + r + c2 r^2 + c3 r^3
    /// (relative error below 1.6e-9 = 2^-29.2) or with <paramref name="precise"/> the degree-7 Taylor polynomial
    /// (2^-59) and ln 2 in two parts (below 5e-16, about 2 ulp of double, in all; tested), and VSCALEFPD by 2^e; 11-16
    /// operations per 8 lanes. With <paramref name="precise"/> other widths use
    /// <see cref="Exp{TV}(TV, bool, double)"/> (about 1 ulp).
    /// Without <paramref name="precise"/> the other widths take <see cref="ExpCompact{TV}"/> (5.2e-11 = 2^-34.2).
    /// Without <paramref name="clamp"/>, d must be finite and at least -9e13 on 512-bit lanes and at least
    /// -<see cref="CompactFloor"/> on the others (callers check the row's spread, <see cref="RowScan.MaxUnclampedSpread{TF}"/>);
    /// with it -inf gives 0. NaN stays NaN either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpScaled<TV>(TV d, bool clamp, bool precise) where TV : struct, IDVec<TV>
    {
        if (typeof(TV) != typeof(V512) || !Avx512F.IsSupported) return precise ? Exp(d, fullPrecision: true, ScaledShift) : ExpCompact(d, clamp);
        Vector512<double> x = Unsafe.As<TV, V512>(ref d).V;
        if (clamp) x = Vector512.MaxNative(Vector512.Create(-800.0), x); // MAXPD returns its second operand, so NaN stays
        Vector512<double> k = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(TableMagic));
        Vector512<double> e = k - Vector512.Create(TableMagic); // n / 16: multiple of 1/16, |e| < 2^47
        // One product with ln 2 rounded to double leaves |e| 2^-55 in r (2^-45 of the result at e = -1000): ample for the
        // cubic; the precise form takes the fdlibm split (e Ln2Hi is exact for |e| < 2^16).
        Vector512<double> r = precise
            ? Vector512.FusedMultiplyAdd(e, Vector512.Create(-Ln2Lo), Vector512.FusedMultiplyAdd(e, Vector512.Create(-Ln2Hi), x))
            : Vector512.FusedMultiplyAdd(e, Vector512.Create(-Ln2), x);
        Vector512<double> w;
        if (precise)
        {
            w = Vector512.FusedMultiplyAdd(r, Vector512.Create(1.0 / 5040), Vector512.Create(1.0 / 720));
            w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1.0 / 120));
            w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1.0 / 24));
            w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1.0 / 6));
            w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(0.5));
        }
        else
        {
            // Minimax on [-ln2/32, ln2/32] for the relative error, 1 + r kept exact (Remez, 40-digit arithmetic).
            w = Vector512.FusedMultiplyAdd(r, Vector512.Create(0.16666718460891253), Vector512.Create(0.5000161574502079));
        }
        w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1.0));
        w = Vector512.FusedMultiplyAdd(w, r, Vector512.Create(1.0));
        Vector512<double> t = Table(k);
        Vector512<double> v = Avx512F.Scale(t * w, e); // times 2^floor(e); e's fraction is j/16, already in t
        return Unsafe.As<Vector512<double>, TV>(ref v);
    }

    /// <summary>The lowest argument <see cref="ExpCompact{TV}"/> takes unclamped (its result stays a normal number).</summary>
    public const double CompactFloor = 745;

    /// <summary>The highest argument <see cref="ExpCompact{TV}"/> takes (exp(600) 2^64 is about 2^929, finite).</summary>
    public const double CompactCeiling = 600;

    // exp(r) = 1 + r + r^2 (C2 + C3 r + ... + C7 r^5) on |r| <= ln2/2, minimax for the relative error with 1 + r kept exact
    // (Remez in 50-digit arithmetic, scripts/remez-exp.py: 5.2e-11 = 2^-34.2 with these double coefficients), all times
    // 2^64 (exact).
    private const double TwoTo64 = 18446744073709551616.0;
    private const double C2 = 0.5000000067642643 * TwoTo64, C3 = 0.1666666586941133 * TwoTo64, C4 = 0.041666295093165544 * TwoTo64;
    private const double C5 = 0.008333497009701958 * TwoTo64, C6 = 0.0013944648624804855 * TwoTo64, C7 = 0.00019790351629918578 * TwoTo64;

    /// <summary>
    /// exp(d) * 2^64 for -<see cref="CompactFloor"/> &lt;= d &lt;= <see cref="CompactCeiling"/>, the float32 kernels' exponential on lanes without
    /// AVX-512 (no table, no VSCALEFPD): d = n ln 2 + r with |r| &lt;= ln2/2 (one FMA with ln 2 rounded to double, which
    /// leaves at most 1075 * 2^-55 in r), exp(r) 2^64 by a degree-7 minimax polynomial in Horner's form (relative error
    /// 5.2e-11 = 2^-34.2, well inside the 2^-29.2 the float32 bounds were built on), and n added to the result's exponent
    /// field in integer lanes (<see cref="IDVec{TV}.AddExponent"/>). 13 operations per vector, 9 of them FMAs, and a
    /// dependent chain of 11; <see cref="Exp{TV}(TV, bool, double)"/> took about 30 and a chain of 17. With
    /// <paramref name="clamp"/> any d is taken: arguments below -CompactFloor (and -inf) give exactly 0, arguments above
    /// <see cref="CompactCeiling"/> (and +inf) give exp(CompactCeiling) 2^64, above 2^929 (a stand-in for overflow: the
    /// one-pass rows, whose arguments can be positive, hand a row with such a term back), NaN stays NaN. exp(0) is
    /// exactly 2^64.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpCompact<TV>(TV d, bool clamp) where TV : struct, IDVec<TV>
    {
        // Clamped: MINPD caps the argument (it returns its second operand when one is NaN: NaN stays NaN). Arguments below
        // -CompactFloor (and -inf) need no floor: whatever the exponent add makes of them (garbage, NaN from -inf), the
        // mask below clears those lanes.
        TV x = clamp ? TV.Min(TV.Splat(CompactCeiling), d) : d;
        TV k = TV.Fma(x, TV.Splat(Log2E), TV.Splat(RoundMagic));
        TV n = k - TV.Splat(RoundMagic);
        TV r = TV.Fma(n, TV.Splat(-Ln2), x);
        TV p = TV.Fma(TV.Splat(C7), r, TV.Splat(C6));
        p = TV.Fma(p, r, TV.Splat(C5));
        p = TV.Fma(p, r, TV.Splat(C4));
        p = TV.Fma(p, r, TV.Splat(C3));
        p = TV.Fma(p, r, TV.Splat(C2));
        p = TV.Fma(p, r, TV.Splat(TwoTo64));
        p = TV.Fma(p, r, TV.Splat(TwoTo64));
        TV v = TV.AddExponent(p, k);
        return clamp ? TV.AndNot(v, TV.LessThan(d, TV.Splat(-CompactFloor))) : v;
    }

    /// <summary>2^(j/16) * 2^64 to the last bit, j = the low 4 bits of <paramref name="k"/>'s bits (VPERMT2PD reads only
    /// those).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Table(Vector512<double> k) => Avx512F.PermuteVar8x64x2(
            Vector512.Create(1.8446744073709552e+19, 1.9263451207323152e+19, 2.0116317054877282e+19, 2.100694249940579e+19,
                2.1936999301089677e+19, 2.290823323525645e+19, 2.3922467369310646e+19, 2.498160548474641e+19),
            k.AsInt64(),
            Vector512.Create(2.6087635650665566e+19, 2.7242633955508777e+19, 2.8448768404004647e+19, 2.9708302986651435e+19,
                3.102360192937013e+19, 3.239713413130576e+19, 3.3831477799106933e+19, 3.5329325286382477e+19));

    /// <summary>The largest |m| for which <see cref="ExpParts"/> may take y = z log2(e) + (-m log2(e)) in one FMA.</summary>
    public const float MaxFusedAnchor = 65536;

    /// <summary>
    /// exp(z - m) * 2^64 for float32 logits z (widened) on 512-bit lanes (AVX-512 F and DQ), as two factors: the returned
    /// scale, 2^(j/16 + 64) times 2^e, and <paramref name="poly"/>, a cubic close to 1; the term is scale * poly, and a sum
    /// takes it with one FMA. y = (z - m) log2(e) is split by VREDUCEPD (rounding down to 1/16) into e + j/16 and
    /// f in [0, 1/16); the table entry is picked by the low 4 bits of y + 1.5 2^48 rounded down (VPERMT2PD), scaled by
    /// VSCALEFPD with y itself (floor(y) = e), and poly = 1 + c1 f + c2 f^2 + c3 f^3 is the minimax cubic for 2^f
    /// (relative error 1.34e-9 = 2^-29.5; Remez in 50-digit arithmetic). No argument needs a clamp: f stays in [0, 1/16) (0 for
    /// infinities) and VSCALEFPD saturates, so far below the term is 0, far above +inf, -inf gives 0, +inf gives +inf
    /// and NaN stays NaN. With <paramref name="exactGap"/> y is (z - m) log2(e) from the exact z - m (exp(0) is exactly
    /// 2^64); without it y = z log2(e) + (-m log2(e)) in one FMA (<paramref name="negMLog2E"/>), one operation fewer, whose
    /// extra error in y, |m| 2^-52.5, is below 2^-36 for |m| &lt;= <see cref="MaxFusedAnchor"/> (callers check); a class tied
    /// with m then gets exp of that error instead of exactly 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ExpParts(Vector512<double> z, Vector512<double> m, Vector512<double> negMLog2E, bool exactGap,
        out Vector512<double> poly)
    {
        Vector512<double> y = exactGap ? (z - m) * Vector512.Create(Log2E) : Vector512.FusedMultiplyAdd(z, Vector512.Create(Log2E), negMLog2E);
        Vector512<double> f = Avx512DQ.Reduce(y, 0x49); // y - floor(16 y) / 16: 4 fraction bits kept, rounding down, no precision exception
        Vector512<double> k = Avx512F.Add(y, Vector512.Create(TableMagic), FloatRoundingMode.ToNegativeInfinity); // low bits: 16 e + j
        poly = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(
            Vector512.Create(0.056669899372413714), f, Vector512.Create(0.24018424236536964)), f, Vector512.Create(0.6931476145532908)),
            f, Vector512.Create(1.0));
        Vector512<double> t = Table(k);
        return Avx512F.Scale(t, y);
    }

    /// <summary>
    /// exp(d) * 2^shift for d &lt;= 0 (d = -inf gives 0), shift in [0, 64], relative error about 1 ulp of double with
    /// <paramref name="fullPrecision"/> (degree-13 Taylor on |r| &lt;= ln2/2) or 2^-36 without (degree 10), which is
    /// ample for float32 outputs. Two power-of-two factors keep results down to the subnormal range right.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV>(TV d, bool fullPrecision, double shift) where TV : struct, IDVec<TV>
        => Exp(d, fullPrecision, shift, out _);

    /// <summary>As <see cref="Exp{TV}(TV, bool, double)"/>, also returning the rounding error of the result in
    /// <paramref name="low"/> (result + low = 2^n (1 + expm1(r)) to about 0.3 ulp), for double-double sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV>(TV d, bool fullPrecision, double shift, out TV low) where TV : struct, IDVec<TV>
    {
        // Below -800 the result (even pre-scaled by 2^64) rounds to 0; the clamp keeps n in Pow2Halves' range.
        d = TV.Max(TV.Splat(-800.0), d); // MAXPD returns its second operand when one is NaN: NaN stays NaN
        TV k = TV.Fma(d, TV.Splat(Log2E), TV.Splat(RoundMagic));
        TV n = k - TV.Splat(RoundMagic);
        TV r = TV.Fma(n, TV.Splat(-Ln2Hi), d);
        r = TV.Fma(n, TV.Splat(-Ln2Lo), r);
        TV p;
        if (fullPrecision && typeof(TV) == typeof(V512))
        {
            // 512-bit lanes: Estrin's scheme, a shorter dependent chain (7% on the float64 dense sums). Other widths
            // keep Horner's rule: there the helper in every inlined copy cost the float32 256-bit sums 1.7x (they
            // inline this four times and run on 16 registers).
            p = Taylor13(r, r * r);
        }
        else
        {
            if (fullPrecision)
            {
                p = TV.Fma(TV.Splat(1.0 / 6227020800), r, TV.Splat(1.0 / 479001600));
                p = TV.Fma(p, r, TV.Splat(1.0 / 39916800));
                p = TV.Fma(p, r, TV.Splat(1.0 / 3628800));
                p = TV.Fma(p, r, TV.Splat(1.0 / 362880));
                p = TV.Fma(p, r, TV.Splat(1.0 / 40320));
            }
            else
            {
                p = TV.Fma(TV.Splat(1.0 / 3628800), r, TV.Splat(1.0 / 362880));
                p = TV.Fma(p, r, TV.Splat(1.0 / 40320));
            }
            p = TV.Fma(p, r, TV.Splat(1.0 / 5040));
            p = TV.Fma(p, r, TV.Splat(1.0 / 720));
            p = TV.Fma(p, r, TV.Splat(1.0 / 120));
            p = TV.Fma(p, r, TV.Splat(1.0 / 24));
            p = TV.Fma(p, r, TV.Splat(1.0 / 6));
            p = TV.Fma(p, r, TV.Splat(0.5));
        }
        // exp(r) = 1 + m, m = r + r^2 p' (|m| < 0.42); 1 + m is split exactly into a double and its rounding error.
        TV m = TV.Fma(p, r * r, r);
        TV one = TV.Splat(1.0);
        TV hi = m + one;
        TV lo = m - (hi - one);
        // n in [-1076, 0]: split the scaling so both factors are normal numbers.
        TV f1 = TV.Pow2Halves(k, (long)shift, out TV f2);
        low = lo * f1 * f2;
        return hi * f1 * f2;
    }

    /// <summary>(exp(r) - 1 - r) / r^2 to degree 11 (Taylor coefficients 1/2! .. 1/13!) by Estrin's scheme (pairs, then
    /// r^2, r^4, r^8): about a third of Horner's dependent chain of 12 FMAs, two multiplies more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Taylor13<TV>(TV r, TV r2) where TV : struct, IDVec<TV>
    {
        TV q0 = TV.Fma(TV.Splat(1.0 / 6), r, TV.Splat(0.5)), q1 = TV.Fma(TV.Splat(1.0 / 120), r, TV.Splat(1.0 / 24));
        TV q2 = TV.Fma(TV.Splat(1.0 / 5040), r, TV.Splat(1.0 / 720)), q3 = TV.Fma(TV.Splat(1.0 / 362880), r, TV.Splat(1.0 / 40320));
        TV q4 = TV.Fma(TV.Splat(1.0 / 39916800), r, TV.Splat(1.0 / 3628800)), q5 = TV.Fma(TV.Splat(1.0 / 6227020800), r, TV.Splat(1.0 / 479001600));
        TV r4 = r2 * r2;
        TV s0 = TV.Fma(q1, r2, q0), s1 = TV.Fma(q3, r2, q2), s2 = TV.Fma(q5, r2, q4);
        return TV.Fma(s2, r4 * r4, TV.Fma(s1, r4, s0));
    }
}
