namespace PolyLoss.Cli;

/// <summary>The thin adapter through which every loss and gradient of the tool is computed.
/// TEMPORARY: until the core library's <c>Poly.CrossEntropy</c> / <c>Poly.CrossEntropyWithGradient</c> land on main,
/// this holds a private straightforward implementation; it is replaced by the library calls.</summary>
internal static class Kernels
{
    /// <summary>Poly-1 row losses for integer targets.</summary>
    public static void Losses(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, int numClasses, double epsilon)
        => Temp(logits, targets, default, losses, default, numClasses, epsilon);

    /// <summary>Poly-1 row losses for dense label distributions.</summary>
    public static void Losses(ReadOnlySpan<double> logits, ReadOnlySpan<double> labels, Span<double> losses, int numClasses, double epsilon)
        => Temp(logits, default, labels, losses, default, numClasses, epsilon);

    /// <summary>Row losses and the gradient of their sum with respect to the logits (integer targets).</summary>
    public static void LossesAndGradient(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, Span<double> gradient, int numClasses, double epsilon)
        => Temp(logits, targets, default, losses, gradient, numClasses, epsilon);

    /// <summary>Row losses and the gradient of their sum with respect to the logits (dense labels).</summary>
    public static void LossesAndGradient(ReadOnlySpan<double> logits, ReadOnlySpan<double> labels, Span<double> losses, Span<double> gradient, int numClasses, double epsilon)
        => Temp(logits, default, labels, losses, gradient, numClasses, epsilon);

    /// <summary>Single-precision row losses and gradient of their sum, single-threaded (used by the demo's training).</summary>
    public static void LossesAndGradient(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, Span<float> gradient, int numClasses, double epsilon)
    {
        int rows = targets.Length;
        double[] l = new double[logits.Length];
        for (int i = 0; i < l.Length; i++) l[i] = logits[i];
        double[] lo = new double[rows];
        double[] g = new double[logits.Length];
        Temp(l, targets, default, lo, g, numClasses, epsilon);
        for (int i = 0; i < rows; i++) losses[i] = (float)lo[i];
        for (int i = 0; i < g.Length; i++) gradient[i] = (float)g[i];
    }

    private static void Temp(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, ReadOnlySpan<double> labels, Span<double> losses,
        Span<double> gradient, int c, double eps)
    {
        int rows = logits.Length / c;
        double[] buf = new double[c];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> z = logits.Slice(r * c, c);
            double m = double.NegativeInfinity;
            for (int k = 0; k < c; k++) m = Math.Max(m, z[k]);
            double s = 0;
            for (int k = 0; k < c; k++) s += Math.Exp(z[k] - m);
            double lse = m + Math.Log(s);
            for (int k = 0; k < c; k++) buf[k] = Math.Exp(z[k] - lse);
            if (labels.IsEmpty)
            {
                int t = targets[r];
                if ((uint)t >= (uint)c) throw new ArgumentOutOfRangeException(nameof(targets), $"row {r}: target {t}");
                double pt = buf[t];
                losses[r] = (lse - z[t]) + eps * (1 - pt);
                if (!gradient.IsEmpty)
                    for (int k = 0; k < c; k++) gradient[r * c + k] = (buf[k] - (k == t ? 1 : 0)) * (1 + eps * pt);
            }
            else
            {
                ReadOnlySpan<double> y = labels.Slice(r * c, c);
                double ce = 0, poly = 0, sy = 0, syp = 0;
                for (int k = 0; k < c; k++)
                {
                    ce += y[k] * (lse - z[k]);
                    poly += y[k] * (1 - buf[k]);
                    sy += y[k];
                    syp += y[k] * buf[k];
                }
                losses[r] = ce + eps * poly;
                if (!gradient.IsEmpty)
                    for (int k = 0; k < c; k++) gradient[r * c + k] = buf[k] * sy - y[k] + eps * buf[k] * (syp - y[k]);
            }
        }
    }
}
