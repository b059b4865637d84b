using System.Text;

namespace PolyLoss.Tensors;

/// <summary>
/// How a call's logits split into rows: the class axes (flattened in ascending axis order into C classes) and the batch
/// axes (the loss shape), plus NumPy broadcasting of the other operands onto the logits' shape.
/// </summary>
internal sealed class TensorPlan
{
    /// <summary>The logits' lengths.</summary>
    public readonly nint[] Shape;

    /// <summary>Class axes, ascending and distinct.</summary>
    public readonly int[] ClassAxes;

    /// <summary>The other axes, ascending.</summary>
    public readonly int[] BatchAxes;

    /// <summary>The number of classes C (product of the class axes' lengths).</summary>
    public readonly int Classes;

    /// <summary>The number of rows (product of the batch axes' lengths; 1 when there are none).</summary>
    public readonly long Rows;

    /// <summary>The shape of the unreduced loss: the batch axes' lengths, or [1] when every axis is a class axis
    /// (<see cref="System.Numerics.Tensors.Tensor{T}"/> has no rank-0 form).</summary>
    public readonly nint[] LossShape;

    private TensorPlan(nint[] shape, int[] classAxes)
    {
        Shape = shape;
        ClassAxes = classAxes;
        BatchAxes = Enumerable.Range(0, shape.Length).Where(a => Array.IndexOf(classAxes, a) < 0).ToArray();
        long c = 1;
        foreach (int a in classAxes) c = checked(c * shape[a]);
        if (c == 0)
            throw new ArgumentException($"The class axes ({string.Join(", ", classAxes)}) of logits of shape {Format(shape)} have no elements.", "logits");
        if (c > Array.MaxLength)
            throw new NotSupportedException($"{c} classes per row (logits of shape {Format(shape)}) exceed the largest supported row.");
        Classes = (int)c;
        long rows = 1;
        foreach (int a in BatchAxes) rows = checked(rows * shape[a]);
        Rows = rows;
        LossShape = BatchAxes.Length == 0 ? [1] : BatchAxes.Select(a => shape[a]).ToArray();
    }

    /// <summary>Plans a call with one class axis (negative counts from the end).</summary>
    public static TensorPlan Create(ReadOnlySpan<nint> logitsShape, int axis)
    {
        int rank = RequireRank(logitsShape);
        return new TensorPlan(logitsShape.ToArray(), [Normalize(axis, rank, "axis")]);
    }

