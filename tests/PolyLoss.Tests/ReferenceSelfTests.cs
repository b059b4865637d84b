using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using PolyLoss.Tests.Reference;

namespace PolyLoss.Tests;

/// <summary>Self-tests of the independent high-precision reference (tests/PolyLoss.Tests/Reference).</summary>
public class ReferenceSelfTests
{
    private static BigFloat Pow2(long n) => BigFloat.CreateExact(BigInteger.One, n);

    /// <summary>|a - b| &lt;= 2^-bits * max(|a|, |b|, floor).</summary>
    private static void AssertClose(BigFloat expected, BigFloat actual, int bits, BigFloat? floor = null, string? what = null)
    {
        BigFloat diff = BigFloat.Abs(BigFloat.SubExact(expected, actual));
        BigFloat scale = BigFloat.Max(BigFloat.Abs(expected), BigFloat.Abs(actual));
        if (floor is BigFloat f) scale = BigFloat.Max(scale, f);
        BigFloat tol = BigFloat.ScaleB(scale, -bits);
        Assert.True(diff <= tol, $"{what}: expected {expected.ToString(50)}, actual {actual.ToString(50)}, diff {diff.ToString(5)}");
    }

    // ------------------------------------------------------------------ constants

    private const string E50 = "2.71828182845904523536028747135266249775724709369995";
    private const string Ln2_50 = "0.69314718055994530941723212145817656807550013436025";
    private const string Ln10_50 = "2.30258509299404568401799145468436420760110148862877";

    [Theory]
    [InlineData("exp1", E50)]
    [InlineData("ln2", Ln2_50)]
    [InlineData("ln10", Ln10_50)]
    [InlineData("ln2const", Ln2_50)]
    public void Constants_MatchPublishedDecimalExpansions(string which, string published)
    {
        BigFloat v = which switch
        {
            "exp1" => BigMath.Exp(BigFloat.One),
            "ln2" => BigMath.Log(BigFloat.Two),
            "ln10" => BigMath.Log(10),
            _ => BigMath.Ln2,
        };
        BigFloat p = BigFloat.Parse(published);
        BigFloat diff = BigFloat.Abs(v - p);
        Assert.True(diff < BigFloat.Parse("1e-49"), $"{which} = {v.ToString(60)} vs {published}");
        // and the 50 printed digits agree
        Assert.StartsWith(published.Replace(".", "").TrimStart('0')[..45], v.ToString(55).Replace(".", ""));
    }

    [Fact]
    public void Exp_TableKernelAgreesWithSlowIndependentPath()
    {
        var rng = new Random(12345);
        for (int i = 0; i < 200; i++)
        {
            BigFloat x = BigFloat.Round(new BigInteger(rng.NextInt64()) * new BigInteger(rng.NextInt64()) * new BigInteger(rng.NextInt64()), -188 - rng.Next(0, 10));
            if (BigFloat.Abs(x) > BigFloat.One) continue;
            AssertClose(BigMath.SlowExp(x), BigMath.Exp(x), 196, null, $"exp({x})");
        }
    }

    [Fact]
    public void Exp_ProductAndSpecialValues()
    {
        // e^a e^b = e^(a+b) over a wide range
        var rng = new Random(7);
        for (int i = 0; i < 100; i++)
        {
            double a = (rng.NextDouble() - 0.5) * 2000, b = (rng.NextDouble() - 0.5) * 50;
            AssertClose(BigMath.Exp(BigFloat.AddExact(a, b)), BigMath.Exp(a) * BigMath.Exp(b), 192, null, "exp(a+b)");
        }
        Assert.Equal(Math.Exp(-700), BigMath.Exp(-700).ToDouble(), 1e-15 * Math.Exp(-700));
        Assert.Equal(BigFloat.One, BigMath.Exp(BigFloat.Zero));
        Assert.True(BigMath.Exp(BigFloat.NegativeInfinity).IsZero);
        Assert.True(BigMath.Exp(BigFloat.PositiveInfinity).IsPositiveInfinity);
        Assert.True(BigMath.Exp(BigFloat.NaN).IsNaN);
        // tiny argument: e^x - 1 == x to full relative precision
        BigFloat t = Pow2(-150);
        AssertClose(t, BigMath.Exp(t) - BigFloat.One, 45, null, "exp(2^-150) - 1"); // 200-bit rounding of 1 + x
        AssertClose(t + BigFloat.ScaleB(t * t, -1), BigMath.Expm1(t), 198, null, "expm1");
    }

