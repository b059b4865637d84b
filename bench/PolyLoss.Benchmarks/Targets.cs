using System.Globalization;
using System.Text;

namespace PolyLoss.Benchmarks;

/// <summary>The ratio targets of issue 4, evaluated from measured times (BenchmarkDotNet means or quick-mode medians).</summary>
public static class Targets
{
    /// <summary>Measured time in ns for (case text, method name), or null when not measured.</summary>
    public delegate double? TimeOf(string caseText, string method);

    public sealed record Row(string Target, string Case, string Category, double? Value, string Goal, bool? Met);

    private static readonly string[] Main = ["4096x1000 int f32", "4096x1000 dense f32", "1024x32000 int f32"];
    private static readonly string[] AllF32 = ["4096x1000 int f32", "4096x1000 dense f32", "1024x32000 int f32", "65536x10 int f32", "256x1000 int f32", "8192x128 int f32"];
    private static readonly string[] F64 = ["4096x1000 int f64", "4096x1000 dense f64", "1024x32000 int f64"];

    public static List<Row> Evaluate(TimeOf time)
    {
        var rows = new List<Row>();
        double? Ratio(string c, string a, string b, string? cb = null) =>
            time(c, a) is double x && time(cb ?? c, b) is double y && y > 0 ? x / y : null;
        void Add(string target, string c, string cat, double? v, string goal, Func<double, bool> ok) =>
            rows.Add(new Row(target, c, cat, v, goal, v is double d ? ok(d) : null));

        foreach (var c in Main) Add("forward / read-once", c, Names.Fwd, Ratio(c, Names.Poly, Names.BoundRead), "<= 1.5", v => v <= 1.5);
        foreach (var c in Main) Add("fwd+bwd / (read+write)", c, Names.FwdBwd, Ratio(c, Names.PolyGrad, Names.BoundReadWrite), "<= 2", v => v <= 2);
        Add("forward / read-once", "65536x10 int f32", Names.Fwd, Ratio("65536x10 int f32", Names.Poly, Names.BoundRead), "<= 3", v => v <= 3);
        foreach (var c in AllF32)
        {
            Add("LibTorch composed / us", c, Names.Fwd, Ratio(c, Names.TorchComposed, Names.Poly), ">= 10", v => v >= 10);
            Add("LibTorch composed / us", c, Names.FwdBwd, Ratio(c, Names.TorchComposedGrad, Names.PolyGrad), ">= 10", v => v >= 10);
        }
        foreach (var c in AllF32)
        {
            Add("LibTorch native CE / us", c, Names.Fwd, Ratio(c, Names.TorchCE, Names.Poly), "> 1", v => v > 1);
            Add("LibTorch native CE / us", c, Names.FwdBwd, Ratio(c, Names.TorchCEGrad, Names.PolyGrad), "> 1", v => v > 1);
        }
        foreach (var c in F64)
        {
            string c32 = c.Replace("f64", "f32");
            Add("float64 / float32", c.Replace(" f64", ""), Names.Fwd, Ratio(c, Names.Poly, Names.Poly, c32), "<= 8", v => v <= 8);
            Add("float64 / float32", c.Replace(" f64", ""), Names.FwdBwd, Ratio(c, Names.PolyGrad, Names.PolyGrad, c32), "<= 8", v => v <= 8);
        }
        return rows;
    }

    public static string ToMarkdown(List<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| target | case | category | ratio | goal | met |");
        sb.AppendLine("| --- | --- | --- | ---: | --- | --- |");
        foreach (var r in rows)
        {
            string v = r.Value is double d ? d.ToString(d >= 100 ? "0" : "0.00", CultureInfo.InvariantCulture) : "n/a";
            string met = r.Met switch { true => "yes", false => "**no**", null => "not measured" };
            sb.AppendLine($"| {r.Target} | {r.Case} | {r.Category} | {v} | {r.Goal} | {met} |");
        }
        int measured = rows.Count(r => r.Met is not null), met2 = rows.Count(r => r.Met == true);
        sb.AppendLine();
        sb.AppendLine($"{met2} of {measured} measured targets met.");
        return sb.ToString();
    }
}
