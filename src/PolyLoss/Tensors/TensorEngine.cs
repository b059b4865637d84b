using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PolyLoss.Tensors;

/// <summary>What one tensor call produced: flat row-major arrays and the loss shape.</summary>
internal readonly record struct EngineResult<T>(T[] Loss, nint[] LossShape, T[]? LogitsGradient, nint[] GradientShape, T[]? LabelsGradient, nint[]? LabelsShape);

/// <summary>
/// The tensor front end of the span kernels: gathers each row (the class axes; masked-out elements become -inf logits and
/// 0 labels, which the kernels treat as absent) into pooled contiguous buffers, runs the public span API on batches of rows
/// and scatters the losses and gradients back. Dense row-major inputs with trailing class axes skip the gather.
/// </summary>
internal static class TensorEngine
{
    /// <summary>Elements per gathered batch (rows * classes) when there is no reduction; large enough for the kernels'
    /// row parallelism, small enough to stay in cache-friendly pooled buffers.</summary>
    internal const int BatchElements = 1 << 18;

    /// <summary>Throws <see cref="NotSupportedException"/> unless T is float, double or Half.</summary>
    public static void RequireSupported<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(Half))
            throw new NotSupportedException($"PolyTensor computes on float, double and Half elements, not {typeof(T)}.");
    }

    public static EngineResult<T> Run<T>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, in ReadOnlyTensorSpan<int> targets,
        bool dense, TensorPlan plan, PolyLossOptions options, bool strictTargets, in ReadOnlyTensorSpan<bool> where,
        in ReadOnlyTensorSpan<T> upstream, bool wantGrad, bool wantLabelsGrad)
    {
        if (typeof(T) == typeof(double))
            return Run<T, double>(logits, labels, targets, dense, plan, options, strictTargets, where, upstream, wantGrad, wantLabelsGrad);
        RequireSupported<T>();
        return Run<T, float>(logits, labels, targets, dense, plan, options, strictTargets, where, upstream, wantGrad, wantLabelsGrad);
    }

    private static EngineResult<T> Run<T, TC>(in ReadOnlyTensorSpan<T> logits, in ReadOnlyTensorSpan<T> labels, in ReadOnlyTensorSpan<int> targets,
        bool dense, TensorPlan plan, PolyLossOptions options, bool strictTargets, in ReadOnlyTensorSpan<bool> where,
        in ReadOnlyTensorSpan<T> upstream, bool wantGrad, bool wantLabelsGrad)
        where TC : unmanaged, IFloatingPointIeee754<TC>
    {
        ArgumentNullException.ThrowIfNull(options);
        bool hasWhere = where.Rank != 0;
        if (hasWhere && options.LabelSmoothing != 0)
            throw new NotSupportedException("LabelSmoothing cannot be combined with a where mask (the smoothing mass would have to be spread over each row's unmasked classes only).");

        int c = plan.Classes;
        long rows = plan.Rows;
        bool reduce = options.Reduction != Reduction.None;
        nint[] zS = logits.Strides.ToArray();
        nint[]? yS = dense ? plan.Broadcast(labels.Lengths, labels.Strides, "labels") : null;
        nint[]? tS = dense ? null : plan.BroadcastBatch(targets.Lengths, targets.Strides, "targets");
        nint[]? wS = hasWhere ? plan.Broadcast(where.Lengths, where.Strides, "where") : null;
        bool hasUp = wantGrad && upstream.Rank != 0;
        nint[]? uS = null;
        if (hasUp)
        {
            if (!reduce) uS = plan.BroadcastBatch(upstream.Lengths, upstream.Strides, "upstream");
            else if (upstream.FlattenedLength != 1)
                throw new ArgumentException($"upstream of shape {TensorPlan.Format(upstream.Lengths)} must hold exactly one element for reduction {options.Reduction}.", "upstream");
        }
        if (!reduce && rows > Array.MaxLength)
            throw new NotSupportedException($"{rows} rows exceed the largest supported loss tensor.");
        long flat = logits.FlattenedLength;
        if (wantGrad && flat > Array.MaxLength)
            throw new NotSupportedException($"logits of shape {TensorPlan.Format(plan.Shape)} exceed the largest supported gradient tensor.");

        // Every element of the outputs is written below (each (row, class) pair exactly once), so skip the zeroing.
        var loss = GC.AllocateUninitializedArray<T>(reduce ? 1 : (int)rows);
        T[]? grad = wantGrad ? GC.AllocateUninitializedArray<T>((int)flat) : null;
        T[]? labelsGrad = wantLabelsGrad ? GC.AllocateUninitializedArray<T>((int)labels.FlattenedLength) : null;

        bool fast = typeof(T) == typeof(TC) && !hasWhere && plan.ClassesAreTrailing && rows * c <= Array.MaxLength
            && TensorPlan.IsRowMajor(logits.Lengths, logits.Strides)
            && (dense
                ? labels.Lengths.SequenceEqual(logits.Lengths) && TensorPlan.IsRowMajor(labels.Lengths, labels.Strides)
                : targets.Lengths.SequenceEqual(plan.LossShape) && TensorPlan.IsRowMajor(targets.Lengths, targets.Strides))
            && (!hasUp || reduce || (upstream.Lengths.SequenceEqual(plan.LossShape) && TensorPlan.IsRowMajor(upstream.Lengths, upstream.Strides)));
        if (fast)
        {
            int n = (int)(rows * c);
            ReadOnlySpan<TC> z = View<T, TC>(logits.GetPinnableReference(), n);
            ReadOnlySpan<TC> y = dense ? View<T, TC>(labels.GetPinnableReference(), n) : default;
            ReadOnlySpan<int> t = dense ? default : MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in targets.GetPinnableReference()), (int)rows);
            if (!dense) ValidateTargets(t, plan, 0, options.IgnoreIndex, strictTargets);
            ReadOnlySpan<TC> u = hasUp ? View<T, TC>(upstream.GetPinnableReference(), reduce ? 1 : (int)rows) : default;
            Kernel(dense, z, y, t, AsSpan<T, TC>(loss), AsSpan<T, TC>(grad), AsSpan<T, TC>(labelsGrad), c, options, u, wantGrad);
            return new EngineResult<T>(loss, reduce ? [1] : plan.LossShape, grad, plan.Shape, labelsGrad, wantLabelsGrad ? labels.Lengths.ToArray() : null);
        }

        int batch;
        if (reduce)
        {
            if (rows * c > Array.MaxLength)
                throw new NotSupportedException($"A reduced loss over {rows} rows of {c} classes exceeds the largest supported gather buffer; use Reduction.None and reduce the result.");
            batch = (int)rows;
        }
        else batch = (int)Math.Clamp(BatchElements / c, 1, Math.Max(rows, 1));

        nint[] zCls = plan.ClassOffsets(zS);
        nint[]? yCls = yS is null ? null : plan.ClassOffsets(yS);
        nint[]? wCls = wS is null ? null : plan.ClassOffsets(wS);
        bool zUnit = TensorPlan.IsUnit(zCls), yUnit = yCls is not null && TensorPlan.IsUnit(yCls);
        nint[] gS = TensorPlan.RowMajor(plan.Shape);
        nint[] gCls = plan.ClassOffsets(gS);
        bool gUnit = TensorPlan.IsUnit(gCls);
        nint[]? lgS = wantLabelsGrad ? plan.Broadcast(labels.Lengths, TensorPlan.RowMajor(labels.Lengths), "labels") : null;
        nint[]? lgCls = lgS is null ? null : plan.ClassOffsets(lgS);
        double[]? labelsAcc = wantLabelsGrad ? new double[labelsGrad!.Length] : null;

        ref T zRef = ref Unsafe.AsRef(in logits.GetPinnableReference());
        ref T yRef = ref Unsafe.AsRef(in labels.GetPinnableReference());
        ref int tRef = ref Unsafe.AsRef(in targets.GetPinnableReference());
        ref bool wRef = ref Unsafe.AsRef(in where.GetPinnableReference());
        ref T uRef = ref Unsafe.AsRef(in upstream.GetPinnableReference());

        int cells = batch * c;
        TC[] zBuf = ArrayPool<TC>.Shared.Rent(cells);
        TC[]? yBuf = dense ? ArrayPool<TC>.Shared.Rent(cells) : null;
        int[]? tBuf = dense ? null : ArrayPool<int>.Shared.Rent(batch);
        TC[] lossBuf = ArrayPool<TC>.Shared.Rent(reduce ? 1 : batch);
        TC[]? uBuf = hasUp ? ArrayPool<TC>.Shared.Rent(reduce ? 1 : batch) : null;
        TC[]? gBuf = wantGrad ? ArrayPool<TC>.Shared.Rent(cells) : null;
        TC[]? gyBuf = wantLabelsGrad ? ArrayPool<TC>.Shared.Rent(cells) : null;
        bool[]? maskBuf = hasWhere ? ArrayPool<bool>.Shared.Rent(cells) : null;
        bool[]? rowMasked = hasWhere ? ArrayPool<bool>.Shared.Rent(batch) : null;
        try
        {
            if (hasUp && reduce) uBuf![0] = Load<T, TC>(ref uRef);
            var reader = new RowCursor(plan, zS, yS, tS, wS, uS);
            var writer = new RowCursor(plan, gS, lgS);
            long r0 = 0;
            do
            {
                int n = (int)Math.Min(batch, rows - r0);
                for (int i = 0; i < n; i++, reader.Next())
                {
                    nint zo = reader.Offsets[0], yo = reader.Offsets[1], to = reader.Offsets[2], wo = reader.Offsets[3], uo = reader.Offsets[4];
                    Span<TC> zRow = zBuf.AsSpan(i * c, c);
                    Span<TC> yRow = dense ? yBuf.AsSpan(i * c, c) : default;
                    if (zUnit) LoadRow(ref Unsafe.Add(ref zRef, zo), zRow);
                    else for (int j = 0; j < c; j++) zRow[j] = Load<T, TC>(ref Unsafe.Add(ref zRef, zo + zCls[j]));
                    if (dense)
                    {
                        if (yUnit) LoadRow(ref Unsafe.Add(ref yRef, yo), yRow);
                        else for (int j = 0; j < c; j++) yRow[j] = Load<T, TC>(ref Unsafe.Add(ref yRef, yo + yCls![j]));
                    }
                    bool fullyMasked = false;
                    Span<bool> mask = default;
                    if (hasWhere)
                    {
                        mask = maskBuf.AsSpan(i * c, c);
                        int kept = 0;
                        for (int j = 0; j < c; j++)
                        {
                            bool m = Unsafe.Add(ref wRef, wo + wCls![j]);
                            mask[j] = m;
                            if (m) { kept++; continue; }
                            zRow[j] = TC.NegativeInfinity; // exp(-inf) = 0: absent from the softmax
                            if (dense) yRow[j] = TC.Zero;  // absent from the sums
                        }
                        fullyMasked = kept == 0;
                        rowMasked![i] = fullyMasked;
                        if (fullyMasked)
                        {
                            // A row of zero labels over finite logits has loss 0 and gradient 0 in the kernels.
                            zRow.Clear();
                            if (dense) yRow.Clear();
                        }
                    }
                    if (!dense)
                    {
                        int t = Unsafe.Add(ref tRef, to);
                        if (!fullyMasked) ValidateTarget(t, plan, r0 + i, options.IgnoreIndex, strictTargets);
                        // A masked-out target (or a fully masked row) leaves no label mass: loss 0, like an ignored row.
                        if (fullyMasked || (hasWhere && (uint)t < (uint)c && !mask[t])) t = options.IgnoreIndex;
                        tBuf![i] = t;
                    }
                    if (hasUp && !reduce) uBuf![i] = Load<T, TC>(ref Unsafe.Add(ref uRef, uo));
                }

                int lossCount = reduce ? 1 : n;
                Kernel(dense, zBuf.AsSpan(0, n * c), dense ? yBuf.AsSpan(0, n * c) : default, dense ? default : tBuf.AsSpan(0, n),
                    lossBuf.AsSpan(0, lossCount), wantGrad ? gBuf.AsSpan(0, n * c) : default, wantLabelsGrad ? gyBuf.AsSpan(0, n * c) : default,
                    c, options, hasUp ? uBuf.AsSpan(0, reduce ? 1 : n) : default, wantGrad);

                if (!reduce)
                    for (int i = 0; i < n; i++)
                        loss[r0 + i] = hasWhere && rowMasked![i] ? Store<T, TC>(TC.Zero) : Store<T, TC>(lossBuf[i]);
                for (int i = 0; wantGrad && i < n; i++, writer.Next())
                {
                    ReadOnlySpan<TC> gRow = gBuf.AsSpan(i * c, c);
                    ReadOnlySpan<bool> mask = hasWhere ? maskBuf.AsSpan(i * c, c) : default;
                    nint go = writer.Offsets[0];
                    if (gUnit && !hasWhere) StoreRow(gRow, ref grad![go]);
                    else
                        for (int j = 0; j < c; j++)
                            grad![go + gCls[j]] = hasWhere && !mask[j] ? Store<T, TC>(TC.Zero) : Store<T, TC>(gRow[j]);
                    if (wantLabelsGrad)
                    {
                        ReadOnlySpan<TC> gyRow = gyBuf.AsSpan(i * c, c);
                        nint lo = writer.Offsets[1];
                        for (int j = 0; j < c; j++)
                            if (!hasWhere || mask[j]) labelsAcc![lo + lgCls![j]] += double.CreateTruncating(gyRow[j]);
                    }
                }
                r0 += n;
            }
            while (r0 < rows);
            if (reduce) loss[0] = Store<T, TC>(lossBuf[0]);
            if (wantLabelsGrad)
                for (int k = 0; k < labelsAcc!.Length; k++) labelsGrad![k] = FromDouble<T>(labelsAcc[k]);
        }
        finally
        {
            ArrayPool<TC>.Shared.Return(zBuf);
            if (yBuf is not null) ArrayPool<TC>.Shared.Return(yBuf);
            if (tBuf is not null) ArrayPool<int>.Shared.Return(tBuf);
            ArrayPool<TC>.Shared.Return(lossBuf);
            if (uBuf is not null) ArrayPool<TC>.Shared.Return(uBuf);
            if (gBuf is not null) ArrayPool<TC>.Shared.Return(gBuf);
            if (gyBuf is not null) ArrayPool<TC>.Shared.Return(gyBuf);
            if (maskBuf is not null) ArrayPool<bool>.Shared.Return(maskBuf);
            if (rowMasked is not null) ArrayPool<bool>.Shared.Return(rowMasked);
        }
        return new EngineResult<T>(loss, reduce ? [1] : plan.LossShape, grad, plan.Shape, labelsGrad, wantLabelsGrad ? labels.Lengths.ToArray() : null);
    }

    private static void ValidateTargets(ReadOnlySpan<int> targets, TensorPlan plan, long firstRow, int ignoreIndex, bool strict)
    {
        for (int r = 0; r < targets.Length; r++) ValidateTarget(targets[r], plan, firstRow + r, ignoreIndex, strict);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ValidateTarget(int t, TensorPlan plan, long row, int ignoreIndex, bool strict)
    {
        if ((uint)t < (uint)plan.Classes || (!strict && t == ignoreIndex)) return;
        Throw(t, plan, row, ignoreIndex, strict);

        static void Throw(int t, TensorPlan plan, long row, int ignoreIndex, bool strict)
            => throw new ArgumentOutOfRangeException("targets", t,
                $"targets{plan.RowIndex(row)} = {t} is outside [0, {plan.Classes})" + (strict ? "." : $" and is not IgnoreIndex ({ignoreIndex})."));
    }

    /// <summary>Calls the public span API on gathered (or directly viewed) rows.</summary>
    private static void Kernel<TC>(bool dense, ReadOnlySpan<TC> z, ReadOnlySpan<TC> y, ReadOnlySpan<int> t, Span<TC> losses,
        Span<TC> grad, Span<TC> labelsGrad, int c, PolyLossOptions o, ReadOnlySpan<TC> upstream, bool wantGrad)
        where TC : unmanaged
    {
        if (typeof(TC) == typeof(float))
        {
            var zf = MemoryMarshal.Cast<TC, float>(z);
            var lf = MemoryMarshal.Cast<TC, float>(losses);
            var uf = MemoryMarshal.Cast<TC, float>(upstream);
            if (dense)
            {
                var yf = MemoryMarshal.Cast<TC, float>(y);
                if (wantGrad) Poly.CrossEntropyWithGradient(zf, yf, lf, MemoryMarshal.Cast<TC, float>(grad), c, o, uf, MemoryMarshal.Cast<TC, float>(labelsGrad));
                else Poly.CrossEntropy(zf, yf, lf, c, o);
            }
            else if (wantGrad) Poly.CrossEntropyWithGradient(zf, t, lf, MemoryMarshal.Cast<TC, float>(grad), c, o, uf);
            else Poly.CrossEntropy(zf, t, lf, c, o);
        }
        else
        {
            var zd = MemoryMarshal.Cast<TC, double>(z);
            var ld = MemoryMarshal.Cast<TC, double>(losses);
            var ud = MemoryMarshal.Cast<TC, double>(upstream);
            if (dense)
            {
                var yd = MemoryMarshal.Cast<TC, double>(y);
                if (wantGrad) Poly.CrossEntropyWithGradient(zd, yd, ld, MemoryMarshal.Cast<TC, double>(grad), c, o, ud, MemoryMarshal.Cast<TC, double>(labelsGrad));
                else Poly.CrossEntropy(zd, yd, ld, c, o);
            }
            else if (wantGrad) Poly.CrossEntropyWithGradient(zd, t, ld, MemoryMarshal.Cast<TC, double>(grad), c, o, ud);
            else Poly.CrossEntropy(zd, t, ld, c, o);
        }
    }

    // ---- element conversions: T is float, double or Half; TC is float (for float and Half) or double (for double).

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TC Load<T, TC>(ref T source)
    {
        if (typeof(T) == typeof(TC)) return Unsafe.As<T, TC>(ref source);
        float f = (float)Unsafe.As<T, Half>(ref source);
        return Unsafe.As<float, TC>(ref f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Store<T, TC>(TC value)
    {
        if (typeof(T) == typeof(TC)) return Unsafe.As<TC, T>(ref value);
        Half h = (Half)Unsafe.As<TC, float>(ref value);
        return Unsafe.As<Half, T>(ref h);
    }

    private static T FromDouble<T>(double value)
    {
        if (typeof(T) == typeof(double)) return Unsafe.As<double, T>(ref value);
        if (typeof(T) == typeof(float)) { float f = (float)value; return Unsafe.As<float, T>(ref f); }
        Half h = (Half)value;
        return Unsafe.As<Half, T>(ref h);
    }

    private static void LoadRow<T, TC>(ref T source, Span<TC> destination)
    {
        if (typeof(T) == typeof(TC))
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<T, TC>(ref source), destination.Length).CopyTo(destination);
        else
            TensorPrimitives.ConvertToSingle(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<T, Half>(ref source), destination.Length),
                MemoryMarshal.CreateSpan(ref Unsafe.As<TC, float>(ref MemoryMarshal.GetReference(destination)), destination.Length));
    }

    private static void StoreRow<T, TC>(ReadOnlySpan<TC> source, ref T destination)
    {
        if (typeof(T) == typeof(TC))
            source.CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.As<T, TC>(ref destination), source.Length));
        else
            TensorPrimitives.ConvertToHalf(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<TC, float>(ref MemoryMarshal.GetReference(source)), source.Length),
                MemoryMarshal.CreateSpan(ref Unsafe.As<T, Half>(ref destination), source.Length));
    }

    private static ReadOnlySpan<TC> View<T, TC>(in T first, int length)
        => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<T, TC>(ref Unsafe.AsRef(in first)), length);

    private static Span<TC> AsSpan<T, TC>(T[]? array)
        => array is null ? default : MemoryMarshal.CreateSpan(ref Unsafe.As<T, TC>(ref MemoryMarshal.GetArrayDataReference(array)), array.Length);
}
