using System.Buffers;
using System.Numerics;

namespace PolyLoss.Internal;

/// <summary>Validation, reduction and the parallel loop behind the focal span entry points (the pattern of <see cref="Engine"/>).</summary>
internal static unsafe class FocalEngine
{
    /// <summary>Sigmoid work is handed out in fixed chunks, so a reduction's partial sums (one per chunk, in chunk order)
    /// are the same whatever the thread count.</summary>
    public const int SigmoidChunk = 2048;

    private struct Job
    {
        public void* Logits, Targets, Losses, Grad;
        public double* Partials;      // reductions: per-chunk (sigmoid, hi/lo pairs) or per-row (softmax) losses
        public double* ClassAlpha;    // softmax: null for none
        public int Length, NumClasses;
        public double Gamma, Eps, Alpha; // Alpha: sigmoid, NaN for none
        public double ScaleDenominator;  // gradient = dFL/dz / ScaleDenominator (Mean), 1 otherwise
        public KernelPath Path;          // softmax: scalar or SIMD row statistics
    }

    /// <summary>The kernel path of <see cref="Engine"/>: the widest supported vectors, or the test hook's choice.</summary>
    private static void CheckCommon(FocalOptions o)
    {
        ArgumentNullException.ThrowIfNull(o, "options");
        if (!(o.Gamma >= 0) || double.IsInfinity(o.Gamma))
            throw new ArgumentOutOfRangeException("Gamma", o.Gamma, "FocalOptions.Gamma must be finite and non-negative.");
        if (!double.IsFinite(o.Epsilon))
            throw new ArgumentOutOfRangeException("Epsilon", o.Epsilon, "FocalOptions.Epsilon must be finite.");
        if (!Enum.IsDefined(o.Reduction))
            throw new ArgumentOutOfRangeException("Reduction", o.Reduction, "Unknown reduction.");
    }

    public static void Sigmoid<TIn, TR>(ReadOnlySpan<TIn> logits, ReadOnlySpan<TIn> targets, Span<TIn> losses, Span<TIn> grad, FocalOptions o)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        CheckCommon(o);
        if (o.ClassAlpha is not null)
            throw new ArgumentException("FocalOptions.ClassAlpha (per-class weights) applies to SoftmaxFocal; SigmoidFocal takes the scalar Alpha.", "options");
        if (o.Alpha is { } alpha && !(alpha >= 0 && alpha <= 1))
            throw new ArgumentOutOfRangeException("Alpha", alpha, "FocalOptions.Alpha must lie in [0, 1].");
        int n = logits.Length;
        Engine.CheckLength(targets.Length, n, "targets", n, 1);
        if (grad.Length != 0) Engine.CheckLength(grad.Length, n, "logitsGradient", n, 1);
        bool reduce = o.Reduction != Reduction.None;
        Engine.CheckLength(losses.Length, reduce ? 1 : n, "losses", n, 1, o.Reduction);
        for (int i = 0; i < n; i++)
        {
            double t = double.CreateTruncating(targets[i]);
            if (t < 0 || t > 1) // NaN passes: it makes that element NaN
                throw new ArgumentOutOfRangeException("targets", t, $"targets[{i}] = {t} is outside [0, 1].");
        }
        if (n == 0)
        {
            if (reduce) losses[0] = o.Reduction == Reduction.Mean ? TIn.NaN : TIn.Zero;
            return;
        }

