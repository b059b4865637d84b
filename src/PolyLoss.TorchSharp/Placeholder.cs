namespace PolyLoss.TorchSharp;

/// <summary>Placeholder until the TorchSharp integration lands.</summary>
internal static class Placeholder { }
