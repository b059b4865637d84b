using System.Numerics.Tensors;

namespace PolyLoss.Cli.Demo;

/// <summary>Training settings of one demo run.</summary>
internal sealed record TrainConfig(double Epsilon, int Seed, int Hidden = 64, int Epochs = 30, int BatchSize = 64, float LearningRate = 1e-3f);

/// <summary>What one run produced.</summary>
/// <param name="TestAccuracy">Final test accuracy.</param>
/// <param name="TestEce">Final test expected calibration error (15 bins).</param>
/// <param name="TestCrossEntropy">Final test mean cross entropy (eps 0).</param>
/// <param name="TrainLoss">Mean training objective (the Poly-1 loss being minimised) per epoch.</param>
/// <param name="CurveEpochs">The epochs (1-based) after which the test set was evaluated for the curve: every epoch up
/// to 30 epochs, else about 30 evenly spaced ones (always the last).</param>
/// <param name="EpochTestAccuracy">Test accuracy after each of <paramref name="CurveEpochs"/>.</param>
internal sealed record TrainResult(double TestAccuracy, double TestEce, double TestCrossEntropy, double[] TrainLoss, int[] CurveEpochs, double[] EpochTestAccuracy);

/// <summary>A one-hidden-layer ReLU network (features-hidden-classes) trained with mini-batch Adam. The loss and its
/// logits gradient come from the library's fused Poly-1 kernel; the backward pass through the two dense layers is
/// written here with spans and <see cref="TensorPrimitives"/>. Single-threaded and deterministic for a given seed.</summary>
internal sealed class Mlp
{
    private readonly int _in, _hidden, _out;
    private readonly float[] _w1, _b1, _w2, _b2; // w1 [in, hidden], w2 [out, hidden], row-major
    private readonly float[] _g1, _gb1, _g2, _gb2;
    private readonly Adam _adam;

    public Mlp(int inputs, int hidden, int outputs, Random rng, float learningRate)
    {
        _in = inputs;
        _hidden = hidden;
        _out = outputs;
        _w1 = HeUniform(inputs, hidden, rng);
        _b1 = new float[hidden];
        _w2 = HeUniform(hidden, outputs, rng);
        _b2 = new float[outputs];
        _g1 = new float[_w1.Length];
        _gb1 = new float[hidden];
        _g2 = new float[_w2.Length];
        _gb2 = new float[outputs];
        _adam = new Adam(learningRate, [_w1, _b1, _w2, _b2]);
    }

    private static float[] HeUniform(int fanIn, int fanOut, Random rng)
    {
        float limit = MathF.Sqrt(6f / fanIn);
        float[] w = new float[fanIn * fanOut];
        for (int i = 0; i < w.Length; i++) w[i] = (float)((rng.NextDouble() * 2 - 1) * limit);
        return w;
    }

