using Microsoft.DurableTask;

namespace BeijingEts.Functions.Cycle;

/// <summary>
/// The input of a year's orchestration. <c>MaxWaitSeconds</c> bounds each durable timer, so a changed schedule, or a
/// clock that is not the wall clock (tests, demos), is looked at again at least that often; <c>RunBatchesTwice</c> runs
/// every batch a second time (fault injection: a duplicate delivery must change nothing).
/// </summary>
public sealed record CycleRun(int Year, double MaxWaitSeconds, bool RunBatchesTwice = false);

/// <summary>
/// One instance per compliance year (<c>cycle-{year}</c>): asks <see cref="MoveCycleOn"/> what is due, runs the unit
/// steps it hands out in batches (<see cref="RunCycleSteps"/>, all of a move's batches at once), and otherwise sleeps on a
/// durable timer until the next due time or until woken (the "wake" event: a start, a resume, an advance, a retry, a
/// changed schedule). Deterministic: every decision is an activity's result. It continues as new now and then, so its
/// history stays short however long the year.
/// </summary>
public sealed class YearlyCycle : TaskOrchestrator<CycleRun, string>
{
    public const string WakeEvent = "wake";

    private const int MovesPerGeneration = 40;

    /// <summary>How long the year waits after an activity failed before it looks again.</summary>
    private static readonly TimeSpan AfterFailure = TimeSpan.FromSeconds(5);

    public override async Task<string> RunAsync(TaskOrchestrationContext context, CycleRun run)
    {
        for (var moves = 0; moves < MovesPerGeneration; moves++)
        {
            try
            {
                var move = await context.CallActivityAsync<CycleMove>(nameof(MoveCycleOn), run.Year);
                switch (move.Kind)
                {
                    case MoveKind.Closed:
                        return "closed";
                    case MoveKind.Run:
                        var batches = move.Units!.Chunk(CycleEngine.BatchSize).Select(units => new StepBatch(run.Year, move.Phase, units)).ToList();
                        await Task.WhenAll(batches.Select(b => context.CallActivityAsync<BatchResult>(nameof(RunCycleSteps), b)));
                        if (run.RunBatchesTwice) await Task.WhenAll(batches.Select(b => context.CallActivityAsync<BatchResult>(nameof(RunCycleSteps), b)));
                        break;
                    case MoveKind.Wait:
                        await SleepAsync(context, TimeSpan.FromSeconds(Math.Min(move.WaitSeconds, run.MaxWaitSeconds)));
                        break;
                }
            }
            catch (TaskFailedException failure)
            {
                // An activity threw (storage out of reach, say). What it finished is in storage and the rest is still
                // pending there, so the year goes on: a little later, the next move is worked out again from storage.
                context.CreateReplaySafeLogger<YearlyCycle>().LogWarning("The {Year} cycle's {Activity} failed; it looks again in {Seconds} s: {Error}",
                    run.Year, failure.TaskName, AfterFailure.TotalSeconds, failure.FailureDetails.ErrorMessage);
                await SleepAsync(context, AfterFailure);
            }
        }
        context.ContinueAsNew(run);
        return "continued";
    }

    /// <summary>A durable timer, cut short by a wake event.</summary>
    private static async Task SleepAsync(TaskOrchestrationContext context, TimeSpan wait)
    {
        if (wait <= TimeSpan.Zero) return;
        using var cancel = new CancellationTokenSource();
        var timer = context.CreateTimer(wait, cancel.Token);
        var wake = context.WaitForExternalEvent<string>(WakeEvent, cancel.Token);
        await Task.WhenAny(timer, wake);
        cancel.Cancel();
    }
}

/// <summary>Does what is due in the year's cycle and says what the orchestration does next.</summary>
public sealed class MoveCycleOn(CycleEngine engine) : TaskActivity<int, CycleMove>
{
    public override Task<CycleMove> RunAsync(TaskActivityContext context, int year) => engine.MoveOnAsync(year, CancellationToken.None);
}

/// <summary>Runs a batch of unit steps.</summary>
public sealed class RunCycleSteps(CycleEngine engine) : TaskActivity<StepBatch, BatchResult>
{
    public override Task<BatchResult> RunAsync(TaskActivityContext context, StepBatch batch) => engine.RunBatchAsync(batch, CancellationToken.None);
}
