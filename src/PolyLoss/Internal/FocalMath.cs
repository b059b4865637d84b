using System.Runtime.CompilerServices;

namespace PolyLoss.Internal;

/// <summary>
/// The focal algebra shared by the sigmoid and softmax focal kernels, on top of <see cref="RowMath"/>.
/// For the target class with probability pt, q = 1 - pt (formed without cancellation by the caller),
/// nll = -log pt and weight alpha:
/// <code>
///   F   = alpha nll + eps q                         FL = q^gamma F
///   M   = q^gamma (gamma pt F / q + alpha + eps pt) dFL/dz_t = -q M,  dFL/dz_j = p_j M (j != t)
/// </code>
/// (from dFL/dpt = -q^(gamma-1) (alpha gamma nll + alpha q / pt + eps (gamma + 1) q) and dpt/dz_j = pt (delta_tj - p_j)).
/// q^(gamma-1) never appears on its own, so gamma &lt; 1 and q -&gt; 0 are harmless: F / q tends to alpha + eps.
/// The sigmoid loss of a hard target is the two-class case (logits x and 0).
/// </summary>
internal static class FocalMath
{
    /// <summary>a * b for finite a and a b that may be infinite (a -inf target logit, |x| = inf): the double-double product
    /// would meet 0 * inf in its low part, so an infinite b takes the plain product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TR Mul<TR>(TR a, TR b) where TR : struct, IReal<TR>
    {
        double bd = TR.ToDouble(b);
        return double.IsInfinity(bd) ? TR.From(TR.ToDouble(a) * bd) : a * b;
    }

    /// <summary>alpha * v, with a zero weight giving 0 even for an infinite v (the term is identically zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TR Weighted<TR>(TR alpha, bool unit, TR v) where TR : struct, IReal<TR>
    {
        if (unit) return v;
        return TR.ToDouble(alpha) == 0 ? TR.From(0) : Mul(alpha, v);
    }

    /// <summary>
    /// F = alpha log1p(T) + eps q for the target at the argmax (q = T / (1 + T)). Unit weight: exactly
    /// <see cref="RowMath.TopTerm"/>. Otherwise, for eps &lt; 0 and small T, alpha phi(T) + (alpha + eps) q with
    /// phi(T) = log1p(T) - q &gt;= 0, so the q terms cancel exactly, not in rounded arithmetic.
    /// </summary>
    public static TR TopF<TR>(TR alpha, bool unit, TR t, TR q, TR log1pT, double eps) where TR : struct, IReal<TR>
    {
        if (unit) return RowMath.TopTerm(t, q, log1pT, eps);
        if (eps < 0 && TR.ToDouble(t) <= RowMath.PhiThreshold)
            return Weighted(alpha, false, RowMath.Phi(t)) + (alpha + TR.From(eps)) * q;
        return Weighted(alpha, false, log1pT) + TR.From(eps) * q;
    }

    /// <summary>alpha + eps pt without cancellation for -alpha &lt;= eps &lt; 0: (alpha + eps) + |eps| q.
    /// Unit weight: exactly <see cref="RowMath.OnePlusTimesP"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TR AlphaPlusEpsP<TR>(TR alpha, bool unit, double eps, TR pt, TR q) where TR : struct, IReal<TR>
    {
        TR e = TR.From(eps);
        if (unit) return RowMath.OnePlusTimesP(e, pt, q);
        if (eps < 0 && eps >= -TR.ToDouble(alpha)) return (alpha + e) - e * q;
        return alpha + e * pt;
    }

    /// <summary>The gradient factor M = q^gamma (gamma pt F / q + alpha + eps pt), qPow = q^gamma.</summary>
    public static TR GradFactor<TR>(TR pt, TR q, TR f, TR qPow, TR alpha, bool unit, double eps, double gamma) where TR : struct, IReal<TR>
    {
        TR lin = AlphaPlusEpsP(alpha, unit, eps, pt, q);
        if (gamma == 0) return lin;
        // pt = 0: pt F -> 0 even where F = +inf (a -inf target logit). q = 0: qPow = 0, any finite F / q will do.
        if (TR.ToDouble(pt) != 0)
        {
            TR fq = TR.ToDouble(q) == 0 ? alpha + TR.From(eps) : f / q;
            lin = TR.From(gamma) * pt * fq + lin;
        }
        return qPow * lin;
    }

    /// <summary>q^gamma for 0 &lt;= q &lt;= 1, gamma &gt;= 0, with 0^0 = 1: repeated squaring for integer gamma up to 64,
    /// else exp(gamma log q) (double-double log and exp for <see cref="R128"/>).</summary>
    public static TR Pow<TR>(TR q, double gamma) where TR : struct, IReal<TR>
    {
        if (gamma == 0) return TR.From(1);
        double qd = TR.ToDouble(q);
        if (qd == 0) return TR.From(0);
        if (double.IsNaN(qd)) return q;
        if (gamma <= 64 && gamma == Math.Floor(gamma))
        {
            int n = (int)gamma;
            TR result = TR.From(1), b = q;
            bool first = true;
            while (true)
            {
                if ((n & 1) != 0) { result = first ? b : result * b; first = false; }
                n >>= 1;
                if (n == 0) return result;
                b *= b;
            }
        }
        if (typeof(TR) == typeof(R128))
        {
            R128 r = new(PowDD(Unsafe.As<TR, R128>(ref q).V, gamma));
            return Unsafe.As<R128, TR>(ref r);
        }
        return TR.From(Math.Pow(qd, gamma));
    }

    private static readonly double TwoTo600 = Math.ScaleB(1.0, 600);
    private static readonly double TwoToMinus900 = Math.ScaleB(1.0, -900);
    private static readonly DoubleDouble Ln2 = DoubleDouble.TwoSum(0.6931471805599453, 2.3190468138462996e-17);

    /// <summary>u^g = exp(g log u) in double-double for 0 &lt; u &lt;= 1. Only the absolute error of log u matters here
    /// (it becomes the relative error of the power), and one Newton step from the double log gives about 2^-100.</summary>
    private static DoubleDouble PowDD(DoubleDouble u, double g)
    {
        int k = 0;
        if (u.Hi < TwoToMinus900)
        {
            u = new DoubleDouble(u.Hi * TwoTo600, u.Lo * TwoTo600); // exact scaling
            k = -600;
        }
        double y0 = Math.Log(u.Hi);
        DoubleDouble log = new DoubleDouble(y0, 0) + (u * DoubleDouble.Exp(new DoubleDouble(-y0, 0)) - DoubleDouble.One);
        if (k != 0) log += Ln2 * (double)k;
        return DoubleDouble.Exp(log * g);
    }
}