    [Fact]
    public void ExpOfLog_IsIdentityTo180Bits()
    {
        var rng = new Random(2024);
        var xs = new List<BigFloat> { 1.0, 2.0, 0.5, 10.0, 1e300, 1e-300, double.Epsilon, double.MaxValue, 1 + Math.ScaleB(1, -30), 1 - Math.ScaleB(1, -25), 1.4142135623730951, 0.7071067811865476 };
        for (int i = 0; i < 60; i++) xs.Add(Math.Exp((rng.NextDouble() - 0.5) * 1400));
        for (int i = 0; i < 20; i++) xs.Add(BigFloat.Round(new BigInteger(rng.NextInt64(1, long.MaxValue)) << 150 | new BigInteger(rng.NextInt64(1, long.MaxValue)), -212));
        foreach (BigFloat x in xs)
        {
            BigFloat y = BigMath.Log(x);
            AssertClose(x, BigMath.Exp(y), 180, null, $"exp(log({x}))");
            AssertClose(y, BigMath.Log(BigMath.Exp(y)), 180, null, $"log(exp(log({x})))");
        }
    }

    [Fact]
    public void Log_NearOneAndLog1p_AreRelativelyAccurate()
    {
        foreach (int k in new[] { 21, 30, 64, 100, 190 })
        {
            BigFloat d = Pow2(-k);
            // log1p(d) = d - d^2/2 + d^3/3 - ... (13 terms: remainder below 2^-270 relative)
            BigFloat series = BigFloat.Zero, negSeries = BigFloat.Zero;
            for (int n = 13; n >= 1; n--)
            {
                BigFloat term = BigFloat.PowInt(d, n) / n;
                series += n % 2 == 1 ? term : -term;
                negSeries -= term;
            }
            AssertClose(series, BigMath.Log1p(d), 190, null, $"log1p(2^-{k})");
            AssertClose(series, BigMath.Log(BigFloat.AddExact(BigFloat.One, d)), 190, null, $"log(1 + 2^-{k})");
            AssertClose(negSeries, BigMath.Log1p(-d), 190, null, $"log1p(-2^-{k})");
        }
        // log(1 + 2^-21) lies on the Newton path boundary: compare both routes
        BigFloat x = 1 + Math.ScaleB(1, -19);
        AssertClose(BigMath.Log1p(Math.ScaleB(1, -19)), BigMath.Log(x), 190, null, "log boundary");
        Assert.True(BigMath.Log(BigFloat.Zero).IsNegativeInfinity);
        Assert.True(BigMath.Log(-1.0).IsNaN);
        Assert.True(BigMath.Log(BigFloat.One).IsZero);
        Assert.Equal(Math.Log(1e-320), BigMath.Log(1e-320).ToDouble(), 1e-15 * 740);
    }

    // 2 atanh(1/n) = 2 sum 1 / ((2k+1) n^(2k+1)) in exact rationals truncated at 2^-260: ln((n+1)/(n-1))
    private static BigFloat TwoAtanhInv(int n)
    {
        BigInteger one = BigInteger.One << 260, sum = BigInteger.Zero, pow = n;
        for (int k = 0; ; k++, pow *= n * n)
        {
            BigInteger term = 2 * one / (pow * (2 * k + 1));
            if (term.IsZero) break;
            sum += term;
        }
        return BigFloat.Round(sum, -260);
    }

    [Theory]
    [InlineData(1.5, 5, 1)]   // ln 1.5 = 2 atanh(1/5)
    [InlineData(1.25, 9, 1)]  // ln 1.25 = 2 atanh(1/9)
    [InlineData(0.75, 7, -1)] // ln 0.75 = -2 atanh(1/7)
    [InlineData(3.0, 5, 1)]   // ln 3 = 2 atanh(1/5) + ln 2
    [InlineData(0.1875, 7, -1)] // ln(3/16) = -2 atanh(1/7) - 2 ln 2
    public void Log_AgreesWithIndependentAtanhSeriesTo197Bits(double x, int n, int sign)
    {
        BigFloat expected = sign > 0 ? TwoAtanhInv(n) : -TwoAtanhInv(n);
        if (x == 3.0) expected += TwoAtanhInv(3);      // ln 2 = 2 atanh(1/3)
        if (x == 0.1875) expected -= 2 * TwoAtanhInv(3);
        AssertClose(expected, BigMath.Log(x), 197, null, $"log {x}");
        AssertClose(TwoAtanhInv(3), BigMath.Ln2, 199, null, "ln2 constant");
        AssertClose(TwoAtanhInv(3), BigMath.Log(2), 199, null, "log 2");
    }

    [Fact]
    public void PowInt_AndPowReal()
    {
        BigFloat three = 3;
        Assert.Equal(BigFloat.CreateExact(BigInteger.Pow(3, 40), 0), BigFloat.PowInt(three, 40));
        AssertClose(BigFloat.One / BigFloat.CreateExact(BigInteger.Pow(3, 7), 0), BigFloat.PowInt(three, -7), 198);
        AssertClose(BigFloat.Parse("1.4142135623730950488016887242096980785696718753769"), BigFloat.Pow(2, 0.5), 160);
        Assert.Equal(BigFloat.One, BigFloat.Pow(BigFloat.Zero, BigFloat.Zero));
        Assert.Equal(BigFloat.Parse("0.25"), BigFloat.Pow(0.5, 2.0));
    }

    // ------------------------------------------------------------------ conversions

