using System.Numerics.Tensors;
using static PolyLoss.Tests.Tensors.TensorTestData;

namespace PolyLoss.Tests.Tensors;

public class ElementTypeTests
{
    private const int N = 9, C = 6;

    [Fact]
    public void Half_IsComputedInFloatAndRoundedOnce()
    {
        float[] z = HalfExact(Logits(50, N * C));
        float[] y = HalfExact(SoftLabels(51, N, C));
        var f = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C]), computeLabelsGradient: true);
        var h = PolyTensor.CrossEntropyWithGradient(Tensor.Create(ToHalf(z), [N, C]), Tensor.Create(ToHalf(y), [N, C]), computeLabelsGradient: true);

        Assert.Equal(Flatten(f.Loss).Select(v => (Half)v), Flatten(h.Loss));
        Assert.Equal(Flatten(f.LogitsGradient).Select(v => (Half)v), Flatten(h.LogitsGradient));
        Assert.Equal(Flatten(f.LabelsGradient!).Select(v => (Half)v), Flatten(h.LabelsGradient!));
    }

    [Fact]
    public void Half_OnTheGatherPath_WithAxisAndWhere_EqualsFloatRounded()
    {
        float[] z = HalfExact(Logits(52, N * C));
        int[] t = Targets(53, C, N);
        bool[] m = Enumerable.Range(0, N * C).Select(i => i % 5 != 2).ToArray();
        // logits [C, N] with the classes on axis 0 (a strided gather), integer targets.
        var f = PolyTensor.CrossEntropyWithGradient(Tensor.Create(z, [N, C]), Tensor.Create(t, [C]), new PolyLossOptions { Epsilon = 1 }, axis: 0, where: Tensor.Create(m, [N, C]));
        var h = PolyTensor.CrossEntropyWithGradient(Tensor.Create(ToHalf(z), [N, C]), Tensor.Create(t, [C]), new PolyLossOptions { Epsilon = 1 }, axis: 0, where: Tensor.Create(m, [N, C]));
        Assert.Equal(Flatten(f.Loss).Select(v => (Half)v), Flatten(h.Loss));
        Assert.Equal(Flatten(f.LogitsGradient).Select(v => (Half)v), Flatten(h.LogitsGradient));
    }

    [Fact]
    public void FloatAndDouble_AgreeToFloatPrecision_AndDoubleMatchesTheReference()
    {
        float[] z = Logits(54, N * C, scale: 8);
        float[] y = SoftLabels(55, N, C);
        float[] lf = Flatten(PolyTensor.CrossEntropy(Tensor.Create(z, [N, C]), Tensor.Create(y, [N, C])));
        double[] zd = ToDouble(z), yd = ToDouble(y);
        double[] ld = Flatten(PolyTensor.CrossEntropy(Tensor.Create(zd, [N, C]), Tensor.Create(yd, [N, C])));
        for (int r = 0; r < N; r++)
        {
            double reference = RefLoss(zd.AsSpan(r * C, C), yd.AsSpan(r * C, C), 2);
            Close(reference, ld[r], 1e-13, 1e-15, $"double row {r}");
            Close(reference, lf[r], 2e-7, 1e-7, $"float row {r}");
        }
    }

    [Fact]
    public void UnsupportedElementType_ThrowsNotSupportedNamingTheType()
    {
        var z = Tensor.Create(new decimal[6], [2, 3]);
        var ex = Assert.Throws<NotSupportedException>(() => PolyTensor.CrossEntropy(z, z));
        Assert.Contains("System.Decimal", ex.Message);
        var ex2 = Assert.Throws<NotSupportedException>(() => PolyTensor.CrossEntropyWithGradient(z, Tensor.Create(new int[2], [2])));
        Assert.Contains("System.Decimal", ex2.Message);
    }
}
