using System.Globalization;
using System.Runtime.InteropServices;

namespace PolyLoss.Cli.IO;

/// <summary>How a file's shape is turned into rows and columns.</summary>
internal enum ReadLayout
{
    /// <summary>The last axis holds the columns (classes); every other axis is flattened into rows.</summary>
    Matrix,

    /// <summary>One value per row: all axes are flattened into rows (a trailing axis of length 1 is allowed).</summary>
    Vector,
}

/// <summary>Streams a numeric file (.npy or CSV) as row-major rows of doubles, a chunk of rows at a time,
/// with memory bounded by the chunk size.</summary>
internal abstract class MatrixReader : IDisposable
{
    /// <summary>The path as given on the command line (used in messages).</summary>
    public string Path { get; }

    /// <summary>Number of rows, or -1 when not known before reading to the end (CSV).</summary>
    public long Rows { get; protected init; } = -1;

    /// <summary>Number of values per row.</summary>
    public int Columns { get; protected set; }

    /// <summary>The array's shape when known up front (.npy), else null.</summary>
    public long[]? Shape { get; protected init; }

    /// <summary>The .npy element type, or null for CSV.</summary>
    public NpyDType? DType { get; protected init; }

    /// <summary>Rows handed out so far.</summary>
    public long RowsRead { get; protected set; }

    /// <summary>File size in bytes (for progress).</summary>
    public long TotalBytes { get; protected init; }

    /// <summary>Bytes consumed so far (for progress; approximate for CSV).</summary>
    public abstract long BytesRead { get; }

    /// <summary>A short description for messages, e.g. <c>float32 (100, 10)</c> or <c>CSV, 10 columns</c>.</summary>
    public abstract string Description { get; }

    protected MatrixReader(string path) => Path = path;

    /// <summary>Reads up to <paramref name="maxRows"/> rows into <paramref name="destination"/> (length at least
    /// maxRows * Columns). Returns the number of rows read; 0 at the end.</summary>
    public abstract int ReadRows(Span<double> destination, int maxRows);

    /// <summary>The total number of rows: known up front for .npy; for CSV, reads (and drops) the rest of the file
    /// to count them (used to report a row-count mismatch).</summary>
    public long TotalRows()
    {
        if (Rows >= 0) return Rows;
        double[] buf = new double[Math.Max(1, Columns) * 1024];
        while (ReadRows(buf, 1024) > 0)
        {
        }
        return RowsRead;
    }

    /// <inheritdoc/>
    public abstract void Dispose();

