using System.Buffers;
using System.Numerics;

namespace PolyLoss.Internal;

/// <summary>Validation, reduction and the parallel row loop behind every public span entry point.</summary>
/// <summary>Which row kernels run: the widest supported vectors by default; tests force each path.</summary>
internal enum KernelPath { Auto, Scalar, V128, V256, V512 }

internal static unsafe class Engine
{
    /// <summary>Test hook: forces a kernel path for calls made on this thread (carried to the worker threads).</summary>
    [ThreadStatic] internal static KernelPath ForcedPath;

    internal static KernelPath Resolve(KernelPath p)
    {
        if (p == KernelPath.Auto)
            return V512.IsSupported ? KernelPath.V512 : V256.IsSupported ? KernelPath.V256 : V128.IsSupported ? KernelPath.V128 : KernelPath.Scalar;
        bool ok = p switch { KernelPath.V512 => V512.IsSupported, KernelPath.V256 => V256.IsSupported, KernelPath.V128 => V128.IsSupported, _ => true };
        if (!ok) throw new PlatformNotSupportedException($"Kernel path {p} is not supported on this machine.");
        return p;
    }

    private struct Job
    {
        public void* Logits, Labels, Losses, Grad, LabelGrad, Upstream;
        public double* RowLosses;   // reductions: per-row losses in double, summed in row order afterwards
        public int* Targets;
        public double* Weights;     // null: no class weights
        public double* Coeffs;
        public int NumCoeffs, NumClasses, IgnoreIndex;
        public double Smoothing, Scale; // Scale: gradient factor when there is no per-row upstream
        public KernelPath Path;
    }

    /// <summary>The options of one call, as a struct so the plain-epsilon entry points allocate nothing.</summary>
    public readonly struct Settings
    {
        public readonly double Epsilon;
        public readonly double[]? Coefficients, Weight;
        public readonly int IgnoreIndex, MaxDegreeOfParallelism;
        public readonly double LabelSmoothing;
        public readonly Reduction Reduction;

        public Settings(double epsilon)
        {
            Epsilon = epsilon;
            IgnoreIndex = -100;
            MaxDegreeOfParallelism = -1;
        }

        public Settings(PolyLossOptions o)
        {
            ArgumentNullException.ThrowIfNull(o);
            Epsilon = o.Epsilon;
            Coefficients = o.Coefficients;
            Weight = o.Weight;
            IgnoreIndex = o.IgnoreIndex;
            MaxDegreeOfParallelism = o.MaxDegreeOfParallelism;
            LabelSmoothing = o.LabelSmoothing;
            Reduction = o.Reduction;
        }
    }

