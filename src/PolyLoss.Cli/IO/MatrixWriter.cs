using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace PolyLoss.Cli.IO;

/// <summary>Writes rows of doubles to a temporary file next to the destination, chunk by chunk, and renames it into
/// place on <see cref="Commit"/>. Disposing without committing deletes the temporary file, so no output is ever
/// half-written.</summary>
internal abstract class MatrixWriter : IDisposable
{
    private bool _committed;

    /// <summary>The destination path as given on the command line.</summary>
    public string Path { get; }

    /// <summary>The temporary file being written.</summary>
    public string TempPath { get; }

    /// <summary>Values per row.</summary>
    public int Columns { get; }

    /// <summary>Rows written so far.</summary>
    public long RowsWritten { get; protected set; }

    protected FileStream Stream { get; }

    protected MatrixWriter(string path, int columns)
    {
        Path = path;
        Columns = columns;
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir)) throw new InputException($"{path}: output directory {dir} does not exist");
        if (Directory.Exists(full)) throw new InputException($"{path}: is a directory");
        TempPath = System.IO.Path.Combine(dir, "." + System.IO.Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp");
        try
        {
            Stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot write ({e.Message})");
        }
    }

    /// <summary>Creates a writer chosen by the extension of <paramref name="path"/> (.npy or .csv).</summary>
    /// <param name="path">Destination.</param>
    /// <param name="dtype">.npy element type (Float32 or Float64); for CSV the precision the values are printed with.</param>
    /// <param name="columns">Values per row.</param>
    /// <param name="shape">The full .npy shape when known up front; null writes <c>(rows, columns)</c> (or <c>(rows,)</c>
    /// when <paramref name="vector"/>) with the row count patched in at the end.</param>
    /// <param name="vector">Write a 1-D array (one value per row).</param>
    public static MatrixWriter Create(string path, NpyDType dtype, int columns, long[]? shape, bool vector)
    {
        string ext = System.IO.Path.GetExtension(path);
        if (ext.Equals(".npy", StringComparison.OrdinalIgnoreCase)) return new NpyMatrixWriter(path, dtype, columns, shape, vector);
        if (ext.Equals(".csv", StringComparison.OrdinalIgnoreCase)) return new CsvMatrixWriter(path, dtype, columns);
        throw new UsageException($"{path}: output file must end in .npy or .csv");
    }

    /// <summary>Appends <paramref name="rows"/> rows from <paramref name="data"/>.</summary>
    public void WriteRows(ReadOnlySpan<double> data, int rows)
    {
        try
        {
            WriteCore(data[..(rows * Columns)], rows);
        }
        catch (IOException e)
        {
            throw new InputException($"{Path}: write failed ({e.Message})");
        }
        RowsWritten += rows;
    }

    protected abstract void WriteCore(ReadOnlySpan<double> data, int rows);

    protected virtual void Finish()
    {
    }

    /// <summary>Finishes the file (e.g. patches the .npy header) and renames it into place.</summary>
    public void Commit()
    {
        try
        {
            Finish();
            Stream.Flush(flushToDisk: false);
            Stream.Dispose();
            File.Move(TempPath, Path, overwrite: true);
            _committed = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{Path}: write failed ({e.Message})");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed)
        {
            try
            {
                File.Delete(TempPath);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }
}

/// <summary>Streams a little-endian C-order .npy file.</summary>
internal sealed class NpyMatrixWriter : MatrixWriter
{
    private const int ReserveDigits = 20;
    private readonly NpyDType _dtype;
    private readonly long[]? _shape;
    private readonly bool _vector;
    private readonly int _headerLength;
    private byte[] _buffer = [];

    public NpyMatrixWriter(string path, NpyDType dtype, int columns, long[]? shape, bool vector) : base(path, columns)
    {
        if (dtype is not (NpyDType.Float32 or NpyDType.Float64)) throw new ArgumentOutOfRangeException(nameof(dtype));
        _dtype = dtype;
        _shape = shape;
        _vector = vector;
        byte[] header = Npy.BuildHeader(dtype, shape ?? PlaceholderShape(0), shape is null ? ReserveDigits : 0);
        _headerLength = header.Length;
        Stream.Write(header);
    }

    private long[] PlaceholderShape(long rows) => _vector ? [rows] : [rows, Columns];

    protected override void WriteCore(ReadOnlySpan<double> data, int rows)
    {
        if (_dtype == NpyDType.Float64)
        {
            Stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }
        int bytes = data.Length * 4;
        if (_buffer.Length < bytes) _buffer = new byte[bytes];
        Span<float> f = MemoryMarshal.Cast<byte, float>(_buffer.AsSpan(0, bytes));
        for (int i = 0; i < data.Length; i++) f[i] = (float)data[i];
        Stream.Write(_buffer, 0, bytes);
    }

    protected override void Finish()
    {
        if (_shape is not null)
        {
            long expected = 1;
            foreach (long d in _shape) expected *= d;
            if (expected != RowsWritten * Columns)
                throw new InvalidOperationException($"wrote {RowsWritten * Columns} values, header promises {expected}");
            return;
        }
        byte[] header = Npy.BuildHeader(_dtype, PlaceholderShape(RowsWritten), ReserveDigits);
        if (header.Length != _headerLength) throw new InvalidOperationException("npy header length changed");
        Stream.Position = 0;
        Stream.Write(header);
        Stream.Seek(0, SeekOrigin.End);
    }
}

/// <summary>Streams a CSV file without a header: one row per line, comma separated, shortest round-trip numbers
/// (nan, inf, -inf for the special values, as NumPy writes them).</summary>
internal sealed class CsvMatrixWriter : MatrixWriter
{
    private readonly NpyDType _dtype;
    private readonly StringBuilder _sb = new();
    private byte[] _bytes = [];

    public CsvMatrixWriter(string path, NpyDType dtype, int columns) : base(path, columns) => _dtype = dtype;

    protected override void WriteCore(ReadOnlySpan<double> data, int rows)
    {
        _sb.Clear();
        Span<char> tmp = stackalloc char[32];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < Columns; c++)
            {
                if (c > 0) _sb.Append(',');
                _sb.Append(Format(data[r * Columns + c], _dtype, tmp));
            }
            _sb.Append('\n');
        }
        int n = Encoding.UTF8.GetMaxByteCount(_sb.Length);
        if (_bytes.Length < n) _bytes = new byte[n];
        int written = 0;
        foreach (ReadOnlyMemory<char> chunk in _sb.GetChunks())
            written += Encoding.UTF8.GetBytes(chunk.Span, _bytes.AsSpan(written));
        Stream.Write(_bytes, 0, written);
    }

    /// <summary>Formats a value as NumPy's savetxt-compatible text.</summary>
    internal static ReadOnlySpan<char> Format(double v, NpyDType dtype, Span<char> buffer)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsPositiveInfinity(v)) return "inf";
        if (double.IsNegativeInfinity(v)) return "-inf";
        bool ok = dtype == NpyDType.Float32
            ? ((float)v).TryFormat(buffer, out int n, "R", CultureInfo.InvariantCulture)
            : v.TryFormat(buffer, out n, "R", CultureInfo.InvariantCulture);
        if (!ok) throw new InvalidOperationException("number too long");
        return buffer[..n];
    }
}
