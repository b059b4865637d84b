using System.Text;
using PolyLoss.Cli.IO;

namespace PolyLoss.Cli.Tests;

public sealed class NpyRoundTripTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static double[] ReadAll(string path, ReadLayout layout, int chunk, out MatrixReader info)
    {
        using MatrixReader r = MatrixReader.Open(path, layout);
        info = r;
        var all = new List<double>();
        double[] buf = new double[chunk * r.Columns];
        int n;
        while ((n = r.ReadRows(buf, chunk)) > 0) all.AddRange(buf.AsSpan(0, n * r.Columns).ToArray());
        return all.ToArray();
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(64, false)]
    [InlineData(32, true)]
    [InlineData(32, false)]
    public void WriterThenReaderRoundTripsAcrossChunks(int bits, bool shapeKnown)
    {
        NpyDType dtype = bits == 32 ? NpyDType.Float32 : NpyDType.Float64;
        const int rows = 1037, cols = 7;
        double[] data = Data.Logits(rows, cols, 5, scale: 1e3);
        data[3] = double.NaN;
        data[10] = double.PositiveInfinity;
        data[11] = double.NegativeInfinity;
        data[12] = 1e-300;
        string path = _dir.File($"rt-{dtype}-{shapeKnown}.npy");
        using (MatrixWriter w = MatrixWriter.Create(path, dtype, cols, shapeKnown ? [rows, cols] : null, vector: false))
        {
            for (int r = 0; r < rows; r += 100)
            {
                int n = Math.Min(100, rows - r);
                w.WriteRows(data.AsSpan(r * cols, n * cols), n);
            }
            w.Commit();
        }
        // Independent byte-level reader: header layout, shape, dtype, length.
        (string descr, long[] shape, double[] raw) = NpyFile.Read(path);
        Assert.Equal(dtype == NpyDType.Float32 ? "<f4" : "<f8", descr);
        Assert.Equal([rows, cols], shape);
        // The tool's reader with an odd chunk size.
        double[] back = ReadAll(path, ReadLayout.Matrix, 64, out MatrixReader info);
        Assert.Equal(rows, info.Rows);
        Assert.Equal(cols, info.Columns);
        for (int i = 0; i < data.Length; i++)
        {
            double expected = dtype == NpyDType.Float32 ? (float)data[i] : data[i];
            Assert.Equal(expected, back[i]);
            Assert.Equal(expected, raw[i]);
        }
        Assert.Single(Directory.GetFiles(_dir.Path, "rt-" + dtype + "-" + shapeKnown + "*"));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void VectorWriterWritesOneDimensionalShape()
    {
        string path = _dir.File("vec.npy");
        using (MatrixWriter w = MatrixWriter.Create(path, NpyDType.Float64, 1, null, vector: true))
        {
            w.WriteRows(new double[] { 1, 2, 3 }, 3);
            w.Commit();
        }
        (_, long[] shape, double[] data) = NpyFile.Read(path);
        Assert.Equal([3L], shape);
        Assert.Equal([1.0, 2, 3], data);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ReadsEveryFormatVersion(int major)
    {
        string path = _dir.File($"v{major}.npy");
        double[] values = [1.5, -2.25, 3, 4, 5, 6];
        byte[] bytes = values.SelectMany(BitConverter.GetBytes).ToArray();
        NpyFile.Write(path, "<f8", [3, 2], bytes, major);
        double[] back = ReadAll(path, ReadLayout.Matrix, 2, out MatrixReader info);
        Assert.Equal(values, back);
        Assert.Equal(3, info.Rows);
        Assert.Equal(2, info.Columns);
    }

    [Fact]
    public void ReadsEveryDtype()
    {
        NpyFile.WriteF16(_dir.File("h.npy"), [(Half)1.5, (Half)(-2), (Half)0.099975586, (Half)65504], 2, 2);
        NpyFile.WriteF32(_dir.File("f.npy"), [1.5f, -2f, 0.1f, 3e38f], 2, 2);
        NpyFile.WriteI32(_dir.File("i.npy"), [1, -2, int.MaxValue, int.MinValue], 4);
        NpyFile.WriteI64(_dir.File("l.npy"), [1, -2, 1L << 40, -(1L << 50)], 4);
        Assert.Equal([1.5, -2, (double)(Half)0.099975586, 65504], ReadAll(_dir.File("h.npy"), ReadLayout.Matrix, 10, out _));
        Assert.Equal([1.5, -2, (double)0.1f, (double)3e38f], ReadAll(_dir.File("f.npy"), ReadLayout.Matrix, 10, out _));
        Assert.Equal([1.0, -2, int.MaxValue, int.MinValue], ReadAll(_dir.File("i.npy"), ReadLayout.Vector, 3, out _));
        Assert.Equal([1.0, -2, 1L << 40, -(1L << 50)], ReadAll(_dir.File("l.npy"), ReadLayout.Vector, 3, out _));
    }

    [Fact]
    public void ReadsSmallAndUnsignedIntegerTargets()
    {
        NpyFile.Write(_dir.File("u1.npy"), "|u1", [4], [0, 9, 200, 255]);
        NpyFile.Write(_dir.File("i1.npy"), "|i1", [3], [1, 0xFF, 0x80]);
        NpyFile.Write(_dir.File("i2.npy"), "<i2", [2], [0x01, 0x80, 0xFE, 0xFF]);
        NpyFile.Write(_dir.File("u2.npy"), "<u2", [1], [0xFE, 0xFF]);
        NpyFile.Write(_dir.File("u4.npy"), "<u4", [1], [0xFF, 0xFF, 0xFF, 0xFF]);
        NpyFile.Write(_dir.File("u8.npy"), "<u8", [1], [5, 0, 0, 0, 0, 0, 0, 0]);
        Assert.Equal([0.0, 9, 200, 255], ReadAll(_dir.File("u1.npy"), ReadLayout.Vector, 3, out _));
        Assert.Equal([1.0, -1, -128], ReadAll(_dir.File("i1.npy"), ReadLayout.Vector, 3, out _));
        Assert.Equal([-32767.0, -2], ReadAll(_dir.File("i2.npy"), ReadLayout.Vector, 3, out _));
        Assert.Equal([65534.0], ReadAll(_dir.File("u2.npy"), ReadLayout.Vector, 3, out _));
        Assert.Equal([4294967295.0], ReadAll(_dir.File("u4.npy"), ReadLayout.Vector, 3, out _));
        Assert.Equal([5.0], ReadAll(_dir.File("u8.npy"), ReadLayout.Vector, 3, out _));
    }

    [Fact]
    public void HeaderWithRowsPatchedLaterKeepsItsLength()
    {
        byte[] a = Npy.BuildHeader(NpyDType.Float32, [0, 10], reserveDigits: 20);
        byte[] b = Npy.BuildHeader(NpyDType.Float32, [long.MaxValue, 10], reserveDigits: 20);
        Assert.Equal(a.Length, b.Length);
        Assert.Equal(0, a.Length % 64);
        Assert.Equal((byte)'\n', a[^1]);
        Assert.Contains("'shape': (0, 10), }", Encoding.Latin1.GetString(a), StringComparison.Ordinal);
    }

    [Fact]
    public void CsvWriterThenReaderRoundTrips()
    {
        double[] data = Data.Logits(50, 3, 9, scale: 1e5);
        data[4] = double.NaN;
        data[5] = double.NegativeInfinity;
        string path = _dir.File("rt.csv");
        using (MatrixWriter w = MatrixWriter.Create(path, NpyDType.Float64, 3, null, vector: false))
        {
            w.WriteRows(data, 50);
            w.Commit();
        }
        double[] back = ReadAll(path, ReadLayout.Matrix, 7, out MatrixReader info);
        Assert.Equal(3, info.Columns);
        Assert.Equal(data, back);
    }
}
