using Microsoft.DurableTask;

namespace BeijingEts.Bench;

/// <summary>Fans out as many no-op activities as asked, in waves of at most 100 in flight: the engine's own cost per activity.</summary>
public sealed class NoopFanOut : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var done = 0;
        foreach (var wave in Enumerable.Range(0, input).Chunk(100))
        {
            done += (await Task.WhenAll(wave.Select(i => context.CallActivityAsync<int>(nameof(NoopActivity), i)))).Length;
        }
        return done;
    }
}

public sealed class NoopActivity : TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input);
}
