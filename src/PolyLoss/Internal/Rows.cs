using System.Numerics;
using System.Runtime.CompilerServices;

namespace PolyLoss.Internal;

/// <summary>A row's (effective) label distribution, read by class index.</summary>
internal interface ILabelRow
{
    /// <summary>Effective label of class k (class weights already applied).</summary>
    double this[int k] { get; }
}

/// <summary>Dense labels, optionally scaled by per-class weights.</summary>
internal readonly ref struct DenseLabels<TIn>(ReadOnlySpan<TIn> labels, ReadOnlySpan<double> weights, double smoothing, int numClasses) : ILabelRow
    where TIn : unmanaged, INumberBase<TIn>
{
    private readonly ReadOnlySpan<TIn> _y = labels;
    private readonly ReadOnlySpan<double> _w = weights;
    private readonly double _keep = 1 - smoothing, _add = smoothing / numClasses;
    private readonly bool _smooth = smoothing != 0;

    public double this[int k]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            double y = double.CreateTruncating(_y[k]);
            if (_smooth) y = _keep * y + _add;
            return _w.IsEmpty ? y : _w[k] * y;
        }
    }
}

/// <summary>Integer target t with label smoothing s over C classes: y_k = s/C + (1 - s)[k == t], optionally weighted.</summary>
internal readonly ref struct SmoothedTarget(int target, double smoothing, int numClasses, ReadOnlySpan<double> weights) : ILabelRow
{
    private readonly int _t = target;
    private readonly double _off = smoothing / numClasses;
    private readonly double _on = (1 - smoothing) + smoothing / numClasses;
    private readonly ReadOnlySpan<double> _w = weights;

    public double this[int k]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            double y = k == _t ? _on : _off;
            return _w.IsEmpty ? y : _w[k] * y;
        }
    }
}

