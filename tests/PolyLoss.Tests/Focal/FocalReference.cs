namespace PolyLoss.Tests.Focal;

/// <summary>
/// Exact (about 400-bit) references for the focal losses, written from the definitions with <see cref="Hp"/>; gradients
/// analytically, themselves checked against central finite differences of the loss references with a tiny step
/// (truncation ~h^2, far below float64 ulps) wherever the step can resolve them.
/// The only rewriting is CE = u + [t phi(1 - p) + (1 - t) phi(p)] with the phi series for small arguments, an identity
/// that keeps eps = -1 at u = exp(-10000) meaningful even at 400 bits.
/// </summary>
internal static class FocalReference
{
    private static Hp Sigmoid(Hp y) => Hp.One / (Hp.One + Hp.Exp(-y));

    /// <summary>p, 1 - p, u = 1 - pt, alpha_t and F = alpha_t CE + eps u = alpha_t (u + phis) + eps u.</summary>
    private static (Hp P, Hp Pm, Hp U, Hp At, Hp F) SigmoidParts(Hp x, double t, double? alpha, double eps)
    {
        Hp p = Sigmoid(x), pm = Sigmoid(-x); // p and 1 - p, both without subtraction
        Hp tt = t, tc = Hp.One - tt;
        Hp u = tt * pm + tc * p;
        // -log p = log1p(exp(-x)), -log(1 - p) = log1p(exp(x)); CE - u = t phi(1 - p) + (1 - t) phi(p).
        Hp phis = Hp.Zero;
        if (t != 0) phis += tt * Hp.Phi(pm, Hp.Log1p(Hp.Exp(-x)));
        if (t != 1) phis += tc * Hp.Phi(p, Hp.Log1p(Hp.Exp(x)));
        Hp at = alpha is { } a ? (Hp)a * tt + (Hp.One - a) * tc : Hp.One;
        return (p, pm, u, at, at * phis + (at + eps) * u);
    }

    /// <summary>Sigmoid focal loss at logit x, target t in [0, 1].</summary>
    public static Hp Sigmoid(Hp x, double t, double gamma, double? alpha, double eps)
    {
        var (_, _, u, _, f) = SigmoidParts(x, t, alpha, eps);
        return Hp.Pow(u, gamma) * f;
    }

    /// <summary>d/dx of the sigmoid focal loss, analytically:
    /// u^gamma (alpha_t CE' + eps u') + gamma u^(gamma - 1) u' F, u' = (1 - 2t) p (1 - p), CE' = (1 - t) p - t (1 - p).
    /// For t = 1 the first bracket is -(1 - p)(alpha_t + eps p), for t = 0 it is p (alpha_t + eps (1 - p)), with
    /// alpha_t + eps v written (alpha_t + eps) - eps (1 - v) when v &gt; 1/2: the same value without a cancellation that even
    /// 400 bits cannot absorb at |x| = 700.
    /// Checked against <see cref="SigmoidGradFd"/> wherever finite differences can resolve it.</summary>
    public static Hp SigmoidGrad(Hp x, double t, double gamma, double? alpha, double eps)
    {
        var (p, pm, u, at, f) = SigmoidParts(x, t, alpha, eps);
        Hp tt = t, tc = Hp.One - tt;
        Hp du = (Hp.One - Hp.Ldexp(tt, 1)) * p * pm;
        Hp half = new(1, -1);
        Hp lin = t == 1 ? -pm * (p <= half ? at + (Hp)eps * p : (at + eps) - (Hp)eps * pm)
            : t == 0 ? p * (pm <= half ? at + (Hp)eps * pm : (at + eps) - (Hp)eps * p)
            : at * (tc * p - tt * pm) + (Hp)eps * du;
        Hp up = Hp.Pow(u, gamma);
        Hp g = up * lin;
        if (gamma != 0) g += (Hp)gamma * (up / u) * du * f;
        return g;
    }

    /// <summary>d/dx of <see cref="Sigmoid(Hp, double, double, double?, double)"/> by central differences.</summary>
    public static Hp SigmoidGradFd(Hp x, double t, double gamma, double? alpha, double eps)
    {
        Hp h = Step(x);
        return (Sigmoid(x + h, t, gamma, alpha, eps) - Sigmoid(x - h, t, gamma, alpha, eps)) / Hp.Ldexp(h, 1);
    }

