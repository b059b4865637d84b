using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace PolyLoss.Cli.Tests;

/// <summary>A scratch directory per test class, deleted afterwards.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "polyloss-cli-tests-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Writes and reads .npy files byte by byte, independently of the tool's own reader and writer.</summary>
internal static class NpyFile
{
    public static byte[] Header(string descr, long[] shape, int major = 1, bool fortran = false, string? rawDict = null)
    {
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = rawDict ?? $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shapeText}, }}";
        int pre = major == 1 ? 10 : 12;
        int total = (pre + dict.Length + 1 + 63) / 64 * 64;
        dict = dict.PadRight(total - pre - 1) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        byte[] len = new byte[pre - 8];
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)dict.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)dict.Length);
        ms.Write(len);
        ms.Write((major >= 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(dict));
        return ms.ToArray();
    }

    public static void WriteF32(string path, float[] data, params long[] shape) => Write(path, "<f4", shape, Bytes(data, 4, (v, s) => BinaryPrimitives.WriteSingleLittleEndian(s, v)));

    public static void WriteF64(string path, double[] data, params long[] shape) => Write(path, "<f8", shape, Bytes(data, 8, (v, s) => BinaryPrimitives.WriteDoubleLittleEndian(s, v)));

    public static void WriteF16(string path, Half[] data, params long[] shape) => Write(path, "<f2", shape, Bytes(data, 2, (v, s) => BinaryPrimitives.WriteHalfLittleEndian(s, v)));

    public static void WriteI32(string path, int[] data, params long[] shape) => Write(path, "<i4", shape, Bytes(data, 4, (v, s) => BinaryPrimitives.WriteInt32LittleEndian(s, v)));

    public static void WriteI64(string path, long[] data, params long[] shape) => Write(path, "<i8", shape, Bytes(data, 8, (v, s) => BinaryPrimitives.WriteInt64LittleEndian(s, v)));

    public static void Write(string path, string descr, long[] shape, byte[] data, int major = 1, bool fortran = false)
    {
        using var fs = System.IO.File.Create(path);
        fs.Write(Header(descr, shape, major, fortran));
        fs.Write(data);
    }

    private delegate void Put<T>(T value, Span<byte> dest);

    private static byte[] Bytes<T>(T[] data, int size, Put<T> put)
    {
        byte[] b = new byte[data.Length * size];
        for (int i = 0; i < data.Length; i++) put(data[i], b.AsSpan(i * size, size));
        return b;
    }

    /// <summary>Reads a float32 or float64 .npy written by the tool: (descr, shape, values as double).</summary>
    public static (string Descr, long[] Shape, double[] Data) Read(string path)
    {
        byte[] all = System.IO.File.ReadAllBytes(path);
        Assert.Equal(0x93, all[0]);
        Assert.Equal("NUMPY", Encoding.ASCII.GetString(all, 1, 5));
        int major = all[6];
        int pre = major == 1 ? 10 : 12;
        int hlen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(all.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(8));
        Assert.Equal(0, (pre + hlen) % 64);
        string dict = Encoding.Latin1.GetString(all, pre, hlen);
        Assert.EndsWith("\n", dict, StringComparison.Ordinal);
        string descr = Between(dict, "'descr': '", "'");
        Assert.Contains("'fortran_order': False", dict, StringComparison.Ordinal);
        string shapeText = Between(dict, "'shape': (", ")");
        long[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        int size = descr == "<f4" ? 4 : descr == "<f8" ? 8 : throw new InvalidOperationException(descr);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        Assert.Equal(pre + hlen + count * size, all.Length);
        double[] data = new double[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = size == 4
                ? BinaryPrimitives.ReadSingleLittleEndian(all.AsSpan(pre + hlen + i * 4))
                : BinaryPrimitives.ReadDoubleLittleEndian(all.AsSpan(pre + hlen + i * 8));
        }
        return (descr, shape, data);
    }

    private static string Between(string s, string start, string end)
    {
        int i = s.IndexOf(start, StringComparison.Ordinal);
        Assert.True(i >= 0, $"'{start}' not in header {s}");
        i += start.Length;
        int j = s.IndexOf(end, i, StringComparison.Ordinal);
        return s[i..j];
    }
}

