namespace PolyLoss;

/// <summary>How per-row losses are combined, with PyTorch's <c>CrossEntropyLoss</c> meanings.</summary>
public enum Reduction
{
    /// <summary>No reduction: one loss per row.</summary>
    None = 0,

    /// <summary>Weighted mean: the sum of the row losses divided by the sum of the rows' target weights
    /// (the number of non-ignored rows when there are no class weights).</summary>
    Mean = 1,

    /// <summary>The sum of the row losses.</summary>
    Sum = 2,
}
