using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace PolyLoss.Benchmarks;

/// <summary>The benchmark method names (shared by BenchmarkDotNet, the custom columns, the quick mode and the target table).</summary>
public static class Names
{
    public const string Fwd = "Fwd", FwdBwd = "FwdBwd";

    // Forward (losses per row).
    public const string BoundRead = "Bound_Read", Exp = "Exp", Naive = "Naive", Poly = "Poly", TorchComposed = "Torch_Composed", TorchCE = "Torch_CE";
    // Forward + backward (losses per row and the gradient of their sum).
    public const string BoundReadWrite = "Bound_ReadWrite", NaiveGrad = "Naive_Grad", PolyGrad = "Poly_Grad",
        TorchComposedGrad = "Torch_Composed_Grad", TorchCEGrad = "Torch_CE_Grad";

    public static readonly string[] Forward = [BoundRead, Exp, Naive, Poly, TorchComposed, TorchCE];
    public static readonly string[] ForwardBackward = [BoundReadWrite, NaiveGrad, PolyGrad, TorchComposedGrad, TorchCEGrad];

    public static bool IsTorch(string method) => method.StartsWith("Torch", StringComparison.Ordinal);
    public static string Category(string method) => Array.IndexOf(ForwardBackward, method) >= 0 ? FwdBwd : Fwd;
    public static string Bound(string category) => category == FwdBwd ? BoundReadWrite : BoundRead;
    public static string Library(string category) => category == FwdBwd ? PolyGrad : Poly;
}

/// <summary>Inputs, outputs and every measured operation for one <see cref="Case"/>.</summary>
public interface IWorkload : IDisposable
{
    Case Case { get; }
    /// <summary>Copies the inputs into LibTorch tensors and sets LibTorch to 2 threads (not needed by the other methods).</summary>
    void SetupTorch();
    Action Get(string method);
    /// <summary>Runs every method once and checks that the losses and gradients agree; returns a one-line report.</summary>
    string Validate(bool torch);
}

public static class Workload
{
    public const double Epsilon = 2.0;
    public static IWorkload Create(Case c) => c.Double ? new Workload<double>(c) : new Workload<float>(c);

    /// <summary>The library's options: Poly-1 at <see cref="Epsilon"/>, all cores unless the quick mode's <c>--threads N</c>
    /// caps them.</summary>
    public static PolyLoss.PolyLossOptions LibraryOptions { get; set; } = new() { Epsilon = Epsilon };

    private static bool _torchThreadsSet;

    public static void InitTorch()
    {
        if (_torchThreadsSet) return;
        torch.set_num_threads(2);
        _torchThreadsSet = true;
    }
}

