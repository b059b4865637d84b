using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace PolyLoss.Benchmarks;

/// <summary>
/// Side by side, per <see cref="Case"/>: this library, LibTorch (composed PolyLoss and native cross entropy), a naive
/// scalar loop, and the memory bounds. Two categories, each with its bound as the baseline so that the Ratio column is
/// time / bound: <c>Fwd</c> (losses; baseline: read the inputs once) and <c>FwdBwd</c> (losses and gradient;
/// baseline: read the inputs once and write the gradient once). The custom columns <c>xLib</c> (time / this library's
/// time, same case and category) and <c>xF32</c> (float64 time / float32 time, same method and shape) give the other ratios.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class PolyBenchmarks
{
    private IWorkload _w = null!;
    private Action _boundRead = null!, _exp = null!, _naive = null!, _poly = null!, _torchComposed = null!, _torchCE = null!;
    private Action _boundReadWrite = null!, _naiveGrad = null!, _polyGrad = null!, _torchComposedGrad = null!, _torchCEGrad = null!;

    public static IEnumerable<Case> Cases() => Case.All();

    [ParamsSource(nameof(Cases))]
    public Case Case { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        _w = Workload.Create(Case);
        // Delegates are created once here, so that a call allocates only what the measured code allocates.
        _boundRead = _w.Get(Names.BoundRead); _exp = _w.Get(Names.Exp); _naive = _w.Get(Names.Naive); _poly = _w.Get(Names.Poly);
        _torchComposed = _w.Get(Names.TorchComposed); _torchCE = _w.Get(Names.TorchCE);
        _boundReadWrite = _w.Get(Names.BoundReadWrite); _naiveGrad = _w.Get(Names.NaiveGrad); _polyGrad = _w.Get(Names.PolyGrad);
        _torchComposedGrad = _w.Get(Names.TorchComposedGrad); _torchCEGrad = _w.Get(Names.TorchCEGrad);
    }

    [GlobalSetup(Targets = [nameof(Torch_Composed), nameof(Torch_CE), nameof(Torch_Composed_Grad), nameof(Torch_CE_Grad)])]
    public void SetupTorch()
    {
        Setup();
        _w.SetupTorch();
    }

    [GlobalCleanup]
    public void Cleanup() => _w.Dispose();

    // ---------------- forward: losses per row

    [Benchmark(Baseline = true), BenchmarkCategory(Names.Fwd)] public void Bound_Read() => _boundRead();

    [Benchmark, BenchmarkCategory(Names.Fwd)] public void Exp() => _exp();
    [Benchmark, BenchmarkCategory(Names.Fwd)] public void Naive() => _naive();
    [Benchmark, BenchmarkCategory(Names.Fwd)] public void Poly() => _poly();
    [Benchmark, BenchmarkCategory(Names.Fwd)] public void Torch_Composed() => _torchComposed();
    [Benchmark, BenchmarkCategory(Names.Fwd)] public void Torch_CE() => _torchCE();

    // ---------------- forward + backward: losses and the gradient of their sum

    [Benchmark(Baseline = true), BenchmarkCategory(Names.FwdBwd)] public void Bound_ReadWrite() => _boundReadWrite();
    [Benchmark, BenchmarkCategory(Names.FwdBwd)] public void Naive_Grad() => _naiveGrad();
    [Benchmark, BenchmarkCategory(Names.FwdBwd)] public void Poly_Grad() => _polyGrad();
    [Benchmark, BenchmarkCategory(Names.FwdBwd)] public void Torch_Composed_Grad() => _torchComposedGrad();
    [Benchmark, BenchmarkCategory(Names.FwdBwd)] public void Torch_CE_Grad() => _torchCEGrad();
}
