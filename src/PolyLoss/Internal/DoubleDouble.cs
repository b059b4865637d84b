using System.Runtime.CompilerServices;

namespace PolyLoss.Internal;

/// <summary>
/// An unevaluated sum <c>Hi + Lo</c> of two doubles with |Lo| &lt;= ulp(Hi)/2: about 106 bits of precision.
/// Used for the float64 kernels, whose 4-ulp bound cannot be met with plain double intermediates.
/// </summary>
internal readonly struct DoubleDouble
{
    public readonly double Hi;
    public readonly double Lo;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DoubleDouble(double hi, double lo) { Hi = hi; Lo = lo; }

    public static DoubleDouble Zero => default;
    public static DoubleDouble One => new(1.0, 0.0);

    /// <summary>Exact sum of two doubles (Knuth's TwoSum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble TwoSum(double a, double b)
    {
        double s = a + b;
        double bb = s - a;
        double err = (a - (s - bb)) + (b - bb);
        return new DoubleDouble(s, double.IsFinite(s) ? err : 0.0);
    }

    /// <summary>Exact sum when |a| &gt;= |b| or a == 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static DoubleDouble QuickTwoSum(double a, double b)
    {
        double s = a + b;
        double err = b - (s - a);
        return new DoubleDouble(s, double.IsFinite(s) ? err : 0.0);
    }

    /// <summary>Exact product of two doubles (barring under/overflow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble TwoProd(double a, double b)
    {
        double p = a * b;
        double err = Math.FusedMultiplyAdd(a, b, -p);
        return new DoubleDouble(p, double.IsFinite(p) ? err : 0.0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble operator +(DoubleDouble a, DoubleDouble b)
    {
        DoubleDouble s = TwoSum(a.Hi, b.Hi);
        DoubleDouble t = TwoSum(a.Lo, b.Lo);
        s = QuickTwoSum(s.Hi, s.Lo + t.Hi);
        return QuickTwoSum(s.Hi, s.Lo + t.Lo);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble operator +(DoubleDouble a, double b)
    {
        DoubleDouble s = TwoSum(a.Hi, b);
        return QuickTwoSum(s.Hi, s.Lo + a.Lo);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble operator -(DoubleDouble a) => new(-a.Hi, -a.Lo);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble operator -(DoubleDouble a, DoubleDouble b) => a + (-b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble operator *(DoubleDouble a, DoubleDouble b)
    {
        DoubleDouble p = TwoProd(a.Hi, b.Hi);
        if (!double.IsFinite(p.Hi)) return new DoubleDouble(p.Hi, 0);
        double lo = p.Lo + (a.Hi * b.Lo + a.Lo * b.Hi);
        return QuickTwoSum(p.Hi, lo);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble operator *(DoubleDouble a, double b)
    {
        DoubleDouble p = TwoProd(a.Hi, b);
        if (!double.IsFinite(p.Hi)) return new DoubleDouble(p.Hi, 0);
        return QuickTwoSum(p.Hi, p.Lo + a.Lo * b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DoubleDouble operator /(DoubleDouble a, DoubleDouble b)
    {
        double q1 = a.Hi / b.Hi;
        if (!double.IsFinite(q1) || b.Hi == 0) return new DoubleDouble(q1, 0);
        DoubleDouble r = a - b * q1;
        double q2 = r.Hi / b.Hi;
        r -= b * q2;
        double q3 = r.Hi / b.Hi;
        DoubleDouble q = QuickTwoSum(q1, q2);
        return q + q3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static implicit operator DoubleDouble(double x) => new(x, 0.0);

    public double ToDouble() => Hi + Lo;

    public override string ToString() => $"{Hi:R} + {Lo:R}";

    // ---- exp ----

    // ln2/64 split so that N * Ln2By64Hi is exact for |N| < 2^21 (Ln2By64Hi has 32 significant bits).
    private static readonly double Ln2By64Hi;
    private static readonly DoubleDouble Ln2By64Lo;
    private static readonly DoubleDouble[] TwoToJOver64 = new DoubleDouble[64];
    private const double InvLn2x64 = 92.332482616893656877; // 64 / ln 2

    // ln 2 to about 160 bits as three doubles.
    private const double Ln2A = 0.6931471805599453;           // 0x3FE62E42FEFA39EF
    private const double Ln2B = 2.3190468138462996e-17;       // 0x3C7ABC9E3B39803F
    private const double Ln2C = 5.707708438416212e-34;        // 0x3907B57A079A1934

    static DoubleDouble()
    {
        // Hi part of ln2/64 with 32 significant bits; the rest goes to a double-double tail.
        double ln2By64 = Ln2A / 64;
        Ln2By64Hi = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(ln2By64) & unchecked((long)0xFFFFFFFFFFE00000UL));
        // tail = (Ln2A - 64*hi)/64 + Ln2B/64 + Ln2C/64; Ln2A - 64*hi is exact.
        Ln2By64Lo = (TwoSum((Ln2A - 64 * Ln2By64Hi) / 64, Ln2B / 64)) + Ln2C / 64;

        // 2^(j/64) by Taylor series of exp(j ln2 / 64) in double-double: terms decay fast since the argument is < ln 2.
        DoubleDouble ln2 = TwoSum(Ln2A, Ln2B) + Ln2C;
        for (int j = 0; j < 64; j++)
        {
            DoubleDouble x = ln2 * (j / 64.0);
            DoubleDouble sum = One, term = One;
            for (int n = 1; n < 40; n++)
            {
                term = term * x / (double)n;
                sum += term;
                if (Math.Abs(term.Hi) < 1e-40) break;
            }
            TwoToJOver64[j] = sum;
        }
    }

    /// <summary>exp(x) for a double-double argument, relative error below 2^-90 in the normal range.</summary>
    public static DoubleDouble Exp(DoubleDouble x)
    {
        double xh = x.Hi;
        if (double.IsNaN(xh)) return new DoubleDouble(double.NaN, 0);
        if (xh < -745.2) return Zero;
        if (xh > 709.8) return new DoubleDouble(double.PositiveInfinity, 0);

        double n = Math.Round(xh * InvLn2x64);
        int ni = (int)n;
        int j = ni & 63;
        int k = (ni - j) >> 6;

        // r = x - n * ln2/64, with n * Ln2By64Hi exact.
        DoubleDouble r = TwoSum(xh, -n * Ln2By64Hi);
        r = r + x.Lo;
        r -= Ln2By64Lo * n;

        // exp(r) - 1 = r + r^2/2 + r^3/6 + ...; |r| <= ln2/128 ~ 0.0054.
        double rh = r.Hi;
        double tail = rh * rh * rh * (1.0 / 6 + rh * (1.0 / 24 + rh * (1.0 / 120 + rh * (1.0 / 720 + rh * (1.0 / 5040 + rh * (1.0 / 40320 + rh * (1.0 / 362880 + rh * (1.0 / 3628800))))))));
        DoubleDouble r2h = (r * r) * 0.5;
        DoubleDouble em1 = r + r2h + tail;

        DoubleDouble t = TwoToJOver64[j];
        DoubleDouble result = t + t * em1;
        return Scale(result, k);
    }

    private static DoubleDouble Scale(DoubleDouble x, int k)
    {
        if (k > -1000 && k < 1000)
        {
            double f = BitConverter.Int64BitsToDouble((long)(k + 1023) << 52);
            return new DoubleDouble(x.Hi * f, x.Lo * f);
        }
        return new DoubleDouble(Math.ScaleB(x.Hi, k), Math.ScaleB(x.Lo, k));
    }

    /// <summary>log(1 + x) for x &gt;= 0 (double-double), relative error below about 2^-90.</summary>
    public static DoubleDouble Log1p(DoubleDouble x)
    {
        double xh = x.Hi;
        if (double.IsNaN(xh)) return new DoubleDouble(double.NaN, 0);
        if (xh == double.PositiveInfinity) return new DoubleDouble(double.PositiveInfinity, 0);
        if (xh == 0) return Zero;
        if (xh < 0.0625)
        {
            // 2 atanh(s), s = x / (2 + x): 2 (s + s^3/3 + s^5/5 + ...), all terms of one sign.
            DoubleDouble s = x / (x + 2.0);
            DoubleDouble s2 = s * s;
            DoubleDouble sum = s, pow = s;
            for (int n = 3; n < 80; n += 2)
            {
                pow *= s2;
                DoubleDouble term = pow / (double)n;
                sum += term;
                if (Math.Abs(term.Hi) <= Math.Abs(sum.Hi) * 1e-33) break;
            }
            return sum * 2.0;
        }
        // Newton step on y0 = log(1 + x): y = y0 + (1 + x) exp(-y0) - 1, error ~ (correction)^2.
        DoubleDouble u = x + 1.0;
        double y0 = Math.Log(u.Hi);
        DoubleDouble corr = u * Exp(new DoubleDouble(-y0, 0)) - One;
        return new DoubleDouble(y0, 0) + corr;
    }
}
