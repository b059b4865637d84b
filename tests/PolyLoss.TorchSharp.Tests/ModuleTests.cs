using TorchSharp;
using static TorchSharp.torch;

namespace PolyLoss.TorchSharp.Tests;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;

public class ModuleTests
{
    [Fact]
    public void PolyLossModulesAreSealedTorchSharpLosses()
    {
        Assert.True(typeof(Modules.PolyCrossEntropyLoss).IsSealed);
        Assert.True(typeof(Modules.Poly1FocalLoss).IsSealed);
        Assert.Equal(typeof(Loss<Tensor, Tensor, Tensor>), typeof(Modules.PolyCrossEntropyLoss).BaseType);
        Assert.Equal(typeof(Loss<Tensor, Tensor, Tensor>), typeof(Modules.Poly1FocalLoss).BaseType);
    }

    [Fact]
    public void FactoryTakesCrossEntropyLossArgumentsInTheSameOrder()
    {
        Tensor w = tensor(new float[] { 1, 2, 3 });
        var ce = nn.CrossEntropyLoss(w, 1, Reduction.Sum);
        var poly = PolyNN.PolyCrossEntropyLoss(w, 1, Reduction.Sum);
        Assert.Equal(ce.reduction, poly.reduction);
        Assert.Equal(ce.ignore_index, poly.ignore_index);
        Assert.Same(w, poly.weight);
        Assert.Equal(2.0, poly.epsilon);
        Assert.Equal(-100, PolyNN.PolyCrossEntropyLoss().ignore_index);
    }

    [Theory]
    [InlineData(Reduction.Mean)]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.None)]
    public void ModuleForwardEqualsTheFunctionalWithTheSameOptions(Reduction reduction)
    {
        Tensor logits = randn(6, 4, ScalarType.Float32);
        Tensor target = tensor(new long[] { 0, 3, 1, 1, 2, 0 });
        Tensor w = tensor(new float[] { 0.5f, 1, 2, 1.5f });
        var module = PolyNN.PolyCrossEntropyLoss(w, 3, reduction, label_smoothing: 0.05, epsilon: 1.5);
        Tensor expected = functional.poly_loss_cross_entropy(logits, target, 1.5, w, 3, reduction, 0.05);
        TensorAssert.Close(expected, module.call(logits, target), 0, 0, "loss");

        var focal = PolyNN.Poly1FocalLoss(epsilon: 0.5, gamma: 1.5, alpha: 0.25, reduction: reduction);
        Tensor labels = rand(6, 4).gt(0.5).to(ScalarType.Float32);
        TensorAssert.Close(functional.poly1_focal_loss(logits, labels, 0.5, 1.5, 0.25, reduction), focal.call(logits, labels), 0, 0, "focal loss");
    }

    [Fact]
    public void EpsilonZeroModuleTrainsLikeCrossEntropyLossForOneStep()
    {
        // Same initial weights (copied, not re-seeded: other tests draw from the global generator concurrently),
        // one SGD step each: identical parameters afterwards (to float rounding).
        Tensor x = randn(16, 8);
        Tensor y = randint(0, 3, new long[] { 16 }, ScalarType.Int64);
        var initial = nn.Linear(8, 3);
        Tensor StepWith(Loss<Tensor, Tensor, Tensor> criterion)
        {
            var model = nn.Linear(8, 3);
            using (no_grad())
            {
                model.weight!.copy_(initial.weight!);
                model.bias!.copy_(initial.bias!);
            }
            var opt = optim.SGD(model.parameters(), 0.5);
            opt.zero_grad();
            criterion.call(model.call(x), y).backward();
            opt.step();
            return model.weight!.detach().clone();
        }
        TensorAssert.Close(StepWith(nn.CrossEntropyLoss()), StepWith(PolyNN.PolyCrossEntropyLoss(epsilon: 0)), 1e-6, 1e-7, "weights after one step");
    }
}