    /// <summary>Binary cross entropy t log1p(exp(-x)) + (1 - t) log1p(exp(x)).</summary>
    public static Hp Bce(Hp x, double t)
    {
        Hp ce = Hp.Zero;
        if (t != 0) ce += (Hp)t * Hp.Log1p(Hp.Exp(-x));
        if (t != 1) ce += (Hp.One - t) * Hp.Log1p(Hp.Exp(x));
        return ce;
    }

    /// <summary>Softmax focal loss of one row with target t: FL = alpha (1 - pt)^gamma (-log pt) + eps (1 - pt)^(gamma + 1).</summary>
    public static Hp Softmax(Hp[] z, int t, double gamma, double alpha, double eps)
    {
        Hp others = Hp.Zero;
        for (int j = 0; j < z.Length; j++)
            if (j != t) others += Hp.Exp(z[j] - z[t]);
        Hp q = others / (Hp.One + others);
        Hp nll = Hp.Log1p(others);
        Hp f = (Hp)alpha * Hp.Phi(q, nll) + ((Hp)alpha + eps) * q;
        return Hp.Pow(q, gamma) * f;
    }

    /// <summary>d/dz_j of the softmax focal loss, analytically: dFL/dpt pt (delta_tj - p_j), with
    /// dFL/dpt = -(alpha gamma q^(gamma - 1) nll + alpha q^gamma / pt + eps (gamma + 1) q^gamma).
    /// Checked against <see cref="SoftmaxGradFd"/> wherever finite differences can resolve it.</summary>
    public static Hp SoftmaxGrad(Hp[] z, int t, int j, double gamma, double alpha, double eps)
    {
        Hp others = Hp.Zero;
        for (int k = 0; k < z.Length; k++)
            if (k != t) others += Hp.Exp(z[k] - z[t]);
        Hp pt = Hp.One / (Hp.One + others);
        Hp q = others * pt;
        Hp nll = Hp.Log1p(others);
        Hp qg = Hp.Pow(q, gamma);
        // -dFL/dpt * pt = q^gamma (alpha q + (gamma + 1)(alpha + eps) pt + alpha gamma pt phi(q) / q), using nll = q + phi(q)
        // (the plain form cancels to O(q) for eps = -alpha).
        Hp minus = qg * ((Hp)alpha * q + ((Hp)alpha + eps) * (gamma + 1) * pt);
        if (gamma != 0) minus += (Hp)alpha * (Hp)gamma * (qg / q) * Hp.Phi(q, nll) * pt;
        return j == t ? -(minus * q) : minus * Hp.Exp(z[j] - z[t]) * pt;
    }

    /// <summary>d/dz_j of the softmax focal loss by central differences.</summary>
    public static Hp SoftmaxGradFd(Hp[] z, int t, int j, double gamma, double alpha, double eps)
    {
        Hp h = Step(z[j]);
        Hp[] zp = (Hp[])z.Clone(), zm = (Hp[])z.Clone();
        zp[j] = z[j] + h;
        zm[j] = z[j] - h;
        return (Softmax(zp, t, gamma, alpha, eps) - Softmax(zm, t, gamma, alpha, eps)) / Hp.Ldexp(h, 1);
    }

    /// <summary>True when the finite difference resolves the derivative (the loss's digits reach ~150 bits below
    /// the change over the step) and agrees with the analytic value to 2^-80 relative.</summary>
    public static bool? FdAgrees(Hp analytic, Hp fd, Hp loss, Hp step)
    {
        Hp change = Hp.Abs(analytic) * step;
        if (analytic.IsZero || (!loss.IsZero && change.Exponent < loss.Exponent - (Hp.Bits - 150))) return null;
        Hp diff = Hp.Abs(analytic - fd);
        return diff.IsZero || diff.Exponent < Hp.Abs(analytic).Exponent - 80;
    }

    /// <summary>2^-100 relative to max(1, |x|): truncation error ~2^-200, rounding ~2^-300.</summary>
    public static Hp Step(Hp x)
    {
        long e = x.IsZero ? 0 : Math.Max(0, x.Exponent);
        return Hp.Ldexp(Hp.One, e - 100);
    }

    public static Hp[] ToHp(ReadOnlySpan<double> z)
    {
        var r = new Hp[z.Length];
        for (int i = 0; i < z.Length; i++) r[i] = z[i];
        return r;
    }
}
