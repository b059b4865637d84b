using System.Numerics;

namespace PolyLoss.Tests.Reference;

/// <summary>
/// Elementary functions on <see cref="BigFloat"/>, computed in fixed point with <see cref="FracBits"/> fraction bits
/// (64 guard bits over <see cref="BigFloat.Precision"/>), then rounded to the working precision.
/// exp: x = k ln2 + r, r = j1/256 + j2/65536 + s with |s| &lt;= 2^-17, e^r from two tables and a degree-13 Taylor
/// polynomial. The tables are built with an independent slow path (halving + Taylor + repeated squaring).
/// log: reduction to f in [sqrt(1/2), sqrt 2), two Newton iterations y += f e^-y - 1 from Math.Log; arguments within
/// 2^-20 of 1 use the log1p series for full relative accuracy.
/// </summary>
internal static class BigMath
{
    /// <summary>Fraction bits of the fixed-point kernels.</summary>
    public const int FracBits = BigFloat.Precision + 64;

    private const int F = FracBits;
    private const int Ln2ExtraBits = 64;
    private const int TaylorDegree = 13; // |s| <= 2^-17: s^14/14! < 2^-274

    private static readonly BigInteger OneF = BigInteger.One << F;

    /// <summary>ln 2 with F + 64 fraction bits, from 2 atanh(1/3) = sum 2 / ((2k+1) 3^(2k+1)).</summary>
    private static readonly BigInteger Ln2Wide = ComputeLn2(F + Ln2ExtraBits);

    /// <summary>ln 2 with F fraction bits.</summary>
    private static readonly BigInteger Ln2F = BigFloat.RoundShiftRight(Ln2Wide, Ln2ExtraBits);

    private static readonly BigInteger[] InvFactorials = BuildInvFactorials(TaylorDegree, F);
    private static readonly BigInteger[] Table256 = BuildTable(8);      // e^(j/256),   j = -128..128
    private static readonly BigInteger[] Table65536 = BuildTable(16);   // e^(j/65536), j = -128..128

    /// <summary>ln 2 rounded to the working precision.</summary>
    public static BigFloat Ln2 { get; } = BigFloat.Round(Ln2Wide, -(F + Ln2ExtraBits));

    private static BigInteger ComputeLn2(int bits)
    {
        int g = bits + 32;
        BigInteger pow3 = 3; // 3^(2k+1)
        BigInteger sum = BigInteger.Zero;
        BigInteger one = BigInteger.One << g;
        for (int k = 0; ; k++)
        {
            BigInteger term = (one << 1) / (pow3 * (2 * k + 1));
            if (term.IsZero) break;
            sum += term;
            pow3 *= 9;
        }
        return BigFloat.RoundShiftRight(sum, 32);
    }

    private static BigInteger[] BuildInvFactorials(int n, int bits)
    {
        var c = new BigInteger[n + 1];
        BigInteger fact = BigInteger.One;
        for (int i = 0; i <= n; i++)
        {
            if (i > 0) fact *= i;
            c[i] = BigFloat.RoundShiftRight((BigInteger.One << (bits + 1)) / fact, 1);
        }
        return c;
    }

    private static BigInteger[] BuildTable(int log2Denominator)
    {
        var t = new BigInteger[257];
        for (int j = -128; j <= 128; j++)
            t[j + 128] = SlowExpFixed(new BigInteger(j) << (F - log2Denominator), F);
        return t;
    }

    /// <summary>Independent slow e^x for a fixed-point x (|x| &lt;= 1) with <paramref name="bits"/> fraction bits:
    /// x / 2^12, plain Taylor series with 40 extra bits, then 12 squarings.</summary>
    internal static BigInteger SlowExpFixed(BigInteger x, int bits)
    {
        const int halvings = 12;
        int g = bits + 40;
        BigInteger one = BigInteger.One << g;
        BigInteger r = (x << 40) >> halvings; // fraction bits g, value x / 2^12 (floor)
        BigInteger sum = one, term = one;
        for (int n = 1; ; n++)
        {
            term = (term * r >> g) / n;
            if (term.IsZero) break;
            sum += term;
        }
        for (int i = 0; i < halvings; i++) sum = sum * sum >> g;
        return BigFloat.RoundShiftRight(sum, 40);
    }

    /// <summary>e^r for fixed-point r with F fraction bits, |r| &lt;= ~0.5. Result has F fraction bits.</summary>
    private static BigInteger ExpFixed(BigInteger r)
    {
        BigInteger j1 = (r + (BigInteger.One << (F - 9))) >> (F - 8);
        r -= j1 << (F - 8);
        BigInteger j2 = (r + (BigInteger.One << (F - 17))) >> (F - 16);
        r -= j2 << (F - 16);
        BigInteger acc = InvFactorials[TaylorDegree];
        for (int n = TaylorDegree - 1; n >= 0; n--) acc = (acc * r >> F) + InvFactorials[n];
        acc = acc * Table256[(int)j1 + 128] >> F;
        acc = acc * Table65536[(int)j2 + 128] >> F;
        return acc;
    }

    /// <summary>Fixed-point (F fraction bits) representation of x, rounded. x must be finite.</summary>
    private static BigInteger ToFixed(BigFloat x)
    {
        long sh = x.Exponent + F;
        if (sh >= 0) return x.Mantissa << (int)sh;
        int s = (int)Math.Min(-sh, int.MaxValue / 2);
        BigInteger a = BigFloat.RoundShiftRight(BigInteger.Abs(x.Mantissa), s);
        return x.Mantissa.Sign < 0 ? -a : a;
    }