    /// <summary>Opens <paramref name="path"/> by its extension (.npy, else CSV).</summary>
    /// <exception cref="InputException">Missing or unreadable file, or a bad header.</exception>
    public static MatrixReader Open(string path, ReadLayout layout)
    {
        if (Directory.Exists(path)) throw new InputException($"{path}: is a directory, not a file");
        if (!File.Exists(path)) throw new InputException($"{path}: file not found");
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot open ({e.Message})");
        }
        try
        {
            return IsNpy(path) ? new NpyMatrixReader(path, fs, layout) : new CsvMatrixReader(path, fs, layout);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>True when the path has the .npy extension (case-insensitive).</summary>
    public static bool IsNpy(string path) => System.IO.Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Streams a little-endian, C-order .npy file with a buffered <see cref="FileStream"/>.</summary>
internal sealed class NpyMatrixReader : MatrixReader
{
    private readonly FileStream _fs;
    private readonly NpyHeader _header;
    private readonly int _itemSize;
    private byte[] _buffer = [];

    public NpyMatrixReader(string path, FileStream fs, ReadLayout layout) : base(path)
    {
        _fs = fs;
        _header = Npy.ReadHeader(fs, path);
        DType = _header.DType;
        Shape = _header.Shape;
        TotalBytes = fs.Length;
        _itemSize = Npy.ItemSize(_header.DType);
        long[] shape = _header.Shape;
        if (layout == ReadLayout.Matrix)
        {
            if (shape.Length < 2)
                throw new InputException($"{path}: expected a 2-D array [rows, classes], got shape {_header.ShapeText}");
            long cols = shape[^1];
            if (cols < 1 || cols > 1 << 24)
                throw new InputException($"{path}: unsupported number of classes {cols} (shape {_header.ShapeText})");
            Columns = (int)cols;
            Rows = _header.ElementCount / cols;
        }
        else
        {
            Columns = 1;
            Rows = _header.ElementCount;
        }
        long need = _header.DataOffset + _header.ElementCount * _itemSize;
        if (fs.Length < need)
        {
            throw new InputException(
                $"{path}: truncated data: the header promises {_header.ShapeText} {Npy.Name(_header.DType)} = {_header.ElementCount * _itemSize} bytes but only {Math.Max(0, fs.Length - _header.DataOffset)} follow it");
        }
        fs.Position = _header.DataOffset;
    }

    /// <inheritdoc/>
    public override long BytesRead => _header.DataOffset + RowsRead * Columns * _itemSize;

    /// <inheritdoc/>
    public override string Description => $"{Npy.Name(_header.DType)} {_header.ShapeText}";

    /// <inheritdoc/>
    public override int ReadRows(Span<double> destination, int maxRows)
    {
        int rows = (int)Math.Min(maxRows, Rows - RowsRead);
        if (rows <= 0) return 0;
        int count = checked(rows * Columns);
        int bytes = checked(count * _itemSize);
        if (_buffer.Length < bytes) _buffer = new byte[bytes];
        int got = _fs.ReadAtLeast(_buffer.AsSpan(0, bytes), bytes, throwOnEndOfStream: false);
        if (got < bytes) throw new InputException($"{Path}: truncated data (file shrank while reading)");
        Convert(_buffer.AsSpan(0, bytes), destination[..count], _header.DType);
        RowsRead += rows;
        return rows;
    }

    private static void Convert(ReadOnlySpan<byte> src, Span<double> dst, NpyDType t)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        switch (t)
        {
            case NpyDType.Float64:
                MemoryMarshal.Cast<byte, double>(src).CopyTo(dst);
                break;
            case NpyDType.Float32:
            {
                ReadOnlySpan<float> s = MemoryMarshal.Cast<byte, float>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = s[i];
                break;
            }
            case NpyDType.Float16:
            {
                ReadOnlySpan<Half> s = MemoryMarshal.Cast<byte, Half>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = (double)s[i];
                break;
            }
            case NpyDType.Int32:
            {
                ReadOnlySpan<int> s = MemoryMarshal.Cast<byte, int>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = s[i];
                break;
            }
            case NpyDType.Int64:
            {
                ReadOnlySpan<long> s = MemoryMarshal.Cast<byte, long>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = s[i];
                break;
            }
            case NpyDType.Int8:
                for (int i = 0; i < src.Length; i++) dst[i] = (sbyte)src[i];
                break;
            case NpyDType.UInt8:
                for (int i = 0; i < src.Length; i++) dst[i] = src[i];
                break;
            case NpyDType.Int16:
            {
                ReadOnlySpan<short> s = MemoryMarshal.Cast<byte, short>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = s[i];
                break;
            }
            case NpyDType.UInt16:
            {
                ReadOnlySpan<ushort> s = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = s[i];
                break;
            }
            case NpyDType.UInt32:
            {
                ReadOnlySpan<uint> s = MemoryMarshal.Cast<byte, uint>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = s[i];
                break;
            }
            case NpyDType.UInt64:
            {
                ReadOnlySpan<ulong> s = MemoryMarshal.Cast<byte, ulong>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = s[i];
                break;
            }
        }
    }

    /// <inheritdoc/>
    public override void Dispose() => _fs.Dispose();
}

/// <summary>Streams a CSV file: one row per line, comma (or tab or semicolon) separated, optional header line
/// (a first line none of whose cells is a number), blank lines skipped.</summary>
internal sealed class CsvMatrixReader : MatrixReader
{
    private readonly FileStream _fs;
    private readonly StreamReader _reader;
    private readonly ReadLayout _layout;
    private long _lineNumber;
    private char _delimiter = ',';
    private string? _pending;
    private bool _started;

