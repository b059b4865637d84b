namespace PolyLoss.Benchmarks;

/// <summary>
/// A minimal allocation-free fork/join over exactly two threads (the caller and one spinning worker), the same
/// mechanism as the library's row-parallel loop. Used by the read-once / read+write bounds and the Exp reference.
/// </summary>
public sealed class TwoThreads : IDisposable
{
    private readonly ManualResetEventSlim _start = new(false, spinCount: 2000);
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private readonly Thread _thread;
    private Action<int>? _work;
    private volatile bool _stop;

    public TwoThreads()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "bench worker" };
        _thread.Start();
    }

    /// <summary>Runs work(0) here and work(1) on the worker; returns when both are done. Pass a cached delegate.</summary>
    public void Run(Action<int> work)
    {
        _work = work;
        _done.Reset();
        _start.Set();
        work(0);
        _done.Wait();
        _work = null;
    }

    private void Loop()
    {
        while (true)
        {
            _start.Wait();
            _start.Reset();
            if (_stop) return;
            _work!(1);
            _done.Set();
        }
    }

    public void Dispose()
    {
        _stop = true;
        _start.Set();
        _thread.Join();
    }
}