    /// <summary>Plans a call with a set of class axes (negative counts from the end; any order; no repeats).</summary>
    public static TensorPlan Create(ReadOnlySpan<nint> logitsShape, ReadOnlySpan<int> axes)
    {
        int rank = RequireRank(logitsShape);
        if (axes.IsEmpty)
            throw new ArgumentException("axes must name at least one class axis.", nameof(axes));
        var normalized = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            int a = Normalize(axes[i], rank, nameof(axes));
            if (Array.IndexOf(normalized, a, 0, i) >= 0)
                throw new ArgumentException($"axes names axis {a} more than once ({string.Join(", ", axes.ToArray())}).", nameof(axes));
            normalized[i] = a;
        }
        Array.Sort(normalized);
        return new TensorPlan(logitsShape.ToArray(), normalized);
    }

    private static int RequireRank(ReadOnlySpan<nint> shape)
    {
        if (shape.Length == 0)
            throw new ArgumentException("logits must have at least one dimension (a default tensor span was passed).", "logits");
        return shape.Length;
    }

    private static int Normalize(int axis, int rank, string name)
    {
        if (axis < -rank || axis >= rank)
            throw new ArgumentOutOfRangeException(name, axis, $"Axis {axis} is out of range for logits of rank {rank} (valid: {-rank} to {rank - 1}).");
        return axis < 0 ? axis + rank : axis;
    }

    /// <summary>Whether the class axes are the trailing axes, so a row's classes are consecutive in row-major order.</summary>
    public bool ClassesAreTrailing => ClassAxes[0] == Shape.Length - ClassAxes.Length;

    /// <summary>
    /// Strides (in elements, one per logits axis, 0 on broadcast axes) of an operand of the given lengths and strides
    /// broadcast to the logits' shape with NumPy's rules.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast (both are named).</exception>
    public nint[] Broadcast(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides, string name)
        => Align(lengths, strides, Shape, name, "the logits' shape");

    /// <summary>
    /// Strides, one per logits axis (0 on the class axes), of a batch-shaped operand (targets, upstream) broadcast to
    /// <see cref="LossShape"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast (both are named).</exception>
    public nint[] BroadcastBatch(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides, string name)
    {
        nint[] aligned = Align(lengths, strides, LossShape, name, "the loss (batch) shape");
        var full = new nint[Shape.Length];
        if (BatchAxes.Length != 0)
            for (int k = 0; k < BatchAxes.Length; k++) full[BatchAxes[k]] = aligned[k];
        return full;
    }

    private static nint[] Align(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides, nint[] target, string name, string targetName)
    {
        if (lengths.Length == 0)
            throw new ArgumentException($"{name} has no dimensions (a default tensor span was passed); {targetName} is {Format(target)}.", name);
        int n = target.Length, m = lengths.Length;
        bool ok = m <= n;
        var result = new nint[n];
        for (int i = 0; ok && i < n; i++)
        {
            int k = i - (n - m);
            if (k < 0) continue;
            if (lengths[k] == target[i]) result[i] = target[i] == 1 ? 0 : strides[k];
            else if (lengths[k] == 1) result[i] = 0;
            else ok = false;
        }
        if (!ok)
            throw new ArgumentException($"{name} of shape {Format(lengths)} cannot be broadcast to {targetName} {Format(target)}.", name);
        return result;
    }

    /// <summary>Offsets (in elements) of the C classes of a row for an operand with the given full-rank strides,
    /// in row-major order over the class axes.</summary>
    public nint[] ClassOffsets(nint[] strides)
    {
        var offsets = new nint[Classes];
        int k = ClassAxes.Length;
        Span<nint> index = stackalloc nint[k];
        nint offset = 0;
        for (int j = 0; j < offsets.Length; j++)
        {
            offsets[j] = offset;
            for (int d = k - 1; d >= 0; d--)
            {
                int axis = ClassAxes[d];
                if (++index[d] < Shape[axis]) { offset += strides[axis]; break; }
                index[d] = 0;
                offset -= strides[axis] * (Shape[axis] - 1);
            }
        }
        return offsets;
    }

    /// <summary>Whether the offsets are 0, 1, 2, ... (the row is a contiguous run).</summary>
    public static bool IsUnit(nint[] offsets)
    {
        for (int j = 0; j < offsets.Length; j++)
            if (offsets[j] != j) return false;
        return true;
    }

    /// <summary>Row-major (dense) strides of a shape.</summary>
    public static nint[] RowMajor(ReadOnlySpan<nint> lengths)
    {
        var s = new nint[lengths.Length];
        nint stride = 1;
        for (int i = lengths.Length - 1; i >= 0; i--)
        {
            s[i] = stride;
            stride *= lengths[i];
        }
        return s;
    }

    /// <summary>Whether an operand with these lengths and strides is laid out row-major without gaps
    /// (axes of length 1 may have any stride).</summary>
    public static bool IsRowMajor(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides)
    {
        nint expected = 1;
        for (int i = lengths.Length - 1; i >= 0; i--)
        {
            if (lengths[i] != 1 && strides[i] != expected) return false;
            expected *= lengths[i];
        }
        return true;
    }

    /// <summary>The batch multi-index of a row, as text, e.g. "[1, 2]".</summary>
    public string RowIndex(long row)
    {
        if (BatchAxes.Length == 0) return "[0]";
        var index = new long[BatchAxes.Length];
        for (int k = BatchAxes.Length - 1; k >= 0; k--)
        {
            long len = Shape[BatchAxes[k]];
            index[k] = row % len;
            row /= len;
        }
        return "[" + string.Join(", ", index) + "]";
    }

    /// <summary>Formats a shape as "[2, 3]".</summary>
    public static string Format(ReadOnlySpan<nint> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }
}

/// <summary>Walks the rows in order, keeping each operand's offset of the current row's first class.</summary>
internal sealed class RowCursor
{
    private readonly nint[] _lengths;
    private readonly nint[][] _strides;
    private readonly nint[] _index;

    /// <summary>Current offsets, one per operand, in the order given to the constructor.</summary>
    public readonly nint[] Offsets;

    /// <summary>Creates a cursor at row 0 over operands with the given full-rank strides (null: an absent operand, offset 0).</summary>
    public RowCursor(TensorPlan plan, params nint[]?[] operandStrides)
    {
        int k = plan.BatchAxes.Length;
        _lengths = plan.BatchAxes.Select(a => plan.Shape[a]).ToArray();
        _strides = operandStrides.Select(s => s is null ? new nint[k] : plan.BatchAxes.Select(a => s[a]).ToArray()).ToArray();
        _index = new nint[k];
        Offsets = new nint[operandStrides.Length];
    }

    /// <summary>Moves to the next row.</summary>
    public void Next()
    {
        for (int d = _lengths.Length - 1; d >= 0; d--)
        {
            if (++_index[d] < _lengths[d])
            {
                for (int o = 0; o < Offsets.Length; o++) Offsets[o] += _strides[o][d];
                return;
            }
            _index[d] = 0;
            for (int o = 0; o < Offsets.Length; o++) Offsets[o] -= _strides[o][d] * (_lengths[d] - 1);
        }
    }
}
