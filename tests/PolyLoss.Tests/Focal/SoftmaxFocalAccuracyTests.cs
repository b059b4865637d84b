using PolyLoss.Internal;
using Xunit.Abstractions;

namespace PolyLoss.Tests.Focal;

/// <summary>Softmax focal loss and gradient against the 400-bit reference: random rows at logit scales 1 to 1e4 and
/// confident rows with 1 - pt down to exp(-20000).</summary>
public class SoftmaxFocalAccuracyTests(ITestOutputHelper output)
{
    internal static readonly (double Gamma, bool Alpha, double Eps)[] Settings =
    [
        (2, false, 1), (2, false, -1), (0, false, 2), (0, false, 0), (0, false, -1), (0.5, false, -1), (1.5, true, -1),
        (3, true, 1), (2, true, -0.3), (0.25, false, 1), (1, true, 0),
    ];

    private static readonly double[] AlphaCycle = [0.25, 1.0, 0.0, 0.5, 0.75];

    internal static double[] ClassAlpha(int c) => Enumerable.Range(0, c).Select(k => AlphaCycle[k % AlphaCycle.Length]).ToArray();

    private static FocalOptions Options((double Gamma, bool Alpha, double Eps) s, int c) =>
        new() { Gamma = s.Gamma, ClassAlpha = s.Alpha ? ClassAlpha(c) : null, Epsilon = s.Eps };

    /// <summary>Rows (float-representable logits) and targets.</summary>
    internal static IEnumerable<(double[] Z, int T)> Rows()
    {
        var rng = new Random(20221);
        foreach (int c in new[] { 2, 3, 5, 10 })
            foreach (double scale in new[] { 1.0, 10, 100, 1e4 })
                for (int rep = 0; rep < 2; rep++)
                {
                    double[] z = Enumerable.Range(0, c).Select(_ => (double)(float)(scale * (2 * rng.NextDouble() - 1))).ToArray();
                    int argmax = Array.IndexOf(z, z.Max());
                    yield return (z, argmax);
                    yield return (z, (argmax + 1 + rng.Next(c - 1)) % c);
                }
        yield return ([30, 0, -1], 0);
        yield return ([30, 0, -1], 2);
        yield return ([100, 0], 0);
        yield return ([1e4, 0, -1e4], 0);
        yield return ([1e4, 0, -1e4], 1);
        yield return ([1e4, 0, -1e4], 2);
        yield return ([-1e4, 1e4], 0);
        yield return ([-100, 100, 99.5f, 3], 1);
        yield return ([1, 1, 1], 1);
        yield return ([0.125, -0.125, 0], 2);
        yield return ([17, 17.5f, -40, 2], 0);
    }

    /// <summary>Every kernel path this machine has (scalar and SIMD row statistics), by name.</summary>
    public static TheoryData<string> Paths()
    {
        var d = new TheoryData<string>();
        foreach (var p in AccuracyTests.Paths()) d.Add(p.ToString());
        return d;
    }

    [Theory, MemberData(nameof(Paths))]
    public void Loss_within_4_ulp_double_1_ulp_float_and_gradient_likewise_on_every_path(string path)
        => AccuracyTests.WithPath(Enum.Parse<KernelPath>(path), () => { Measure(path); return 0; });

    private void Measure(string path)
    {
        output.WriteLine($"path {path}");
        var lossD = new Worst("double loss");
        var gradD = new Worst("double gradient");
        var lossF = new Worst("float loss");
        var gradF = new Worst("float gradient");
        var tinyD = new Worst("double results below the normal range, in units of 2^-1074");
        bool simd = path != nameof(KernelPath.Scalar);
        int count = 0;
        foreach (var (z, t) in Rows())
            foreach (var s in Settings)
            {
                int c = z.Length;
                string where = $"z=[{string.Join(", ", z)}] t={t} {s}";
                Hp[] zh = FocalReference.ToHp(z);
                double alpha = s.Alpha ? ClassAlpha(c)[t] : 1;
                Hp exact = FocalReference.Softmax(zh, t, s.Gamma, alpha, s.Eps);

                var l = new double[1];
                var g = new double[c];
                Poly.SoftmaxFocal(z, [t], l, c, Options(s, c), g);
                var lf = new float[1];
                var gf = new float[c];
                Poly.SoftmaxFocal(z.Select(v => (float)v).ToArray(), [t], lf, c, Options(s, c), gf);

                // Double results below 2^-1022 are measured absolutely: the SIMD exponential leaves a few units of
                // 2^-1074 where exp(z - m) underflows (reported to the core), far below any meaningful loss.
                if (exact.IsZero || exact.Exponent < -1022) tinyD.Add(Math.Abs((Hp.FromDouble(l[0]) - exact).ToDouble()) / double.Epsilon, where);
                else lossD.Add(exact.UlpErrorDouble(l[0]), where);
                lossF.Add(exact.UlpErrorFloat(lf[0]), where);
                for (int j = 0; j < c; j++)
                {
                    Hp gx = FocalReference.SoftmaxGrad(zh, t, j, s.Gamma, alpha, s.Eps);
                    double scale = GradScale(zh, t, j, s.Gamma, alpha, s.Eps);
                    if (gx.IsZero || gx.Exponent < -1022) tinyD.Add(Math.Abs((Hp.FromDouble(g[j]) - gx).ToDouble()) / double.Epsilon, where + $" j={j}");
                    else gradD.Add(SigmoidFocalAccuracyTests.ScaledError(gx, g[j], scale, 53, -1074), where + $" j={j}");
                    gradF.Add(SigmoidFocalAccuracyTests.ScaledError(gx, gf[j], scale, 24, -149), where + $" j={j}");
                }
                count++;
            }
        output.WriteLine($"{count} rows x settings");
        foreach (var w in new[] { lossD, gradD, lossF, gradF, tinyD }) output.WriteLine(w.ToString());
        Assert.True(lossD.Ulps <= 4, lossD.ToString());
        Assert.True(lossF.Ulps <= 1, lossF.ToString());
        Assert.True(gradD.Ulps <= 4, gradD.ToString());
        // SIMD statistics store exp(z_k - m) in the input type before scaling (the core's design): one more float rounding.
        Assert.True(gradF.Ulps <= (simd ? 1.5 : 1), gradF.ToString());
        Assert.True(tinyD.Ulps <= 16, tinyD.ToString());
    }

    /// <summary>1e-3 of the size of the gradient element's terms, p_j q^gamma (alpha + |eps| + gamma): only where
    /// eps &lt; -alpha can the factor pass through 0, and there the error is measured against this scale.</summary>
    private static double GradScale(Hp[] zh, int t, int j, double gamma, double alpha, double eps)
    {
        if (eps >= -alpha) return 0; // no sign change: plain relative ulps
        Hp others = Hp.Zero;
        for (int k = 0; k < zh.Length; k++)
            if (k != t) others += Hp.Exp(zh[k] - zh[t]);
        Hp pt = Hp.One / (Hp.One + others);
        Hp q = others * pt;
        Hp pj = j == t ? q : Hp.Exp(zh[j] - zh[t]) * pt;
        return (pj * Hp.Pow(q, gamma)).ToDouble() * (alpha + Math.Abs(eps) + gamma) * 1e-3;
    }
}