        int chunks = (int)(((long)n + SigmoidChunk - 1) / SigmoidChunk);
        double[]? partials = reduce ? ArrayPool<double>.Shared.Rent(2 * chunks) : null;
        try
        {
            fixed (TIn* px = logits, pt = targets, pl = losses, pg = grad)
            fixed (double* pp = partials)
            {
                var job = new Job
                {
                    Logits = px, Targets = pt, Losses = pl, Grad = pg, Partials = pp, Length = n,
                    Gamma = o.Gamma, Eps = o.Epsilon, Alpha = o.Alpha ?? double.NaN,
                    ScaleDenominator = o.Reduction == Reduction.Mean ? n : 1,
                };
                RowParallel.For(chunks, n, o.MaxDegreeOfParallelism, &SigmoidChunks<TIn, TR>, &job);
            }
            if (reduce)
            {
                DoubleDouble total = DoubleDouble.Zero;
                for (int c = 0; c < chunks; c++) total += new DoubleDouble(partials![2 * c], partials[2 * c + 1]);
                losses[0] = TIn.CreateTruncating(Finish(total, o.Reduction, n));
            }
        }
        finally
        {
            if (partials is not null) ArrayPool<double>.Shared.Return(partials);
        }
    }

    public static void Softmax<TIn, TR>(ReadOnlySpan<TIn> logits, ReadOnlySpan<int> targets, Span<TIn> losses, Span<TIn> grad,
        int numClasses, FocalOptions o)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        CheckCommon(o);
        int rows = Engine.CheckRows(logits.Length, numClasses);
        if (o.Alpha is not null)
            throw new ArgumentException("FocalOptions.Alpha (the sigmoid positive-class weight) applies to SigmoidFocal; SoftmaxFocal takes per-class ClassAlpha.", "options");
        if (o.ClassAlpha is { } ca)
        {
            if (ca.Length != numClasses)
                throw new ArgumentException($"FocalOptions.ClassAlpha has {ca.Length} entries but numClasses = {numClasses}.", "ClassAlpha");
            for (int k = 0; k < ca.Length; k++)
                if (!(ca[k] >= 0) || double.IsInfinity(ca[k]))
                    throw new ArgumentException($"FocalOptions.ClassAlpha[{k}] = {ca[k]} must be finite and non-negative.", "ClassAlpha");
        }
        Engine.CheckLength(targets.Length, rows, "targets", rows, numClasses);
        if (grad.Length != 0) Engine.CheckLength(grad.Length, logits.Length, "logitsGradient", rows, numClasses);
        bool reduce = o.Reduction != Reduction.None;
        Engine.CheckLength(losses.Length, reduce ? 1 : rows, "losses", rows, numClasses, o.Reduction);
        for (int r = 0; r < rows; r++)
        {
            int t = targets[r];
            if ((uint)t >= (uint)numClasses)
                throw new ArgumentOutOfRangeException("targets", t, $"targets[{r}] = {t} is outside [0, {numClasses}).");
        }
        if (rows == 0)
        {
            if (reduce) losses[0] = o.Reduction == Reduction.Mean ? TIn.NaN : TIn.Zero;
            return;
        }

        double[]? rowLosses = reduce ? ArrayPool<double>.Shared.Rent(rows) : null;
        try
        {
            fixed (TIn* pz = logits, pl = losses, pg = grad)
            fixed (int* pt = targets)
            fixed (double* pr = rowLosses, pa = o.ClassAlpha)
            {
                var job = new Job
                {
                    Logits = pz, Targets = pt, Losses = pl, Grad = pg, Partials = pr, ClassAlpha = pa,
                    Length = rows, NumClasses = numClasses, Gamma = o.Gamma, Eps = o.Epsilon, Alpha = double.NaN,
                    ScaleDenominator = o.Reduction == Reduction.Mean ? rows : 1, Path = Engine.Resolve(Engine.ForcedPath),
                };
                RowParallel.For(rows, (long)rows * numClasses, o.MaxDegreeOfParallelism, &SoftmaxRows<TIn, TR>, &job);
            }
            if (reduce)
            {
                DoubleDouble total = DoubleDouble.Zero;
                for (int r = 0; r < rows; r++) total += rowLosses![r];
                losses[0] = TIn.CreateTruncating(Finish(total, o.Reduction, rows));
            }
        }
        finally
        {
            if (rowLosses is not null) ArrayPool<double>.Shared.Return(rowLosses);
        }
    }

    private static double Finish(DoubleDouble total, Reduction reduction, int count)
        => reduction == Reduction.Mean ? (total / new DoubleDouble(count, 0)).ToDouble() : total.ToDouble();

    private static TR Scale<TR>(double denominator) where TR : struct, IReal<TR>
        => denominator == 1 ? TR.From(1) : TR.From(1) / TR.From(denominator);

    private static void SigmoidChunks<TIn, TR>(void* state, int start, int end)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        ref Job job = ref *(Job*)state;
        var fp = new FocalParams(job.Gamma, job.Eps, job.Alpha);
        TR scale = Scale<TR>(job.ScaleDenominator);
        TIn* x = (TIn*)job.Logits, t = (TIn*)job.Targets, losses = (TIn*)job.Losses, grad = (TIn*)job.Grad;
        bool wantGrad = grad != null;
        for (int c = start; c < end; c++)
        {
            int i0 = c * SigmoidChunk, i1 = (int)Math.Min((long)i0 + SigmoidChunk, job.Length);
            DoubleDouble partial = DoubleDouble.Zero;
            for (int i = i0; i < i1; i++)
            {
                double loss = FocalRows.Sigmoid(double.CreateTruncating(x[i]), double.CreateTruncating(t[i]), fp, scale, wantGrad, out double g);
                if (wantGrad) grad[i] = TIn.CreateTruncating(g);
                if (job.Partials != null) partial += loss;
                else losses[i] = TIn.CreateTruncating(loss);
            }
            if (job.Partials != null)
            {
                job.Partials[2 * c] = partial.Hi;
                job.Partials[2 * c + 1] = partial.Lo;
            }
        }
    }

    private static void SoftmaxRows<TIn, TR>(void* state, int start, int end)
        where TIn : unmanaged, IFloatingPointIeee754<TIn> where TR : struct, IReal<TR>
    {
        ref Job job = ref *(Job*)state;
        int c = job.NumClasses;
        TR scale = Scale<TR>(job.ScaleDenominator);
        for (int r = start; r < end; r++)
        {
            long offset = (long)r * c;
            var z = new ReadOnlySpan<TIn>((TIn*)job.Logits + offset, c);
            Span<TIn> g = job.Grad == null ? default : new Span<TIn>((TIn*)job.Grad + offset, c);
            int t = ((int*)job.Targets)[r];
            double alpha = job.ClassAlpha == null ? double.NaN : job.ClassAlpha[t];
            double loss = job.Path switch
            {
                KernelPath.V512 => FocalRows.SoftmaxV<TIn, TR, V512>(z, t, alpha, job.Eps, job.Gamma, g, scale),
                KernelPath.V256 => FocalRows.SoftmaxV<TIn, TR, V256>(z, t, alpha, job.Eps, job.Gamma, g, scale),
                KernelPath.V128 => FocalRows.SoftmaxV<TIn, TR, V128>(z, t, alpha, job.Eps, job.Gamma, g, scale),
                _ => FocalRows.Softmax<TIn, TR>(z, t, alpha, job.Eps, job.Gamma, g, scale),
            };
            if (job.Partials != null) job.Partials[r] = loss;
            else ((TIn*)job.Losses)[r] = TIn.CreateTruncating(loss);
        }
    }
}
