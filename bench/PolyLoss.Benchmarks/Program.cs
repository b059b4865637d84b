using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using PolyLoss.Benchmarks;

// Usage:
//   dotnet run -c Release --project bench/PolyLoss.Benchmarks -- --filter '*'         BenchmarkDotNet, the full suite (~10 min)
//   dotnet run -c Release --project bench/PolyLoss.Benchmarks -- quick [--help]       interleaved Stopwatch ratios in seconds
//   dotnet run -c Release --project bench/PolyLoss.Benchmarks -- bandwidth [MiB...]   read bandwidth vs working set (cache sizes)
//   dotnet run -c Release --project bench/PolyLoss.Benchmarks -- expfloor [C] [mean]  the exponential sum per 16 elements, double vs float lanes
//   dotnet run -c Release --project bench/PolyLoss.Benchmarks -- ab --other DLL       this build against another PolyLoss.dll, same process
if (args.Length > 0 && args[0] is "quick" or "--quick")
    return Quick.Run(args[1..]);
if (args.Length > 0 && args[0] is "bandwidth")
    return Bandwidth.Run(args[1..]);
if (args.Length > 0 && args[0] is "expfloor")
    return ExpFloor.Run(args[1..]);
if (args.Length > 0 && args[0] is "ab")
    return AB.Run(args[1..]);

var job = Job.Default
    .WithWarmupCount(3)
    .WithIterationCount(8)
    .WithIterationTime(TimeInterval.FromMilliseconds(150))
    .WithUnrollFactor(1)
    // Fully optimized code from the first call: with few, long invocations, tiered compilation would promote the
    // kernels to tier 1 in the middle of the measured iterations (and its background allocations show up in the
    // memory diagnoser). The csproj sets the same for the quick mode.
    .WithEnvironmentVariables(new EnvironmentVariable("DOTNET_TieredCompilation", "0"))
    .WithId("Short8");

// The suite's job, unless a job is chosen on the command line (e.g. --job Dry to check the harness).
bool jobGiven = args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));
var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddColumn(StatisticColumn.Median)
    .AddColumn(RelativeColumn.XBound, RelativeColumn.XLib, RelativeColumn.XF32)
    .HideColumns(Column.Error, Column.AllocRatio)
    .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Value));

if (!jobGiven) config.AddJob(job);

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToList();

var times = new Dictionary<(string, string), double>();
foreach (var summary in summaries)
    foreach (var report in summary.Reports)
        if (report.ResultStatistics is { } stats && report.BenchmarkCase.Parameters["Case"] is Case c)
            times[(c.ToString(), report.BenchmarkCase.Descriptor.WorkloadMethod.Name)] = stats.Median;
if (times.Count > 0)
{
    string table = Targets.ToMarkdown(Targets.Evaluate((c, m) => times.TryGetValue((c, m), out double v) ? v : null));
    Console.WriteLine();
    Console.WriteLine("Targets (issue 4), from the medians:");
    Console.WriteLine(table);
    string dir = summaries.FirstOrDefault()?.ResultsDirectoryPath ?? ".";
    Directory.CreateDirectory(dir);
    File.WriteAllText(Path.Combine(dir, "targets.md"), table);
}
return 0;