    [Fact]
    public void ToDouble_RoundsHalfwayCasesToEven()
    {
        BigFloat one = BigFloat.One;
        Assert.Equal(1.0, (one + Pow2(-53)).ToDouble());                                   // tie -> even (1)
        Assert.Equal(1.0 + Math.ScaleB(1, -51), (one + 3 * Pow2(-53)).ToDouble());          // tie -> even (up)
        Assert.Equal(1.0 + Math.ScaleB(1, -52), BigFloat.AddExact(one + Pow2(-53), Pow2(-400)).ToDouble()); // just above tie
        Assert.Equal(1.0, BigFloat.SubExact(one + Pow2(-53), Pow2(-400)).ToDouble());      // just below tie
        Assert.Equal(-1.0, (-(one + Pow2(-53))).ToDouble());
        // below a power of two the spacing is 2^-53: 1 - 2^-54 is a tie between 1 - 2^-53 (odd) and 1 (even)
        Assert.Equal(1.0, (one - Pow2(-54)).ToDouble());
        Assert.Equal(1.0 - Math.ScaleB(1, -53), (one - 3 * Pow2(-55)).ToDouble());
        Assert.Equal(1.0 - Math.ScaleB(1, -52), (one - 3 * Pow2(-54)).ToDouble());         // tie between 1 - 2^-53 (odd) and 1 - 2^-52 (even)
        Assert.Equal(1.0, (one - Pow2(-55)).ToDouble());
    }

    [Fact]
    public void ToDouble_SubnormalsAndOverflow()
    {
        Assert.Equal(0.0, Pow2(-1075).ToDouble());                                          // half the smallest subnormal: tie -> 0
        Assert.Equal(double.Epsilon, BigFloat.AddExact(Pow2(-1075), Pow2(-5000)).ToDouble());
        Assert.Equal(double.Epsilon, (3 * Pow2(-1076)).ToDouble());                        // 0.75 -> 1
        Assert.Equal(2 * double.Epsilon, (3 * Pow2(-1075)).ToDouble());                    // 1.5 -> 2 (even)
        Assert.Equal(2 * double.Epsilon, (5 * Pow2(-1075)).ToDouble());                    // 2.5 -> 2 (even)
        Assert.Equal(0.0, Pow2(-3000).ToDouble());
        double minNormal = Math.ScaleB(1, -1022);
        BigFloat justBelowMinNormalTie = BigFloat.CreateExact((BigInteger.One << 53) - 1, -1075); // (2^52 - 1/2) ulps: tie -> 2^52 (even)
        Assert.Equal(minNormal, justBelowMinNormalTie.ToDouble());
        Assert.Equal(BitConverter.Int64BitsToDouble(0x000FFFFFFFFFFFFFL), BigFloat.CreateExact((BigInteger.One << 54) - 3, -1076).ToDouble()); // (2^52 - 3/4) -> 2^52 - 1
        for (long bits = 1; bits < 0x7FF0000000000000L / 3; bits = bits * 3 + 1)
        {
            double d = BitConverter.Int64BitsToDouble(bits);
            Assert.Equal(d, BigFloat.FromDouble(d).ToDouble());
            BigFloat mid = BigFloat.ScaleB(BigFloat.AddExact(BigFloat.FromDouble(d), BigFloat.FromDouble(Math.BitIncrement(d))), -1);
            Assert.Equal(Math.BitIncrement(d), BigFloat.AddExact(mid, Pow2(-1200)).ToDouble());
            Assert.Equal(d, BigFloat.SubExact(mid, Pow2(-1200)).ToDouble());
            Assert.Equal((bits & 1) == 0 ? d : Math.BitIncrement(d), mid.ToDouble());
        }
        // overflow: halfway between MaxValue and 2^1024 rounds to even = 2^1024 = inf
        BigFloat maxD = double.MaxValue;
        Assert.Equal(double.PositiveInfinity, (maxD + Pow2(970)).ToDouble());
        Assert.Equal(double.MaxValue, BigFloat.SubExact(maxD + Pow2(970), Pow2(900)).ToDouble());
        Assert.Equal(double.NegativeInfinity, (-(maxD + Pow2(970))).ToDouble());
        Assert.Equal(double.PositiveInfinity, Pow2(5000).ToDouble());
        Assert.Equal(double.MaxValue, maxD.ToDouble());
    }

