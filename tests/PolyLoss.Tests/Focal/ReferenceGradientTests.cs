using Xunit.Abstractions;

namespace PolyLoss.Tests.Focal;

/// <summary>The analytic reference gradients (the derivation) against high-precision central finite differences.</summary>
public class ReferenceGradientTests(ITestOutputHelper output)
{
    [Fact]
    public void Sigmoid_analytic_gradient_matches_finite_differences()
    {
        int checkedCount = 0, total = 0;
        foreach (var s in SigmoidFocalAccuracyTests.Settings)
            foreach (double t in SigmoidFocalAccuracyTests.HardTs.Concat(SigmoidFocalAccuracyTests.SoftTs))
                foreach (double x in SigmoidFocalAccuracyTests.Xs)
                {
                    total++;
                    Hp a = FocalReference.SigmoidGrad(x, t, s.Gamma, s.Alpha, s.Eps);
                    Hp fd = FocalReference.SigmoidGradFd(x, t, s.Gamma, s.Alpha, s.Eps);
                    bool? ok = FocalReference.FdAgrees(a, fd, FocalReference.Sigmoid(x, t, s.Gamma, s.Alpha, s.Eps), FocalReference.Step(x));
                    if (ok is null) continue;
                    checkedCount++;
                    Assert.True(ok, $"x={x} t={t} {s}: analytic {a} vs finite difference {fd}");
                }
        output.WriteLine($"{checkedCount} of {total} points resolved by finite differences");
        Assert.True(checkedCount >= total * 3 / 4, $"only {checkedCount} of {total} points checked");
    }

    [Fact]
    public void Softmax_analytic_gradient_matches_finite_differences()
    {
        int checkedCount = 0, total = 0;
        foreach (var (z, t) in SoftmaxFocalAccuracyTests.Rows())
            foreach (var s in SoftmaxFocalAccuracyTests.Settings)
            {
                Hp[] zh = FocalReference.ToHp(z);
                double alpha = s.Alpha ? SoftmaxFocalAccuracyTests.ClassAlpha(z.Length)[t] : 1;
                Hp loss = FocalReference.Softmax(zh, t, s.Gamma, alpha, s.Eps);
                for (int j = 0; j < z.Length; j++)
                {
                    total++;
                    Hp a = FocalReference.SoftmaxGrad(zh, t, j, s.Gamma, alpha, s.Eps);
                    Hp fd = FocalReference.SoftmaxGradFd(zh, t, j, s.Gamma, alpha, s.Eps);
                    bool? ok = FocalReference.FdAgrees(a, fd, loss, FocalReference.Step(zh[j]));
                    if (ok is null) continue;
                    checkedCount++;
                    Assert.True(ok, $"z=[{string.Join(", ", z)}] t={t} j={j} {s}: analytic {a} vs finite difference {fd}");
                }
            }
        output.WriteLine($"{checkedCount} of {total} gradient elements resolved by finite differences");
        Assert.True(checkedCount >= total / 2, $"only {checkedCount} of {total} elements checked");
    }
}
