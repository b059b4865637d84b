// QuickStart: PolyLoss on a small batch, with and without gradients.
using PolyLoss;

const int numClasses = 3;
float[] logits = [2.0f, 1.0f, 0.1f,
                  0.5f, 2.5f, -1.0f];
int[] targets = [0, 1];
float[] labels = [1f, 0f, 0f,
                  0.1f, 0.8f, 0.1f];

var losses = new float[2];
Poly.CrossEntropy(logits, targets, losses, numClasses);              // Poly-1, epsilon = 2
Console.WriteLine($"Poly-1 (eps 2), integer targets: [{string.Join(", ", losses)}]");

Poly.CrossEntropy(logits, labels, losses, numClasses, epsilon: -1f);  // dense labels, detection setting
Console.WriteLine($"Poly-1 (eps -1), dense labels:  [{string.Join(", ", losses)}]");

var gradient = new float[logits.Length];
Poly.CrossEntropyWithGradient(logits, targets, losses, gradient, numClasses);
Console.WriteLine($"d(sum of losses)/d logits:      [{string.Join(", ", gradient.Select(g => g.ToString("0.0000")))}]");

// PyTorch-style options: class weights, ignore index, label smoothing, mean reduction.
var mean = new float[1];
Poly.CrossEntropyWithGradient(logits, [0, -100], mean, gradient, numClasses,
    new PolyLossOptions { Epsilon = 2, Weight = [1, 2, 1], LabelSmoothing = 0.1, Reduction = Reduction.Mean });
Console.WriteLine($"weighted, smoothed mean with row 1 ignored: {mean[0]:0.0000}");