    [Fact]
    public void ToSingle_RoundsDirectlyWithoutDoubleRounding()
    {
        BigFloat one = BigFloat.One;
        Assert.Equal(1f, (one + Pow2(-24)).ToSingle());
        Assert.Equal(1f + MathF.ScaleB(1, -22), (one + 3 * Pow2(-24)).ToSingle());
        // 1 + 2^-24 + 2^-80: via double this becomes 1 + 2^-24 (a float tie) and then 1; direct rounding gives 1 + 2^-23
        BigFloat v = BigFloat.AddExact(one + Pow2(-24), Pow2(-80));
        Assert.Equal(1.0 + Math.ScaleB(1, -24), v.ToDouble());
        Assert.Equal(1f + MathF.ScaleB(1, -23), v.ToSingle());
        Assert.Equal(0f, Pow2(-150).ToSingle());
        Assert.Equal(float.Epsilon, BigFloat.AddExact(Pow2(-150), Pow2(-300)).ToSingle());
        Assert.Equal(2 * float.Epsilon, (3 * Pow2(-150)).ToSingle());
        Assert.Equal(BitConverter.Int32BitsToSingle(0x00800000), BigFloat.CreateExact((BigInteger.One << 24) - 1, -150).ToSingle());
        BigFloat maxF = float.MaxValue;
        Assert.Equal(float.PositiveInfinity, (maxF + Pow2(103)).ToSingle());
        Assert.Equal(float.MaxValue, BigFloat.SubExact(maxF + Pow2(103), Pow2(60)).ToSingle());
        Assert.Equal(float.MaxValue, maxF.ToSingle());
        Assert.Equal(-3.5f, BigFloat.FromSingle(-3.5f).ToSingle());
        for (long bits = 1; bits < 0x7F800000L; bits = bits * 3 + 1)
        {
            float f = BitConverter.Int32BitsToSingle((int)bits);
            Assert.Equal(f, BigFloat.FromSingle(f).ToSingle());
            Assert.Equal(-f, BigFloat.FromSingle(-f).ToSingle());
            // a value just above the midpoint between f and its successor rounds up, just below rounds down
            BigFloat mid = BigFloat.ScaleB(BigFloat.AddExact(BigFloat.FromSingle(f), BigFloat.FromSingle(MathF.BitIncrement(f))), -1);
            Assert.Equal(MathF.BitIncrement(f), BigFloat.AddExact(mid, Pow2(-400)).ToSingle());
            Assert.Equal(f, BigFloat.SubExact(mid, Pow2(-400)).ToSingle());
            Assert.Equal((bits & 1) == 0 ? f : MathF.BitIncrement(f), mid.ToSingle());
        }
    }

    [Fact]
    public void Conversions_AgreeWithDecimalParsingOnRandomValues()
    {
        var rng = new Random(99);
        for (int i = 0; i < 300; i++)
        {
            BigInteger m = BigInteger.Abs(new BigInteger(rng.NextInt64()) * new BigInteger(rng.NextInt64()) * new BigInteger(rng.NextInt64()));
            if (m.IsZero) continue;
            long e = rng.Next(-1300, 1100) - 190;
            BigFloat x = BigFloat.Round(m, e);
            string s = x.ToString(80);
            Assert.Equal(double.Parse(s, CultureInfo.InvariantCulture), x.ToDouble());
            if (e > -450 && e < 200)
                Assert.Equal(float.Parse(s, CultureInfo.InvariantCulture), x.ToSingle());
        }
    }

    [Fact]
    public void Arithmetic_RoundedOperationsEqualRoundedExactResults()
    {
        var rng = new Random(4242);
        BigInteger RandMant(int words)
        {
            BigInteger m = BigInteger.Zero;
            for (int i = 0; i < words; i++) m = (m << 63) | new BigInteger(rng.NextInt64());
            return rng.Next(2) == 0 ? m : -m;
        }
        for (int i = 0; i < 400; i++)
        {
            BigFloat a = BigFloat.Round(RandMant(rng.Next(1, 5)), rng.Next(-300, 300));
            BigFloat b = BigFloat.Round(RandMant(rng.Next(1, 5)), rng.Next(-300, 300) + (i % 4 == 0 ? rng.Next(-2000, 2000) : 0));
            if (a.IsZero || b.IsZero) continue;
            BigFloat sum = BigFloat.AddExact(a, b);
            Assert.Equal(BigFloat.Round(sum.Mantissa, sum.Exponent), a + b);
            // unrounded (long) operands exercise the far-apart shortcut against exact sums
            BigFloat wide = BigFloat.AddExact(a, BigFloat.ScaleB(b, -rng.Next(0, 900)));
            BigFloat tiny = BigFloat.ScaleB(b, -rng.Next(190, 1500));
            BigFloat s2 = BigFloat.AddExact(wide, tiny);
            Assert.Equal(BigFloat.Round(s2.Mantissa, s2.Exponent), wide + tiny);
            Assert.Equal(BigFloat.Round(s2.Mantissa, s2.Exponent), tiny + wide);
            BigFloat prod = BigFloat.MulExact(a, b);
            Assert.Equal(BigFloat.Round(prod.Mantissa, prod.Exponent), a * b);
            // division: q is the nearest 200-bit value to a / b: |a - q b| <= |a - q' b| for the neighbours q'
            BigFloat q = a / b;
            BigFloat ulp = BigFloat.ScaleB(BigFloat.One, q.TopBit - BigFloat.Precision);
            BigFloat r0 = BigFloat.Abs(BigFloat.SubExact(a, BigFloat.MulExact(q, b)));
            BigFloat r1 = BigFloat.Abs(BigFloat.SubExact(a, BigFloat.MulExact(BigFloat.AddExact(q, ulp), b)));
            BigFloat r2 = BigFloat.Abs(BigFloat.SubExact(a, BigFloat.MulExact(BigFloat.SubExact(q, ulp), b)));
            Assert.True(r0 <= r1 && r0 <= r2, "division not nearest");
            Assert.Equal(a.Sign * b.Sign, (a / b).Sign);
            Assert.Equal(Math.Sign(a.CompareTo(b)), Math.Sign(BigFloat.SubExact(a, b).Sign));
        }
        // 1 + 2^-300 rounds to 1; 1 + (2^-201 + 2^-400) rounds up (sticky above the tie)
        Assert.Equal(BigFloat.One, BigFloat.One + Pow2(-300));
        Assert.Equal(BigFloat.One, BigFloat.One + Pow2(-200));                                   // exact tie -> even
        Assert.Equal(BigFloat.AddExact(BigFloat.One, Pow2(-199)), BigFloat.One + BigFloat.AddExact(Pow2(-200), Pow2(-400)));
        Assert.Equal(BigFloat.One, BigFloat.One - Pow2(-201));                                  // tie below 1 -> even (1)
        Assert.Equal(BigFloat.SubExact(BigFloat.One, Pow2(-200)), BigFloat.One - BigFloat.AddExact(Pow2(-201), Pow2(-700))); // below a power of two
    }