/// <summary>
/// Row kernels: the loss of one row and, when asked, its gradient, all built on <see cref="RowMath"/>.
/// Formulas (Poly-N with coefficients c, Poly-1 when c = [eps]); P1 = sum_k y_k (1 - p_k), E = f'(P1):
///   L   = sum_k y_k (-log p_k) + sum_j c_j P1^j
///   dL/dz_j = p_j (S_y + E Pt) - y_j (1 + E p_j),  S_y = sum y, Pt = sum_k y_k p_k
///   dL/dy_k = -log p_k + E (1 - p_k)
/// </summary>
internal static class Rows
{
    /// <summary>Integer target t (one-hot label). Writes scale * dL/dz into <paramref name="grad"/> when it is not empty.</summary>
    public static double Target<TIn, TR>(ReadOnlySpan<TIn> z, int t, ReadOnlySpan<double> c, Span<TIn> grad, double scale)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        RowShift shift = RowMath.FindMax(z);
        double zt = double.CreateTruncating(z[t]);
        if (zt == shift.Max) shift = new RowShift(shift.Max, t); // a tied maximum at the target anchors the row there
        TR sum = RowMath.Undefined(shift) ? TR.From(double.NaN) : RowMath.SumExpOthers<TIn, TR>(z, shift);
        double loss = TargetFinish(zt, shift.Max, shift.ArgMax == t, sum, c, scale, out TR factor, out TR perS, out TR q);
        if (!grad.IsEmpty)
        {
            if (double.IsNaN(loss)) { grad.Fill(TIn.NaN); return loss; }
            double m = shift.Max;
            for (int j = 0; j < z.Length; j++)
            {
                double zj = double.CreateTruncating(z[j]);
                // zj == m: e = 1 exactly (also at an infinite maximum, where zj - m would be NaN).
                TR g = j == t ? -(q * factor) : (zj == m ? perS : TR.ExpShifted(zj, m) * perS);
                grad[j] = TIn.CreateTruncating(TR.ToDouble(g));
            }
        }
        return loss;
    }

    /// <summary>
    /// The integer-target loss from the row statistics (max m, T = sum of exp(z_k - m) over k other than the anchor,
    /// which is t when z_t = m). Also returns what the gradient needs: factor = scale (1 + E p_t), perS = factor / S
    /// (so g_j = e_j perS for j != t) and q = 1 - p_t (g_t = -q factor).
    /// </summary>
    public static double TargetFinish<TR>(double zt, double m, bool targetIsAnchor, TR sum, ReadOnlySpan<double> c, double scale,
        out TR factor, out TR perS, out TR q) where TR : struct, IReal<TR>
    {
        if (double.IsNaN(TR.ToDouble(sum)) || double.IsNaN(m) || m == double.NegativeInfinity)
        {
            factor = perS = q = TR.From(double.NaN);
            return double.NaN;
        }
        TR one = TR.From(1);
        TR s = one + sum;
        TR log1pT = TR.Log1p(sum);
        TR p, loss;
        if (targetIsAnchor)
        {
            q = sum / s;
            p = one / s;
            loss = RowMath.TopTerm(sum, q, log1pT, c[0]);
        }
        else
        {
            p = TR.ExpShifted(zt, m) / s;
            q = one - p; // p <= 1/2 here, so no digits are lost
            loss = log1pT + TR.Gap(m, zt) + TR.From(c[0]) * q;
        }
        if (c.Length > 1) loss += RowMath.PolyTail(q, c);
        TR slope = RowMath.PolySlope(q, c);
        factor = RowMath.OnePlusTimesP(slope, p, q) * TR.From(scale);
        perS = factor / s;
        return TR.ToDouble(loss);
    }

    /// <summary>Per-row sums of the dense kernel, over k != a (a = first argmax).</summary>
    public struct DenseSums<TR> where TR : struct, IReal<TR>
    {
        public TR Others;   // T = sum exp(z_k - m)
        public TR Labels;   // sum y_k
        public TR Gaps;     // sum y_k (m - z_k), y_k != 0 only
        public TR LabelExp; // sum y_k exp(z_k - m)
    }

    /// <summary>What the dense gradient needs from the finished row.</summary>
    public struct DenseState<TR> where TR : struct, IReal<TR>
    {
        public TR S, Log1pT, Q, Slope, B, GradTop;
        public double M;
        public int A;
    }

    /// <summary>
    /// Dense labels. Writes scale * dL/dz into <paramref name="grad"/> and labelScale[k] * labelFactor * scale * dL/dy'_k
    /// into <paramref name="labelGrad"/> when they are not empty (y' = effective labels).
    /// </summary>
    public static double Dense<TIn, TR, TL>(ReadOnlySpan<TIn> z, TL y, ReadOnlySpan<double> c, Span<TIn> grad, double scale,
        Span<TIn> labelGrad, ReadOnlySpan<double> labelScale, double labelFactor = 1)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TL : ILabelRow, allows ref struct
    {
        RowShift shift = RowMath.FindMax(z);
        double m = shift.Max;
        int a = shift.ArgMax;
        TR zero = TR.From(0);
        var sums = new DenseSums<TR> { Others = zero, Labels = zero, Gaps = zero, LabelExp = zero };
        if (RowMath.Undefined(shift)) sums.Others = TR.From(double.NaN);
        else
        {
            for (int k = 0; k < z.Length; k++)
            {
                if (k == a) continue;
                double zk = double.CreateTruncating(z[k]);
                TR e = TR.ExpShifted(zk, m);
                sums.Others += e;
                double yk = y[k];
                if (yk != 0) // 0 * log 0 = 0: a zero label contributes nothing, even at a -inf logit
                {
                    TR yr = TR.From(yk);
                    sums.Labels += yr;
                    sums.Gaps += yr * TR.Gap(m, zk);
                    sums.LabelExp += yr * e;
                }
            }
        }
        bool wantGrad = !grad.IsEmpty || !labelGrad.IsEmpty;
        double loss = DenseFinish(sums, y[a], m, a, c, wantGrad, out DenseState<TR> st);
        if (wantGrad)
        {
            if (double.IsNaN(loss)) { grad.Fill(TIn.NaN); labelGrad.Fill(TIn.NaN); return loss; }
            if (typeof(TR) == typeof(R128))
            {
                DenseGradient64(z, y, st, sums.Others, scale, grad, labelGrad, labelScale, labelFactor);
                return loss;
            }
            TR one = TR.From(1);
            TR sc = TR.From(scale);
            TR perS = one / st.S;
            for (int j = 0; j < z.Length; j++)
            {
                double zj = double.CreateTruncating(z[j]);
                TR g, gy;
                if (j == a)
                {
                    g = st.GradTop;
                    gy = RowMath.TopTerm(sums.Others, st.Q, st.Log1pT, TR.ToDouble(st.Slope));
                }
                else
                {
                    TR pj = TR.ExpShifted(zj, m) * perS;
                    g = DenseElement(pj, y[j], zj, st, out gy);
                }
                if (!grad.IsEmpty) grad[j] = TIn.CreateTruncating(TR.ToDouble(g * sc));
                if (!labelGrad.IsEmpty)
                {
                    double ls = LabelScale(labelScale, j, labelFactor, scale);
                    labelGrad[j] = TIn.CreateTruncating(TR.ToDouble(gy * TR.From(ls)));
                }
            }
        }
        return loss;
    }

    /// <summary>Gradient element j != a of the dense row: dL/dz_j = p_j B - y_j (1 + E p_j) (one subtraction of
    /// non-negative parts) and, in <paramref name="labelGradient"/>, dL/dy_j = -log p_j + E (1 - p_j).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TR DenseElement<TR>(TR pj, double yj, double zj, in DenseState<TR> st, out TR labelGradient)
        where TR : struct, IReal<TR>
    {
        TR one = TR.From(1);
        labelGradient = (st.Log1pT + TR.Gap(st.M, zj)) + st.Slope * (one - pj);
        return yj == 0 ? pj * st.B : pj * st.B - TR.From(yj) * (one + st.Slope * pj);
    }

    [ThreadStatic] private static double[]? _parts;

    /// <summary>The factor of the labels gradient's element j: its label scale (class weight, or 1), the label factor
    /// (1 - smoothing) and the upstream scale.</summary>
    private static double LabelScale(ReadOnlySpan<double> labelScale, int j, double labelFactor, double scale)
        => (labelScale.IsEmpty ? 1 : labelScale[j]) * labelFactor * scale;

    /// <summary>Scratch for <see cref="DenseGradient64Redo"/>: the two parts' magnitudes of every element, [0, n) for the
    /// logits gradient and [n, 2n) for the labels gradient (per thread, grown once).</summary>
    internal static double[] GradientParts(int n) => _parts is { } buf && buf.Length >= 2 * n ? buf : (_parts = new double[Math.Max(2 * n, 256)]);

    /// <summary>
    /// Float64 dense gradients: every element first in plain double (exp with the z - m rounding error carried in), then
    /// the elements whose two parts are large against the row's largest gradient (where the double evaluation's error
    /// could exceed about one ulp of that maximum: labels close to p_j B, near the optimum) again in double-double.
    /// Same values as the all-double-double loop within the row-scale bound, at a fraction of its cost on typical rows.
    /// (<see cref="VRows"/> has the SIMD form of the first pass.)
    /// </summary>
    internal static void DenseGradient64<TIn, TR, TL>(ReadOnlySpan<TIn> z, TL y, in DenseState<TR> st, TR others, double scale,
        Span<TIn> grad, Span<TIn> labelGrad, ReadOnlySpan<double> labelScale, double labelFactor)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TL : ILabelRow, allows ref struct
    {
        int n = z.Length, a = st.A;
        double m = st.M, perS = 1 / TR.ToDouble(st.S), b = TR.ToDouble(st.B), e = TR.ToDouble(st.Slope), l1 = TR.ToDouble(st.Log1pT);
        double[] parts = GradientParts(n);
        double maxG = 0, maxGy = 0;
        for (int j = 0; j < n; j++)
        {
            if (j == a) { parts[j] = parts[n + j] = 0; continue; }
            double zj = double.CreateTruncating(z[j]);
            double d = zj - m;
            double bb = d - zj;
            double dl = (zj - (d - bb)) + (-m - bb);
            double ex = Math.Exp(d);
            if (double.IsFinite(d)) ex += ex * dl;
            double p = ex * perS, yj = y[j];
            double pos = p * b, neg = yj * (1 + e * p);
            double g = pos - neg;
            double gy = (l1 - d) + e * (1 - p);
            parts[j] = Math.Abs(pos) + Math.Abs(neg);
            parts[n + j] = Math.Abs(l1 - d) + Math.Abs(e * (1 - p));
            maxG = Math.Max(maxG, Math.Abs(g));
            maxGy = Math.Max(maxGy, Math.Abs(gy));
            if (!grad.IsEmpty) grad[j] = TIn.CreateTruncating(g * scale);
            if (!labelGrad.IsEmpty) labelGrad[j] = TIn.CreateTruncating(gy * LabelScale(labelScale, j, labelFactor, scale));
        }
        DenseGradient64Redo(z, y, st, others, scale, grad, labelGrad, labelScale, labelFactor, parts, maxG, maxGy);
    }

    /// <summary>The second pass of <see cref="DenseGradient64"/>: grad and labelGrad hold the scaled double gradients
    /// and <paramref name="parts"/> their parts' magnitudes (see <see cref="GradientParts"/>; the labels' half only when
    /// labelGrad is not empty); the top class and the elements large against the row maximum are computed again in
    /// double-double. The parts are scanned a vector at a time: typical rows have no element to redo.</summary>
    internal static void DenseGradient64Redo<TIn, TR, TL>(ReadOnlySpan<TIn> z, TL y, in DenseState<TR> st, TR others, double scale,
        Span<TIn> grad, Span<TIn> labelGrad, ReadOnlySpan<double> labelScale, double labelFactor, double[] parts, double maxG, double maxGy)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR> where TL : ILabelRow, allows ref struct
    {
        int n = z.Length, a = st.A;
        double m = st.M;
        TR topG = st.GradTop;
        TR topGy = RowMath.TopTerm(others, st.Q, st.Log1pT, TR.ToDouble(st.Slope));
        maxG = Math.Max(maxG, Math.Abs(TR.ToDouble(topG)));
        maxGy = Math.Max(maxGy, Math.Abs(TR.ToDouble(topGy)));
        TR perSd = TR.From(1) / st.S;
        bool wantG = !grad.IsEmpty, wantGy = !labelGrad.IsEmpty;
        double tg = 0.25 * maxG, ty = 0.25 * maxGy;
        int w = Vector<double>.Count;
        var vtg = new Vector<double>(tg);
        var vty = new Vector<double>(ty);
        for (int j0 = 0; j0 < n; j0 += w)
        {
            int end = Math.Min(j0 + w, n);
            // A whole vector of small parts (NaN is not small) needs nothing more.
            if (end - j0 == w && Vector.IsHardwareAccelerated
                && (!wantG || Vector.LessThanOrEqualAll(new Vector<double>(parts, j0), vtg))
                && (!wantGy || Vector.LessThanOrEqualAll(new Vector<double>(parts, n + j0), vty)))
                continue;
            for (int j = j0; j < end; j++)
            {
                if (j == a) continue;
                bool redoG = wantG && !(parts[j] <= tg);        // also NaN / inf
                bool redoGy = wantGy && !(parts[n + j] <= ty);
                if (!redoG && !redoGy) continue;
                double zj = double.CreateTruncating(z[j]);
                TR pj = TR.ExpShifted(zj, m) * perSd;
                TR g = DenseElement(pj, y[j], zj, st, out TR gy);
                if (redoG) grad[j] = TIn.CreateTruncating(TR.ToDouble(g * TR.From(scale)));
                if (redoGy)
                {
                    double ls = LabelScale(labelScale, j, labelFactor, scale);
                    labelGrad[j] = TIn.CreateTruncating(TR.ToDouble(gy * TR.From(ls)));
                }
            }
        }
        if (wantG) grad[a] = TIn.CreateTruncating(TR.ToDouble(topG * TR.From(scale)));
        if (wantGy)
        {
            double ls = LabelScale(labelScale, a, labelFactor, scale);
            labelGrad[a] = TIn.CreateTruncating(TR.ToDouble(topGy * TR.From(ls)));
        }
    }

    /// <summary>
    /// The dense loss from the row sums and the top label y_a, plus (when <paramref name="wantGrad"/>) the pieces of the
    /// gradient: B = S_y + E Pt and g_a = (sum_{k != a} y_k + E sum_{k != a} y_k p_k) - q B, each a difference of
    /// non-negative parts.
    /// </summary>
    public static double DenseFinish<TR>(in DenseSums<TR> sums, double ya, double m, int a, ReadOnlySpan<double> c, bool wantGrad,
        out DenseState<TR> st) where TR : struct, IReal<TR>
    {
        st = default;
        if (double.IsNaN(TR.ToDouble(sums.Others)) || double.IsNaN(TR.ToDouble(sums.Labels)) || double.IsNaN(ya) || double.IsNaN(m))
            return double.NaN;
        TR one = TR.From(1);
        TR sum = sums.Others, yOthers = sums.Labels;
        TR s = one + sum;
        TR log1pT = TR.Log1p(sum);
        TR q = sum / s;
        TR yaR = TR.From(ya);
        TR yExpOverS = sums.LabelExp / s;
        TR othersMass = yOthers - yExpOverS;            // sum_{k != a} y_k (1 - p_k), each p_k <= 1/2
        TR p1 = othersMass + yaR * q;                   // P1 = sum_k y_k (1 - p_k)
        double c0 = c[0];
        TR loss = yOthers * log1pT + sums.Gaps + TR.From(c0) * othersMass;
        if (ya != 0) loss += yaR * RowMath.TopTerm(sum, q, log1pT, c0);
        if (c.Length > 1) loss += RowMath.PolyTail(p1, c);
        if (wantGrad)
        {
            TR slope = RowMath.PolySlope(p1, c);
            TR sy = yOthers + yaR;
            TR b = TR.ToDouble(slope) >= 0
                ? sy + slope * (yExpOverS + yaR / s)                     // S_y + E Pt
                : (one + slope) * sy - slope * p1;                       // same value, non-negative parts for -1 <= E < 0
            st = new DenseState<TR>
            {
                S = s, Log1pT = log1pT, Q = q, Slope = slope, B = b, M = m, A = a,
                GradTop = (yOthers + slope * yExpOverS) - q * b,
            };
        }
        return TR.ToDouble(loss);
    }
}
