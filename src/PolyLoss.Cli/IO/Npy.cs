using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace PolyLoss.Cli.IO;

/// <summary>Element types the tool reads and writes (little-endian only).</summary>
internal enum NpyDType
{
    /// <summary>IEEE half precision, <c>&lt;f2</c>.</summary>
    Float16,

    /// <summary>IEEE single precision, <c>&lt;f4</c>.</summary>
    Float32,

    /// <summary>IEEE double precision, <c>&lt;f8</c>.</summary>
    Float64,

    /// <summary>32-bit signed integer, <c>&lt;i4</c>.</summary>
    Int32,

    /// <summary>64-bit signed integer, <c>&lt;i8</c>.</summary>
    Int64,

    /// <summary>8-bit signed integer, <c>|i1</c> (read only).</summary>
    Int8,

    /// <summary>8-bit unsigned integer, <c>|u1</c> (read only).</summary>
    UInt8,

    /// <summary>16-bit signed integer, <c>&lt;i2</c> (read only).</summary>
    Int16,

    /// <summary>16-bit unsigned integer, <c>&lt;u2</c> (read only).</summary>
    UInt16,

    /// <summary>32-bit unsigned integer, <c>&lt;u4</c> (read only).</summary>
    UInt32,

    /// <summary>64-bit unsigned integer, <c>&lt;u8</c> (read only).</summary>
    UInt64,
}

/// <summary>A parsed .npy header: element type, shape and where the data starts.</summary>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Array shape (C order).</param>
/// <param name="DataOffset">Byte offset of the first element.</param>
/// <param name="Version">Format version, e.g. "1.0".</param>
internal sealed record NpyHeader(NpyDType DType, long[] Shape, long DataOffset, string Version)
{
    /// <summary>Number of elements (product of the shape; 1 for a 0-d array).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n = checked(n * d);
            return n;
        }
    }

    /// <summary>Shape as numpy prints it, e.g. <c>(100, 10)</c>.</summary>
    public string ShapeText => Npy.FormatShape(Shape);
}