    // ------------------------------------------------------------------ ulp helpers

    [Fact]
    public void UlpError_Definitions()
    {
        Assert.Equal(0.5, Exact.UlpError(1f, BigFloat.One + Pow2(-24)));
        Assert.Equal(0.25, Exact.UlpError(1.0, BigFloat.One + Pow2(-54)));
        Assert.Equal(0.0, Exact.UlpError(2.5f, 2.5));
        Assert.Equal(3.0, Exact.UlpError(1f + 3 * MathF.ScaleB(1, -23), BigFloat.One));
        Assert.Equal(1.0, Exact.UlpError(float.Epsilon, BigFloat.Zero));
        Assert.Equal(2.0, Exact.UlpError(2 * double.Epsilon, BigFloat.Zero));
        Assert.Equal(0.0, Exact.UlpError(float.NaN, BigFloat.NaN));
        Assert.Equal(double.PositiveInfinity, Exact.UlpError(1f, BigFloat.NaN));
        Assert.Equal(double.PositiveInfinity, Exact.UlpError(double.NaN, BigFloat.One));
        Assert.Equal(0.0, Exact.UlpError(double.PositiveInfinity, BigFloat.PositiveInfinity));
        Assert.Equal(double.PositiveInfinity, Exact.UlpError(double.NegativeInfinity, BigFloat.PositiveInfinity));
        Assert.Equal(0.0, Exact.UlpError(float.PositiveInfinity, Pow2(200)));             // exact overflows float
        Assert.Equal(double.PositiveInfinity, Exact.UlpError(float.MaxValue, Pow2(200)));
        Assert.Equal(double.PositiveInfinity, Exact.UlpError(float.PositiveInfinity, BigFloat.One));
        // relative to a scale: |1e-8 - 0| in ulps of 1.0f (2^-23)
        Assert.Equal(Math.ScaleB(1, -20), Exact.UlpErrorRelativeTo(MathF.ScaleB(1, -43), BigFloat.Zero, 1f));
        Assert.Equal(4.0, Exact.UlpErrorRelativeTo(4 * Math.ScaleB(1, -52), BigFloat.Zero, 1.5));
        Assert.Equal(Math.ScaleB(1, -23), Exact.Ulp(1f));
        Assert.Equal(Math.ScaleB(1, -23), Exact.Ulp(1.99f));
        Assert.Equal(double.Epsilon, Exact.Ulp(0.0));
    }

    // ------------------------------------------------------------------ published PolyLoss values

    private static readonly double[] PaperLogits = [0.14, 1.456, 2.356, -0.124, -2.47];
    private static readonly double[] PaperLabels = [0.1, 0.15, 0.2, 0.25, 0.3];

    [Theory]
    [InlineData(2.0, 4.5317)]
    [InlineData(1.0, 3.7153)]
    [InlineData(-1.0, 2.0827)]
    [InlineData(0.0, 2.8990)]
    [InlineData(-0.5, 2.4908)]
    [InlineData(1.15, 3.8378)]
    [InlineData(1.214, 3.8900)]
    [InlineData(5.45, 7.3480)]
    public void PolyCrossEntropy_PublishedValues(double eps, double expected)
    {
        double l = Exact.PolyCrossEntropy(PaperLogits, PaperLabels, [eps]).ToDouble();
        Assert.Equal(expected, l, 1e-4);
        float[] zf = Array.ConvertAll(PaperLogits, v => (float)v), yf = Array.ConvertAll(PaperLabels, v => (float)v);
        Assert.Equal(expected, Exact.PolyCrossEntropy(zf, yf, [eps]).ToDouble(), 2e-4);
    }

