using System.Globalization;
using System.Numerics;
using System.Text;

namespace PolyLoss.Tests.Reference;

/// <summary>Kind of a <see cref="BigFloat"/> value.</summary>
internal enum BigFloatKind : byte
{
    /// <summary>A finite value Mantissa * 2^Exponent (zero has Mantissa 0; zero is unsigned).</summary>
    Finite = 0,
    PositiveInfinity = 1,
    NegativeInfinity = 2,
    NaN = 3,
}

/// <summary>
/// Independent arbitrary-precision binary floating point number for the reference implementation:
/// value = Mantissa * 2^Exponent with a signed <see cref="BigInteger"/> mantissa and a 64-bit exponent
/// (so no overflow/underflow in practice), plus the special values +inf, -inf and NaN with IEEE-like rules.
/// Every arithmetic result is rounded to <see cref="Precision"/> significant bits (round to nearest, ties to even),
/// except <see cref="AddExact"/>/<see cref="SubExact"/> which are exact. Zero is unsigned.
/// </summary>
internal readonly struct BigFloat : IComparable<BigFloat>, IEquatable<BigFloat>
{
    /// <summary>Working precision in bits of every rounded operation.</summary>
    public const int Precision = 200;

    public readonly BigInteger Mantissa;
    public readonly long Exponent;
    public readonly BigFloatKind Kind;

    private BigFloat(BigInteger mantissa, long exponent, BigFloatKind kind)
    {
        Mantissa = mantissa;
        Exponent = exponent;
        Kind = kind;
    }

    public static readonly BigFloat Zero = new(BigInteger.Zero, 0, BigFloatKind.Finite);
    public static readonly BigFloat One = new(BigInteger.One, 0, BigFloatKind.Finite);
    public static readonly BigFloat Two = new(BigInteger.One, 1, BigFloatKind.Finite);
    public static readonly BigFloat Half = new(BigInteger.One, -1, BigFloatKind.Finite);
    public static readonly BigFloat PositiveInfinity = new(BigInteger.Zero, 0, BigFloatKind.PositiveInfinity);
    public static readonly BigFloat NegativeInfinity = new(BigInteger.Zero, 0, BigFloatKind.NegativeInfinity);
    public static readonly BigFloat NaN = new(BigInteger.Zero, 0, BigFloatKind.NaN);

    public bool IsFinite => Kind == BigFloatKind.Finite;
    public bool IsNaN => Kind == BigFloatKind.NaN;
    public bool IsInfinity => Kind is BigFloatKind.PositiveInfinity or BigFloatKind.NegativeInfinity;
    public bool IsPositiveInfinity => Kind == BigFloatKind.PositiveInfinity;
    public bool IsNegativeInfinity => Kind == BigFloatKind.NegativeInfinity;
    public bool IsZero => Kind == BigFloatKind.Finite && Mantissa.IsZero;

    /// <summary>-1, 0 or 1 (NaN gives 0).</summary>
    public int Sign => Kind switch
    {
        BigFloatKind.Finite => Mantissa.Sign,
        BigFloatKind.PositiveInfinity => 1,
        BigFloatKind.NegativeInfinity => -1,
        _ => 0,
    };

    /// <summary>Position of the top bit: for finite non-zero x, 2^(TopBit-1) &lt;= |x| &lt; 2^TopBit.</summary>
    internal long TopBit => Exponent + (long)BigInteger.Abs(Mantissa).GetBitLength();

    // ---------------------------------------------------------------- construction / rounding

    /// <summary>Exact value m * 2^e (no rounding).</summary>
    public static BigFloat CreateExact(BigInteger m, long e) => m.IsZero ? Zero : new BigFloat(m, e, BigFloatKind.Finite);

    /// <summary>m * 2^e rounded to <paramref name="bits"/> significant bits (ties to even); sticky = true means the
    /// true value is slightly larger in magnitude than |m| * 2^e (less than one unit of m's last bit).</summary>
    public static BigFloat Round(BigInteger m, long e, int bits = Precision, bool sticky = false)
    {
        if (m.IsZero) return Zero;
        int sign = m.Sign;
        BigInteger a = sign < 0 ? -m : m;
        long len = (long)a.GetBitLength();
        if (len <= bits && !sticky) return new BigFloat(m, e, BigFloatKind.Finite);
        if (len <= bits)
        {
            // sticky below the last bit of a value with spare room: append guard bits so ties are resolved correctly
            a = (a << 2) | BigInteger.One;
            e -= 2;
            len += 2;
            if (len <= bits) return new BigFloat(sign < 0 ? -a : a, e, BigFloatKind.Finite);
        }
        int shift = (int)(len - bits);
        BigInteger q = RoundShiftRight(a, shift, sticky);
        return new BigFloat(sign < 0 ? -q : q, e + shift, BigFloatKind.Finite);
    }

    /// <summary>Non-negative a / 2^shift rounded to nearest, ties to even (sticky: extra nonzero bits below a).</summary>
    internal static BigInteger RoundShiftRight(BigInteger a, int shift, bool sticky = false)
    {
        if (shift <= 0) return a << -shift;
        BigInteger q2 = a >> (shift - 1);
        bool roundBit = !q2.IsEven;
        BigInteger q = q2 >> 1;
        if (roundBit)
        {
            bool above = sticky || (long)BigInteger.TrailingZeroCount(a) < shift - 1;
            if (above || !q.IsEven) q += BigInteger.One;
        }
        return q;
    }

    /// <summary>Exact conversion of a double (−0 becomes 0).</summary>
    public static BigFloat FromDouble(double x)
    {
        if (double.IsNaN(x)) return NaN;
        if (double.IsPositiveInfinity(x)) return PositiveInfinity;
        if (double.IsNegativeInfinity(x)) return NegativeInfinity;
        long bits = BitConverter.DoubleToInt64Bits(x);
        bool neg = bits < 0;
        int biased = (int)((bits >> 52) & 0x7FF);
        long frac = bits & 0xFFFFFFFFFFFFFL;
        long m;
        long e;
        if (biased == 0)
        {
            if (frac == 0) return Zero;
            m = frac;
            e = -1074;
        }
        else
        {
            m = frac | (1L << 52);
            e = biased - 1075;
        }
        return new BigFloat(neg ? -m : m, e, BigFloatKind.Finite);
    }

    /// <summary>Exact conversion of a float.</summary>
    public static BigFloat FromSingle(float x) => FromDouble(x); // float -> double is exact

    public static BigFloat FromInt(long x) => CreateExact(x, 0);

    public static implicit operator BigFloat(double x) => FromDouble(x);
    public static implicit operator BigFloat(int x) => FromInt(x);

    /// <summary>Parses a decimal string such as "-2.71828e-5" (rounded to Precision bits).</summary>
    public static BigFloat Parse(string s)
    {
        s = s.Trim();
        bool neg = s.StartsWith('-');
        if (neg || s.StartsWith('+')) s = s[1..];
        int exp10 = 0;
        int ei = s.IndexOfAny(['e', 'E']);
        if (ei >= 0)
        {
            exp10 = int.Parse(s[(ei + 1)..], CultureInfo.InvariantCulture);
            s = s[..ei];
        }
        int dot = s.IndexOf('.');
        if (dot >= 0)
        {
            exp10 -= s.Length - dot - 1;
            s = s.Remove(dot, 1);
        }
        BigInteger digits = BigInteger.Parse(s, CultureInfo.InvariantCulture);
        if (neg) digits = -digits;
        if (exp10 >= 0) return Round(digits * BigInteger.Pow(10, exp10), 0);
        return Div(CreateExact(digits, 0), CreateExact(BigInteger.Pow(10, -exp10), 0));
    }

    // ---------------------------------------------------------------- conversion to IEEE formats

    /// <summary>Correctly rounded (ties to even) conversion to double, with IEEE overflow to ±inf and gradual underflow.</summary>
    public double ToDouble()
    {
        switch (Kind)
        {
            case BigFloatKind.NaN: return double.NaN;
            case BigFloatKind.PositiveInfinity: return double.PositiveInfinity;
            case BigFloatKind.NegativeInfinity: return double.NegativeInfinity;
        }
        if (Mantissa.IsZero) return 0.0;
        bool neg = Mantissa.Sign < 0;
        if (!RoundToFormat(53, -1022, 1023, out BigInteger mInt, out long lsb))
            return neg ? double.NegativeInfinity : double.PositiveInfinity;
        ulong m = (ulong)mInt;
        ulong bits;
        if (m < (1UL << 52)) bits = m; // subnormal or zero (lsb == -1074)
        else bits = ((ulong)(lsb + 52 + 1023) << 52) | (m - (1UL << 52));
        if (neg) bits |= 1UL << 63;
        return BitConverter.UInt64BitsToDouble(bits);
    }

    /// <summary>Correctly rounded (ties to even) conversion directly to float (no double rounding).</summary>
    public float ToSingle()
    {
        switch (Kind)
        {
            case BigFloatKind.NaN: return float.NaN;
            case BigFloatKind.PositiveInfinity: return float.PositiveInfinity;
            case BigFloatKind.NegativeInfinity: return float.NegativeInfinity;
        }
        if (Mantissa.IsZero) return 0f;
        bool neg = Mantissa.Sign < 0;
        if (!RoundToFormat(24, -126, 127, out BigInteger mInt, out long lsb))
            return neg ? float.NegativeInfinity : float.PositiveInfinity;
        uint m = (uint)mInt;
        uint bits;
        if (m < (1U << 23)) bits = m;
        else bits = ((uint)(lsb + 23 + 127) << 23) | (m - (1U << 23));
        if (neg) bits |= 1U << 31;
        return BitConverter.UInt32BitsToSingle(bits);
    }

    /// <summary>Rounds |this| to a binary format with p-bit significands, minimum normal exponent emin and maximum
    /// exponent emax. Returns false on overflow; otherwise |this| ≈ m * 2^lsb with m &lt; 2^p.</summary>
    private bool RoundToFormat(int p, int emin, int emax, out BigInteger m, out long lsb)
    {
        BigInteger a = BigInteger.Abs(Mantissa);
        long len = (long)a.GetBitLength();
        long top = Exponent + len - 1; // floor(log2 |x|)
        m = BigInteger.Zero;
        lsb = 0;
        if (top > emax + 1) return false;
        long minLsb = emin - p + 1;
        lsb = Math.Max(top - (p - 1), minLsb);
        long shift = lsb - Exponent;
        if (shift <= 0) m = a << (int)-shift;
        else if (shift > len + 1) m = BigInteger.Zero;
        else m = RoundShiftRight(a, (int)shift);
        if (m == (BigInteger.One << p))
        {
            m >>= 1;
            lsb++;
        }
        if (!m.IsZero && lsb + (long)m.GetBitLength() - 1 > emax) return false;
        return true;
    }

    public static explicit operator double(BigFloat x) => x.ToDouble();
    public static explicit operator float(BigFloat x) => x.ToSingle();

    // ---------------------------------------------------------------- arithmetic

    public static BigFloat operator -(BigFloat x) => x.Kind switch
    {
        BigFloatKind.Finite => new BigFloat(-x.Mantissa, x.Exponent, BigFloatKind.Finite),
        BigFloatKind.PositiveInfinity => NegativeInfinity,
        BigFloatKind.NegativeInfinity => PositiveInfinity,
        _ => NaN,
    };

    public static BigFloat Abs(BigFloat x) => x.Sign < 0 ? -x : x;

    public static BigFloat operator +(BigFloat a, BigFloat b) => Add(a, b);
    public static BigFloat operator -(BigFloat a, BigFloat b) => Add(a, -b);
    public static BigFloat operator *(BigFloat a, BigFloat b) => Mul(a, b);
    public static BigFloat operator /(BigFloat a, BigFloat b) => Div(a, b);

    private static BigFloat SpecialAdd(BigFloat a, BigFloat b)
    {
        if (a.IsNaN || b.IsNaN) return NaN;
        if (a.IsInfinity && b.IsInfinity) return a.Kind == b.Kind ? a : NaN;
        return a.IsInfinity ? a : b;
    }

    /// <summary>a + b rounded to <paramref name="bits"/> bits.</summary>
    public static BigFloat Add(BigFloat a, BigFloat b, int bits = Precision)
    {
        if (!a.IsFinite || !b.IsFinite) return SpecialAdd(a, b);
        if (a.Mantissa.IsZero) return Round(b.Mantissa, b.Exponent, bits);
        if (b.Mantissa.IsZero) return Round(a.Mantissa, a.Exponent, bits);
        long ta = a.TopBit, tb = b.TopBit;
        if (ta >= tb && TryTinyAdd(a, b, tb, ta, bits, out BigFloat r1)) return r1;
        if (tb > ta && TryTinyAdd(b, a, ta, tb, bits, out BigFloat r2)) return r2;
        return Round(AlignedSum(a, b, out long e), e, bits);
    }

    // big + tiny where tiny lies entirely below both big's last bit and a few bits below the target precision:
    // every value strictly between big and big ± 2^L rounds the same way, so tiny can be replaced by ±2^(L-2).
    // This avoids huge shifts when the exponents are far apart.
    private static bool TryTinyAdd(BigFloat big, BigFloat tiny, long topTiny, long topBig, int bits, out BigFloat result)
    {
        long l = Math.Min(big.Exponent, topBig - bits - 3);
        if (topTiny > l - 1)
        {
            result = default;
            return false;
        }
        int shift = (int)(big.Exponent - (l - 2));
        BigInteger m = (big.Mantissa << shift) + tiny.Mantissa.Sign;
        result = Round(m, l - 2, bits);
        return true;
    }

    private static BigInteger AlignedSum(BigFloat a, BigFloat b, out long e)
    {
        if (a.Exponent >= b.Exponent)
        {
            e = b.Exponent;
            return (a.Mantissa << (int)(a.Exponent - b.Exponent)) + b.Mantissa;
        }
        e = a.Exponent;
        return a.Mantissa + (b.Mantissa << (int)(b.Exponent - a.Exponent));
    }

    /// <summary>Exact a + b (no rounding). Intended for sums of doubles: the mantissa grows with the exponent gap.</summary>
    public static BigFloat AddExact(BigFloat a, BigFloat b)
    {
        if (!a.IsFinite || !b.IsFinite) return SpecialAdd(a, b);
        if (a.Mantissa.IsZero) return b;
        if (b.Mantissa.IsZero) return a;
        BigInteger m = AlignedSum(a, b, out long e);
        return CreateExact(m, e);
    }

    public static BigFloat SubExact(BigFloat a, BigFloat b) => AddExact(a, -b);

    /// <summary>Exact product (no rounding).</summary>
    public static BigFloat MulExact(BigFloat a, BigFloat b)
    {
        if (!a.IsFinite || !b.IsFinite) return Mul(a, b);
        return CreateExact(a.Mantissa * b.Mantissa, a.Exponent + b.Exponent);
    }

    public static BigFloat Mul(BigFloat a, BigFloat b, int bits = Precision)
    {
        if (!a.IsFinite || !b.IsFinite)
        {
            if (a.IsNaN || b.IsNaN) return NaN;
            if (a.IsZero || b.IsZero) return NaN; // 0 * inf
            return a.Sign * b.Sign > 0 ? PositiveInfinity : NegativeInfinity;
        }
        if (a.Mantissa.IsZero || b.Mantissa.IsZero) return Zero;
        return Round(a.Mantissa * b.Mantissa, a.Exponent + b.Exponent, bits);
    }

    public static BigFloat Div(BigFloat a, BigFloat b, int bits = Precision)
    {
        if (a.IsNaN || b.IsNaN) return NaN;
        if (a.IsInfinity)
        {
            if (b.IsInfinity) return NaN;
            int s = b.Sign >= 0 ? 1 : -1; // x / 0 with unsigned zero: treat 0 as +0
            return a.Sign * s > 0 ? PositiveInfinity : NegativeInfinity;
        }
        if (b.IsInfinity) return Zero;
        if (b.Mantissa.IsZero)
        {
            if (a.Mantissa.IsZero) return NaN;
            return a.Mantissa.Sign > 0 ? PositiveInfinity : NegativeInfinity;
        }
        if (a.Mantissa.IsZero) return Zero;
        BigInteger na = BigInteger.Abs(a.Mantissa), nb = BigInteger.Abs(b.Mantissa);
        long la = (long)na.GetBitLength(), lb = (long)nb.GetBitLength();
        int shift = (int)Math.Max(0, bits + 3 + lb - la);
        BigInteger q = BigInteger.DivRem(na << shift, nb, out BigInteger r);
        bool neg = (a.Mantissa.Sign < 0) != (b.Mantissa.Sign < 0);
        BigFloat res = Round(q, a.Exponent - b.Exponent - shift, bits, !r.IsZero);
        return neg ? -res : res;
    }

    /// <summary>x * 2^n exactly.</summary>
    public static BigFloat ScaleB(BigFloat x, long n) => x.IsFinite && !x.Mantissa.IsZero ? new BigFloat(x.Mantissa, x.Exponent + n, BigFloatKind.Finite) : x;

    /// <summary>x^n for an integer n (binary powering; x^0 = 1 for every x, including 0, inf and NaN as in IEEE pown).</summary>
    public static BigFloat PowInt(BigFloat x, long n)
    {
        if (n == 0) return One;
        if (n < 0) return Div(One, PowInt(x, -n));
        if (!x.IsFinite) return x.IsNaN ? NaN : (x.IsPositiveInfinity || (n & 1) == 0 ? PositiveInfinity : NegativeInfinity);
        // work with 32 extra bits so the log2(n) roundings stay far below the final rounding
        const int bits = Precision + 32;
        BigFloat result = One;
        BigFloat b = x;
        long k = n;
        while (true)
        {
            if ((k & 1) != 0) result = Mul(result, b, bits);
            k >>= 1;
            if (k == 0) break;
            b = Mul(b, b, bits);
        }
        return Round(result.Mantissa, result.Exponent);
    }

    /// <summary>x^y for real y: x^0 = 1; 0^y = 0 (y &gt; 0) or +inf (y &lt; 0); integer y uses <see cref="PowInt"/>;
    /// otherwise exp(y log x) (NaN for negative x).</summary>
    public static BigFloat Pow(BigFloat x, BigFloat y)
    {
        if (y.IsZero) return One;
        if (x.IsNaN || y.IsNaN) return NaN;
        if (y.TryGetInt64(out long n)) return PowInt(x, n);
        if (x.IsZero) return y.Sign > 0 ? Zero : PositiveInfinity;
        if (x.Sign < 0) return NaN;
        return BigMath.Exp(y * BigMath.Log(x));
    }

    /// <summary>True when the value is an integer of magnitude below 2^62.</summary>
    public bool TryGetInt64(out long value)
    {
        value = 0;
        if (!IsFinite) return false;
        if (Mantissa.IsZero) return true;
        if (TopBit > 62) return false;
        if (Exponent >= 0)
        {
            value = (long)(Mantissa << (int)Exponent);
            return true;
        }
        if ((long)BigInteger.TrailingZeroCount(BigInteger.Abs(Mantissa)) < -Exponent) return false;
        value = (long)(Mantissa >> (int)-Exponent);
        return true;
    }

    public static BigFloat Min(BigFloat a, BigFloat b) => a.CompareTo(b) <= 0 ? a : b;
    public static BigFloat Max(BigFloat a, BigFloat b) => a.CompareTo(b) >= 0 ? a : b;

    // ---------------------------------------------------------------- comparison

    /// <summary>Total order: -inf &lt; finite &lt; +inf &lt; NaN.</summary>
    public int CompareTo(BigFloat other)
    {
        static int Rank(BigFloat v) => v.Kind switch
        {
            BigFloatKind.NegativeInfinity => 0,
            BigFloatKind.Finite => 1,
            BigFloatKind.PositiveInfinity => 2,
            _ => 3,
        };
        int ra = Rank(this), rb = Rank(other);
        if (ra != rb || ra != 1) return ra.CompareTo(rb);
        int sa = Mantissa.Sign, sb = other.Mantissa.Sign;
        if (sa != sb) return sa.CompareTo(sb);
        if (sa == 0) return 0;
        long ta = TopBit, tb = other.TopBit;
        if (ta != tb) return sa > 0 ? ta.CompareTo(tb) : tb.CompareTo(ta);
        return AlignedSum(this, -other, out _).Sign;
    }

    public bool Equals(BigFloat other) => CompareTo(other) == 0;
    public override bool Equals(object? obj) => obj is BigFloat b && Equals(b);
    public override int GetHashCode() => ToDouble().GetHashCode();

    public static bool operator <(BigFloat a, BigFloat b) => !a.IsNaN && !b.IsNaN && a.CompareTo(b) < 0;
    public static bool operator >(BigFloat a, BigFloat b) => !a.IsNaN && !b.IsNaN && a.CompareTo(b) > 0;
    public static bool operator <=(BigFloat a, BigFloat b) => !a.IsNaN && !b.IsNaN && a.CompareTo(b) <= 0;
    public static bool operator >=(BigFloat a, BigFloat b) => !a.IsNaN && !b.IsNaN && a.CompareTo(b) >= 0;
    public static bool operator ==(BigFloat a, BigFloat b) => !a.IsNaN && !b.IsNaN && a.CompareTo(b) == 0;
    public static bool operator !=(BigFloat a, BigFloat b) => !(a == b);

    // ---------------------------------------------------------------- formatting

    /// <summary>Decimal scientific representation with <paramref name="digits"/> significant digits (truncated).</summary>
    public string ToString(int digits)
    {
        switch (Kind)
        {
            case BigFloatKind.NaN: return "NaN";
            case BigFloatKind.PositiveInfinity: return "+Infinity";
            case BigFloatKind.NegativeInfinity: return "-Infinity";
        }
        if (Mantissa.IsZero) return "0";
        BigInteger a = BigInteger.Abs(Mantissa);
        // decimal exponent estimate
        double log10 = ((double)TopBit - 0.5) * 0.30102999566398119521;
        int d10 = (int)Math.Floor(log10) - digits + 1;
        BigInteger scaled = ScaledInteger(a, Exponent, -d10);
        while (scaled >= BigInteger.Pow(10, digits))
        {
            d10++;
            scaled = ScaledInteger(a, Exponent, -d10);
        }
        while (scaled < BigInteger.Pow(10, digits - 1))
        {
            d10--;
            scaled = ScaledInteger(a, Exponent, -d10);
        }
        string s = scaled.ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        if (Mantissa.Sign < 0) sb.Append('-');
        sb.Append(s[0]);
        if (s.Length > 1) sb.Append('.').Append(s, 1, s.Length - 1);
        sb.Append('e').Append((d10 + s.Length - 1).ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    // floor(a * 2^e * 10^p)
    private static BigInteger ScaledInteger(BigInteger a, long e, int p)
    {
        BigInteger num = a, den = BigInteger.One;
        if (p >= 0) num *= BigInteger.Pow(10, p);
        else den *= BigInteger.Pow(10, -p);
        if (e >= 0) num <<= (int)e;
        else den <<= (int)-e;
        return BigInteger.Divide(num, den);
    }

    public override string ToString() => ToString(40);
}
