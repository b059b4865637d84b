using System.Numerics;

namespace PolyLoss.Tests.Focal;

/// <summary>
/// A small arbitrary-exponent binary floating point number, M * 2^E with |M| &lt; 2^Bits (about 400 bits), written for the
/// focal tests only: independent of the library's double / double-double arithmetic. Enough for exp, log, log1p and
/// powers with far more digits than float64 needs, at any exponent (exp(-1e4) is an ordinary number here).
/// </summary>
internal readonly struct Hp : IComparable<Hp>
{
    public const int Bits = 400;
    public readonly BigInteger M;
    public readonly long E;

    public Hp(BigInteger m, long e)
    {
        if (m.IsZero) { M = m; E = 0; return; }
        long len = (long)BigInteger.Abs(m).GetBitLength();
        if (len > Bits)
        {
            int k = (int)(len - Bits);
            m = m.Sign < 0 ? -(BigInteger.Negate(m) >> k) : m >> k;
            e += k;
        }
        M = m;
        E = e;
    }

    public static readonly Hp Zero = new(BigInteger.Zero, 0);
    public static readonly Hp One = new(BigInteger.One, 0);
    public static Hp Two => new(2, 0);

    public bool IsZero => M.IsZero;
    public int Sign => M.Sign;
    /// <summary>floor(log2 |x|) for x != 0.</summary>
    public long Exponent => (long)BigInteger.Abs(M).GetBitLength() - 1 + E;

    public static Hp FromDouble(double d)
    {
        if (!double.IsFinite(d)) throw new ArgumentOutOfRangeException(nameof(d), d, "Hp holds finite values only.");
        if (d == 0) return Zero;
        long bits = BitConverter.DoubleToInt64Bits(d);
        int exp = (int)((bits >> 52) & 0x7FF);
        long frac = bits & 0xFFFFFFFFFFFFFL;
        long mant = exp == 0 ? frac : frac | (1L << 52);
        int e = (exp == 0 ? 1 : exp) - 1075;
        return new Hp(d < 0 ? -mant : mant, e);
    }

    public static implicit operator Hp(double d) => FromDouble(d);
    public static implicit operator Hp(int i) => new(i, 0);

    public static Hp Ldexp(Hp x, long k) => x.IsZero ? x : new Hp(x.M, x.E + k);

    public static Hp operator -(Hp a) => new(-a.M, a.E);
    public static Hp Abs(Hp a) => a.Sign < 0 ? -a : a;

    public static Hp operator +(Hp a, Hp b)
    {
        if (a.IsZero) return b;
        if (b.IsZero) return a;
        // A part more than Bits + 64 binary places below the other does not change the result at this precision.
        if (a.Exponent - b.Exponent > Bits + 64) return a;
        if (b.Exponent - a.Exponent > Bits + 64) return b;
        return a.E >= b.E ? new Hp((a.M << (int)(a.E - b.E)) + b.M, b.E) : new Hp(a.M + (b.M << (int)(b.E - a.E)), a.E);
    }

    public static Hp operator -(Hp a, Hp b) => a + (-b);
    public static Hp operator *(Hp a, Hp b) => new(a.M * b.M, a.E + b.E);

    public static Hp operator /(Hp a, Hp b)
    {
        if (b.IsZero) throw new DivideByZeroException();
        if (a.IsZero) return a;
        long shift = Bits + 8 + (long)BigInteger.Abs(b.M).GetBitLength() - (long)BigInteger.Abs(a.M).GetBitLength();
        if (shift < 0) shift = 0;
        return new Hp((a.M << (int)shift) / b.M, a.E - shift - b.E);
    }

    public int CompareTo(Hp other) => (this - other).Sign;
    public static bool operator <(Hp a, Hp b) => a.CompareTo(b) < 0;
    public static bool operator >(Hp a, Hp b) => a.CompareTo(b) > 0;
    public static bool operator <=(Hp a, Hp b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Hp a, Hp b) => a.CompareTo(b) >= 0;

    /// <summary>Nearest-ish double (64 leading bits truncated, then one rounding): for tolerances and messages, not for bit tests.</summary>
    public double ToDouble()
    {
        if (IsZero) return 0;
        BigInteger a = BigInteger.Abs(M);
        long len = (long)a.GetBitLength();
        int k = (int)Math.Max(0, len - 64);
        double top = (double)(ulong)(a >> k);
        double v = Math.ScaleB(top, (int)Math.Clamp(E + k, int.MinValue / 2, int.MaxValue / 2));
        return Sign < 0 ? -v : v;
    }

    public override string ToString() => ToDouble().ToString("R");

    // ---- elementary functions ----

    private static bool Negligible(Hp term, Hp sum) => term.IsZero || (!sum.IsZero && term.Exponent < sum.Exponent - Bits - 8);

    /// <summary>ln 2 = 2 atanh(1/3).</summary>
    public static readonly Hp Ln2 = Ldexp(Atanh(One / new Hp(3, 0)), 1);

    /// <summary>atanh(z) = z + z^3/3 + z^5/5 + ..., |z| &lt;= 1/3.</summary>
    private static Hp Atanh(Hp z)
    {
        Hp z2 = z * z, pow = z, sum = z;
        for (int n = 3; ; n += 2)
        {
            pow *= z2;
            Hp term = pow / new Hp(n, 0);
            sum += term;
            if (Negligible(term, sum)) return sum;
        }
    }

    public static Hp Exp(Hp x)
    {
        if (x.IsZero) return One;
        double xd = x.ToDouble();
        long k = (long)Math.Round(xd / 0.6931471805599453);
        Hp r = x - Ln2 * new Hp(k, 0);
        const int halvings = 24;
        r = Ldexp(r, -halvings);
        Hp sum = One + r, term = r;
        for (int n = 2; ; n++)
        {
            term = term * r / new Hp(n, 0);
            sum += term;
            if (Negligible(term, sum)) break;
        }
        for (int i = 0; i < halvings; i++) sum *= sum;
        return Ldexp(sum, k);
    }

    /// <summary>Natural log of x &gt; 0.</summary>
    public static Hp Log(Hp x)
    {
        if (x.Sign <= 0) throw new ArgumentOutOfRangeException(nameof(x), "log of a non-positive number");
        long e = x.Exponent + 1;
        Hp m = Ldexp(x, -e); // [1/2, 1)
        if (m < new Hp(181, -8)) { m = Ldexp(m, 1); e--; } // 181/256 ~ 0.707: m in [0.707, 1.414)
        return Ldexp(Atanh((m - One) / (m + One)), 1) + Ln2 * new Hp(e, 0);
    }

    /// <summary>log(1 + x) for x &gt; -1, without forming 1 + x for small x.</summary>
    public static Hp Log1p(Hp x)
    {
        if (x.IsZero) return x;
        if (Abs(x) < new Hp(1, -2)) return Ldexp(Atanh(x / (Two + x)), 1);
        return Log(One + x);
    }

    /// <summary>phi(v) = -log(1 - v) - v = v^2/2 + v^3/3 + ... for 0 &lt;= v &lt;= 1/4 (series); direct from
    /// <paramref name="minusLog1MinusV"/> = -log(1 - v) otherwise.</summary>
    public static Hp Phi(Hp v, Hp minusLog1MinusV)
    {
        if (v > new Hp(1, -2)) return minusLog1MinusV - v;
        if (v.IsZero) return v;
        Hp pow = v, sum = Zero;
        for (int n = 2; ; n++)
        {
            pow *= v;
            Hp term = pow / new Hp(n, 0);
            sum += term;
            if (Negligible(term, sum)) return sum;
        }
    }

    /// <summary>u^g for u &gt;= 0, g &gt;= 0, 0^0 = 1.</summary>
    public static Hp Pow(Hp u, double g)
    {
        if (g == 0) return One;
        if (u.IsZero) return Zero;
        if (g == Math.Floor(g) && g <= 64)
        {
            Hp r = One;
            for (int i = 0; i < (int)g; i++) r *= u;
            return r;
        }
        return Exp(FromDouble(g) * Log(u));
    }

    /// <summary>Distance from <paramref name="computed"/> to this exact value in units of the last place of the target format
    /// (53 or 24 significant bits, smallest subnormal ulp 2^minUlpExponent) at the exact value.</summary>
    public double UlpError(double computed, int significantBits, int minUlpExponent)
    {
        if (double.IsNaN(computed) || double.IsInfinity(computed)) return double.PositiveInfinity;
        Hp diff = Abs(FromDouble(computed) - this);
        if (diff.IsZero) return 0;
        long ulpExp = IsZero ? minUlpExponent : Math.Max(Exponent - (significantBits - 1), minUlpExponent);
        return Ldexp(diff, -ulpExp).ToDouble();
    }

    public double UlpErrorDouble(double computed) => UlpError(computed, 53, -1074);
    public double UlpErrorFloat(float computed) => UlpError(computed, 24, -149);
}
