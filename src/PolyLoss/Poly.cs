using PolyLoss.Internal;

namespace PolyLoss;

/// <summary>
/// The Poly family of classification losses (Leng et al., "PolyLoss: A Polynomial Expansion Perspective of
/// Classification Loss Functions", ICLR 2022) over contiguous row-major spans <c>[rows, numClasses]</c>.
/// </summary>
/// <remarks>
/// <para>For logits z and labels y of a row, with p = softmax(z):
/// <c>L = -sum_k y_k log p_k + epsilon * sum_k y_k (1 - p_k)</c>. With epsilon = 0 this is softmax cross entropy;
/// the paper recommends 2.0 for ImageNet classification and -1.0 for detection. This is the meaning of
/// <c>optax.losses.poly_loss_cross_entropy</c> and <c>braintools.metric.poly_loss_cross_entropy</c>.</para>
/// <para>Accuracy, at any logit scale and including eps = -1 with confident predictions: float32 losses within 1 ulp of
/// the exact value (0.67 measured), float64 losses within 2 ulp (0.7 measured), gradients within 4 ulp (each element of
/// an integer-target gradient against its own exact value; soft-label gradients against the row's largest magnitude).
/// docs/accuracy.md has the measurement.</para>
/// <para>Special values: a label of 0 on a -inf logit contributes nothing (0 log 0 = 0); a positive label on a -inf logit
/// gives +inf; a single +inf logit acts as the limit of a huge logit; a NaN anywhere in a row (logit or label), a row
/// whose logits are all -inf, or two +inf logits in a row give NaN for that row only.
/// Labels need not sum to 1 and may be negative: the formula is followed as written.</para>
/// </remarks>
public static partial class Poly
{
    /// <summary>Poly-1 cross entropy of each row for dense labels (probability distributions).</summary>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="labels">Labels of the same shape, e.g. one-hot or soft distributions.</param>
    /// <param name="losses">Receives one loss per row (length rows).</param>
    /// <param name="numClasses">Number of classes C (at least 1).</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">A span length does not match rows * numClasses or rows.</exception>
    public static void CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, Span<float> losses, int numClasses, float epsilon = 2f)
        => Engine.Dense<float, R64>(logits, labels, losses, default, default, numClasses, Eps(epsilon), default);

    /// <summary>Poly-1 cross entropy of each row for dense labels, in float64 (double-double intermediates).</summary>
    /// <inheritdoc cref="CrossEntropy(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, float)"/>
    public static void CrossEntropy(ReadOnlySpan<double> logits, ReadOnlySpan<double> labels, Span<double> losses, int numClasses, double epsilon = 2.0)
        => Engine.Dense<double, R128>(logits, labels, losses, default, default, numClasses, Eps(epsilon), default);

    /// <summary>Poly-1 cross entropy of each row for integer class targets: L = -log p_t + epsilon (1 - p_t).</summary>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="targets">One class index per row, in [0, numClasses).</param>
    /// <param name="losses">Receives one loss per row.</param>
    /// <param name="numClasses">Number of classes C (at least 1).</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is less than 1, or a target is outside
    /// [0, numClasses) (the message names the row and the value).</exception>
    /// <exception cref="ArgumentException">A span length does not match rows * numClasses or rows.</exception>
    public static void CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, int numClasses, float epsilon = 2f)
        => Engine.Targets<float, R64>(logits, targets, losses, default, numClasses, Eps(epsilon), default, optionsApi: false);

    /// <summary>Poly-1 cross entropy of each row for integer class targets, in float64.</summary>
    /// <inheritdoc cref="CrossEntropy(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, int, float)"/>
    public static void CrossEntropy(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, int numClasses, double epsilon = 2.0)
        => Engine.Targets<double, R128>(logits, targets, losses, default, numClasses, Eps(epsilon), default, optionsApi: false);

    /// <summary>
    /// Row losses and the gradient of their sum with respect to the logits, for dense labels, in one fused pass:
    /// <c>g_j = S p_j - y_j - epsilon p_j (y_j - Pt)</c>, S = sum_k y_k, Pt = sum_k y_k p_k.
    /// </summary>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="labels">Labels of the same shape.</param>
    /// <param name="losses">Receives one loss per row.</param>
    /// <param name="logitsGradient">Receives d(sum of row losses)/d logits, same shape as the logits.</param>
    /// <param name="numClasses">Number of classes C.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is less than 1.</exception>
    /// <exception cref="ArgumentException">A span length does not match.</exception>
    public static void CrossEntropyWithGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, Span<float> losses, Span<float> logitsGradient, int numClasses, float epsilon = 2f)
    {
        RequireGradient(logitsGradient.Length, logits.Length);
        Engine.Dense<float, R64>(logits, labels, losses, logitsGradient, default, numClasses, Eps(epsilon), default);
    }

    /// <summary>Row losses and the gradient of their sum for dense labels, in float64.</summary>
    /// <inheritdoc cref="CrossEntropyWithGradient(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, int, float)"/>
    public static void CrossEntropyWithGradient(ReadOnlySpan<double> logits, ReadOnlySpan<double> labels, Span<double> losses, Span<double> logitsGradient, int numClasses, double epsilon = 2.0)
    {
        RequireGradient(logitsGradient.Length, logits.Length);
        Engine.Dense<double, R128>(logits, labels, losses, logitsGradient, default, numClasses, Eps(epsilon), default);
    }

    /// <summary>
    /// Row losses and the gradient of their sum with respect to the logits, for integer targets:
    /// <c>g_t = -(1 - p_t)(1 + epsilon p_t)</c> and <c>g_j = p_j (1 + epsilon p_t)</c> for j != t.
    /// </summary>
    /// <param name="logits">Logits, <c>[rows, numClasses]</c> row-major.</param>
    /// <param name="targets">One class index per row, in [0, numClasses).</param>
    /// <param name="losses">Receives one loss per row.</param>
    /// <param name="logitsGradient">Receives d(sum of row losses)/d logits.</param>
    /// <param name="numClasses">Number of classes C.</param>
    /// <param name="epsilon">The Poly-1 coefficient (default 2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numClasses"/> is less than 1, or a target is out of range.</exception>
    /// <exception cref="ArgumentException">A span length does not match.</exception>
    public static void CrossEntropyWithGradient(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, Span<float> logitsGradient, int numClasses, float epsilon = 2f)
    {
        RequireGradient(logitsGradient.Length, logits.Length);
        Engine.Targets<float, R64>(logits, targets, losses, logitsGradient, numClasses, Eps(epsilon), default, optionsApi: false);
    }

    /// <summary>Row losses and the gradient of their sum for integer targets, in float64.</summary>
    /// <inheritdoc cref="CrossEntropyWithGradient(ReadOnlySpan{float}, ReadOnlySpan{int}, Span{float}, Span{float}, int, float)"/>
    public static void CrossEntropyWithGradient(ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, Span<double> logitsGradient, int numClasses, double epsilon = 2.0)
    {
        RequireGradient(logitsGradient.Length, logits.Length);
        Engine.Targets<double, R128>(logits, targets, losses, logitsGradient, numClasses, Eps(epsilon), default, optionsApi: false);
    }

    private static Engine.Settings Eps(double epsilon) => new(epsilon);

    private static void RequireGradient(int gradientLength, int logitsLength)
    {
        if (gradientLength != logitsLength)
            throw new ArgumentException($"logitsGradient has {gradientLength} elements but logits has {logitsLength}.", "logitsGradient");
    }
}
