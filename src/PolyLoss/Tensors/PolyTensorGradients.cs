using System.Numerics.Tensors;

namespace PolyLoss;

/// <summary>
/// The result of a <c>PolyTensor.CrossEntropyWithGradient</c> call: the loss and the gradients of the loss output
/// (weighted by the upstream gradient, if one was given) with respect to the inputs. Deconstructs into
/// <c>(loss, logitsGradient)</c> or <c>(loss, logitsGradient, labelsGradient)</c>.
/// </summary>
/// <typeparam name="T">The element type of the inputs.</typeparam>
public sealed class PolyTensorGradients<T>
{
    internal PolyTensorGradients(Tensor<T> loss, Tensor<T> logitsGradient, Tensor<T>? labelsGradient)
    {
        Loss = loss;
        LogitsGradient = logitsGradient;
        LabelsGradient = labelsGradient;
    }

    /// <summary>The loss: the logits' shape without the class axes (<c>[1]</c> when no axis is left), or <c>[1]</c> for
    /// <see cref="Reduction.Mean"/> and <see cref="Reduction.Sum"/>.</summary>
    public Tensor<T> Loss { get; }

    /// <summary>The gradient with respect to the logits, dense, of the logits' shape. Masked-out elements get 0.</summary>
    public Tensor<T> LogitsGradient { get; }

    /// <summary>The gradient with respect to the labels, dense, of the labels' own shape (summed over the axes along which the
    /// labels were broadcast; masked-out elements contribute 0), when it was requested for dense labels; otherwise null.</summary>
    public Tensor<T>? LabelsGradient { get; }

    /// <summary>Deconstructs into the loss and the logits gradient.</summary>
    /// <param name="loss">The loss.</param>
    /// <param name="logitsGradient">The gradient with respect to the logits.</param>
    public void Deconstruct(out Tensor<T> loss, out Tensor<T> logitsGradient)
    {
        loss = Loss;
        logitsGradient = LogitsGradient;
    }

    /// <summary>Deconstructs into the loss, the logits gradient and the labels gradient (null unless requested).</summary>
    /// <param name="loss">The loss.</param>
    /// <param name="logitsGradient">The gradient with respect to the logits.</param>
    /// <param name="labelsGradient">The gradient with respect to the labels, or null.</param>
    public void Deconstruct(out Tensor<T> loss, out Tensor<T> logitsGradient, out Tensor<T>? labelsGradient)
    {
        loss = Loss;
        logitsGradient = LogitsGradient;
        labelsGradient = LabelsGradient;
    }
}
