using System.Buffers;
using System.Numerics.Tensors;
using static PolyLoss.Tests.Tensors.TensorTestData;

namespace PolyLoss.Tests.Tensors;

public class NonContiguousTests
{
    [Fact]
    public void SlicedLogitsAndLabels_EqualTheSpanApiOnCopiedRows()
    {
        const int N = 10, W = 9, C = 6;
        var big = Tensor.Create(Logits(90, N * W), [N, W]);
        var bigLabels = Tensor.Create(SoftLabels(91, N, W), [N, W]);
        ReadOnlyTensorSpan<float> z = big.AsReadOnlyTensorSpan()[new NRange(1, N), new NRange(2, 2 + C)];
        ReadOnlyTensorSpan<float> y = bigLabels.AsReadOnlyTensorSpan()[new NRange(1, N), new NRange(2, 2 + C)];
        Assert.False(z.IsDense);

        var (loss, grad, labelsGrad) = PolyTensor.CrossEntropyWithGradient(z, y, computeLabelsGradient: true);

        float[] zc = Flatten(z), yc = Flatten(y);
        var el = new float[N - 1];
        var eg = new float[zc.Length];
        var egy = new float[zc.Length];
        Poly.CrossEntropyWithGradient(zc, yc, el, eg, C, PolyLossOptions.Default, default, egy);
        Assert.Equal(el, Flatten(loss));
        Assert.Equal(eg, Flatten(grad));
        Assert.Equal(egy, Flatten(labelsGrad!));
    }

    [Fact]
    public void PermutedTensor_EqualsTheSameDataStoredContiguously()
    {
        nint[] shape = [4, 3, 5];
        float[] z = Logits(92, 60);
        Tensor<float> permuted = Tensor.PermuteDimensions(Tensor.Create(z, shape), [2, 0, 1]);   // [5, 4, 3], strided
        int[] t = Targets(93, 5 * 4, 3);
        Tensor<float> contiguous = Tensor.Create(Permute(z, shape, [2, 0, 1]), [5, 4, 3]);
        var a = PolyTensor.CrossEntropyWithGradient(permuted, Tensor.Create(t, [5, 4]));
        var b = PolyTensor.CrossEntropyWithGradient(contiguous, Tensor.Create(t, [5, 4]));
        Assert.Equal(Flatten(b.Loss), Flatten(a.Loss));
        Assert.Equal(Flatten(b.LogitsGradient), Flatten(a.LogitsGradient));
    }

    [Fact]
    public void StrideZeroLogits_GiveEqualRows_AndAGradientPerLogicalElement()
    {
        const int N = 4, C = 5;
        float[] row = Logits(94, C);
        var logits = new ReadOnlyTensorSpan<float>(row, 0, [N, C], [0, 1]);
        int[] t = [0, 1, 2, 3];
        var (loss, grad) = PolyTensor.CrossEntropyWithGradient(logits, Tensor.Create(t, [N]));
        Assert.Equal([(nint)N, C], grad.Lengths.ToArray());

        float[] repeated = Enumerable.Range(0, N).SelectMany(_ => row).ToArray();
        var el = new float[N];
        var eg = new float[N * C];
        Poly.CrossEntropyWithGradient(repeated, t, el, eg, C);
        Assert.Equal(el, Flatten(loss));
        Assert.Equal(eg, Flatten(grad));
    }

    [Fact]
    public void ManyRows_AcrossSeveralGatherBatches_EqualTheSpanApi()
    {
        const int N = 3001, C = 100, W = 103;   // N * C well above one gather batch
        var big = Tensor.Create(Logits(95, N * W), [N, W]);
        ReadOnlyTensorSpan<float> z = big.AsReadOnlyTensorSpan()[new NRange(0, N), new NRange(3, 3 + C)];
        int[] t = Targets(96, N, C);
        var (loss, grad) = PolyTensor.CrossEntropyWithGradient(z, Tensor.Create(t, [N]), new PolyLossOptions { Epsilon = -1 });

        float[] zc = Flatten(z);
        var el = new float[N];
        var eg = new float[N * C];
        Poly.CrossEntropyWithGradient(zc, t, el, eg, C, new PolyLossOptions { Epsilon = -1 });
        Assert.Equal(el, Flatten(loss));
        Assert.Equal(eg, Flatten(grad));
    }

    [Fact]
    public void TensorAndTensorSpanOverloads_Agree()
    {
        float[] z = Logits(97, 24);
        float[] y = SoftLabels(98, 6, 4);
        var zt = Tensor.Create(z, [6, 4]);
        var yt = Tensor.Create(y, [6, 4]);
        ReadOnlyTensorSpan<float> zs = zt, ys = yt;
        var mask = Tensor.Create(Enumerable.Range(0, 24).Select(i => i % 7 != 0).ToArray(), [6, 4]);
        ReadOnlyTensorSpan<bool> ms = mask;
        Assert.Equal(Flatten(PolyTensor.CrossEntropy(zs, ys, 1.0, -1, ms)), Flatten(PolyTensor.CrossEntropy(zt, yt, 1.0, -1, mask)));
        Assert.Equal(Flatten(PolyTensor.CrossEntropy(zs, ys, [0], 1.0, ms)), Flatten(PolyTensor.CrossEntropy(zt, yt, [0], 1.0, mask)));
    }

    [Fact]
    public void NullTensors_ThrowArgumentNull()
    {
        var z = Tensor.Create(new float[4], [2, 2]);
        Assert.Throws<ArgumentNullException>(() => PolyTensor.CrossEntropy(null!, z));
        Assert.Throws<ArgumentNullException>(() => PolyTensor.CrossEntropy(z, (Tensor<int>)null!));
        Assert.Throws<ArgumentNullException>(() => PolyTensor.CrossEntropy(z, z, (PolyLossOptions)null!));
    }
}