    /// <summary>Forward pass for <paramref name="rows"/> rows: hidden activations and logits.</summary>
    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> hidden, Span<float> logits)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * _in, _in);
            Span<float> h = hidden.Slice(r * _hidden, _hidden);
            _b1.CopyTo(h);
            for (int i = 0; i < _in; i++)
            {
                float v = xr[i];
                if (v != 0f) TensorPrimitives.MultiplyAdd(_w1.AsSpan(i * _hidden, _hidden), v, h, h);
            }
            TensorPrimitives.Max(h, 0f, h);
            Span<float> z = logits.Slice(r * _out, _out);
            for (int o = 0; o < _out; o++) z[o] = _b2[o] + Dot(_w2.AsSpan(o * _hidden, _hidden), h);
        }
    }

    /// <summary>Dot product in a fixed order (vector lanes from index 0, then the tail), so a run's result does not
    /// depend on where the arrays happen to lie in memory (TensorPrimitives.Dot may split by alignment).</summary>
    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        var acc = System.Numerics.Vector<float>.Zero;
        int w = System.Numerics.Vector<float>.Count;
        for (; i + w <= n; i += w)
            acc += new System.Numerics.Vector<float>(a.Slice(i, w)) * new System.Numerics.Vector<float>(b.Slice(i, w));
        float s = System.Numerics.Vector.Sum(acc);
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Backward pass from the logits gradient (already scaled for a mean over the batch) and one Adam step.</summary>
    public void BackwardAndStep(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> hidden, ReadOnlySpan<float> logitsGrad, Span<float> hiddenGrad)
    {
        Backward(x, rows, hidden, logitsGrad, hiddenGrad);
        _adam.Step([_g1, _gb1, _g2, _gb2]);
    }

    /// <summary>Parameters in the order w1 [in, hidden], b1, w2 [out, hidden], b2 (live arrays).</summary>
    internal float[][] Parameters => [_w1, _b1, _w2, _b2];

    /// <summary>Gradients of the last <see cref="Backward"/>, same order as <see cref="Parameters"/>.</summary>
    internal float[][] Gradients => [_g1, _gb1, _g2, _gb2];

    /// <summary>Backward pass: fills <see cref="Gradients"/> from the logits gradient.</summary>
    internal void Backward(ReadOnlySpan<float> x, int rows, ReadOnlySpan<float> hidden, ReadOnlySpan<float> logitsGrad, Span<float> hiddenGrad)
    {
        Array.Clear(_g1);
        Array.Clear(_gb1);
        Array.Clear(_g2);
        Array.Clear(_gb2);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> dz = logitsGrad.Slice(r * _out, _out);
            ReadOnlySpan<float> h = hidden.Slice(r * _hidden, _hidden);
            Span<float> dh = hiddenGrad.Slice(r * _hidden, _hidden);
            TensorPrimitives.Add(_gb2, dz, _gb2);
            dh.Clear();
            for (int o = 0; o < _out; o++)
            {
                float d = dz[o];
                Span<float> g2row = _g2.AsSpan(o * _hidden, _hidden);
                TensorPrimitives.MultiplyAdd(h, d, g2row, g2row);
                TensorPrimitives.MultiplyAdd(_w2.AsSpan(o * _hidden, _hidden), d, dh, dh);
            }
            for (int j = 0; j < _hidden; j++)
            {
                if (h[j] == 0f) dh[j] = 0f; // ReLU gate closed
            }
            TensorPrimitives.Add(_gb1, dh, _gb1);
            ReadOnlySpan<float> xr = x.Slice(r * _in, _in);
            for (int i = 0; i < _in; i++)
            {
                float v = xr[i];
                if (v == 0f) continue;
                Span<float> g1row = _g1.AsSpan(i * _hidden, _hidden);
                TensorPrimitives.MultiplyAdd(dh, v, g1row, g1row);
            }
        }
    }

    /// <summary>Trains on <paramref name="train"/> and evaluates on <paramref name="test"/> after every epoch.</summary>
    public static TrainResult Train(Dataset train, Dataset test, TrainConfig cfg)
    {
        var rng = new Random(cfg.Seed);
        int c = train.Classes;
        var net = new Mlp(train.Features, cfg.Hidden, c, rng, cfg.LearningRate);
        int b = cfg.BatchSize;
        float[] xb = new float[b * train.Features];
        int[] yb = new int[b];
        float[] hidden = new float[b * cfg.Hidden];
        float[] hiddenGrad = new float[b * cfg.Hidden];
        float[] logits = new float[b * c];
        float[] grad = new float[b * c];
        PolyLossOptions options = Kernels.MeanSingleThreaded(cfg.Epsilon);
        int[] order = Enumerable.Range(0, train.Rows).ToArray();
        double[] trainLoss = new double[cfg.Epochs];
        int stride = (cfg.Epochs + 29) / 30;
        var curveEpochs = new List<int>();
        var epochAcc = new List<double>();
        Evaluation last = default;
        for (int epoch = 0; epoch < cfg.Epochs; epoch++)
        {
            rng.Shuffle(order);
            double sum = 0;
            for (int start = 0; start < order.Length; start += b)
            {
                int n = Math.Min(b, order.Length - start);
                for (int i = 0; i < n; i++)
                {
                    int row = order[start + i];
                    train.X.AsSpan(row * train.Features, train.Features).CopyTo(xb.AsSpan(i * train.Features));
                    yb[i] = train.Y[row];
                }
                net.Forward(xb, n, hidden, logits);
                // Library kernel: the batch-mean Poly-1 loss and its logits gradient, fused.
                float mean = Kernels.MeanLossAndGradient(logits.AsSpan(0, n * c), yb.AsSpan(0, n), grad.AsSpan(0, n * c), c, options);
                sum += (double)mean * n;
                net.BackwardAndStep(xb, n, hidden, grad, hiddenGrad);
            }
            trainLoss[epoch] = sum / order.Length;
            if ((epoch + 1) % stride == 0 || epoch == cfg.Epochs - 1)
            {
                last = net.Evaluate(test);
                curveEpochs.Add(epoch + 1);
                epochAcc.Add(last.Accuracy);
            }
        }
        return new TrainResult(last.Accuracy, last.Ece, last.CrossEntropy, trainLoss, [.. curveEpochs], [.. epochAcc]);
    }

    /// <summary>Accuracy, ECE and mean cross entropy on a data set.</summary>
    public Evaluation Evaluate(Dataset data)
    {
        const int b = 256;
        int c = _out;
        float[] hidden = new float[b * _hidden];
        float[] logits = new float[b * c];
        double[] z = new double[b * c];
        double[] ce = new double[b];
        var calib = new CalibrationAccumulator();
        double ceSum = 0;
        for (int start = 0; start < data.Rows; start += b)
        {
            int n = Math.Min(b, data.Rows - start);
            Forward(data.X.AsSpan(start * data.Features, n * data.Features), n, hidden, logits);
            for (int i = 0; i < n * c; i++) z[i] = logits[i];
            ReadOnlySpan<int> t = data.Y.AsSpan(start, n);
            Kernels.Losses(z.AsSpan(0, n * c), t, ce.AsSpan(0, n), c, 0.0, maxThreads: 1);
            for (int r = 0; r < n; r++)
            {
                calib.Add(z.AsSpan(r * c, c), t[r]);
                ceSum += ce[r];
            }
        }
        return new Evaluation(calib.Accuracy, calib.Ece, ceSum / data.Rows);
    }

    /// <summary>Test metrics.</summary>
    internal readonly record struct Evaluation(double Accuracy, double Ece, double CrossEntropy);

    /// <summary>Adam (Kingma and Ba) with the usual defaults beta1 0.9, beta2 0.999, epsilon 1e-8.</summary>
    private sealed class Adam(float lr, float[][] parameters)
    {
        private readonly float[][] _m = parameters.Select(p => new float[p.Length]).ToArray();
        private readonly float[][] _v = parameters.Select(p => new float[p.Length]).ToArray();
        private int _t;

        public void Step(float[][] grads)
        {
            _t++;
            float b1 = 0.9f, b2 = 0.999f;
            float c1 = 1f - MathF.Pow(b1, _t), c2 = 1f - MathF.Pow(b2, _t);
            float step = lr * MathF.Sqrt(c2) / c1;
            for (int k = 0; k < parameters.Length; k++)
            {
                float[] p = parameters[k], g = grads[k], m = _m[k], v = _v[k];
                for (int i = 0; i < p.Length; i++)
                {
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    p[i] -= step * m[i] / (MathF.Sqrt(v[i]) + 1e-8f);
                }
            }
        }
    }
}