    [Fact]
    public void PolyCrossEntropy_MatchesNaiveDoubleFormula()
    {
        var rng = new Random(5);
        for (int r = 0; r < 20; r++)
        {
            int c = rng.Next(2, 12);
            double[] z = new double[c], y = new double[c];
            for (int k = 0; k < c; k++) { z[k] = rng.NextDouble() * 6 - 3; y[k] = rng.NextDouble(); }
            double[] coef = [rng.NextDouble() * 4 - 2, rng.NextDouble() - 0.5, 0.25];
            double m = z.Max(), s = z.Sum(v => Math.Exp(v - m)), ce = 0, p1 = 0;
            for (int k = 0; k < c; k++) { double lp = z[k] - m - Math.Log(s); ce -= y[k] * lp; p1 += y[k] * (1 - Math.Exp(lp)); }
            double naive = ce + coef[0] * p1 + coef[1] * p1 * p1 + coef[2] * p1 * p1 * p1;
            Assert.Equal(naive, Exact.PolyCrossEntropy(z, y, coef).ToDouble(), 1e-12 * Math.Max(1, Math.Abs(naive)));
        }
    }

    [Fact]
    public void PolyCrossEntropy_SpecialCases()
    {
        // -inf logit with label 0 contributes nothing; with a positive label the loss is +inf
        double ni = double.NegativeInfinity;
        AssertClose(Exact.PolyCrossEntropy([1.0, 2.0], [0.0, 1.0], [2.0]), Exact.PolyCrossEntropy([1.0, 2.0, ni], [0.0, 1.0, 0.0], [2.0]), 195);
        Assert.True(Exact.PolyCrossEntropy([1.0, 2.0, ni], [0.0, 0.5, 0.5], [2.0]).IsPositiveInfinity);
        Assert.True(Exact.PolyCrossEntropy([1.0, double.NaN], 0, [2.0]).IsNaN);
        Assert.True(Exact.PolyCrossEntropy([1.0, double.PositiveInfinity], 0, [2.0]).IsNaN);
        Assert.True(Exact.PolyCrossEntropy([ni, ni], 0, [2.0]).IsNaN);
        Assert.True(Exact.PolyCrossEntropy([ni, 0.0], 1, [2.0]).IsZero);
        // all-equal huge logits: p = 1/C exactly
        double big = double.MaxValue;
        BigFloat l = Exact.PolyCrossEntropy([big, big, big, big], 2, [2.0]);
        AssertClose(BigMath.Log(4) + BigFloat.Parse("1.5"), l, 195);
        // extreme margin: CE = log1p(e^-700) ~ e^-700, 1 - pt ~ e^-700 — far below 2^-200 relative to 1
        BigFloat l2 = Exact.PolyCrossEntropy([0.0, -700.0], 0, [0.0]);
        Assert.Equal(Math.Exp(-700), l2.ToDouble(), Math.Exp(-700) * 1e-14);
        BigFloat l3 = Exact.PolyCrossEntropy([0.0, -700.0], 0, [1.0]);
        Assert.Equal(2 * Math.Exp(-700), l3.ToDouble(), Math.Exp(-700) * 1e-14);
        BigFloat[] g = Exact.PolyCrossEntropyLogitsGradient([0.0, -700.0], 0, [2.0]);
        Assert.Equal(-3 * Math.Exp(-700), g[0].ToDouble(), Math.Exp(-700) * 1e-14);
        Assert.Equal(3 * Math.Exp(-700), g[1].ToDouble(), Math.Exp(-700) * 1e-14);
        // a label smoothing / weights sanity check: weights scale labels, smoothing mixes with uniform
        BigFloat lw = Exact.PolyCrossEntropy([0.3, -1.0, 2.0], [0.2, 0.0, 0.8], [1.0], weights: [2.0, 1.0, 0.5]);
        AssertClose(Exact.PolyCrossEntropy([0.3, -1.0, 2.0], [0.4, 0.0, 0.4], [1.0]), lw, 195);
        BigFloat ls = Exact.PolyCrossEntropy([0.3, -1.0, 2.0], 2, [1.0], labelSmoothing: 0.3);
        AssertClose(Exact.PolyCrossEntropy([0.3, -1.0, 2.0], [0.1, 0.1, 0.8], [1.0]), ls, 50); // 0.1 is inexact in double
    }

    // ------------------------------------------------------------------ gradients vs finite differences

    private static readonly BigFloat Step = Pow2(-100);

    private static void AssertGradient(BigFloat[] analytic, BigFloat[] numeric, string what)
    {
        BigFloat scale = Exact.MaxAbs(analytic);
        for (int j = 0; j < analytic.Length; j++)
            AssertClose(numeric[j], analytic[j], 85, scale, $"{what}[{j}]");
    }

    public static TheoryData<double[]> CoefficientSets => new()
    {
        new[] { 2.0 }, new[] { -1.0 }, new[] { 0.0 }, Array.Empty<double>(), new[] { 1.5, -0.75, 0.3 }, new[] { 0.0, 0.0, 0.0, 2.0 },
    };

