using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace PolyLoss.Benchmarks;

/// <summary>
/// A ratio of this row's median to another row's median in the same summary (medians: on a shared, loaded machine
/// a few slow iterations move the mean a lot):
/// <c>xBound</c> = time / the bound's time (same case and category: Bound_Read for Fwd, Bound_ReadWrite for FwdBwd);
/// <c>xLib</c> = time / this library's time (same case, same category: Poly for Fwd, Poly_Grad for FwdBwd);
/// <c>xF32</c> = time / the same method's time on the float32 twin of the case (float64 rows only).
/// </summary>
public sealed class RelativeColumn : IColumn
{
    private readonly Func<Case, string, (Case Case, string Method)?> _reference;

    private RelativeColumn(string name, string legend, Func<Case, string, (Case, string)?> reference)
    {
        ColumnName = name;
        Legend = legend;
        _reference = reference;
    }

    public static readonly RelativeColumn XBound = new("xBound", "Median / median of the bound (Bound_Read or Bound_ReadWrite) on the same case and category",
        (c, m) => (c, Names.Bound(Names.Category(m))));

    public static readonly RelativeColumn XLib = new("xLib", "Median / median of this library (Poly or Poly_Grad) on the same case and category; LibTorch rows: the speedup of this library",
        (c, m) => (c, Names.Library(Names.Category(m))));

    public static readonly RelativeColumn XF32 = new("xF32", "Median of a float64 case / median of the same method on the float32 case of the same shape",
        (c, m) => c.Double ? (c.AsFloat32, m) : null);

    public string Id => "PolyLoss." + ColumnName;
    public string ColumnName { get; }
    public string Legend { get; }
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => ColumnName switch { "xBound" => 0, "xLib" => 1, _ => 2 };
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Parameters["Case"] is not Case c) return "?";
        var reference = _reference(c, benchmarkCase.Descriptor.WorkloadMethod.Name);
        if (reference is null) return "-";
        double? mine = Median(summary, benchmarkCase);
        var other = summary.BenchmarksCases.FirstOrDefault(b =>
            b.Descriptor.WorkloadMethod.Name == reference.Value.Method && b.Parameters["Case"]?.ToString() == reference.Value.Case.ToString());
        double? theirs = other is null ? null : Median(summary, other);
        return mine is double x && theirs is double y && y > 0 ? (x / y).ToString(x / y >= 100 ? "0" : "0.00", CultureInfo.InvariantCulture) : "n/a";
    }

    public static double? Median(Summary summary, BenchmarkCase b) => summary[b]?.ResultStatistics?.Median;

    public override string ToString() => ColumnName;
}