    public CsvMatrixReader(string path, FileStream fs, ReadLayout layout) : base(path)
    {
        _fs = fs;
        _layout = layout;
        TotalBytes = fs.Length;
        _reader = new StreamReader(fs, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        Start();
    }

    /// <summary>True when the first line was a header and was skipped.</summary>
    public bool HadHeader { get; private set; }

    /// <inheritdoc/>
    public override long BytesRead => _fs.Position;

    /// <inheritdoc/>
    public override string Description => $"CSV, {Columns} column{(Columns == 1 ? "" : "s")}";

    private void Start()
    {
        string? first = NextNonBlank();
        if (first is null)
        {
            Columns = _layout == ReadLayout.Vector ? 1 : 0;
            if (_layout == ReadLayout.Matrix) throw new InputException($"{Path}: empty CSV file (no rows)");
            _started = true;
            return;
        }
        _delimiter = first.Contains(',') ? ',' : first.Contains('\t') ? '\t' : first.Contains(';') ? ';' : ',';
        int cells = 0, numeric = 0;
        foreach (Range r in Cells(first))
        {
            cells++;
            if (TryParseCell(first.AsSpan()[r], out _)) numeric++;
        }
        if (numeric == 0)
        {
            HadHeader = true;
            long headerLine = _lineNumber;
            first = NextNonBlank();
            if (first is null)
            {
                if (_layout == ReadLayout.Matrix) throw new InputException($"{Path}: CSV has a header (line {headerLine}) but no data rows");
                Columns = 1;
                _started = true;
                return;
            }
            cells = 0;
            foreach (Range _ in Cells(first)) cells++;
        }
        Columns = cells;
        if (_layout == ReadLayout.Vector && cells != 1)
            throw new InputException($"{Path}: line {_lineNumber}: expected one value per line, found {cells} columns");
        _pending = first;
        _started = true;
    }

    private string? NextNonBlank()
    {
        while (true)
        {
            string? line = _reader.ReadLine();
            if (line is null) return null;
            _lineNumber++;
            if (!string.IsNullOrWhiteSpace(line)) return line;
        }
    }

    private SplitEnumerable Cells(string line) => new(line, _delimiter);

    /// <inheritdoc/>
    public override int ReadRows(Span<double> destination, int maxRows)
    {
        if (!_started) return 0;
        int rows = 0;
        while (rows < maxRows)
        {
            string? line = _pending ?? NextNonBlank();
            _pending = null;
            if (line is null) break;
            Span<double> row = destination.Slice(rows * Columns, Columns);
            int col = 0;
            foreach (Range r in Cells(line))
            {
                if (col >= Columns)
                {
                    int total = 0;
                    foreach (Range _ in Cells(line)) total++;
                    throw new InputException($"{Path}: line {_lineNumber}: {total} columns, expected {Columns}");
                }
                ReadOnlySpan<char> cell = line.AsSpan()[r];
                if (!TryParseCell(cell, out double v))
                {
                    string shown = cell.Trim().ToString();
                    if (shown.Length > 40) shown = shown[..40] + "...";
                    throw new InputException($"{Path}: line {_lineNumber}, column {col + 1}: '{shown}' is not a number");
                }
                row[col++] = v;
            }
            if (col != Columns) throw new InputException($"{Path}: line {_lineNumber}: {col} columns, expected {Columns}");
            rows++;
        }
        RowsRead += rows;
        return rows;
    }

    /// <summary>Parses one cell: invariant-culture number, surrounding blanks and quotes ignored; nan, inf, -inf accepted.</summary>
    internal static bool TryParseCell(ReadOnlySpan<char> cell, out double value)
    {
        cell = cell.Trim();
        if (cell.Length >= 2 && cell[0] == '"' && cell[^1] == '"') cell = cell[1..^1].Trim();
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        if (cell.Equals("nan", StringComparison.OrdinalIgnoreCase)) { value = double.NaN; return true; }
        if (cell.Equals("inf", StringComparison.OrdinalIgnoreCase) || cell.Equals("+inf", StringComparison.OrdinalIgnoreCase)
            || cell.Equals("infinity", StringComparison.OrdinalIgnoreCase)) { value = double.PositiveInfinity; return true; }
        if (cell.Equals("-inf", StringComparison.OrdinalIgnoreCase) || cell.Equals("-infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }
        return false;
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        _reader.Dispose();
        _fs.Dispose();
    }

    /// <summary>Allocation-free enumeration of the cell ranges of a line.</summary>
    private readonly struct SplitEnumerable(string line, char delimiter)
    {
        public Enumerator GetEnumerator() => new(line, delimiter);

        public struct Enumerator(string line, char delimiter)
        {
            private int _start = -1;
            private int _end = -1;

            public readonly Range Current => new(_start, _end);

            public bool MoveNext()
            {
                if (_end >= line.Length) return false;
                _start = _end + 1;
                int next = line.IndexOf(delimiter, _start);
                _end = next < 0 ? line.Length : next;
                return true;
            }
        }
    }
}
