using BeijingEts.Functions.Hosting;

namespace BeijingEts.Bench;

/// <summary>Does nothing but count: what is left is the runtime's own cost per message.</summary>
[QueueTrigger(Queue)]
public sealed class NoopQueueFunction(NoopCounter counter) : IQueueFunction
{
    public const string Queue = "bench-noop";

    public Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        counter.Increment();
        return Task.CompletedTask;
    }
}

public sealed class NoopCounter
{
    private int _value;

    public int Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}
