namespace PolyLoss.Internal;

/// <summary>
/// A tiny allocation-free fork/join over row ranges. Rows are handed out in blocks from a shared counter; each row's
/// result depends only on its own data, so the output is bit-identical whatever thread runs it and however many do.
/// </summary>
internal static unsafe class RowParallel
{
    /// <summary>Below this many elements (rows * classes) a call stays on the calling thread. Measured on the 2-core
    /// development machine (float32, integer targets): at 32K elements two threads take 0.52x (512 x 64) to 0.63x
    /// (8192 x 4) the one-thread time, at 64K elements 0.46x; one thread needs about 29 us for 32K elements.</summary>
    public const long MinElementsForParallel = 1L << 15;

    /// <summary>The fewest elements (rows * classes) a block of rows holds, unless the batch is smaller.</summary>
    public const long MinBlockElements = 1L << 14;

    /// <summary>The most elements a block of rows holds, unless a single row is longer.</summary>
    public const long MaxBlockElements = 1L << 18;

    private static readonly object Gate = new();
    private static Worker[]? _workers;

    private static delegate*<void*, int, int, void> _body;
    private static void* _state;
    private static int _rows, _block, _next;
    private static CountdownEvent? _done;

    /// <summary>Runs <paramref name="body"/>(state, start, end) over [0, rows).</summary>
    public static void For(int rows, long elements, int maxDegreeOfParallelism, delegate*<void*, int, int, void> body, void* state)
    {
        int threads = maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : Math.Min(maxDegreeOfParallelism, Environment.ProcessorCount);
        if (threads <= 1 || rows < 2 || elements < MinElementsForParallel || !Monitor.TryEnter(Gate))
        {
            // Busy (another caller holds the pool) or too small: run here. Same rows, same results.
            body(state, 0, rows);
            return;
        }
        try
        {
            threads = Math.Min(threads, rows);
            EnsureWorkers();
            _body = body;
            _state = state;
            _rows = rows;
            // About 32 blocks per thread, of MinBlockElements to MaxBlockElements elements: the threads finish together
            // even when one core runs slower for a while (a shared machine), and the counter is taken at most every
            // few microseconds.
            long perBlock = Math.Clamp(elements / (threads * 32L), MinBlockElements, MaxBlockElements);
            _block = (int)Math.Clamp(perBlock / Math.Max(1, elements / rows), 1, rows);
            _next = 0;
            _done!.Reset(threads - 1);
            for (int i = 0; i < threads - 1; i++) _workers![i].Start.Set();
            RunBlocks();
            _done.Wait();
        }
        finally
        {
            _body = null;
            _state = null;
            Monitor.Exit(Gate);
        }
    }

    private static void RunBlocks()
    {
        int rows = _rows, block = _block;
        while (true)
        {
            int start = Interlocked.Add(ref _next, block) - block;
            if (start >= rows) return;
            _body(_state, start, Math.Min(rows, start + block));
        }
    }

    private static void EnsureWorkers()
    {
        if (_workers is not null) return;
        int n = Math.Max(1, Environment.ProcessorCount - 1);
        var workers = new Worker[n];
        _done = new CountdownEvent(1);
        // The event allocates its lock object on the first wait that blocks: take that wait here (1 ms, once), so that
        // no later call allocates when the caller happens to wait for a late worker for the first time.
        _done.Wait(1);
        for (int i = 0; i < n; i++)
        {
            var w = new Worker();
            workers[i] = w;
            var t = new Thread(w.Loop) { IsBackground = true, Name = $"PolyLoss worker {i}" };
            t.Start();
        }
        _workers = workers;
    }

    private sealed class Worker
    {
        public readonly ManualResetEventSlim Start = new(false, spinCount: 2000);

        public void Loop()
        {
            while (true)
            {
                Start.Wait();
                Start.Reset();
                RunBlocks();
                _done!.Signal();
            }
        }
    }
}
