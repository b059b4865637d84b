namespace PolyLoss.Benchmarks;

/// <summary>One benchmark input: shape, target kind (integer targets or dense labels) and element type.</summary>
public sealed record Case(int Rows, int Classes, bool Dense, bool Double) : IComparable<Case>, IComparable
{
    public long Elements => (long)Rows * Classes;
    public string Shape => $"{Rows}x{Classes}";
    public string Kind => Dense ? "dense" : "int";
    public string Type => Double ? "f64" : "f32";

    /// <summary>Bytes of the inputs read once: logits, plus labels (dense) or targets (int).</summary>
    public long InputBytes => Elements * (Double ? 8 : 4) * (Dense ? 2 : 1) + (Dense ? 0 : Rows * 4L);

    /// <summary>Shown in the BenchmarkDotNet parameter column and used to match rows in the custom columns.</summary>
    public override string ToString() => $"{Shape} {Kind} {Type}";

    /// <summary>The same shape and kind in float32 (for the float64 / float32 column).</summary>
    public Case AsFloat32 => this with { Double = false };

    /// <summary>Parses "4096x1000", "4096x1000 dense", "1024x32000 int f64", ...</summary>
    public static Case Parse(string text)
    {
        var parts = text.Split([' ', ':', ','], StringSplitOptions.RemoveEmptyEntries);
        var dims = parts[0].Split('x');
        bool dense = parts.Skip(1).Any(p => p.Equals("dense", StringComparison.OrdinalIgnoreCase));
        bool dbl = parts.Skip(1).Any(p => p.Equals("f64", StringComparison.OrdinalIgnoreCase) || p.Equals("double", StringComparison.OrdinalIgnoreCase));
        return new Case(int.Parse(dims[0]), int.Parse(dims[1]), dense, dbl);
    }

    /// <summary>Orders cases as declared in <see cref="All"/> (BenchmarkDotNet sorts parameter values).</summary>
    public int CompareTo(Case? other)
    {
        if (other is null) return 1;
        var all = All().ToList();
        int a = all.IndexOf(this), b = all.IndexOf(other);
        return a >= 0 && b >= 0 ? a.CompareTo(b) : string.CompareOrdinal(ToString(), other.ToString());
    }

    int IComparable.CompareTo(object? obj) => CompareTo(obj as Case);

    /// <summary>The suite of issue 4: float32 at all shapes, float64 at the main ones.</summary>
    public static IEnumerable<Case> All() =>
    [
        Parse("4096x1000 int"),
        Parse("4096x1000 dense"),
        Parse("1024x32000 int"),
        Parse("65536x10 int"),
        Parse("256x1000 int"),
        Parse("8192x128 int"),
        Parse("4096x1000 int f64"),
        Parse("4096x1000 dense f64"),
        Parse("1024x32000 int f64"),
    ];
}
