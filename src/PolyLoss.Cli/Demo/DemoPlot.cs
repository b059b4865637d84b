using System.Globalization;
using PolyLoss.Cli.Commands;
using ScottPlot;

namespace PolyLoss.Cli.Demo;

/// <summary>The demo's PNG: test accuracy and ECE against epsilon (mean ± std over seeds) and the training curves.</summary>
internal static class DemoPlot
{
    /// <summary>Renders the figure and writes it to <paramref name="path"/> through a temporary file.</summary>
    public static void Save(string path, DemoCommand.DemoSetup setup, DemoCommand.EpsilonResult[] byEps)
    {
        var ordered = byEps.OrderBy(r => r.Epsilon).ToArray();
        double[] eps = ordered.Select(r => r.Epsilon).ToArray();
        string title = setup.Imbalanced
            ? $"optdigits, long-tailed train set (ratio {setup.Ratio.ToString("0.##", CultureInfo.InvariantCulture)})"
            : "optdigits, balanced train set";

        var multi = new Multiplot();
        multi.AddPlots(4);
        multi.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2);

        Plot acc = multi.GetPlot(0);
        AddMeanStd(acc, eps, ordered.Select(r => r.Accuracy).ToArray(), Colors.C0);
        acc.Title($"Test accuracy vs epsilon ({title})");
        acc.XLabel("epsilon (0 = cross entropy)");
        acc.YLabel($"test accuracy (mean ± std, {setup.Seeds} seeds)");

        Plot ece = multi.GetPlot(1);
        AddMeanStd(ece, eps, ordered.Select(r => r.Ece).ToArray(), Colors.C1);
        ece.Title("Expected calibration error vs epsilon");
        ece.XLabel("epsilon (0 = cross entropy)");
        ece.YLabel("test ECE, 15 bins (mean ± std)");

        Plot loss = multi.GetPlot(2);
        Plot curve = multi.GetPlot(3);
        double[] epochs = Enumerable.Range(1, setup.Epochs).Select(e => (double)e).ToArray();
        for (int i = 0; i < ordered.Length; i++)
        {
            Color color = new ScottPlot.Palettes.Category10().GetColor(i);
            string label = ordered[i].Epsilon == 0 ? "eps 0 (CE)" : "eps " + ordered[i].Epsilon.ToString("0.##", CultureInfo.InvariantCulture);
            var l = loss.Add.ScatterLine(epochs, ordered[i].MeanCurve(r => r.TrainLoss));
            l.Color = color;
            l.LineWidth = 2;
            l.LegendText = label;
            double[] curveEpochs = ordered[i].Runs[0].CurveEpochs.Select(e => (double)e).ToArray();
            var c = curve.Add.ScatterLine(curveEpochs, ordered[i].MeanCurve(r => r.EpochTestAccuracy));
            c.Color = color;
            c.LineWidth = 2;
            c.LegendText = label;
        }
        loss.Title("Training curves: training loss (each run's own objective)");
        loss.XLabel("epoch");
        loss.YLabel("mean training Poly-1 loss");
        loss.ShowLegend(Alignment.UpperRight);
        curve.Title("Training curves: test accuracy");
        curve.XLabel("epoch");
        curve.YLabel("test accuracy (mean over seeds)");
        curve.ShowLegend(Alignment.LowerRight);

        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileNameWithoutExtension(full) + "." + Guid.NewGuid().ToString("N")[..12] + ".tmp.png");
        try
        {
            multi.SavePng(temp, 1400, 1000);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot write the plot ({e.Message})");
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static void AddMeanStd(Plot plot, double[] x, (double Mean, double Std)[] v, Color color)
    {
        double[] mean = v.Select(p => p.Mean).ToArray();
        double[] std = v.Select(p => p.Std).ToArray();
        var line = plot.Add.Scatter(x, mean);
        line.Color = color;
        line.LineWidth = 2;
        line.MarkerSize = 8;
        var bars = plot.Add.ErrorBar(x, mean, std);
        bars.Color = color;
    }
}