/// <summary>CSV helpers for the tests.</summary>
internal static class CsvFile
{
    public static void Write(string path, double[] data, int columns, string? header = null)
    {
        var sb = new StringBuilder();
        if (header is not null) sb.Append(header).Append('\n');
        for (int r = 0; r < data.Length / columns; r++)
        {
            sb.Append(string.Join(",", Enumerable.Range(0, columns).Select(c => data[r * columns + c].ToString("R", CultureInfo.InvariantCulture))));
            sb.Append('\n');
        }
        System.IO.File.WriteAllText(path, sb.ToString());
    }

    public static double[] Read(string path) => System.IO.File.ReadAllLines(path)
        .Where(l => l.Length > 0)
        .SelectMany(l => l.Split(','))
        .Select(c => c == "nan" ? double.NaN : double.Parse(c, CultureInfo.InvariantCulture))
        .ToArray();
}

/// <summary>Random test data with a fixed seed.</summary>
internal static class Data
{
    public static double[] Logits(int rows, int classes, int seed, double scale = 3)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows * classes).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    public static int[] Targets(int rows, int classes, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => rng.Next(classes)).ToArray();
    }

    public static double[] SoftLabels(int rows, int classes, int seed)
    {
        var rng = new Random(seed);
        double[] y = new double[rows * classes];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int k = 0; k < classes; k++) s += y[r * classes + k] = rng.NextDouble();
            for (int k = 0; k < classes; k++) y[r * classes + k] /= s;
        }
        return y;
    }
}

/// <summary>Straightforward double-precision references written independently of the tool.</summary>
internal static class Reference
{
    public static double[] Softmax(ReadOnlySpan<double> z)
    {
        double m = double.NegativeInfinity;
        foreach (double v in z) m = Math.Max(m, v);
        double[] p = new double[z.Length];
        double s = 0;
        for (int k = 0; k < z.Length; k++) s += p[k] = Math.Exp(z[k] - m);
        for (int k = 0; k < z.Length; k++) p[k] /= s;
        return p;
    }

    public static double Poly1(ReadOnlySpan<double> z, int t, double eps)
    {
        double[] p = Softmax(z);
        return -Math.Log(p[t]) + eps * (1 - p[t]);
    }

    /// <summary>ECE with 15 equal-width bins over (0, 1], written from the definition.</summary>
    public static (double Accuracy, double Ece) AccuracyEce(double[] logits, int[] targets, int classes)
    {
        int n = targets.Length;
        var bins = new List<(double Conf, bool Ok)>[15];
        for (int b = 0; b < 15; b++) bins[b] = [];
        int correct = 0;
        for (int r = 0; r < n; r++)
        {
            double[] p = Softmax(logits.AsSpan(r * classes, classes));
            int arg = Array.IndexOf(p, p.Max());
            double conf = p[arg];
            bool ok = arg == targets[r];
            if (ok) correct++;
            int bin = 14;
            for (int b = 0; b < 15; b++)
            {
                if (conf > b / 15.0 && conf <= (b + 1) / 15.0)
                {
                    bin = b;
                    break;
                }
            }
            bins[bin].Add((conf, ok));
        }
        double ece = 0;
        foreach (var bin in bins)
        {
            if (bin.Count == 0) continue;
            double acc = bin.Count(x => x.Ok) / (double)bin.Count;
            double conf = bin.Average(x => x.Conf);
            ece += (double)bin.Count / n * Math.Abs(acc - conf);
        }
        return ((double)correct / n, ece);
    }
}

/// <summary>Runs the tool in-process.</summary>
internal static class Tool
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