public sealed class Workload<T> : IWorkload where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int Threads = 2;
    private static readonly T Eps = T.CreateTruncating(Workload.Epsilon);

    public Case Case { get; }
    private readonly int _rows, _classes;
    private readonly T[] _logits, _labels, _losses, _grad, _scratch;
    private readonly int[] _targets;
    private readonly double[] _sinks = new double[Threads * 16]; // one cache line apart
    private readonly TwoThreads _pool = new();
    private readonly Action<int> _readOnce, _readWrite, _exp;

    private Tensor? _z, _zg, _t, _tIndex, _y;

    public Workload(Case c)
    {
        Case = c;
        _rows = c.Rows;
        _classes = c.Classes;
        long n = c.Elements;
        var rng = new Random(20220425);
        _logits = new T[n];
        for (long i = 0; i < n; i++) _logits[i] = T.CreateTruncating(Gaussian(rng) * 3.0);
        _targets = new int[_rows];
        for (int r = 0; r < _rows; r++) _targets[r] = rng.Next(_classes);
        _labels = c.Dense ? new T[n] : [];
        if (c.Dense)
        {
            // Soft labels: a random distribution per row with most of the mass on the target.
            for (int r = 0; r < _rows; r++)
            {
                var y = _labels.AsSpan(r * _classes, _classes);
                double s = 0;
                for (int j = 0; j < _classes; j++) { double v = rng.NextDouble(); y[j] = T.CreateTruncating(v); s += v; }
                for (int j = 0; j < _classes; j++) y[j] = T.CreateTruncating(double.CreateTruncating(y[j]) * 0.1 / s + (j == _targets[r] ? 0.9 : 0));
            }
        }
        _losses = new T[_rows];
        _grad = new T[n];
        _scratch = new T[n];
        _readOnce = ReadOnceBody;
        _readWrite = ReadWriteBody;
        _exp = ExpBody;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public Action Get(string method) => method switch
    {
        Names.BoundRead => BoundRead,
        Names.Exp => Exp,
        Names.Naive => Naive,
        Names.Poly => Poly,
        Names.TorchComposed => TorchComposed,
        Names.TorchCE => TorchCE,
        Names.BoundReadWrite => BoundReadWrite,
        Names.NaiveGrad => NaiveGrad,
        Names.PolyGrad => PolyGrad,
        Names.TorchComposedGrad => TorchComposedGrad,
        Names.TorchCEGrad => TorchCEGrad,
        _ => throw new ArgumentException($"unknown method {method}", nameof(method)),
    };

    // ---------------------------------------------------------------- bounds (2 threads)

    private (int Start, int End) Half(int i) => (i * _rows / Threads, (i + 1) * _rows / Threads);

    /// <summary>Reads the logits and the targets / labels once: TensorPrimitives.Sum over each thread's half of the rows.</summary>
    public void BoundRead() => _pool.Run(_readOnce);

    private void ReadOnceBody(int i)
    {
        var (start, end) = Half(i);
        long a = (long)start * _classes, b = (long)end * _classes;
        double s = double.CreateTruncating(TensorPrimitives.Sum<T>(_logits.AsSpan((int)a, (int)(b - a))));
        if (Case.Dense) s += double.CreateTruncating(TensorPrimitives.Sum<T>(_labels.AsSpan((int)a, (int)(b - a))));
        else s += TensorPrimitives.Sum<int>(_targets.AsSpan(start, end - start));
        _sinks[i * 16] = s;
    }

    /// <summary>
    /// Reads the inputs once and writes the gradient (and the losses) once: per block of rows (~64 KiB of logits)
    /// TensorPrimitives.Sum of the logits (and labels / targets), then Span.Fill of the gradient block.
    /// </summary>
    public void BoundReadWrite() => _pool.Run(_readWrite);

    private void ReadWriteBody(int i)
    {
        var (start, end) = Half(i);
        int block = Math.Max(1, (64 * 1024 / Unsafe.SizeOf<T>()) / _classes);
        double s = 0;
        for (int r = start; r < end; r += block)
        {
            int rEnd = Math.Min(end, r + block);
            int a = r * _classes, len = (rEnd - r) * _classes;
            s += double.CreateTruncating(TensorPrimitives.Sum<T>(_logits.AsSpan(a, len)));
            if (Case.Dense) s += double.CreateTruncating(TensorPrimitives.Sum<T>(_labels.AsSpan(a, len)));
            else s += TensorPrimitives.Sum<int>(_targets.AsSpan(r, rEnd - r));
            _grad.AsSpan(a, len).Fill(T.CreateTruncating(s));
            _losses.AsSpan(r, rEnd - r).Fill(T.CreateTruncating(s));
        }
        _sinks[i * 16] = s;
    }

    /// <summary>Reference point: TensorPrimitives.Exp over the logits into a scratch buffer, 2 threads.</summary>
    public void Exp() => _pool.Run(_exp);

    private void ExpBody(int i)
    {
        var (start, end) = Half(i);
        int a = start * _classes, len = (end - start) * _classes;
        TensorPrimitives.Exp<T>(_logits.AsSpan(a, len), _scratch.AsSpan(a, len));
    }

    // ---------------------------------------------------------------- naive scalar loop (1 thread, double)

    public void Naive() => NaiveCore(withGradient: false);
    public void NaiveGrad() => NaiveCore(withGradient: true);

    private void NaiveCore(bool withGradient)
    {
        int c = _classes;
        double eps = Workload.Epsilon;
        for (int r = 0; r < _rows; r++)
        {
            ReadOnlySpan<T> z = _logits.AsSpan(r * c, c);
            double m = double.NegativeInfinity;
            for (int j = 0; j < c; j++) m = Math.Max(m, double.CreateTruncating(z[j]));
            double s = 0;
            for (int j = 0; j < c; j++) s += Math.Exp(double.CreateTruncating(z[j]) - m);
            double lse = m + Math.Log(s);
            double loss;
            Span<T> g = withGradient ? _grad.AsSpan(r * c, c) : default;
            if (!Case.Dense)
            {
                int t = _targets[r];
                double lpt = double.CreateTruncating(z[t]) - lse, pt = Math.Exp(lpt);
                loss = -lpt + eps * (1 - pt);
                if (withGradient)
                {
                    double f = 1 + eps * pt;
                    for (int j = 0; j < c; j++) g[j] = T.CreateTruncating(Math.Exp(double.CreateTruncating(z[j]) - lse) * f);
                    g[t] = T.CreateTruncating(-(1 - pt) * f);
                }
            }
            else
            {
                ReadOnlySpan<T> y = _labels.AsSpan(r * c, c);
                double ce = 0, poly = 0, sy = 0, pty = 0;
                for (int j = 0; j < c; j++)
                {
                    double yj = double.CreateTruncating(y[j]), lp = double.CreateTruncating(z[j]) - lse, p = Math.Exp(lp);
                    ce -= yj * lp;
                    poly += yj * (1 - p);
                    sy += yj;
                    pty += yj * p;
                }
                loss = ce + eps * poly;
                if (withGradient)
                {
                    for (int j = 0; j < c; j++)
                    {
                        double yj = double.CreateTruncating(y[j]), p = Math.Exp(double.CreateTruncating(z[j]) - lse);
                        g[j] = T.CreateTruncating(sy * p - yj - eps * p * (yj - pty));
                    }
                }
            }
            _losses[r] = T.CreateTruncating(loss);
        }
    }

    // ---------------------------------------------------------------- this library

    public void Poly()
    {
        var o = Workload.LibraryOptions;
        if (typeof(T) == typeof(float))
        {
            var z = Cast<float>(_logits); var l = CastW<float>(_losses);
            if (Case.Dense) PolyLoss.Poly.CrossEntropy(z, Cast<float>(_labels), l, _classes, o);
            else PolyLoss.Poly.CrossEntropy(z, _targets, l, _classes, o);
        }
        else
        {
            var z = Cast<double>(_logits); var l = CastW<double>(_losses);
            if (Case.Dense) PolyLoss.Poly.CrossEntropy(z, Cast<double>(_labels), l, _classes, o);
            else PolyLoss.Poly.CrossEntropy(z, _targets, l, _classes, o);
        }
    }

    public void PolyGrad()
    {
        var o = Workload.LibraryOptions;
        if (typeof(T) == typeof(float))
        {
            var z = Cast<float>(_logits); var l = CastW<float>(_losses); var g = CastW<float>(_grad);
            if (Case.Dense) PolyLoss.Poly.CrossEntropyWithGradient(z, Cast<float>(_labels), l, g, _classes, o);
            else PolyLoss.Poly.CrossEntropyWithGradient(z, _targets, l, g, _classes, o);
        }
        else
        {
            var z = Cast<double>(_logits); var l = CastW<double>(_losses); var g = CastW<double>(_grad);
            if (Case.Dense) PolyLoss.Poly.CrossEntropyWithGradient(z, Cast<double>(_labels), l, g, _classes, o);
            else PolyLoss.Poly.CrossEntropyWithGradient(z, _targets, l, g, _classes, o);
        }
    }

    private static ReadOnlySpan<TTo> Cast<TTo>(T[] a) where TTo : struct => MemoryMarshal.Cast<T, TTo>(a.AsSpan());
    private static Span<TTo> CastW<TTo>(T[] a) where TTo : struct => MemoryMarshal.Cast<T, TTo>(a.AsSpan());

    // ---------------------------------------------------------------- LibTorch through TorchSharp (2 threads)

    public void SetupTorch()
    {
        if (_z is not null) return;
        Workload.InitTorch();
        long[] shape = [_rows, _classes];
        _z = FromArray(_logits, shape);
        _zg = FromArray(_logits, shape).requires_grad_(true);
        _t = torch.tensor(_targets.Select(v => (long)v).ToArray(), [_rows], ScalarType.Int64);
        _tIndex = _t.unsqueeze(1);
        _y = Case.Dense ? FromArray(_labels, shape) : null;
    }

    private static Tensor FromArray(T[] data, long[] shape) =>
        typeof(T) == typeof(float) ? torch.tensor((float[])(object)data, shape) : torch.tensor((double[])(object)data, shape);

    private Tensor Z => _z ?? throw new InvalidOperationException("SetupTorch was not called");

    /// <summary>
    /// PolyLoss composed of LibTorch operations, per row: int targets
    /// <c>-log_softmax(z).gather(t) + eps (1 - softmax(z).gather(t))</c>; dense labels
    /// <c>-(y log_softmax(z)).sum(1) + eps (y (1 - softmax(z))).sum(1)</c> (the usual reference implementation).
    /// </summary>
    private Tensor ComposedLoss(Tensor z)
    {
        var logp = nn.functional.log_softmax(z, 1);
        var p = nn.functional.softmax(z, 1);
        if (!Case.Dense)
        {
            var ce = -logp.gather(1, _tIndex!).squeeze(1);
            var pt = p.gather(1, _tIndex!).squeeze(1);
            return ce + Workload.Epsilon * (1 - pt);
        }
        var y = _y!;
        var ced = -(y * logp).sum(1);
        var poly = (y * (1 - p)).sum(1);
        return ced + Workload.Epsilon * poly;
    }

    private Tensor NativeCE(Tensor z) => nn.functional.cross_entropy(z, Case.Dense ? _y! : _t!, reduction: nn.Reduction.None);

    public void TorchComposed()
    {
        using var scope = torch.NewDisposeScope();
        ComposedLoss(Z);
    }

    public void TorchCE()
    {
        using var scope = torch.NewDisposeScope();
        NativeCE(Z);
    }

    public void TorchComposedGrad()
    {
        using var scope = torch.NewDisposeScope();
        var loss = ComposedLoss(_zg!);
        loss.sum().backward();
        ResetGrad();
    }

    public void TorchCEGrad()
    {
        using var scope = torch.NewDisposeScope();
        var loss = NativeCE(_zg!);
        loss.sum().backward();
        ResetGrad();
    }

    /// <summary>Drops the accumulated gradient so that the next backward allocates it afresh instead of adding into it.</summary>
    private void ResetGrad() => _zg!.grad = null;

    // ---------------------------------------------------------------- validation

    public string Validate(bool withTorch)
    {
        int n = _rows;
        var lossRef = new double[n];
        var gradRef = new double[Case.Elements];
        NaiveGrad();
        for (int r = 0; r < n; r++) lossRef[r] = double.CreateTruncating(_losses[r]);
        for (long i = 0; i < gradRef.Length; i++) gradRef[i] = double.CreateTruncating(_grad[i]);

        var parts = new List<string>();
        bool ok = true;
        void Check(string what, ReadOnlySpan<T> loss, ReadOnlySpan<T> grad)
        {
            double dl = 0, dg = 0;
            for (int r = 0; r < n; r++) dl = Math.Max(dl, Math.Abs(double.CreateTruncating(loss[r]) - lossRef[r]) / Math.Max(1, Math.Abs(lossRef[r])));
            for (int i = 0; i < grad.Length; i++) dg = Math.Max(dg, Math.Abs(double.CreateTruncating(grad[i]) - gradRef[i]));
            double tol = typeof(T) == typeof(float) ? 1e-4 : 1e-9;
            if (!(dl <= tol && dg <= tol)) ok = false;
            parts.Add($"{what} dloss {dl:0.0e0} dgrad {(grad.IsEmpty ? "-" : dg.ToString("0.0e0"))}");
        }

        Array.Clear(_losses); Naive(); Check("naive fwd", _losses, default);
        Array.Clear(_losses); Poly(); Check("poly", _losses, default);
        Array.Clear(_losses); Array.Clear(_grad); PolyGrad(); Check("poly grad", _losses, _grad);
        if (withTorch)
        {
            SetupTorch();
            using var scope = torch.NewDisposeScope();
            Check("torch composed", ComposedLoss(Z).data<T>().ToArray(), default);
            var loss = ComposedLoss(_zg!);
            loss.sum().backward();
            Check("torch composed grad", loss.detach().data<T>().ToArray(), _zg!.grad!.data<T>().ToArray());
            ResetGrad();
            // Native CE is plain cross entropy: check it is finite and that CE + eps (1 - p_t) matches for int targets.
            var ce = NativeCE(Z);
            double maxCe = ce.max().ToDouble();
            if (!double.IsFinite(maxCe)) ok = false;
            parts.Add($"torch CE max {maxCe:0.00}");
        }
        return (ok ? "OK: " : "MISMATCH: ") + string.Join("; ", parts);
    }

    public void Dispose()
    {
        _pool.Dispose();
        _z?.Dispose(); _zg?.Dispose(); _t?.Dispose(); _tIndex?.Dispose(); _y?.Dispose();
    }
}