    [Theory]
    [MemberData(nameof(CoefficientSets))]
    public void PolyCrossEntropy_LogitsGradient_MatchesFiniteDifferences(double[] coef)
    {
        var rng = new Random(coef.Length * 31 + 1);
        for (int r = 0; r < 3; r++)
        {
            int c = 2 + 3 * r;
            BigFloat[] z = new BigFloat[c], y = new BigFloat[c];
            double[] zd = new double[c], yd = new double[c];
            for (int k = 0; k < c; k++) { zd[k] = rng.NextDouble() * 10 - 5; yd[k] = r == 2 ? 0 : rng.NextDouble(); z[k] = zd[k]; y[k] = yd[k]; }
            if (r == 2) { yd[1] = 1; y[1] = 1; }
            BigFloat u = -0.75;
            BigFloat[] analytic = Exact.PolyCrossEntropyLogitsGradient(zd, yd, coef, -0.75);
            BigFloat[] numeric = Exact.NumericalGradient(zz => u * Exact.PolyCrossEntropy(zz, y, coef), z, Step);
            AssertGradient(analytic, numeric, "dL/dz");
            if (r == 2)
                AssertGradient(Exact.PolyCrossEntropyLogitsGradient(zd, 1, coef, -0.75), numeric, "dL/dz (target)");
            // labels gradient (with weights and smoothing: chain rule w.r.t. the labels as given)
            double[] w = [.. Enumerable.Range(0, c).Select(i => 0.5 + i * 0.25)];
            BigFloat[] la = Exact.PolyCrossEntropyLabelsGradient(zd, yd, coef, -0.75, w, 0.125);
            BigFloat[] ln = Exact.NumericalGradient(yy => u * Exact.PolyCrossEntropy(z, yy, coef, w, 0.125), y, Step);
            AssertGradient(la, ln, "dL/dy");
        }
    }

    [Fact]
    public void Poly1_LogitsGradient_MatchesTheBriefsClosedForm()
    {
        // g_j = S p_j - y_j - eps p_j (y_j - Pt)
        double[] z = [0.14, 1.456, 2.356, -0.124, -2.47];
        double[] y = [0.1, 0.15, 0.2, 0.25, 0.3];
        const double eps = 1.7;
        BigFloat[] g = Exact.PolyCrossEntropyLogitsGradient(z, y, [eps]);
        BigFloat m = 2.356, s = BigFloat.Zero, pt = BigFloat.Zero, sumE = BigFloat.Zero;
        foreach (double v in z) sumE += BigMath.Exp(v - m);
        for (int k = 0; k < 5; k++) { s += y[k]; pt += y[k] * BigMath.Exp(z[k] - m) / sumE; }
        for (int j = 0; j < 5; j++)
        {
            BigFloat p = BigMath.Exp(z[j] - m) / sumE;
            AssertClose(s * p - y[j] - eps * p * (y[j] - pt), g[j], 190, BigFloat.One);
        }
    }

    [Theory]
    [InlineData(2.0, 1.0, null)]
    [InlineData(0.0, 0.0, null)]
    [InlineData(1.5, -1.0, 0.25)]
    [InlineData(0.5, 2.0, 0.75)]
    [InlineData(3.0, 0.5, null)]
    public void SigmoidFocal_Gradient_MatchesFiniteDifferences(double gamma, double eps, double? alpha)
    {
        double[] xs = [-7.5, -1.25, 0.0, 0.3, 4.0, 30.0];
        double[] ts = [0.0, 1.0, 0.3, 0.9];
        foreach (double x in xs)
            foreach (double t in ts)
            {
                BigFloat analytic = Exact.SigmoidFocalGradient(x, t, gamma, eps, alpha, 1.25);
                BigFloat[] numeric = Exact.NumericalGradient(v => 1.25 * Exact.SigmoidFocalCore(v[0], t, gamma, eps, alpha).Loss, [x], Step);
                AssertClose(numeric[0], analytic, 80, Pow2(-150), $"focal'({x}, {t})");
            }
    }

    [Theory]
    [InlineData(2.0, 1.0, false)]
    [InlineData(0.0, 0.0, false)]
    [InlineData(0.5, -1.0, true)]
    [InlineData(1.0, 2.0, true)]
    public void SoftmaxFocal_Gradient_MatchesFiniteDifferences(double gamma, double eps, bool withAlpha)
    {
        var rng = new Random(77);
        for (int r = 0; r < 3; r++)
        {
            int c = 3 + 2 * r;
            double[] zd = new double[c];
            for (int k = 0; k < c; k++) zd[k] = rng.NextDouble() * 8 - 4;
            double[]? alpha = withAlpha ? [.. Enumerable.Range(0, c).Select(i => 0.1 + 0.2 * i)] : null;
            int t = r % c;
            BigFloat[] analytic = Exact.SoftmaxFocalGradient(zd, t, gamma, eps, alpha, 0.5);
            BigFloat[] z = [.. zd.Select(v => (BigFloat)v)];
            BigFloat[] numeric = Exact.NumericalGradient(zz => 0.5 * Exact.SoftmaxFocalCore(zz, t, gamma, eps, alpha).Loss, z, Step);
            AssertGradient(analytic, numeric, "softmax focal");
        }
    }

