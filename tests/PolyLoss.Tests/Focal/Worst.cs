namespace PolyLoss.Tests.Focal;

/// <summary>The largest ulp error seen in an accuracy test and where it happened (NaN counts as the worst).</summary>
internal sealed class Worst(string name)
{
    public double Ulps;
    public string Where = "";

    public void Add(double ulps, string where)
    {
        if (!(ulps <= Ulps)) { Ulps = ulps; Where = where; }
    }

    public override string ToString() => $"{name}: max {Ulps:G3} ulp at {Where}";
}