/// <summary>Reading and writing of the NumPy .npy header (format versions 1.0, 2.0 and 3.0).</summary>
internal static class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Size in bytes of one element.</summary>
    public static int ItemSize(NpyDType t) => t switch
    {
        NpyDType.Float16 => 2,
        NpyDType.Float32 => 4,
        NpyDType.Float64 => 8,
        NpyDType.Int32 => 4,
        NpyDType.Int64 => 8,
        NpyDType.Int8 or NpyDType.UInt8 => 1,
        NpyDType.Int16 or NpyDType.UInt16 => 2,
        NpyDType.UInt32 => 4,
        NpyDType.UInt64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>The numpy dtype string, e.g. <c>&lt;f4</c>.</summary>
    public static string Descr(NpyDType t) => t switch
    {
        NpyDType.Float16 => "<f2",
        NpyDType.Float32 => "<f4",
        NpyDType.Float64 => "<f8",
        NpyDType.Int32 => "<i4",
        NpyDType.Int64 => "<i8",
        NpyDType.Int8 => "|i1",
        NpyDType.UInt8 => "|u1",
        NpyDType.Int16 => "<i2",
        NpyDType.UInt16 => "<u2",
        NpyDType.UInt32 => "<u4",
        NpyDType.UInt64 => "<u8",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>The numpy name of the type, e.g. float32.</summary>
    public static string Name(NpyDType t) => t switch
    {
        NpyDType.Float16 => "float16",
        NpyDType.Float32 => "float32",
        NpyDType.Float64 => "float64",
        NpyDType.Int32 => "int32",
        NpyDType.Int64 => "int64",
        NpyDType.Int8 => "int8",
        NpyDType.UInt8 => "uint8",
        NpyDType.Int16 => "int16",
        NpyDType.UInt16 => "uint16",
        NpyDType.UInt32 => "uint32",
        NpyDType.UInt64 => "uint64",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Formats a shape as a Python tuple.</summary>
    public static string FormatShape(IReadOnlyList<long> shape) => shape.Count switch
    {
        0 => "()",
        1 => "(" + shape[0].ToString(CultureInfo.InvariantCulture) + ",)",
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
    };

    /// <summary>Reads and validates the header at the start of <paramref name="stream"/>, leaving the stream at the data.</summary>
    /// <exception cref="InputException">The header is truncated, corrupt, or describes an unsupported array.</exception>
    public static NpyHeader ReadHeader(Stream stream, string path)
    {
        Span<byte> pre = stackalloc byte[12];
        int got = stream.ReadAtLeast(pre[..8], 8, throwOnEndOfStream: false);
        if (got < 6 || !pre[..6].SequenceEqual(Magic))
        {
            if (got < 6 && Magic.StartsWith(pre[..got]))
                throw new InputException($"{path}: truncated .npy header (file has only {got} bytes)");
            throw new InputException($"{path}: not a .npy file (missing the \\x93NUMPY magic string)");
        }
        if (got < 8) throw new InputException($"{path}: truncated .npy header (no version bytes)");
        int major = pre[6], minor = pre[7];
        int lenBytes = major switch
        {
            1 => 2,
            2 or 3 => 4,
            _ => throw new InputException($"{path}: unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"),
        };
        if (stream.ReadAtLeast(pre.Slice(8, lenBytes), lenBytes, throwOnEndOfStream: false) < lenBytes)
            throw new InputException($"{path}: truncated .npy header (no header length)");
        long headerLen = lenBytes == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(pre.Slice(8, 2))
            : BinaryPrimitives.ReadUInt32LittleEndian(pre.Slice(8, 4));
        if (headerLen > 16 * 1024 * 1024)
            throw new InputException($"{path}: corrupt .npy header (declared header length {headerLen} bytes)");
        byte[] hb = new byte[headerLen];
        int hgot = stream.ReadAtLeast(hb, hb.Length, throwOnEndOfStream: false);
        if (hgot < hb.Length)
            throw new InputException($"{path}: truncated .npy header (declared {headerLen} header bytes, file has {hgot})");
        string text;
        try
        {
            text = (major >= 3 ? new UTF8Encoding(false, true) : Encoding.Latin1).GetString(hb);
        }
        catch (DecoderFallbackException)
        {
            throw new InputException($"{path}: corrupt .npy header (not valid UTF-8)");
        }
        long dataOffset = 8 + lenBytes + headerLen;
        return ParseDict(text, path, dataOffset, $"{major}.{minor}");
    }

    private static NpyHeader ParseDict(string text, string path, long dataOffset, string version)
    {
        var p = new DictParser(text, path);
        Dictionary<string, object> d = p.ParseDict();
        if (!d.TryGetValue("descr", out object? descrObj) || !d.TryGetValue("fortran_order", out object? fo) || !d.TryGetValue("shape", out object? shapeObj))
            throw new InputException($"{path}: corrupt .npy header (needs the keys 'descr', 'fortran_order' and 'shape')");
        if (descrObj is not string descr)
        {
            throw new InputException(descrObj is List<object>
                ? $"{path}: structured (record) arrays are not supported; save a plain numeric array"
                : $"{path}: corrupt .npy header ('descr' is not a string)");
        }
        if (fo is not bool fortran) throw new InputException($"{path}: corrupt .npy header ('fortran_order' is not True/False)");
        if (shapeObj is not List<object> shapeList || shapeList.Any(o => o is not long l || l < 0))
            throw new InputException($"{path}: corrupt .npy header ('shape' is not a tuple of non-negative integers)");
        long[] shape = shapeList.Cast<long>().ToArray();
        NpyDType dtype = ParseDescr(descr, path);
        if (fortran && shape.Count(x => x != 1) > 1)
            throw new InputException($"{path}: Fortran-order (column-major) arrays are not supported; save with np.ascontiguousarray(a) first");
        return new NpyHeader(dtype, shape, dataOffset, version);
    }

    private static NpyDType ParseDescr(string descr, string path)
    {
        if (descr.Length < 2) throw new InputException($"{path}: unsupported dtype '{descr}'");
        char order = descr[0];
        string kind = descr[1..];
        if (kind is "O" || descr is "O")
            throw new InputException($"{path}: object arrays (dtype 'O', pickled Python objects) are not supported; save a numeric array");
        if (order == '>' && kind is "f2" or "f4" or "f8" or "i4" or "i8" or "i2" or "u2" or "u4" or "u8")
            throw new InputException($"{path}: big-endian arrays ('{descr}') are not supported; convert with a.astype(a.dtype.newbyteorder('<'))");
        if (order is '<' or '|' or '=')
        {
            switch (kind)
            {
                case "f2": return NpyDType.Float16;
                case "f4": return NpyDType.Float32;
                case "f8": return NpyDType.Float64;
                case "i4": return NpyDType.Int32;
                case "i8": return NpyDType.Int64;
                case "i1": return NpyDType.Int8;
                case "u1": return NpyDType.UInt8;
                case "i2": return NpyDType.Int16;
                case "u2": return NpyDType.UInt16;
                case "u4": return NpyDType.UInt32;
                case "u8": return NpyDType.UInt64;
            }
        }
        throw new InputException($"{path}: unsupported dtype '{descr}' (supported: little-endian float16, float32, float64 and 8- to 64-bit integers)");
    }

    /// <summary>Builds a complete header (magic, version, length, dict, padding) whose row count field is padded
    /// to <paramref name="reserveDigits"/> characters so it can be rewritten in place later.</summary>
    public static byte[] BuildHeader(NpyDType dtype, IReadOnlyList<long> shape, int reserveDigits = 0)
    {
        string shapeText = FormatShape(shape);
        string dict = "{'descr': '" + Descr(dtype) + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        int pad = Math.Max(0, reserveDigits - (shape.Count > 0 ? shape[0].ToString(CultureInfo.InvariantCulture).Length : 0));
        dict += new string(' ', pad);
        // Version 1.0 if the header fits a uint16 length, else 2.0. Total header size is a multiple of 64.
        int pre = 10;
        int major = 1;
        if (dict.Length + 1 + pre > 65535)
        {
            pre = 12;
            major = 2;
        }
        int total = (pre + dict.Length + 1 + 63) / 64 * 64;
        dict = dict + new string(' ', total - pre - dict.Length - 1) + "\n";
        byte[] result = new byte[total];
        Magic.CopyTo(result);
        result[6] = (byte)major;
        result[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)dict.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)dict.Length);
        Encoding.Latin1.GetBytes(dict, result.AsSpan(pre));
        return result;
    }

    /// <summary>A tiny parser for the Python dict literal in a .npy header.</summary>
    private ref struct DictParser(string s, string path)
    {
        private int _i;

        public Dictionary<string, object> ParseDict()
        {
            SkipWs();
            Expect('{');
            var d = new Dictionary<string, object>(StringComparer.Ordinal);
            while (true)
            {
                SkipWs();
                if (Peek() == '}') { _i++; break; }
                object key = ParseValue();
                if (key is not string k) throw Corrupt("a key is not a string");
                SkipWs();
                Expect(':');
                d[k] = ParseValue();
                SkipWs();
                if (Peek() == ',') { _i++; continue; }
                SkipWs();
                Expect('}');
                break;
            }
            return d;
        }

        private object ParseValue()
        {
            SkipWs();
            char c = Peek();
            if (c is '\'' or '"')
            {
                _i++;
                int start = _i;
                while (_i < s.Length && s[_i] != c) _i++;
                if (_i >= s.Length) throw Corrupt("unterminated string");
                string v = s[start.._i];
                _i++;
                return v;
            }
            if (c is '(' or '[')
            {
                char close = c == '(' ? ')' : ']';
                _i++;
                var list = new List<object>();
                while (true)
                {
                    SkipWs();
                    if (Peek() == close) { _i++; break; }
                    list.Add(ParseValue());
                    SkipWs();
                    if (Peek() == ',') { _i++; continue; }
                    SkipWs();
                    Expect(close);
                    break;
                }
                return list;
            }
            if (char.IsDigit(c))
            {
                int start = _i;
                while (_i < s.Length && char.IsDigit(s[_i])) _i++;
                if (_i < s.Length && s[_i] == 'L') _i++;
                if (!long.TryParse(s.AsSpan(start, _i - start).TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
                    throw Corrupt("a number is too large");
                return n;
            }
            if (Match("True")) return true;
            if (Match("False")) return false;
            if (Match("None")) return "None";
            throw Corrupt($"unexpected character '{c}' at offset {_i}");
        }

        private bool Match(string word)
        {
            if (string.CompareOrdinal(s, _i, word, 0, word.Length) == 0)
            {
                _i += word.Length;
                return true;
            }
            return false;
        }

        private char Peek() => _i < s.Length ? s[_i] : throw Corrupt("header ends early");

        private void Expect(char c)
        {
            if (Peek() != c) throw Corrupt($"expected '{c}' at offset {_i}");
            _i++;
        }

        private void SkipWs()
        {
            while (_i < s.Length && char.IsWhiteSpace(s[_i])) _i++;
        }

        private readonly InputException Corrupt(string what) => new($"{path}: corrupt .npy header ({what})");
    }
}