    public static int CheckRows(int logitsLength, int numClasses)
    {
        if (numClasses < 1)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "numClasses must be at least 1.");
        if (logitsLength % numClasses != 0)
            throw new ArgumentException($"logits has {logitsLength} elements, which is not a multiple of numClasses = {numClasses}.", "logits");
        return logitsLength / numClasses;
    }

    /// <summary>Throws when a span length is off; the message is built only then (an eager interpolated string would
    /// allocate on every call).</summary>
    internal static void CheckLength(int actual, int expected, string name, int rows, int numClasses, Reduction reduction = Reduction.None)
    {
        if (actual == expected) return;
        string context = reduction != Reduction.None ? $"a {reduction}-reduced loss" : $"{rows} rows x {numClasses} classes";
        throw new ArgumentException($"{name} has {actual} elements but {context} needs {expected}.", name);
    }

    private static void CheckOptions(in Settings o, int numClasses)
    {
        if (o.Coefficients is { Length: 0 })
            throw new ArgumentException("Poly-N coefficients must not be empty (use null for Poly-1 with Epsilon).", "Coefficients");
        if (o.Weight is { } w)
        {
            if (w.Length != numClasses)
                throw new ArgumentException($"Weight has {w.Length} entries but numClasses = {numClasses}.", "Weight");
            for (int k = 0; k < w.Length; k++)
                if (!(w[k] >= 0) || double.IsInfinity(w[k]))
                    throw new ArgumentException($"Weight[{k}] = {w[k]} must be finite and non-negative.", "Weight");
        }
        if (!(o.LabelSmoothing >= 0 && o.LabelSmoothing <= 1))
            throw new ArgumentOutOfRangeException("LabelSmoothing", o.LabelSmoothing, "LabelSmoothing must lie in [0, 1].");
        if ((uint)o.Reduction > (uint)Reduction.Sum) // Enum.IsDefined allocates
            throw new ArgumentOutOfRangeException("Reduction", o.Reduction, "Unknown reduction.");
    }

    private static void CheckTargets(ReadOnlySpan<int> targets, int numClasses, int ignoreIndex, bool allowIgnore)
    {
        for (int r = 0; r < targets.Length; r++)
        {
            int t = targets[r];
            if ((uint)t >= (uint)numClasses && !(allowIgnore && t == ignoreIndex))
                throw new ArgumentOutOfRangeException("targets", t, $"targets[{r}] = {t} is outside [0, {numClasses}).");
        }
    }

    /// <summary>Integer targets.</summary>
    public static void Targets<TIn, TR>(ReadOnlySpan<TIn> logits, ReadOnlySpan<int> targets, Span<TIn> losses, Span<TIn> grad,
        int numClasses, in Settings o, ReadOnlySpan<TIn> upstream, bool optionsApi)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        int rows = CheckRows(logits.Length, numClasses);
        CheckOptions(o, numClasses);
        CheckLength(targets.Length, rows, "targets", rows, numClasses);
        if (grad.Length != 0) CheckLength(grad.Length, logits.Length, "logitsGradient", rows, numClasses);
        CheckTargets(targets, numClasses, o.IgnoreIndex, optionsApi);
        bool reduce = o.Reduction != Reduction.None;
        CheckLength(losses.Length, reduce ? 1 : rows, "losses", rows, numClasses, o.Reduction);

        double denominator = 1;
        if (o.Reduction == Reduction.Mean)
        {
            double d = 0;
            for (int r = 0; r < rows; r++)
            {
                int t = targets[r];
                if (t == o.IgnoreIndex && optionsApi) continue;
                d += o.Weight is null ? 1 : o.Weight[t];
            }
            denominator = d;
        }
        Run<TIn, TR>(logits, default, targets, losses, grad, default, rows, numClasses, o, upstream, denominator, optionsApi);
    }

    /// <summary>Dense labels.</summary>
    public static void Dense<TIn, TR>(ReadOnlySpan<TIn> logits, ReadOnlySpan<TIn> labels, Span<TIn> losses, Span<TIn> grad,
        Span<TIn> labelGrad, int numClasses, in Settings o, ReadOnlySpan<TIn> upstream)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        int rows = CheckRows(logits.Length, numClasses);
        CheckOptions(o, numClasses);
        CheckLength(labels.Length, logits.Length, "labels", rows, numClasses);
        if (grad.Length != 0) CheckLength(grad.Length, logits.Length, "logitsGradient", rows, numClasses);
        if (labelGrad.Length != 0) CheckLength(labelGrad.Length, logits.Length, "labelsGradient", rows, numClasses);
        bool reduce = o.Reduction != Reduction.None;
        CheckLength(losses.Length, reduce ? 1 : rows, "losses", rows, numClasses, o.Reduction);
        Run<TIn, TR>(logits, labels, default, losses, grad, labelGrad, rows, numClasses, o, upstream, rows, true);
    }

    private static void Run<TIn, TR>(ReadOnlySpan<TIn> logits, ReadOnlySpan<TIn> labels, ReadOnlySpan<int> targets,
        Span<TIn> losses, Span<TIn> grad, Span<TIn> labelGrad, int rows, int numClasses, in Settings o,
        ReadOnlySpan<TIn> upstream, double denominator, bool allowIgnore)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        bool reduce = o.Reduction != Reduction.None;
        double scale = 1;
        if (reduce)
        {
            if (upstream.Length > 1) throw new ArgumentException($"upstream has {upstream.Length} elements but a reduced loss takes at most 1.", nameof(upstream));
            scale = upstream.Length == 1 ? double.CreateTruncating(upstream[0]) : 1.0;
            if (o.Reduction == Reduction.Mean) scale /= denominator;
        }
        else if (upstream.Length != 0) CheckLength(upstream.Length, rows, "upstream", rows, 1);
        if (rows == 0)
        {
            if (reduce) losses[0] = o.Reduction == Reduction.Mean ? TIn.NaN : TIn.Zero;
            return;
        }

        double eps = o.Epsilon;
        ReadOnlySpan<double> coeffs = o.Coefficients ?? new ReadOnlySpan<double>(in eps);
        double[]? rented = reduce ? ArrayPool<double>.Shared.Rent(rows) : null;
        try
        {
            fixed (TIn* pz = logits, py = labels, pl = losses, pg = grad, pgy = labelGrad, pu = upstream)
            fixed (int* pt = targets)
            fixed (double* pw = o.Weight, pc = coeffs, prl = rented)
            {
                var job = new Job
                {
                    Logits = pz, Labels = py, Losses = pl, Grad = pg, LabelGrad = pgy,
                    Upstream = reduce ? null : pu, RowLosses = prl, Targets = pt, Weights = pw, Coeffs = pc,
                    NumCoeffs = coeffs.Length, NumClasses = numClasses, IgnoreIndex = allowIgnore ? o.IgnoreIndex : int.MinValue,
                    Smoothing = o.LabelSmoothing, Scale = scale, Path = Resolve(ForcedPath),
                };
                delegate*<void*, int, int, void> body = pt != null ? &TargetRows<TIn, TR> : &DenseRows<TIn, TR>;
                RowParallel.For(rows, (long)rows * numClasses, o.MaxDegreeOfParallelism, body, &job);
            }
            if (reduce)
            {
                // Row order, double-double accumulation: the same total whatever the thread count.
                DoubleDouble total = DoubleDouble.Zero;
                for (int r = 0; r < rows; r++) total += rented![r];
                double value = total.ToDouble();
                if (o.Reduction == Reduction.Mean) value = (total / new DoubleDouble(denominator, 0)).ToDouble();
                losses[0] = TIn.CreateTruncating(value);
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<double>.Shared.Return(rented);
        }
    }

    private static void Store<TIn>(ref Job job, int r, double loss) where TIn : unmanaged, IFloatingPointIeee754<TIn>
    {
        if (job.RowLosses != null) job.RowLosses[r] = loss;
        else ((TIn*)job.Losses)[r] = TIn.CreateTruncating(loss);
    }

    private static void TargetRows<TIn, TR>(void* state, int start, int end)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        ref Job job = ref *(Job*)state;
        int c = job.NumClasses;
        var coeffs = new ReadOnlySpan<double>(job.Coeffs, job.NumCoeffs);
        var weights = job.Weights == null ? default : new ReadOnlySpan<double>(job.Weights, c);
        if (typeof(TIn) == typeof(float) && job.NumCoeffs == 1 && job.Smoothing == 0 && job.Path != KernelPath.Scalar)
        {
            if (c <= SmallClassRows.MaxClasses) start = SmallRows(ref job, start, end, weights);
            else
            {
                switch (job.Path)
                {
                    case KernelPath.V512: GroupedRows<V512>(ref job, start, end, weights); break;
                    case KernelPath.V256: GroupedRows<V256>(ref job, start, end, weights); break;
                    default: GroupedRows<V128>(ref job, start, end, weights); break;
                }
                return;
            }
        }
        for (int r = start; r < end; r++)
        {
            var z = new ReadOnlySpan<TIn>((TIn*)job.Logits + (long)r * c, c);
            Span<TIn> g = job.Grad == null ? default : new Span<TIn>((TIn*)job.Grad + (long)r * c, c);
            int t = job.Targets[r];
            double loss;
            if (t == job.IgnoreIndex)
            {
                loss = 0;
                g.Clear();
            }
            else
            {
                double u = job.Upstream == null ? job.Scale : double.CreateTruncating(((TIn*)job.Upstream)[r]);
                if (job.Smoothing == 0)
                {
                    double w = weights.IsEmpty ? 1 : weights[t];
                    loss = job.Path switch
                    {
                        KernelPath.V512 => VRows.Target<TIn, TR, V512>(z, t, coeffs, g, u * w),
                        KernelPath.V256 => VRows.Target<TIn, TR, V256>(z, t, coeffs, g, u * w),
                        KernelPath.V128 => VRows.Target<TIn, TR, V128>(z, t, coeffs, g, u * w),
                        _ => Rows.Target<TIn, TR>(z, t, coeffs, g, u * w),
                    };
                    if (w != 1) loss *= w;
                }
                else
                {
                    loss = Rows.Dense<TIn, TR, SmoothedTarget>(z, new SmoothedTarget(t, job.Smoothing, c, weights), coeffs, g, u, default, default);
                }
            }
            Store<TIn>(ref job, r, loss);
        }
    }

    /// <summary>Up to this many classes <see cref="GroupedRows"/> scans a group's rows before their exponential passes.</summary>
    internal const int GroupScanMaxClasses = 256;

    /// <summary>
    /// Float32 Poly-1 rows with integer targets and more than <see cref="SmallClassRows.MaxClasses"/> classes: each row's
    /// statistics from <see cref="VRows.Stats"/> (rows of up to <see cref="GroupScanMaxClasses"/> classes: the group's
    /// scans first, then <see cref="VRows.FloatStats{TV}"/>), then the finishing (log1p, the confident-row series,
    /// divisions) for a group of rows at once in lanes (<see cref="SmallClassRows.Finish"/>), which costs per row about
    /// what one scalar log would. Lanes never mix, so a row's result does not depend on its group or the batch split (a
    /// last, partial group leaves its spare lanes at dummy values); rows with a non-finite maximum take the scalar kernel.
    /// </summary>
    private static void GroupedRows<TV>(ref Job job, int start, int end, ReadOnlySpan<double> weights) where TV : struct, IDVec<TV>
    {
        int c = job.NumClasses, w = TV.Count;
        double eps = *job.Coeffs;
        Span<double> laneT = stackalloc double[8], laneZt = stackalloc double[8], laneM = stackalloc double[8], laneScale = stackalloc double[8];
        Span<double> outLoss = stackalloc double[8], outTop = stackalloc double[8], outPerS = stackalloc double[8];
        Span<int> kind = stackalloc int[8]; // 0 ordinary, 1 ignored, 2 special (scalar kernel)
        Span<RowMax> scans = stackalloc RowMax[8];
        for (int r0 = start; r0 < end; r0 += w)
        {
            int count = Math.Min(w, end - r0);
            // Short rows: the group's scans first (independent of each other, their latencies, mostly lane reductions,
            // overlap, and each exponential pass below starts with its maximum known); the group's rows stay in L1.
            // Longer rows are scanned just before their exponential pass, while they are in L1. With AVX-512 no row
            // is scanned unless its one-pass statistics fail (VRows.TargetStats; without it, rows of up to
            // VRows.OnePassMaxClassesNarrow classes), so the group's scans are left out.
            bool onePass = VRows.OnePassFloatTargets<TV>(c);
            bool scanFirst = c <= GroupScanMaxClasses && !onePass;
            for (int i = 0; scanFirst && i < count; i++)
                if (job.Targets[r0 + i] != job.IgnoreIndex)
                    scans[i] = RowScan.Max<TV>(new ReadOnlySpan<float>((float*)job.Logits + (long)(r0 + i) * c, c));
            for (int i = 0; i < w; i++)
            {
                laneT[i] = 0; laneZt[i] = 0; laneM[i] = 0; laneScale[i] = 0;
                if (i >= count || job.Targets[r0 + i] == job.IgnoreIndex) { kind[i] = 1; continue; } // lanes finish independently
                int r = r0 + i, t = job.Targets[r];
                var z = new ReadOnlySpan<float>((float*)job.Logits + (long)r * c, c);
                Span<float> g = job.Grad == null ? default : new Span<float>((float*)job.Grad + (long)r * c, c);
                double u = job.Upstream == null ? job.Scale : ((float*)job.Upstream)[r];
                laneScale[i] = u * (weights.IsEmpty ? 1 : weights[t]); // special rows use it too
                // (Longer rows go through Stats, which inlines the scan and the same FloatStats: routing them through
                // the scans buffer here measured about 2.5% slower at 1000 classes.)
                double m, others;
                bool finite;
                if (onePass && VRows.TargetStats<TV>(z, t, g, out others))
                {
                    // Relative to the target: the target is the anchor (m = z_t), see VRows.TargetStats.
                    m = z[t];
                    finite = true;
                }
                else if (scanFirst)
                {
                    finite = VRows.FloatStats<TV>(z, g, scans[i], precise: false, out others);
                    m = scans[i].Max;
                }
                else
                {
                    finite = VRows.Stats<float, R64, TV>(z, g, precise: false, out m, out R64 sum);
                    others = sum.V;
                }
                if (!finite) { kind[i] = 2; continue; }
                kind[i] = 0;
                laneT[i] = others; laneM[i] = m; laneZt[i] = z[t];
            }
            SmallClassRows.Finish(TV.Load(ref laneT[0]), TV.Load(ref laneZt[0]), TV.Load(ref laneM[0]), eps, TV.Load(ref laneScale[0]),
                out TV loss, out TV top, out TV perS);
            TV.Store(ref outLoss[0], loss);
            TV.Store(ref outTop[0], top);
            TV.Store(ref outPerS[0], perS);
            for (int i = 0; i < count; i++)
            {
                int r = r0 + i, t = job.Targets[r];
                Span<float> g = job.Grad == null ? default : new Span<float>((float*)job.Grad + (long)r * c, c);
                double wt = kind[i] == 1 || weights.IsEmpty ? 1 : weights[t];
                double l;
                if (kind[i] == 1) { l = 0; g.Clear(); }
                else if (kind[i] == 2)
                {
                    var z = new ReadOnlySpan<float>((float*)job.Logits + (long)r * c, c);
                    l = Rows.Target<float, R64>(z, t, new ReadOnlySpan<double>(in eps), g, laneScale[i]) * wt;
                }
                else
                {
                    l = outLoss[i] * wt;
                    if (!g.IsEmpty)
                    {
                        VRows.ScaleStored<float, R64, TV>(g, new R64(outPerS[i]));
                        g[t] = (float)outTop[i];
                    }
                }
                Store<float>(ref job, r, l);
            }
        }
    }

    /// <summary>Few classes, float32: whole groups of rows at once (see <see cref="SmallClassRows"/>).</summary>
    private static int SmallRows(ref Job job, int start, int end, ReadOnlySpan<double> weights)
    {
        int c = job.NumClasses;
        long total = (long)end * c; // spans cover [0, end) rows; only rows >= start are touched
        var z = new ReadOnlySpan<float>((float*)job.Logits, (int)total);
        var t = new ReadOnlySpan<int>(job.Targets, end);
        var up = job.Upstream == null ? default : new ReadOnlySpan<float>((float*)job.Upstream, end);
        var losses = job.RowLosses != null ? default : new Span<float>((float*)job.Losses, end);
        var rowLosses = job.RowLosses != null ? new Span<double>(job.RowLosses, end) : default;
        var g = job.Grad == null ? default : new Span<float>((float*)job.Grad, (int)total);
        return job.Path switch
        {
            KernelPath.V512 => SmallClassRows.Run<V512>(z, t, start, end, c, *job.Coeffs, weights, job.IgnoreIndex, up, job.Scale, losses, rowLosses, g),
            KernelPath.V256 => SmallClassRows.Run<V256>(z, t, start, end, c, *job.Coeffs, weights, job.IgnoreIndex, up, job.Scale, losses, rowLosses, g),
            _ => SmallClassRows.Run<V128>(z, t, start, end, c, *job.Coeffs, weights, job.IgnoreIndex, up, job.Scale, losses, rowLosses, g),
        };
    }

    private static void DenseRows<TIn, TR>(void* state, int start, int end)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        ref Job job = ref *(Job*)state;
        int c = job.NumClasses;
        var coeffs = new ReadOnlySpan<double>(job.Coeffs, job.NumCoeffs);
        var weights = job.Weights == null ? default : new ReadOnlySpan<double>(job.Weights, c);
        for (int r = start; r < end; r++)
        {
            long offset = (long)r * c;
            var z = new ReadOnlySpan<TIn>((TIn*)job.Logits + offset, c);
            var y = new ReadOnlySpan<TIn>((TIn*)job.Labels + offset, c);
            Span<TIn> g = job.Grad == null ? default : new Span<TIn>((TIn*)job.Grad + offset, c);
            Span<TIn> gy = job.LabelGrad == null ? default : new Span<TIn>((TIn*)job.LabelGrad + offset, c);
            double u = job.Upstream == null ? job.Scale : double.CreateTruncating(((TIn*)job.Upstream)[r]);
            double loss = job.Path switch
            {
                KernelPath.V512 => VRows.Dense<TIn, TR, V512>(z, y, weights, job.Smoothing, coeffs, g, u, gy),
                KernelPath.V256 => VRows.Dense<TIn, TR, V256>(z, y, weights, job.Smoothing, coeffs, g, u, gy),
                KernelPath.V128 => VRows.Dense<TIn, TR, V128>(z, y, weights, job.Smoothing, coeffs, g, u, gy),
                _ => Rows.Dense<TIn, TR, DenseLabels<TIn>>(z, new DenseLabels<TIn>(y, weights, job.Smoothing, c), coeffs, g, u, gy, weights, 1 - job.Smoothing),
            };
            Store<TIn>(ref job, r, loss);
        }
    }
}
