using System.Runtime.CompilerServices;

namespace PolyLoss.Internal;

/// <summary>
/// The arithmetic the row kernels are written in. <see cref="R64"/> (plain double) serves float32 and Half inputs:
/// with the cancellation-free forms of the kernels, float32 results rounded once from double land within 0.5 ulp
/// (plus the tiny double-rounding excess). <see cref="R128"/> (double-double) serves float64 inputs.
/// </summary>
internal interface IReal<TSelf> where TSelf : struct, IReal<TSelf>
{
    static abstract TSelf From(double x);
    static abstract double ToDouble(TSelf x);
    static abstract TSelf operator +(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a);
    static abstract TSelf operator *(TSelf a, TSelf b);
    static abstract TSelf operator /(TSelf a, TSelf b);

    /// <summary>m - z for z &lt;= m, kept exact (TwoSum) in the double-double arithmetic.</summary>
    static abstract TSelf Gap(double m, double z);

    /// <summary>exp(z - m), with z - m carried exactly into the exponential where the arithmetic allows.</summary>
    static abstract TSelf ExpShifted(double z, double m);

    /// <summary>log(1 + x) for x &gt;= 0, without the loss of digits of log(1 + x) for small x.</summary>
    static abstract TSelf Log1p(TSelf x);

    /// <summary>A bound on the relative rounding of one operation, used to stop series.</summary>
    static abstract double Epsilon { get; }
}

/// <summary>Plain double arithmetic.</summary>
internal readonly struct R64 : IReal<R64>
{
    public readonly double V;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public R64(double v) => V = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R64 From(double x) => new(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToDouble(R64 x) => x.V;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R64 operator +(R64 a, R64 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R64 operator -(R64 a, R64 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R64 operator -(R64 a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R64 operator *(R64 a, R64 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R64 operator /(R64 a, R64 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R64 Gap(double m, double z) => new(m - z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R64 ExpShifted(double z, double m) => new(Math.Exp(z - m));
    public static double Epsilon => 1.1102230246251565e-16;

    public static R64 Log1p(R64 x) => new(Log1pDouble(x.V));

    /// <summary>log(1 + x) in double for x &gt;= 0 (about 1 ulp); .NET's LogP1 is log(1 + x) and loses small x.</summary>
    public static double Log1pDouble(double x)
    {
        if (!(x < 0.0625)) // also NaN and +inf
        {
            double u = 1.0 + x;
            if (double.IsInfinity(u) || double.IsNaN(u)) return Math.Log(u);
            // log(u) - (u - 1 - x)/u corrects the rounding of 1 + x.
            return Math.Log(u) - ((u - 1.0) - x) / u;
        }
        if (x == 0) return x;
        double s = x / (2.0 + x), s2 = s * s;
        // 2 atanh(s) = 2 s + 2 s^3 (1/3 + s^2/5 + ...); s <= 1/33 so 2 s^3/3 is below 2^-9 of the result.
        double poly = 1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 * (1.0 / 13 + s2 * (1.0 / 15 + s2 * (1.0 / 17)))))));
        return 2 * s + 2 * s * s2 * poly;
    }
}

/// <summary>Double-double arithmetic (about 106 bits).</summary>
internal readonly struct R128 : IReal<R128>
{
    public readonly DoubleDouble V;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public R128(DoubleDouble v) => V = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R128 From(double x) => new(new DoubleDouble(x, 0));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ToDouble(R128 x) => x.V.ToDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R128 operator +(R128 a, R128 b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R128 operator -(R128 a, R128 b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R128 operator -(R128 a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R128 operator *(R128 a, R128 b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R128 operator /(R128 a, R128 b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R128 Gap(double m, double z) => new(DoubleDouble.TwoSum(m, -z));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static R128 ExpShifted(double z, double m) => new(DoubleDouble.Exp(DoubleDouble.TwoSum(z, -m)));
    public static double Epsilon => 1e-32;
    public static R128 Log1p(R128 x) => new(DoubleDouble.Log1p(x.V));
}
