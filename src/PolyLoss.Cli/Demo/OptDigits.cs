using System.Globalization;

namespace PolyLoss.Cli.Demo;

/// <summary>A labelled data set held in memory: features row-major <c>[Rows, Features]</c> scaled to [0, 1].</summary>
internal sealed class Dataset(float[] x, int[] y, int features, int classes)
{
    /// <summary>Features, row-major.</summary>
    public float[] X { get; } = x;

    /// <summary>Class of each row.</summary>
    public int[] Y { get; } = y;

    /// <summary>Features per row.</summary>
    public int Features { get; } = features;

    /// <summary>Number of classes.</summary>
    public int Classes { get; } = classes;

    /// <summary>Number of rows.</summary>
    public int Rows => Y.Length;

    /// <summary>Rows per class.</summary>
    public int[] ClassCounts()
    {
        int[] n = new int[Classes];
        foreach (int t in Y) n[t]++;
        return n;
    }

    /// <summary>A long-tailed subset: class k keeps round(n_k * ratio^(-k/(C-1))) of its rows (at least one), picked by a
    /// fixed-seed shuffle so every run sees the same subset.</summary>
    public Dataset LongTailed(double ratio, int seed = 20220425)
    {
        var rng = new Random(seed);
        int[] order = Enumerable.Range(0, Rows).ToArray();
        rng.Shuffle(order);
        int[] counts = ClassCounts();
        int[] keep = new int[Classes];
        for (int k = 0; k < Classes; k++)
            keep[k] = Math.Max(1, (int)Math.Round(counts[k] * Math.Pow(ratio, -(double)k / (Classes - 1))));
        int[] taken = new int[Classes];
        var rows = new List<int>();
        foreach (int r in order)
        {
            int t = Y[r];
            if (taken[t] < keep[t])
            {
                taken[t]++;
                rows.Add(r);
            }
        }
        rows.Sort();
        float[] x = new float[rows.Count * Features];
        int[] y = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            X.AsSpan(rows[i] * Features, Features).CopyTo(x.AsSpan(i * Features));
            y[i] = Y[rows[i]];
        }
        return new Dataset(x, y, Features, Classes);
    }
}

/// <summary>The UCI "Optical Recognition of Handwritten Digits" data set (E. Alpaydin and C. Kaynak, 1998,
/// DOI 10.24432/C50P49, CC BY 4.0), embedded in the tool: 3823 training and 1797 test rows of 64 features (0..16)
/// and a label 0..9.</summary>
internal static class OptDigits
{
    /// <summary>The citation printed by the demo.</summary>
    public const string Citation =
        "UCI \"Optical Recognition of Handwritten Digits\", E. Alpaydin and C. Kaynak (1998), DOI 10.24432/C50P49, CC BY 4.0";

    /// <summary>Loads the training split.</summary>
    public static Dataset Train() => Load("optdigits.tra.csv");

    /// <summary>Loads the test split.</summary>
    public static Dataset Test() => Load("optdigits.tes.csv");

    private static Dataset Load(string name)
    {
        using Stream s = typeof(OptDigits).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing");
        using var reader = new StreamReader(s);
        var x = new List<float>(4000 * 64);
        var y = new List<int>(4000);
        string? line;
        int lineNo = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            string[] cells = line.Split(',');
            if (cells.Length != 65) throw new InvalidOperationException($"{name}: line {lineNo} has {cells.Length} cells, expected 65");
            for (int i = 0; i < 64; i++) x.Add(int.Parse(cells[i], CultureInfo.InvariantCulture) / 16f);
            y.Add(int.Parse(cells[64], CultureInfo.InvariantCulture));
        }
        return new Dataset(x.ToArray(), y.ToArray(), 64, 10);
    }
}
