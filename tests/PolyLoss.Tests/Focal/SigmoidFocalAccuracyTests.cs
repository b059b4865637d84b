using Xunit.Abstractions;

namespace PolyLoss.Tests.Focal;

/// <summary>Sigmoid focal loss and gradient against the 400-bit reference, over logits from -1e4 to 1e4.</summary>
public class SigmoidFocalAccuracyTests(ITestOutputHelper output)
{
    internal static readonly double[] Xs =
        [-1e4, -745.5, -100, -36.7, -17.25, -5, -1, -0.3, -1e-5, 0, 1e-9, 0.5, 2, 7.75, 20, 36.7, 100, 709.9, 1e4];

    internal static readonly double[] HardTs = [1, 0];
    internal static readonly double[] SoftTs = [0.3, 0.9, 1e-3, 0.5];

    internal static readonly (double Gamma, double? Alpha, double Eps)[] Settings =
    [
        (2, null, 1), (2, null, -1), (2, 0.25, -1), (2, 0.25, 1), (0, null, 0), (0, null, 1), (0, null, -1),
        (0.5, null, -1), (1.5, 0.25, 2.5), (3, 0.75, -0.5), (1, null, 0), (0.25, 0.5, 1), (2, 1.0, -1), (2, 0.0, 2),
    ];

    private static FocalOptions Options((double Gamma, double? Alpha, double Eps) s) => new() { Gamma = s.Gamma, Alpha = s.Alpha, Epsilon = s.Eps };

    [Fact]
    public void Hard_targets_double_loss_within_4_ulp_and_gradient_within_4_ulp()
    {
        var loss = new Worst("double loss");
        var grad = new Worst("double gradient");
        foreach (var s in Settings)
            foreach (double t in HardTs)
                foreach (double x in Xs)
                {
                    var l = new double[1];
                    var g = new double[1];
                    Poly.SigmoidFocal([x], [t], l, Options(s), g);
                    string where = $"x={x} t={t} {s}";
                    loss.Add(FocalReference.Sigmoid(x, t, s.Gamma, s.Alpha, s.Eps).UlpErrorDouble(l[0]), where);
                    grad.Add(FocalReference.SigmoidGrad(x, t, s.Gamma, s.Alpha, s.Eps).UlpErrorDouble(g[0]), where);
                }
        output.WriteLine(loss.ToString());
        output.WriteLine(grad.ToString());
        Assert.True(loss.Ulps <= 4, loss.ToString());
        Assert.True(grad.Ulps <= 4, grad.ToString());
    }

    [Fact]
    public void Hard_targets_float_loss_and_gradient_within_1_ulp()
    {
        var loss = new Worst("float loss");
        var grad = new Worst("float gradient");
        foreach (var s in Settings)
            foreach (double t in HardTs)
                foreach (double xd in Xs)
                {
                    float x = (float)xd;
                    var l = new float[1];
                    var g = new float[1];
                    Poly.SigmoidFocal([x], [(float)t], l, Options(s), g);
                    string where = $"x={x} t={t} {s}";
                    loss.Add(FocalReference.Sigmoid(x, t, s.Gamma, s.Alpha, s.Eps).UlpErrorFloat(l[0]), where);
                    grad.Add(FocalReference.SigmoidGrad(x, t, s.Gamma, s.Alpha, s.Eps).UlpErrorFloat(g[0]), where);
                }
        output.WriteLine(loss.ToString());
        output.WriteLine(grad.ToString());
        Assert.True(loss.Ulps <= 1, loss.ToString());
        Assert.True(grad.Ulps <= 1, grad.ToString());
    }

    [Fact]
    public void Soft_targets_loss_within_ulps_and_gradient_within_ulps_of_its_scale()
    {
        var lossD = new Worst("double loss");
        var gradD = new Worst("double gradient");
        var lossF = new Worst("float loss");
        var gradF = new Worst("float gradient");
        foreach (var s in Settings)
            foreach (double t in SoftTs)
                foreach (double xd in Xs)
                {
                    string where = $"x={xd} t={t} {s}";
                    var l = new double[1];
                    var g = new double[1];
                    Poly.SigmoidFocal([xd], [t], l, Options(s), g);
                    lossD.Add(FocalReference.Sigmoid(xd, t, s.Gamma, s.Alpha, s.Eps).UlpErrorDouble(l[0]), where);
                    gradD.Add(ScaledError(FocalReference.SigmoidGrad(xd, t, s.Gamma, s.Alpha, s.Eps), g[0], GradScale(xd, t, s), 53, -1074), where);

                    float x = (float)xd, tf = (float)t;
                    var lf = new float[1];
                    var gf = new float[1];
                    Poly.SigmoidFocal([x], [tf], lf, Options(s), gf);
                    lossF.Add(FocalReference.Sigmoid(x, tf, s.Gamma, s.Alpha, s.Eps).UlpErrorFloat(lf[0]), where);
                    gradF.Add(ScaledError(FocalReference.SigmoidGrad(x, tf, s.Gamma, s.Alpha, s.Eps), gf[0], GradScale(x, tf, s), 24, -149), where);
                }
        foreach (var w in new[] { lossD, gradD, lossF, gradF }) output.WriteLine(w.ToString());
        Assert.True(lossD.Ulps <= 4, lossD.ToString());
        Assert.True(lossF.Ulps <= 1, lossF.ToString());
        Assert.True(gradD.Ulps <= 4, gradD.ToString());
        Assert.True(gradF.Ulps <= 1, gradF.ToString());
    }

    /// <summary>Error in ulps of max(|exact|, scale): soft-target gradients pass through 0 near p = t, where only an absolute
    /// bound relative to the size of the gradient's terms is meaningful.</summary>
    internal static double ScaledError(Hp exact, double computed, double scale, int bits, int minUlpExp)
    {
        double ex = Math.Abs(exact.ToDouble());
        if (ex >= scale) return exact.UlpError(computed, bits, minUlpExp);
        double diff = Math.Abs(computed - exact.ToDouble());
        double ulp = Math.Max(Math.ScaleB(1.0, Math.ILogB(scale) - (bits - 1)), Math.ScaleB(1.0, minUlpExp));
        return diff / ulp;
    }

    /// <summary>The size of the gradient's largest term: u^gamma (alpha_t |p - t| + |eps| p (1 - p) + gamma ...) ~ u^gamma.</summary>
    private static double GradScale(double x, double t, (double Gamma, double? Alpha, double Eps) s)
    {
        double p = 1 / (1 + Math.Exp(-x)), pm = 1 / (1 + Math.Exp(x));
        double u = t * pm + (1 - t) * p;
        return Math.Pow(u, s.Gamma) * (Math.Max(p, t) + Math.Abs(s.Eps) * p * pm) * 1e-3;
    }
}
