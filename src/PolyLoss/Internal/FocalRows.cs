using System.Numerics;
using System.Numerics.Tensors;

namespace PolyLoss.Internal;

/// <summary>The focal parameters of one call.</summary>
internal readonly struct FocalParams(double gamma, double eps, double alpha)
{
    public readonly double Gamma = gamma, Eps = eps;
    /// <summary>Sigmoid alpha, or NaN for none (alpha_t = 1).</summary>
    public readonly double Alpha = alpha;
}

/// <summary>
/// The focal kernels: one sigmoid element and one softmax row, each returning the loss and (optionally) scale * dFL/dz.
/// Both are written with <see cref="RowMath"/> and <see cref="FocalMath"/>; the sigmoid of a hard target is the
/// two-class softmax of logits (x, 0): with a = |x|, T = exp(-a), the larger probability is 1/(1+T), the smaller
/// T/(1+T), and -log of them are log1p(T) and a + log1p(T) (the softplus forms).
/// </summary>
internal static class FocalRows
{
    /// <summary>Sigmoid focal loss of one element (logit x, target t in [0, 1]); writes scale * dFL/dx to <paramref name="grad"/>.</summary>
    public static double Sigmoid<TR>(double x, double t, in FocalParams fp, TR scale, bool wantGrad, out double grad)
        where TR : struct, IReal<TR>
    {
        if (double.IsNaN(x) || double.IsNaN(t))
        {
            grad = double.NaN;
            return double.NaN;
        }
        double gamma = fp.Gamma, eps = fp.Eps;
        bool unit = double.IsNaN(fp.Alpha);
        bool pos = x >= 0;
        double a = Math.Abs(x);
        TR one = TR.From(1);
        TR e = TR.ExpShifted(-a, 0);      // exp(-|x|) (0 at |x| = inf)
        TR s = one + e;
        TR l1 = TR.Log1p(e);              // softplus(-|x|)
        TR big = one / s, small = e / s;  // sigmoid(|x|), sigmoid(-|x|)
        TR spBig = TR.From(a) + l1;       // softplus(|x|) = max(x, 0) + log1p(exp(-|x|)) at |x|

        TR loss, g = default;
        if (t == 0 || t == 1)
        {
            bool tOne = t == 1;
            TR alpha = unit ? one : tOne ? TR.From(fp.Alpha) : one - TR.From(fp.Alpha);
            bool top = tOne == pos; // the target is the likelier side: pt = sigmoid(|x|), q = sigmoid(-|x|)
            TR pt, q, f;
            if (top)
            {
                pt = big;
                q = small;
                // eps >= 0: a sum of non-negative terms as it stands; eps < 0: the cancellation-free top term.
                f = eps >= 0 ? FocalMath.Weighted(alpha, unit, l1) : FocalMath.TopF(alpha, unit, e, q, l1, eps);
                if (eps > 0) f += TR.From(eps) * q;
            }
            else
            {
                pt = small;
                q = big;
                f = FocalMath.Weighted(alpha, unit, spBig);
                if (eps != 0) f += TR.From(eps) * q;
            }
            TR qPow = FocalMath.Pow(q, gamma);
            loss = gamma == 0 ? f : FocalMath.Mul(qPow, f);
            if (wantGrad)
            {
                // dFL/dx is dFL/dz_t = -q M for t = 1 (x is the target's logit) and dFL/dz_j = p_j M = q M for t = 0.
                TR m = FocalMath.GradFactor(pt, q, f, qPow, alpha, unit, eps, gamma) * scale;
                g = tOne ? -(q * m) : q * m;
            }
        }
        else
        {
            // Soft target: CE = t softplus(-x) + (1 - t) softplus(x) = tb log1p(T) + ts (a + log1p(T)),
            // u = 1 - pt = tb small + ts big, where tb is the weight on the likelier side.
            TR tt = TR.From(t), tc = one - tt;
            TR tb = pos ? tt : tc, ts = pos ? tc : tt;
            TR alpha = unit ? one : TR.From(fp.Alpha) * tt + (one - TR.From(fp.Alpha)) * tc;
            TR ce = tb * l1 + FocalMath.Mul(ts, spBig);
            TR u = tb * small + ts * big;
            TR f;
            if (eps == 0) f = FocalMath.Weighted(alpha, unit, ce);
            else if (eps > 0) f = FocalMath.Weighted(alpha, unit, ce) + TR.From(eps) * u;
            else
            {
                // CE - u = tb phi(small) + ts phi(big), phi(v) = -log(1 - v) - v >= 0: the u terms cancel exactly.
                TR phiSmall = RowMath.TopTerm(e, small, l1, -1);
                TR phiBig = spBig - big; // >= log 2 - 1/2 of at most ~1: a few bits at worst
                f = FocalMath.Weighted(alpha, unit, tb * phiSmall + FocalMath.Mul(ts, phiBig)) + (alpha + TR.From(eps)) * u;
            }
            TR uPow = FocalMath.Pow(u, gamma);
            loss = gamma == 0 ? f : FocalMath.Mul(uPow, f);
            if (wantGrad)
            {
                // dFL/dx = u^gamma (gamma (u'/u) F + alpha (p - t) + eps u'), u' = (1 - 2t) p (1 - p).
                TR p = pos ? big : small;
                TR du = (one - TR.From(2 * t)) * small * big;
                TR bracket = FocalMath.Weighted(alpha, unit, p - tt);
                if (eps != 0) bracket += TR.From(eps) * du;
                if (gamma != 0 && TR.ToDouble(du) != 0) bracket = TR.From(gamma) * (du / u) * f + bracket; // du = 0: limit 0 even for F = inf
                g = (gamma == 0 ? bracket : uPow * bracket) * scale;
            }
        }
        grad = wantGrad ? TR.ToDouble(g) : 0;
        return TR.ToDouble(loss);
    }

