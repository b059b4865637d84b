using System.Numerics;
using System.Runtime.CompilerServices;

namespace PolyLoss.Internal;

/// <summary>Where a row's softmax is anchored: its maximum logit and the first index holding it.</summary>
internal readonly struct RowShift(double max, int argMax)
{
    public readonly double Max = max;
    public readonly int ArgMax = argMax;
}

/// <summary>
/// The row machinery every loss and gradient shares: max, the exponential sum without the top class, log-sum-exp
/// in the form log1p(T), and the cancellation-free pieces built from them.
/// Notation: m = max_k z_k, a = first argmax, e_k = exp(z_k - m) (so e_a = 1), T = sum_{k != a} e_k, S = 1 + T,
/// p_k = e_k / S, q = 1 - p_a = T / S.
/// </summary>
internal static class RowMath
{
    /// <summary>Largest logit and its first index. A NaN first element makes the max NaN; a later NaN reaches
    /// the exponential sum instead; either way the row comes out NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RowShift FindMax<TIn>(ReadOnlySpan<TIn> z) where TIn : unmanaged, INumberBase<TIn>
    {
        double m = double.CreateTruncating(z[0]);
        int a = 0;
        for (int k = 1; k < z.Length; k++)
        {
            double v = double.CreateTruncating(z[k]);
            if (v > m) { m = v; a = k; }
        }
        return new RowShift(m, a);
    }

    /// <summary>T = sum over k != a of exp(z_k - m).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TR SumExpOthers<TIn, TR>(ReadOnlySpan<TIn> z, RowShift shift)
        where TIn : unmanaged, INumberBase<TIn> where TR : struct, IReal<TR>
    {
        TR t = TR.From(0);
        double m = shift.Max;
        int a = shift.ArgMax;
        for (int k = 0; k < a; k++) t += TR.ExpShifted(double.CreateTruncating(z[k]), m);
        for (int k = a + 1; k < z.Length; k++) t += TR.ExpShifted(double.CreateTruncating(z[k]), m);
        return t;
    }

    /// <summary>True when the row's softmax is undefined: a NaN max, or every logit -inf.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Undefined(RowShift shift) => double.IsNaN(shift.Max) || shift.Max == double.NegativeInfinity;

    /// <summary>
    /// phi(T) = -log(1 - q) - q = log1p(T) - T/(1+T), by the all-positive series
    /// phi = 2 s^2 / (1 + s) + 2 (s^3/3 + s^5/5 + ...), s = T / (2 + T). Used for small T only.
    /// </summary>
    public static TR Phi<TR>(TR t) where TR : struct, IReal<TR>
    {
        TR s = t / (t + TR.From(2));
        TR s2 = s * s;
        TR head = TR.From(2) * s2 / (TR.From(1) + s);
        TR sum = TR.From(0), pow = s;
        for (int n = 3; n < 200; n += 2)
        {
            pow *= s2;
            TR term = pow / TR.From(n);
            sum += term;
            if (TR.ToDouble(term) <= TR.ToDouble(head) * TR.Epsilon) break;
        }
        return head + TR.From(2) * sum;
    }

    /// <summary>Below this T the true-class term is built from <see cref="Phi"/>: above it the direct form loses at most 7 bits.</summary>
    public const double PhiThreshold = 2.0 / 63.0; // s <= 1/64

    /// <summary>
    /// The argmax class's term -log p_a + eps (1 - p_a) = log1p(T) + eps q. For eps &gt;= -1 and a confident row it is
    /// phi(T) + (1 + eps) q, a sum of non-negative parts, so eps = -1 keeps its digits.
    /// </summary>
    public static TR TopTerm<TR>(TR t, TR q, TR log1pT, double eps) where TR : struct, IReal<TR>
    {
        if (eps >= -1 && TR.ToDouble(t) <= PhiThreshold)
            return Phi(t) + TR.From(1 + eps) * q;
        return log1pT + TR.From(eps) * q;
    }

    /// <summary>Poly-N tail sum_{j&gt;=2} c_j P^j (coefficients c[0] = eps_1, c[1] = eps_2, ...).</summary>
    public static TR PolyTail<TR>(TR p, ReadOnlySpan<double> c) where TR : struct, IReal<TR>
    {
        TR sum = TR.From(0), pow = p;
        for (int j = 1; j < c.Length; j++)
        {
            pow *= p;
            if (c[j] != 0) sum += TR.From(c[j]) * pow;
        }
        return sum;
    }

    /// <summary>Derivative of sum_j c_j P^j with respect to P: sum_j j c_j P^(j-1).</summary>
    public static TR PolySlope<TR>(TR p, ReadOnlySpan<double> c) where TR : struct, IReal<TR>
    {
        TR sum = TR.From(c[0]), pow = TR.From(1);
        for (int j = 1; j < c.Length; j++)
        {
            pow *= p;
            if (c[j] != 0) sum += TR.From((j + 1) * c[j]) * pow;
        }
        return sum;
    }

    /// <summary>1 + e p_t without cancellation, given q = 1 - p_t. For -1 &lt;= e &lt; 0 it is (1 + e) + |e| q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TR OnePlusTimesP<TR>(TR e, TR p, TR q) where TR : struct, IReal<TR>
    {
        double ed = TR.ToDouble(e);
        if (ed >= 0 || ed < -1) return TR.From(1) + e * p;
        return (TR.From(1) + e) - e * q;
    }
}
