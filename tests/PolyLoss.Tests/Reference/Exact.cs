namespace PolyLoss.Tests.Reference;

/// <summary>
/// Independent high-precision reference for the PolyLoss family, computed with <see cref="BigFloat"/>
/// (<see cref="BigFloat.Precision"/> = 200 bits) from the exact values of the float/double inputs. It shares no code
/// with the library. Results are <see cref="BigFloat"/>s (round them with ToSingle/ToDouble, or measure with
/// <see cref="UlpError(float, BigFloat)"/>); infinities and NaN are BigFloat special values.
///
/// Special values: a NaN logit, a +inf logit, or a row whose logits are all -inf gives a NaN loss and NaN gradients
/// (IEEE / PyTorch log_softmax behaviour). A -inf logit has p = 0, log p = -inf: with label 0 its CE term is 0, with a
/// positive label the loss is +inf. Gradients are the closed formulas evaluated with those p (finite where the formula is).
///
/// Cancellation-free forms are used throughout: the max logit is subtracted exactly; with T = sum of e^(z_k - max) over
/// the non-argmax entries, log p_k = (z_k - max) - log1p(T) and 1 - p_argmax = T / (1 + T); label sums are exact.
/// </summary>
internal static class Exact
{
    // =============================================================== softmax

    /// <summary>Softmax of one row with accurate log p and 1 - p.</summary>
    internal sealed class SoftmaxRow
    {
        public required BigFloat[] P { get; init; }
        public required BigFloat[] Q { get; init; }      // 1 - p, accurate also when p ~ 1
        public required BigFloat[] LogP { get; init; }
        public bool IsNaN { get; init; }
    }

    internal static SoftmaxRow Softmax(IReadOnlyList<BigFloat> z)
    {
        int c = z.Count;
        var p = new BigFloat[c];
        var q = new BigFloat[c];
        var lp = new BigFloat[c];
        int arg = -1;
        for (int k = 0; k < c; k++)
        {
            if (z[k].IsNaN || z[k].IsPositiveInfinity) { arg = -2; break; }
            if (z[k].IsNegativeInfinity) continue;
            if (arg < 0 || z[k] > z[arg]) arg = k;
        }
        if (arg < 0)
        {
            Array.Fill(p, BigFloat.NaN);
            Array.Fill(q, BigFloat.NaN);
            Array.Fill(lp, BigFloat.NaN);
            return new SoftmaxRow { P = p, Q = q, LogP = lp, IsNaN = true };
        }
        BigFloat m = z[arg];
        var d = new BigFloat[c];
        var e = new BigFloat[c];
        BigFloat t = BigFloat.Zero;
        for (int k = 0; k < c; k++)
        {
            d[k] = BigFloat.SubExact(z[k], m); // exact; -inf stays -inf
            e[k] = k == arg ? BigFloat.One : BigMath.Exp(d[k]);
            if (k != arg) t += e[k];
        }
        BigFloat s = BigFloat.One + t;
        BigFloat logS = BigMath.Log1p(t);
        for (int k = 0; k < c; k++)
        {
            p[k] = e[k] / s;
            lp[k] = d[k].IsNegativeInfinity ? BigFloat.NegativeInfinity : d[k] - logS;
            q[k] = k == arg ? t / s : BigFloat.One - p[k];
        }
        return new SoftmaxRow { P = p, Q = q, LogP = lp };
    }

    // =============================================================== Poly-N cross entropy (dense labels)