    /// <summary>Softmax focal loss of one row for integer target t (scalar statistics); writes scale * dFL/dz into
    /// <paramref name="grad"/> when it is not empty. alphaT: the target's class weight, NaN for none.</summary>
    public static double Softmax<TIn, TR>(ReadOnlySpan<TIn> z, int t, double alphaT, double eps, double gamma, Span<TIn> grad, TR scale)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        RowShift shift = RowMath.FindMax(z);
        double zt = double.CreateTruncating(z[t]);
        if (zt == shift.Max) shift = new RowShift(shift.Max, t); // a tied maximum at the target anchors the row there (as Rows.Target)
        TR sum = RowMath.Undefined(shift) ? TR.From(double.NaN) : RowMath.SumExpOthers<TIn, TR>(z, shift);
        double loss = SoftmaxFinish(zt, shift.Max, shift.ArgMax == t, sum, alphaT, eps, gamma, scale, out TR factor, out TR perS, out TR q);
        if (!grad.IsEmpty)
        {
            if (double.IsNaN(loss)) { grad.Fill(TIn.NaN); return loss; }
            double m = shift.Max;
            int a = shift.ArgMax;
            for (int j = 0; j < z.Length; j++)
            {
                // e_a = 1 exactly, also for a +inf max logit (where exp(z_a - m) would be exp(inf - inf)).
                TR g = j == t ? -(q * factor) : j == a ? perS : TR.ExpShifted(double.CreateTruncating(z[j]), m) * perS;
                grad[j] = TIn.CreateTruncating(TR.ToDouble(g));
            }
        }
        return loss;
    }

    /// <summary>The same row with the exponential sum (and the stored exponentials of the gradient) from the SIMD
    /// statistics of <see cref="VRows"/>; rows whose maximum is not finite go to the scalar kernel.</summary>
    public static double SoftmaxV<TIn, TR, TV>(ReadOnlySpan<TIn> z, int t, double alphaT, double eps, double gamma, Span<TIn> grad, TR scale)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TV : struct, IDVec<TV>
    {
        // Powers of 1 - p_t (gamma > 0) amplify the exponential's error: the precise form; gamma = 0 is cross entropy's kernel.
        if (!VRows.Stats<TIn, TR, TV>(z, grad, precise: gamma != 0, out double m, out TR others))
            return Softmax<TIn, TR>(z, t, alphaT, eps, gamma, grad, scale);
        double zt = double.CreateTruncating(z[t]);
        double loss = SoftmaxFinish(zt, m, zt == m, others, alphaT, eps, gamma, scale, out TR factor, out TR perS, out TR q);
        if (!grad.IsEmpty)
        {
            VRows.ScaleStored<TIn, TR, TV>(grad, perS);
            grad[t] = TIn.CreateTruncating(TR.ToDouble(-(q * factor)));
        }
        return loss;
    }

    /// <summary>
    /// The focal loss of a row from its statistics (max m, T = sum of exp(z_k - m) over every class but the anchor, which is
    /// t when z_t = m), the counterpart of <see cref="Rows.TargetFinish"/>. Also returns what the gradient needs:
    /// factor = scale M, perS = factor / S (g_j = e_j perS for j != t) and q = 1 - p_t (g_t = -q factor).
    /// </summary>
    public static double SoftmaxFinish<TR>(double zt, double m, bool targetIsAnchor, TR sum, double alphaT, double eps, double gamma, TR scale,
        out TR factor, out TR perS, out TR q) where TR : struct, IReal<TR>
    {
        if (double.IsNaN(TR.ToDouble(sum)) || double.IsNaN(m) || m == double.NegativeInfinity)
        {
            factor = perS = q = TR.From(double.NaN);
            return double.NaN;
        }
        bool unit = double.IsNaN(alphaT);
        TR one = TR.From(1);
        TR alpha = unit ? one : TR.From(alphaT);
        TR s = one + sum;
        TR log1pT = TR.Log1p(sum);
        TR p, f;
        if (targetIsAnchor)
        {
            q = sum / s;
            p = one / s;
            f = FocalMath.TopF(alpha, unit, sum, q, log1pT, eps);
        }
        else
        {
            p = TR.ExpShifted(zt, m) / s;
            q = one - p; // p <= 1/2 here, so no digits are lost
            f = FocalMath.Weighted(alpha, unit, log1pT + TR.Gap(m, zt)) + TR.From(eps) * q;
        }
        TR qPow = FocalMath.Pow(q, gamma);
        TR loss = gamma == 0 ? f : FocalMath.Mul(qPow, f);
        factor = FocalMath.GradFactor(p, q, f, qPow, alpha, unit, eps, gamma) * scale;
        perS = factor / s;
        return TR.ToDouble(loss);
    }
}
