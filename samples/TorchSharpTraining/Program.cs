// Trains the same small MLP on the UCI handwritten digits (optdigits) twice with TorchSharp: once with
// CrossEntropyLoss, once with PolyLoss (Poly-1, epsilon 2). Same seed, same initial weights, same batch order;
// only the criterion line differs. Prints test accuracy and expected calibration error (15 equal-width bins).
//
//   dotnet run --project samples/TorchSharpTraining -c Release [-- --epochs 30 --epsilon 2 --seed 1 --threads 1 --data data/optdigits]
using System.Diagnostics;
using System.Globalization;
using PolyLoss.TorchSharp;
using TorchSharp;
using static TorchSharp.torch;

var settings = Settings.Parse(args);
// The model is tiny: one intra-op thread avoids OpenMP hand-offs that cost more than the matrix products.
torch.set_num_threads(settings.Threads);
string dataDir = settings.DataDir ?? FindDataDirectory();
var train = Digits.Load(Path.Combine(dataDir, "optdigits.tra.csv"));
var test = Digits.Load(Path.Combine(dataDir, "optdigits.tes.csv"));
Console.WriteLine($"optdigits: {train.Count} training and {test.Count} test digits, 64 features, 10 classes ({dataDir})");
Console.WriteLine($"MLP 64-128-64-10 (ReLU), Adam lr {settings.LearningRate}, batch {settings.BatchSize}, {settings.Epochs} epochs, seed {settings.Seed}, {torch.get_num_threads()} threads");
Console.WriteLine();

var results = new List<(string name, Metrics metrics, double seconds)>();
foreach (var (name, criterion) in new (string, Loss<Tensor, Tensor, Tensor>)[]
{
    ("CrossEntropyLoss", nn.CrossEntropyLoss()),
    ($"PolyLoss eps={settings.Epsilon.ToString(CultureInfo.InvariantCulture)}", PolyNN.PolyCrossEntropyLoss(epsilon: settings.Epsilon)),
})
{
    var clock = Stopwatch.StartNew();
    Metrics m = Trainer.TrainAndEvaluate(criterion, train, test, settings);
    clock.Stop();
    results.Add((name, m, clock.Elapsed.TotalSeconds));
    Console.WriteLine($"{name,-18} final train loss {m.FinalTrainLoss:F4}  ({clock.Elapsed.TotalSeconds:F1} s)");
}

Console.WriteLine();
Console.WriteLine($"{"criterion",-18} {"test accuracy",14} {"ECE (15 bins)",14} {"test NLL",10}");
foreach (var (name, m, _) in results)
    Console.WriteLine($"{name,-18} {m.Accuracy,13:P2} {m.Ece,14:F4} {m.Nll,10:F4}");

static string FindDataDirectory()
{
    foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "data", "optdigits");
            if (File.Exists(Path.Combine(candidate, "optdigits.tra.csv"))) return candidate;
        }
    throw new DirectoryNotFoundException("data/optdigits not found above the current or the program's directory; pass --data DIR.");
}

/// <summary>Command-line settings.</summary>
internal sealed record Settings(int Epochs, double Epsilon, long Seed, int BatchSize, double LearningRate, int Threads, string? DataDir)
{
    public static Settings Parse(string[] args)
    {
        var s = new Settings(30, 2.0, 1, 64, 1e-3, 1, null);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string v = args[i + 1];
            s = args[i] switch
            {
                "--epochs" => s with { Epochs = int.Parse(v, CultureInfo.InvariantCulture) },
                "--epsilon" => s with { Epsilon = double.Parse(v, CultureInfo.InvariantCulture) },
                "--seed" => s with { Seed = long.Parse(v, CultureInfo.InvariantCulture) },
                "--batch" => s with { BatchSize = int.Parse(v, CultureInfo.InvariantCulture) },
                "--lr" => s with { LearningRate = double.Parse(v, CultureInfo.InvariantCulture) },
                "--threads" => s with { Threads = int.Parse(v, CultureInfo.InvariantCulture) },
                "--data" => s with { DataDir = v },
                _ => throw new ArgumentException($"Unknown option {args[i]} (use --epochs, --epsilon, --seed, --batch, --lr, --threads, --data)."),
            };
        }
        return s;
    }
}

