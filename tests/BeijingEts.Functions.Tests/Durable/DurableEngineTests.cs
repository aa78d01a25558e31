using BeijingEts.Functions.Hosting.Durable;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace BeijingEts.Functions.Tests.Durable;

public sealed record SquaresRequest(int Count, string Label);

public sealed record SquaresResult(string Label, long Sum, string? Note);

/// <summary>Fans out one activity per number, then waits for a note from outside.</summary>
public sealed class SumOfSquares : TaskOrchestrator<SquaresRequest, SquaresResult>
{
    public override async Task<SquaresResult> RunAsync(TaskOrchestrationContext context, SquaresRequest input)
    {
        var squares = await Task.WhenAll(Enumerable.Range(1, input.Count).Select(i => context.CallActivityAsync<long>(nameof(Square), i)));
        context.SetCustomStatus("summed");
        var note = await context.WaitForExternalEvent<NoteEvent>("note");
        return new SquaresResult(input.Label, squares.Sum(), note.Text);
    }
}

public sealed record NoteEvent(string Text);

public sealed class Square(SquareLog log) : Microsoft.DurableTask.TaskActivity<int, long>
{
    public override Task<long> RunAsync(TaskActivityContext context, int input)
    {
        log.Runs.Add(input);
        return Task.FromResult((long)input * input);
    }
}

public sealed class SquareLog
{
    public System.Collections.Concurrent.ConcurrentBag<int> Runs { get; } = [];
}

public sealed class DurableFixture : EtsAppFixture
{
    public SquareLog Log { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Ets:Durable:Worker"] = "true" };

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(Log);
        services.AddOrchestrator<SumOfSquares>();
        services.AddActivity<Square>();
    }
}

public sealed class DurableEngineTests(DurableFixture app) : IClassFixture<DurableFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Orchestration_FansOutActivitiesAndTakesAnEvent_OnTheAppsOwnStorage()
    {
        var client = await app.Service<DurableEngine>().ClientAsync();
        var instance = await client.CreateOrchestrationInstanceAsync(nameof(SumOfSquares), "", "sum-" + Guid.NewGuid().ToString("N"), new SquaresRequest(20, "twenty"));

        await Eventually.HoldsAsync(async () => (await client.GetOrchestrationStateAsync(instance))?.Status == "\"summed\"", "the squares are summed", Bound);
        await client.RaiseEventAsync(instance, "note", new NoteEvent("from outside"));
        var state = await client.WaitForOrchestrationAsync(instance, Bound);

        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        var result = JsonSerializer.Deserialize<SquaresResult>(state.Output, DurableEngine.Json)!;
        Assert.Equal(new SquaresResult("twenty", Enumerable.Range(1, 20).Sum(i => (long)i * i), "from outside"), result);
        // At least once, as the engine promises: a rerun after a lost lease is allowed, a lost run is not.
        Assert.Equal(Enumerable.Range(1, 20), app.Log.Runs.Distinct().Order());
    }
}