    private static BigFloat[] ToBig(ReadOnlySpan<double> x)
    {
        var r = new BigFloat[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = BigFloat.FromDouble(x[i]);
        return r;
    }

    private static BigFloat[] ToBig(ReadOnlySpan<float> x)
    {
        var r = new BigFloat[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = BigFloat.FromSingle(x[i]);
        return r;
    }

    /// <summary>Effective labels y'_k = w_k ((1 - s) y_k + s / C) and the chain factor dy'_k/dy_k = w_k (1 - s).</summary>
    private static BigFloat[] EffectiveLabels(BigFloat[] y, double[]? weights, double labelSmoothing, out BigFloat[] chain)
    {
        int c = y.Length;
        var r = new BigFloat[c];
        chain = new BigFloat[c];
        BigFloat s = labelSmoothing;
        BigFloat oneMinusS = BigFloat.SubExact(BigFloat.One, s);
        BigFloat sOverC = s / c;
        for (int k = 0; k < c; k++)
        {
            BigFloat v = labelSmoothing == 0 ? y[k] : BigFloat.MulExact(oneMinusS, y[k]) + sOverC;
            BigFloat ch = oneMinusS;
            if (weights is not null)
            {
                v = BigFloat.MulExact(v, weights[k]);
                ch = BigFloat.MulExact(ch, weights[k]);
            }
            r[k] = v;
            chain[k] = ch;
        }
        return r;
    }

    private sealed class PolyRow
    {
        public required SoftmaxRow Sm { get; init; }
        public required BigFloat Loss { get; init; }
        public required BigFloat P1 { get; init; }
        public required BigFloat D { get; init; } // d/dP1 of sum_j c_j P1^j
    }

    private static PolyRow PolyCore(IReadOnlyList<BigFloat> z, BigFloat[] y, ReadOnlySpan<double> coefficients)
    {
        if (z.Count != y.Length) throw new ArgumentException("logits and labels lengths differ");
        SoftmaxRow sm = Softmax(z);
        bool nan = sm.IsNaN;
        foreach (BigFloat v in y) nan |= v.IsNaN;
        foreach (double v in coefficients) nan |= double.IsNaN(v);
        if (nan) return new PolyRow { Sm = sm, Loss = BigFloat.NaN, P1 = BigFloat.NaN, D = BigFloat.NaN };
        BigFloat ce = BigFloat.Zero, p1 = BigFloat.Zero;
        for (int k = 0; k < y.Length; k++)
        {
            if (y[k].IsZero) continue;
            ce -= y[k] * sm.LogP[k];
            p1 += y[k] * sm.Q[k];
        }
        BigFloat poly = BigFloat.Zero, d = BigFloat.Zero;
        for (int j = 1; j <= coefficients.Length; j++)
        {
            BigFloat cj = coefficients[j - 1];
            if (cj.IsZero) continue;
            poly += cj * BigFloat.PowInt(p1, j);
            d += BigFloat.MulExact(cj, j) * BigFloat.PowInt(p1, j - 1);
        }
        return new PolyRow { Sm = sm, Loss = ce + poly, P1 = p1, D = d };
    }

    /// <summary>Poly-N row loss L = CE + sum_j c_j P1^j with CE = -sum_k y_k log p_k, P1 = sum_k y_k (1 - p_k).
    /// Poly-1 is a single coefficient (epsilon); an empty array is plain cross entropy.
    /// Optional <paramref name="weights"/> scale the labels (y_k -> w_k y_k), <paramref name="labelSmoothing"/> s
    /// replaces y by (1 - s) y + s / C before the weights.</summary>
    public static BigFloat PolyCrossEntropy(double[] logitsRow, double[] labelsRow, double[] epsilonsOrCoefficients,
        double[]? weights = null, double labelSmoothing = 0)
        => PolyCrossEntropy(ToBig(logitsRow), ToBig(labelsRow), epsilonsOrCoefficients, weights, labelSmoothing);

    public static BigFloat PolyCrossEntropy(float[] logitsRow, float[] labelsRow, double[] epsilonsOrCoefficients,
        double[]? weights = null, double labelSmoothing = 0)
        => PolyCrossEntropy(ToBig(logitsRow), ToBig(labelsRow), epsilonsOrCoefficients, weights, labelSmoothing);

    /// <summary>Integer target t (one-hot label; with smoothing s: (1 - s) onehot + s / C). The row is NOT multiplied by a class
    /// weight: multiply by w[t] yourself (exact: BigFloat.MulExact).</summary>
    public static BigFloat PolyCrossEntropy(double[] logitsRow, int target, double[] epsilonsOrCoefficients, double labelSmoothing = 0)
        => PolyCrossEntropy(ToBig(logitsRow), OneHot(logitsRow.Length, target), epsilonsOrCoefficients, null, labelSmoothing);

    public static BigFloat PolyCrossEntropy(float[] logitsRow, int target, double[] epsilonsOrCoefficients, double labelSmoothing = 0)
        => PolyCrossEntropy(ToBig(logitsRow), OneHot(logitsRow.Length, target), epsilonsOrCoefficients, null, labelSmoothing);

    internal static BigFloat PolyCrossEntropy(IReadOnlyList<BigFloat> z, BigFloat[] y, double[] coefficients,
        double[]? weights = null, double labelSmoothing = 0)
    {
        BigFloat[] ye = EffectiveLabels(y, weights, labelSmoothing, out _);
        return PolyCore(z, ye, coefficients).Loss;
    }

    internal static BigFloat[] OneHot(int c, int t)
    {
        if ((uint)t >= (uint)c) throw new ArgumentOutOfRangeException(nameof(t));
        var y = new BigFloat[c];
        Array.Fill(y, BigFloat.Zero);
        y[t] = BigFloat.One;
        return y;
    }

    /// <summary>Gradient of u * L(row) w.r.t. the logits:
    /// g_j = u [ S p_j - y_j - D p_j (y_j - Pt) ], S = sum y, Pt = sum y_k p_k, D = sum_j j c_j P1^(j-1),
    /// evaluated as u [ p_j (S - y_j) - y_j (1 - p_j) - D p_j ((y_j - S) + P1) ] (no cancellation when p_j ~ 1).</summary>
    public static BigFloat[] PolyCrossEntropyLogitsGradient(double[] logitsRow, double[] labelsRow, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double[]? weights = null, double labelSmoothing = 0)
        => LogitsGradient(ToBig(logitsRow), ToBig(labelsRow), epsilonsOrCoefficients, upstream, weights, labelSmoothing);

    public static BigFloat[] PolyCrossEntropyLogitsGradient(float[] logitsRow, float[] labelsRow, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double[]? weights = null, double labelSmoothing = 0)
        => LogitsGradient(ToBig(logitsRow), ToBig(labelsRow), epsilonsOrCoefficients, upstream, weights, labelSmoothing);

    public static BigFloat[] PolyCrossEntropyLogitsGradient(double[] logitsRow, int target, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double labelSmoothing = 0)
        => LogitsGradient(ToBig(logitsRow), OneHot(logitsRow.Length, target), epsilonsOrCoefficients, upstream, null, labelSmoothing);

    public static BigFloat[] PolyCrossEntropyLogitsGradient(float[] logitsRow, int target, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double labelSmoothing = 0)
        => LogitsGradient(ToBig(logitsRow), OneHot(logitsRow.Length, target), epsilonsOrCoefficients, upstream, null, labelSmoothing);

    internal static BigFloat[] LogitsGradient(IReadOnlyList<BigFloat> z, BigFloat[] y, double[] coefficients, BigFloat upstream,
        double[]? weights = null, double labelSmoothing = 0)
    {
        BigFloat[] ye = EffectiveLabels(y, weights, labelSmoothing, out _);
        return LogitsGradientOf(PolyCore(z, ye, coefficients), ye, upstream);
    }

    private static BigFloat[] LogitsGradientOf(PolyRow row, BigFloat[] ye, BigFloat upstream)
    {
        int c = ye.Length;
        var g = new BigFloat[c];
        if (row.Loss.IsNaN)
        {
            Array.Fill(g, BigFloat.NaN);
            return g;
        }
        BigFloat s = BigFloat.Zero;
        foreach (BigFloat v in ye) s = BigFloat.AddExact(s, v);
        for (int j = 0; j < c; j++)
        {
            BigFloat sMinusY = BigFloat.SubExact(s, ye[j]);
            BigFloat p = row.Sm.P[j];
            BigFloat ceGrad = p * sMinusY - ye[j] * row.Sm.Q[j];
            BigFloat yMinusPt = row.P1 - sMinusY;
            BigFloat polyGrad = row.D.IsZero ? BigFloat.Zero : row.D * p * yMinusPt;
            g[j] = upstream * (ceGrad - polyGrad);
        }
        return g;
    }

    /// <summary>Gradient of u * L w.r.t. the (dense) labels as given: u w_k (1 - s) [ -log p_k + D (1 - p_k) ]
    /// (Poly-1: D = epsilon). A -inf logit with any label gives +inf.</summary>
    public static BigFloat[] PolyCrossEntropyLabelsGradient(double[] logitsRow, double[] labelsRow, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double[]? weights = null, double labelSmoothing = 0)
        => LabelsGradient(ToBig(logitsRow), ToBig(labelsRow), epsilonsOrCoefficients, upstream, weights, labelSmoothing);

    public static BigFloat[] PolyCrossEntropyLabelsGradient(float[] logitsRow, float[] labelsRow, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double[]? weights = null, double labelSmoothing = 0)
        => LabelsGradient(ToBig(logitsRow), ToBig(labelsRow), epsilonsOrCoefficients, upstream, weights, labelSmoothing);

    internal static BigFloat[] LabelsGradient(IReadOnlyList<BigFloat> z, BigFloat[] y, double[] coefficients, BigFloat upstream,
        double[]? weights = null, double labelSmoothing = 0)
    {
        BigFloat[] ye = EffectiveLabels(y, weights, labelSmoothing, out BigFloat[] chain);
        return LabelsGradientOf(PolyCore(z, ye, coefficients), ye, chain, upstream);
    }

    private static BigFloat[] LabelsGradientOf(PolyRow row, BigFloat[] ye, BigFloat[] chain, BigFloat upstream)
    {
        var g = new BigFloat[ye.Length];
        for (int k = 0; k < ye.Length; k++)
        {
            if (row.Loss.IsNaN) { g[k] = BigFloat.NaN; continue; }
            BigFloat v = -row.Sm.LogP[k] + (row.D.IsZero ? BigFloat.Zero : row.D * row.Sm.Q[k]);
            g[k] = upstream * chain[k] * v;
        }
        return g;
    }

    /// <summary>Loss and both gradients of u * L for one row in a single pass (the softmax is computed once).</summary>
    internal sealed record PolyRowResult(BigFloat Loss, BigFloat[] LogitsGradient, BigFloat[] LabelsGradient);

    /// <summary>Row loss (NOT multiplied by u), gradient of u * L w.r.t. the logits and w.r.t. the labels as given.</summary>
    public static PolyRowResult PolyCrossEntropyWithGradients(double[] logitsRow, double[] labelsRow, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double[]? weights = null, double labelSmoothing = 0)
        => WithGradients(ToBig(logitsRow), ToBig(labelsRow), epsilonsOrCoefficients, upstream, weights, labelSmoothing);

    public static PolyRowResult PolyCrossEntropyWithGradients(float[] logitsRow, float[] labelsRow, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double[]? weights = null, double labelSmoothing = 0)
        => WithGradients(ToBig(logitsRow), ToBig(labelsRow), epsilonsOrCoefficients, upstream, weights, labelSmoothing);

    /// <summary>Integer target version (labels gradient w.r.t. the one-hot labels).</summary>
    public static PolyRowResult PolyCrossEntropyWithGradients(double[] logitsRow, int target, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double labelSmoothing = 0)
        => WithGradients(ToBig(logitsRow), OneHot(logitsRow.Length, target), epsilonsOrCoefficients, upstream, null, labelSmoothing);

    public static PolyRowResult PolyCrossEntropyWithGradients(float[] logitsRow, int target, double[] epsilonsOrCoefficients,
        double upstream = 1.0, double labelSmoothing = 0)
        => WithGradients(ToBig(logitsRow), OneHot(logitsRow.Length, target), epsilonsOrCoefficients, upstream, null, labelSmoothing);

    internal static PolyRowResult WithGradients(IReadOnlyList<BigFloat> z, BigFloat[] y, double[] coefficients, BigFloat upstream,
        double[]? weights, double labelSmoothing)
    {
        BigFloat[] ye = EffectiveLabels(y, weights, labelSmoothing, out BigFloat[] chain);
        PolyRow row = PolyCore(z, ye, coefficients);
        return new PolyRowResult(row.Loss, LogitsGradientOf(row, ye, upstream), LabelsGradientOf(row, ye, chain, upstream));
    }

    // =============================================================== focal losses

    /// <summary>q^gamma with q^0 = 1 (also for q = 0) and 0^gamma = 0 for gamma &gt; 0.</summary>
    internal static BigFloat PowGamma(BigFloat q, BigFloat gamma)
    {
        if (gamma.IsZero) return BigFloat.One;
        if (q.IsZero) return gamma.Sign > 0 ? BigFloat.Zero : BigFloat.PositiveInfinity;
        return BigFloat.Pow(q, gamma);
    }

    /// <summary>Sigmoid pieces: p = sigmoid(x), 1 - p, log p, log(1 - p), all accurate (no cancellation).</summary>
    internal static (BigFloat P, BigFloat Q, BigFloat LogP, BigFloat LogQ) Sigmoid(BigFloat x)
    {
        if (x.IsNaN) return (BigFloat.NaN, BigFloat.NaN, BigFloat.NaN, BigFloat.NaN);
        if (x.IsPositiveInfinity) return (BigFloat.One, BigFloat.Zero, BigFloat.Zero, BigFloat.NegativeInfinity);
        if (x.IsNegativeInfinity) return (BigFloat.Zero, BigFloat.One, BigFloat.NegativeInfinity, BigFloat.Zero);
        BigFloat ax = BigFloat.Abs(x);
        BigFloat e = BigMath.Exp(-ax);          // in (0, 1]
        BigFloat onePlus = BigFloat.One + e;
        BigFloat big = BigFloat.One / onePlus;  // sigmoid(|x|)
        BigFloat small = e / onePlus;           // sigmoid(-|x|)
        BigFloat l1 = BigMath.Log1p(e);
        BigFloat logBig = -l1;                  // log sigmoid(|x|)
        BigFloat logSmall = -ax - l1;           // log sigmoid(-|x|)
        return x.Sign >= 0 ? (big, small, logBig, logSmall) : (small, big, logSmall, logBig);
    }

    /// <summary>Sigmoid Poly-1 focal loss of one element: p = sigmoid(x), pt = t p + (1 - t)(1 - p),
    /// CE = -(t log p + (1 - t) log(1 - p)), alpha_t = alpha t + (1 - alpha)(1 - t) (1 when alpha is null),
    /// FL = alpha_t (1 - pt)^gamma CE + eps (1 - pt)^(gamma + 1).</summary>
    public static BigFloat SigmoidFocal(double logit, double target, double gamma, double epsilon, double? alpha = null)
        => SigmoidFocalCore(logit, target, gamma, epsilon, alpha).Loss;

    /// <summary>d/dx of u * FL (analytic; verified against high-precision differences in the self-tests).</summary>
    public static BigFloat SigmoidFocalGradient(double logit, double target, double gamma, double epsilon, double? alpha = null, double upstream = 1.0)
        => SigmoidFocalCore(logit, target, gamma, epsilon, alpha).Grad * upstream;

    internal static (BigFloat Loss, BigFloat Grad) SigmoidFocalCore(BigFloat x, BigFloat t, BigFloat gamma, BigFloat eps, double? alpha)
    {
        if (x.IsNaN || t.IsNaN || gamma.IsNaN || eps.IsNaN || (alpha is double a0 && double.IsNaN(a0)))
            return (BigFloat.NaN, BigFloat.NaN);
        var (p, q, logP, logQ) = Sigmoid(x);
        BigFloat oneMinusT = BigFloat.SubExact(BigFloat.One, t);
        // 1 - pt = t (1 - p) + (1 - t) p  (both terms >= 0 for t in [0, 1])
        BigFloat qt = t * q + oneMinusT * p;
        BigFloat ce = -(Times(t, logP) + Times(oneMinusT, logQ));
        BigFloat alphaT = BigFloat.One;
        if (alpha is double al)
        {
            BigFloat ab = al;
            alphaT = BigFloat.MulExact(ab, t) + BigFloat.MulExact(BigFloat.SubExact(BigFloat.One, ab), oneMinusT);
        }
        BigFloat qg = PowGamma(qt, gamma);
        BigFloat loss = alphaT * qg * ce + (eps.IsZero ? BigFloat.Zero : eps * qg * qt);
        // derivative: dp/dx = p q, dqt/dx = -(2t - 1) p q, dCE/dx = p - t
        BigFloat dq = -(BigFloat.SubExact(t, oneMinusT) * p * q);
        BigFloat dCe = t.IsZero ? p : t == BigFloat.One ? -q : p - t;
        // gamma q^(gamma-1) dq = q^gamma * gamma * dq / q (limit 0 when q = 0)
        BigFloat focalTerm = gamma.IsZero || qt.IsZero ? BigFloat.Zero : qg * gamma * dq / qt;
        BigFloat grad = alphaT * (focalTerm * ce + qg * dCe)
                        + (eps.IsZero ? BigFloat.Zero : eps * (gamma + BigFloat.One) * qg * dq);
        return (loss, grad);
    }

    // a * b with 0 * (-inf) = 0 (a zero label weight removes the term)
    private static BigFloat Times(BigFloat a, BigFloat b) => a.IsZero ? BigFloat.Zero : a * b;

    /// <summary>Softmax Poly-1 focal loss of one row with integer target t: pt = p_t,
    /// FL = alpha[t] * ( -(1 - pt)^gamma log pt + eps (1 - pt)^(gamma + 1) ) (alpha null: factor 1).</summary>
    public static BigFloat SoftmaxFocal(double[] logitsRow, int target, double gamma, double epsilon, double[]? alpha = null)
        => SoftmaxFocalCore(ToBig(logitsRow), target, gamma, epsilon, alpha).Loss;

    public static BigFloat SoftmaxFocal(float[] logitsRow, int target, double gamma, double epsilon, double[]? alpha = null)
        => SoftmaxFocalCore(ToBig(logitsRow), target, gamma, epsilon, alpha).Loss;

    /// <summary>Gradient of u * FL w.r.t. the logits (analytic, verified by high-precision differences):
    /// g_j = u alpha[t] (delta_tj - p_j) [ gamma (1-pt)^(gamma-1) pt log pt - (1-pt)^gamma - eps (gamma+1) (1-pt)^gamma pt ].</summary>
    public static BigFloat[] SoftmaxFocalGradient(double[] logitsRow, int target, double gamma, double epsilon, double[]? alpha = null, double upstream = 1.0)
        => Scale(SoftmaxFocalCore(ToBig(logitsRow), target, gamma, epsilon, alpha).Grad, upstream);

    public static BigFloat[] SoftmaxFocalGradient(float[] logitsRow, int target, double gamma, double epsilon, double[]? alpha = null, double upstream = 1.0)
        => Scale(SoftmaxFocalCore(ToBig(logitsRow), target, gamma, epsilon, alpha).Grad, upstream);

    private static BigFloat[] Scale(BigFloat[] g, BigFloat u)
    {
        for (int i = 0; i < g.Length; i++) g[i] *= u;
        return g;
    }

    internal static (BigFloat Loss, BigFloat[] Grad) SoftmaxFocalCore(IReadOnlyList<BigFloat> z, int target, BigFloat gamma, BigFloat eps, double[]? alpha)
    {
        int c = z.Count;
        if ((uint)target >= (uint)c) throw new ArgumentOutOfRangeException(nameof(target));
        SoftmaxRow sm = Softmax(z);
        var g = new BigFloat[c];
        if (sm.IsNaN || gamma.IsNaN || eps.IsNaN)
        {
            Array.Fill(g, BigFloat.NaN);
            return (BigFloat.NaN, g);
        }
        BigFloat at = alpha is null ? BigFloat.One : alpha[target];
        BigFloat pt = sm.P[target], q = sm.Q[target], lp = sm.LogP[target];
        BigFloat qg = PowGamma(q, gamma);
        BigFloat loss = at * (-(qg * lp) + (eps.IsZero ? BigFloat.Zero : eps * qg * q));
        // bracket = gamma q^(gamma-1) pt log pt - q^gamma - eps (gamma+1) q^gamma pt; q^(gamma-1) log pt -> q^gamma (log pt / q)
        BigFloat focal = gamma.IsZero || q.IsZero ? BigFloat.Zero : gamma * qg * pt * (lp / q);
        BigFloat bracket = focal - qg - (eps.IsZero ? BigFloat.Zero : eps * (gamma + BigFloat.One) * qg * pt);
        for (int j = 0; j < c; j++)
        {
            BigFloat delta = j == target ? q : -sm.P[j];
            g[j] = at * delta * bracket;
        }
        return (loss, g);
    }

    // =============================================================== numerical differentiation (self-tests)

    /// <summary>Symmetric difference (f(x + h e_j) - f(x - h e_j)) / 2h in exact-input big arithmetic.</summary>
    internal static BigFloat[] NumericalGradient(Func<BigFloat[], BigFloat> f, BigFloat[] x, BigFloat h)
    {
        var g = new BigFloat[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            var xp = (BigFloat[])x.Clone();
            var xm = (BigFloat[])x.Clone();
            xp[j] = BigFloat.AddExact(x[j], h);
            xm[j] = BigFloat.SubExact(x[j], h);
            g[j] = (f(xp) - f(xm)) / BigFloat.ScaleB(h, 1);
        }
        return g;
    }

    // =============================================================== ulp measurements

    /// <summary>ulp of a float: 2^(max(floor(log2|x|), -126) - 23); ulp(0) = 2^-149 (the smallest subnormal);
    /// ulp(±inf/NaN) = NaN.</summary>
    public static double Ulp(float x)
    {
        if (!float.IsFinite(x)) return double.NaN;
        if (x == 0) return Math.ScaleB(1.0, -149);
        int e = Math.ILogB(Math.Abs((double)x));
        return Math.ScaleB(1.0, Math.Max(e, -126) - 23);
    }

    /// <summary>ulp of a double: 2^(max(floor(log2|x|), -1022) - 52); ulp(0) = 2^-1074.</summary>
    public static double Ulp(double x)
    {
        if (!double.IsFinite(x)) return double.NaN;
        if (x == 0) return double.Epsilon;
        int e = Math.ILogB(Math.Abs(x));
        return Math.ScaleB(1.0, Math.Max(e, -1022) - 52);
    }

    /// <summary>|computed - exact| / ulp(r) with r = exact correctly rounded to float (ulp(0) = 2^-149).
    /// NaN vs NaN and equal infinities give 0; any other NaN/infinity mismatch gives +inf (an exact value that
    /// overflows to ±inf in float matches a computed infinity of that sign).</summary>
    public static double UlpError(float computed, BigFloat exact) => UlpErrorRelativeTo(computed, exact, exact.ToSingle());

    /// <summary>|computed - exact| / ulp(r) with r = exact correctly rounded to double (ulp(0) = 2^-1074); special values as for float.</summary>
    public static double UlpError(double computed, BigFloat exact) => UlpErrorRelativeTo(computed, exact, exact.ToDouble());

    /// <summary>|computed - exact| in units of ulp(scale) (float ulp; scale 0 → 2^-149), e.g. scale = the row's largest
    /// |gradient|. Special values as in <see cref="UlpError(float, BigFloat)"/>.</summary>
    public static double UlpErrorRelativeTo(float computed, BigFloat exact, float scale)
    {
        if (SpecialError(computed, exact, exact.ToSingle(), out double err)) return err;
        if (!float.IsFinite(scale)) return double.NaN;
        return AbsDiff(computed, exact, Ulp(scale));
    }

    /// <summary>|computed - exact| in units of ulp(scale) (double ulp; scale 0 → 2^-1074).</summary>
    public static double UlpErrorRelativeTo(double computed, BigFloat exact, double scale)
    {
        if (SpecialError(computed, exact, exact.ToDouble(), out double err)) return err;
        if (!double.IsFinite(scale)) return double.NaN;
        return AbsDiff(computed, exact, Ulp(scale));
    }

    private static bool SpecialError(double computed, BigFloat exact, double rounded, out double err)
    {
        err = 0;
        if (exact.IsNaN || double.IsNaN(computed))
        {
            err = exact.IsNaN && double.IsNaN(computed) ? 0 : double.PositiveInfinity;
            return true;
        }
        if (double.IsInfinity(rounded) || double.IsInfinity(computed))
        {
            err = rounded == computed ? 0 : double.PositiveInfinity;
            return true;
        }
        return false;
    }

    private static double AbsDiff(double computed, BigFloat exact, double ulp)
    {
        BigFloat diff = BigFloat.Abs(BigFloat.SubExact(computed, exact));
        return (diff / BigFloat.FromDouble(ulp)).ToDouble();
    }

    /// <summary>Largest <see cref="UlpError(float, BigFloat)"/> over a row.</summary>
    public static double MaxUlpError(ReadOnlySpan<float> computed, IReadOnlyList<BigFloat> exact)
    {
        if (computed.Length != exact.Count) throw new ArgumentException("length mismatch");
        double m = 0;
        for (int i = 0; i < computed.Length; i++) m = Math.Max(m, UlpError(computed[i], exact[i]));
        return m;
    }

    public static double MaxUlpError(ReadOnlySpan<double> computed, IReadOnlyList<BigFloat> exact)
    {
        if (computed.Length != exact.Count) throw new ArgumentException("length mismatch");
        double m = 0;
        for (int i = 0; i < computed.Length; i++) m = Math.Max(m, UlpError(computed[i], exact[i]));
        return m;
    }

    /// <summary>Largest |computed_i - exact_i| in float ulps of the row's largest |exact_i| (rounded to float).</summary>
    public static double MaxUlpErrorRelativeToRowMax(ReadOnlySpan<float> computed, IReadOnlyList<BigFloat> exact)
    {
        if (computed.Length != exact.Count) throw new ArgumentException("length mismatch");
        float scale = MaxAbs(exact).ToSingle();
        double m = 0;
        for (int i = 0; i < computed.Length; i++) m = Math.Max(m, UlpErrorRelativeTo(computed[i], exact[i], scale));
        return m;
    }

    /// <summary>Largest |computed_i - exact_i| in double ulps of the row's largest |exact_i| (rounded to double).</summary>
    public static double MaxUlpErrorRelativeToRowMax(ReadOnlySpan<double> computed, IReadOnlyList<BigFloat> exact)
    {
        if (computed.Length != exact.Count) throw new ArgumentException("length mismatch");
        double scale = MaxAbs(exact).ToDouble();
        double m = 0;
        for (int i = 0; i < computed.Length; i++) m = Math.Max(m, UlpErrorRelativeTo(computed[i], exact[i], scale));
        return m;
    }

    public static float[] ToSingle(IReadOnlyList<BigFloat> xs) => [.. xs.Select(x => x.ToSingle())];

    public static double[] ToDouble(IReadOnlyList<BigFloat> xs) => [.. xs.Select(x => x.ToDouble())];

    /// <summary>The largest |x_i| (as the given type's value): convenient scale for <c>UlpErrorRelativeTo</c>.</summary>
    public static BigFloat MaxAbs(IEnumerable<BigFloat> xs)
    {
        BigFloat m = BigFloat.Zero;
        foreach (BigFloat x in xs)
            if (!x.IsNaN && BigFloat.Abs(x) > m) m = BigFloat.Abs(x);
        return m;
    }
}