    /// <summary>e^x correctly rounded up to a few ulps of <see cref="BigFloat.Precision"/> bits.
    /// |x| &gt; 2^40 gives +inf / 0.</summary>
    public static BigFloat Exp(BigFloat x)
    {
        if (x.IsNaN) return BigFloat.NaN;
        if (x.IsPositiveInfinity) return BigFloat.PositiveInfinity;
        if (x.IsNegativeInfinity) return BigFloat.Zero;
        if (x.IsZero) return BigFloat.One;
        long top = x.TopBit;
        if (top > 40) return x.Sign > 0 ? BigFloat.PositiveInfinity : BigFloat.Zero;
        if (top < -F) return BigFloat.Add(BigFloat.One, x); // e^x = 1 + x + O(x^2), x^2 far below an ulp
        double xd = x.ToDouble();
        long k = (long)Math.Round(xd * 1.4426950408889634);
        BigInteger r = ToFixed(x) - ((k * Ln2Wide) >> Ln2ExtraBits);
        BigInteger e = ExpFixed(r);
        return BigFloat.Round(e, k - F);
    }

    /// <summary>Natural logarithm: log 0 = -inf, log(x &lt; 0) = NaN, log(+inf) = +inf.</summary>
    public static BigFloat Log(BigFloat x)
    {
        if (x.IsNaN) return BigFloat.NaN;
        if (x.IsZero) return BigFloat.NegativeInfinity;
        if (x.Sign < 0) return BigFloat.NaN;
        if (x.IsPositiveInfinity) return BigFloat.PositiveInfinity;
        BigInteger m = x.Mantissa;
        long len = (long)m.GetBitLength();
        long k = x.Exponent + len - 1; // x = f 2^k, f in [1, 2)
        // fixed-point f with F fraction bits
        BigInteger f = len - 1 <= F ? m << (int)(F - (len - 1)) : BigFloat.RoundShiftRight(m, (int)(len - 1 - F));
        BigInteger sqrt2F = new BigInteger(1.4142135623730951 * (1L << 52)) << (F - 52);
        if (f > sqrt2F)
        {
            f >>= 1; // may drop one bit of m when len - 1 > F; negligible (2^-F relative)
            k++;
        }
        if (k == 0)
        {
            BigFloat d = BigFloat.SubExact(x, BigFloat.One);
            if (d.IsZero) return BigFloat.Zero;
            if (d.TopBit <= -20) return Log1pSeries(d);
        }
        double fd = (double)f / Math.Pow(2, F); // f is in [0.7, 1.42], double conversion of BigInteger is fine
        BigInteger y = ToFixed(BigFloat.FromDouble(Math.Log(fd)));
        // Newton: y - ln f = e -> e^2/2 per step; |e0| <= 2^-54 (|ln f| <= 0.35), so two steps leave <= 2^-219
        for (int it = 0; it < 2; it++)
            y += (f * ExpFixed(-y) >> F) - OneF;
        BigInteger result = y + ((k * Ln2Wide) >> Ln2ExtraBits);
        return BigFloat.Round(result, -F);
    }

    /// <summary>log(1 + x), accurate relative to the result also for tiny |x|.</summary>
    public static BigFloat Log1p(BigFloat x)
    {
        if (x.IsNaN) return BigFloat.NaN;
        if (x.IsZero) return BigFloat.Zero;
        if (x.IsFinite && x.TopBit <= -20) return Log1pSeries(x);
        return Log(BigFloat.AddExact(BigFloat.One, x));
    }

    // sum_{n>=1} (-1)^(n+1) x^n / n for |x| < 2^-20, with 32 extra bits.
    private static BigFloat Log1pSeries(BigFloat x)
    {
        const int bits = BigFloat.Precision + 32;
        BigFloat sum = x;
        BigFloat pow = x;
        long stop = x.TopBit - bits - 2;
        for (int n = 2; ; n++)
        {
            pow = BigFloat.Mul(pow, x, bits);
            if (pow.IsZero || pow.TopBit < stop) break;
            BigFloat term = BigFloat.Div(pow, BigFloat.FromInt(n), bits);
            sum = (n & 1) == 0 ? BigFloat.Add(sum, -term, bits) : BigFloat.Add(sum, term, bits);
        }
        return BigFloat.Round(sum.Mantissa, sum.Exponent);
    }

    /// <summary>e^x - 1, accurate relative to the result also for tiny |x|.</summary>
    public static BigFloat Expm1(BigFloat x)
    {
        if (x.IsNaN) return BigFloat.NaN;
        if (x.IsZero) return BigFloat.Zero;
        if (x.IsFinite && x.TopBit <= -20)
        {
            const int bits = BigFloat.Precision + 32;
            BigFloat sum = x, term = x;
            long stop = x.TopBit - bits - 2;
            for (int n = 2; ; n++)
            {
                term = BigFloat.Div(BigFloat.Mul(term, x, bits), BigFloat.FromInt(n), bits);
                if (term.IsZero || term.TopBit < stop) break;
                sum = BigFloat.Add(sum, term, bits);
            }
            return BigFloat.Round(sum.Mantissa, sum.Exponent);
        }
        return Exp(x) - BigFloat.One;
    }

    /// <summary>Independent slow exp (halving + Taylor + squaring, no tables) of a BigFloat with |x| &lt;= 1, for self-tests.</summary>
    internal static BigFloat SlowExp(BigFloat x) => BigFloat.Round(SlowExpFixed(ToFixed(x), F), -F);
}
