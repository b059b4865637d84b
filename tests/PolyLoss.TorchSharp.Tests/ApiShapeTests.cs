using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace PolyLoss.TorchSharp.Tests;

using Reduction = global::TorchSharp.torch.nn.Reduction;
using Tensor = global::TorchSharp.torch.Tensor;

public class ApiShapeTests
{
    [Fact]
    public void FunctionalHasExactlyOnePolyLossCrossEntropyWithTheDocumentedSignature()
    {
        MethodInfo m = typeof(functional).GetMethod("poly_loss_cross_entropy")!; // throws if overloaded
        Assert.True(typeof(functional).IsAbstract && typeof(functional).IsSealed); // static class
        Assert.Equal("PolyLoss.TorchSharp", typeof(functional).Namespace);
        Assert.Equal(typeof(Tensor), m.ReturnType);
        var expected = new (string name, Type type, object? value)[]
        {
            ("input", typeof(Tensor), DBNull.Value), ("target", typeof(Tensor), DBNull.Value), ("epsilon", typeof(double), 2.0),
            ("weight", typeof(Tensor), null), ("ignore_index", typeof(long), -100L), ("reduction", typeof(Reduction), Reduction.Mean),
            ("label_smoothing", typeof(double), 0.0),
        };
        ParameterInfo[] ps = m.GetParameters();
        Assert.Equal(expected.Length, ps.Length);
        for (int i = 0; i < ps.Length; i++)
        {
            Assert.Equal(expected[i].name, ps[i].Name);
            Assert.Equal(expected[i].type, ps[i].ParameterType);
            if (expected[i].value is not DBNull)
            {
                Assert.True(ps[i].HasDefaultValue, ps[i].Name);
                object? d = ps[i].DefaultValue;
                Assert.Equal(expected[i].value, d is int e && ps[i].ParameterType == typeof(Reduction) ? (Reduction)e : d);
            }
        }
        Assert.NotNull(typeof(functional).GetMethod("poly1_focal_loss"));
    }

    [Fact]
    public void AnIntegerLiteralEpsilonBindsToEpsilon()
    {
        // A literal 0 converts to any enum too; the API has no overload it could be confused with.
        Tensor logits = randn(5, 3, ScalarType.Float64);
        Tensor target = tensor(new long[] { 0, 2, 1, 1, 0 });
        TensorAssert.Close(nn.functional.cross_entropy(logits, target), functional.poly_loss_cross_entropy(logits, target, 0), 1e-14, 1e-15, "loss");
    }
}