/// <summary>A digits split: features scaled to [0, 1] and int64 labels.</summary>
internal sealed class Digits
{
    public required Tensor Features { get; init; }
    public required Tensor Labels { get; init; }
    public int Count => (int)Labels.shape[0];

    public static Digits Load(string path)
    {
        var features = new List<float>();
        var labels = new List<long>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0) continue;
            string[] parts = line.Split(',');
            if (parts.Length != 65) throw new InvalidDataException($"{path}: expected 65 values per line, got {parts.Length}.");
            for (int j = 0; j < 64; j++) features.Add(int.Parse(parts[j], CultureInfo.InvariantCulture) / 16f);
            labels.Add(long.Parse(parts[64], CultureInfo.InvariantCulture));
        }
        return new Digits
        {
            Features = tensor(features.ToArray()).view(labels.Count, 64),
            Labels = tensor(labels.ToArray()),
        };
    }
}

internal sealed record Metrics(double Accuracy, double Ece, double Nll, double FinalTrainLoss);

internal static class Trainer
{
    public static Metrics TrainAndEvaluate(Loss<Tensor, Tensor, Tensor> criterion, Digits train, Digits test, Settings s)
    {
        manual_seed(s.Seed); // same initial weights for every criterion
        var model = nn.Sequential(
            nn.Linear(64, 128), nn.ReLU(),
            nn.Linear(128, 64), nn.ReLU(),
            nn.Linear(64, 10));
        var optimizer = optim.Adam(model.parameters(), s.LearningRate);
        var shuffle = new Random((int)s.Seed); // same batch order for every criterion
        int n = train.Count;
        int[] order = Enumerable.Range(0, n).ToArray();
        double lastEpochLoss = 0;

        model.train();
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            shuffle.Shuffle(order);
            using Tensor perm = tensor(order.Select(i => (long)i).ToArray());
            double sum = 0;
            int batches = 0;
            for (int start = 0; start < n; start += s.BatchSize)
            {
                using var scope = NewDisposeScope();
                Tensor idx = perm.narrow(0, start, Math.Min(s.BatchSize, n - start));
                Tensor x = train.Features.index_select(0, idx);
                Tensor y = train.Labels.index_select(0, idx);
                optimizer.zero_grad();
                Tensor loss = criterion.call(model.call(x), y);
                loss.backward();
                optimizer.step();
                sum += loss.item<float>(); // bookkeeping for the printout, once per batch
                batches++;
            }
            lastEpochLoss = sum / batches;
        }

        model.eval();
        using var _ = no_grad();
        using var evalScope = NewDisposeScope();
        Tensor logits = model.call(test.Features);
        double nll = nn.functional.cross_entropy(logits, test.Labels).item<float>();
        float[] probs = nn.functional.softmax(logits, 1).data<float>().ToArray();
        long[] labels = test.Labels.data<long>().ToArray();
        var (accuracy, ece) = Calibration.AccuracyAndEce(probs, labels, numClasses: 10, bins: 15);
        return new Metrics(accuracy, ece, nll, lastEpochLoss);
    }
}

internal static class Calibration
{
    /// <summary>
    /// Accuracy and expected calibration error: confidences (max probability) in equal-width bins
    /// (b/B, (b+1)/B], ECE = sum_b (n_b / N) |accuracy_b - mean confidence_b|.
    /// </summary>
    public static (double accuracy, double ece) AccuracyAndEce(float[] probs, long[] labels, int numClasses, int bins)
    {
        var count = new int[bins];
        var correct = new double[bins];
        var confidence = new double[bins];
        int hits = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int best = 0;
            for (int k = 1; k < numClasses; k++)
                if (probs[i * numClasses + k] > probs[i * numClasses + best]) best = k;
            double conf = probs[i * numClasses + best];
            int b = Math.Clamp((int)Math.Ceiling(conf * bins) - 1, 0, bins - 1);
            bool ok = best == labels[i];
            count[b]++;
            confidence[b] += conf;
            if (ok) { correct[b]++; hits++; }
        }
        double ece = 0;
        for (int b = 0; b < bins; b++)
            if (count[b] > 0)
                ece += (double)count[b] / labels.Length * Math.Abs(correct[b] / count[b] - confidence[b] / count[b]);
        return ((double)hits / labels.Length, ece);
    }
}
