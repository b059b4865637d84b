namespace PolyLoss;

/// <summary>
/// The Poly family of classification losses (Leng et al., "PolyLoss: A Polynomial Expansion Perspective of
/// Classification Loss Functions", ICLR 2022) over contiguous row-major spans <c>[rows, numClasses]</c>.
/// </summary>
public static partial class Poly
{
}