    [Fact]
    public void SoftmaxFocal_GammaZero_IsPoly1CrossEntropy()
    {
        double[] z = [0.5, -2.0, 3.25, 1.0];
        AssertClose(Exact.PolyCrossEntropy(z, 1, [1.5]), Exact.SoftmaxFocal(z, 1, 0.0, 1.5), 195);
        BigFloat[] g1 = Exact.PolyCrossEntropyLogitsGradient(z, 1, [1.5]);
        BigFloat[] g2 = Exact.SoftmaxFocalGradient(z, 1, 0.0, 1.5);
        for (int j = 0; j < z.Length; j++) AssertClose(g1[j], g2[j], 190, BigFloat.One);
        Assert.True(Exact.SoftmaxFocal([0.0, double.NegativeInfinity], 0, 0.5, 1.0).IsZero); // pt = 1 exactly
    }

    [Fact]
    public void SigmoidFocal_GammaZeroEpsZero_IsBinaryCrossEntropy()
    {
        foreach (double x in new[] { -20.0, -3.0, -0.5, 0.0, 0.75, 5.0, 40.0 })
            foreach (double t in new[] { 0.0, 0.25, 1.0 })
            {
                // independent: p = 1 / (1 + e^-x), BCE = -(t log p + (1 - t) log(1 - p))
                BigFloat p = BigFloat.One / (BigFloat.One + BigMath.Exp(-(BigFloat)x));
                BigFloat bce = -((BigFloat)t * BigMath.Log(p) + (1 - (BigFloat)t) * BigMath.Log(BigFloat.One - p));
                AssertClose(bce, Exact.SigmoidFocal(x, t, 0.0, 0.0), x >= 40 ? 60 : 150, null, $"bce({x},{t})");
                BigFloat alphaT = 0.625 * (BigFloat)t + 0.375 * (1 - (BigFloat)t);
                AssertClose(alphaT * bce, Exact.SigmoidFocal(x, t, 0.0, 0.0, 0.625), x >= 40 ? 60 : 150, null, "alpha");
            }
        // gamma = 0 gives (1 - pt)^0 = 1 even when 1 - pt = 0; eps term vanishes there
        Assert.True(Exact.SigmoidFocal(double.PositiveInfinity, 1.0, 0.0, 1.0).IsZero);
        // paper-style sanity: eps term = eps (1 - pt)^(gamma + 1)
        BigFloat q = BigFloat.One / (BigFloat.One + BigMath.Exp(2.0)); // x = 2, t = 1: 1 - pt = sigmoid(-2)
        BigFloat fl = Exact.SigmoidFocal(2.0, 1.0, 2.0, 1.0);
        AssertClose(q * q * BigMath.Log1p(BigMath.Exp(-2.0)) + q * q * q, fl, 190);
        // non-integer gamma uses exp(gamma log(1 - pt))
        BigFloat fl2 = Exact.SigmoidFocal(2.0, 1.0, 1.5, 0.0);
        AssertClose(BigMath.Exp(1.5 * BigMath.Log(q)) * BigMath.Log1p(BigMath.Exp(-2.0)), fl2, 190);
    }

    [Fact]
    public void CombinedApi_AgreesWithSeparateCallsAndUlpHelpers()
    {
        float[] z = [0.5f, -2f, 3.25f, 1f, -0.125f];
        float[] y = [0.1f, 0.2f, 0.3f, 0.15f, 0.25f];
        double[] coef = [2.0, 0.5];
        var all = Exact.PolyCrossEntropyWithGradients(z, y, coef, 0.75);
        Assert.Equal(Exact.PolyCrossEntropy(z, y, coef), all.Loss);
        Assert.Equal(Exact.PolyCrossEntropyLogitsGradient(z, y, coef, 0.75), all.LogitsGradient);
        Assert.Equal(Exact.PolyCrossEntropyLabelsGradient(z, y, coef, 0.75), all.LabelsGradient);
        var byTarget = Exact.PolyCrossEntropyWithGradients(z, 2, coef);
        Assert.Equal(Exact.PolyCrossEntropyLogitsGradient(z, 2, coef), byTarget.LogitsGradient);
        float[] rounded = Exact.ToSingle(all.LogitsGradient);
        Assert.Equal(0.0, Exact.MaxUlpError(rounded, all.LogitsGradient), 0.5000001);
        Assert.True(Exact.MaxUlpErrorRelativeToRowMax(rounded, all.LogitsGradient) <= 0.5);
        rounded[1] = MathF.BitIncrement(MathF.BitIncrement(rounded[1]));
        Assert.InRange(Exact.MaxUlpError(rounded, all.LogitsGradient), 1.5, 2.5);
        double[] rd = Exact.ToDouble(all.LogitsGradient);
        Assert.True(Exact.MaxUlpError(rd, all.LogitsGradient) <= 0.5);
    }

}
