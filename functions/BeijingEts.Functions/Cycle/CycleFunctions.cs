namespace BeijingEts.Functions.Cycle;

/// <summary>
/// Every 5 seconds: moves each started year's orchestration on (its durable timers are the due times in its schedule,
/// read each tick, so a stopped process loses nothing: the next tick does what fell due meanwhile).
/// </summary>
[TimerTrigger("*/5 * * * * *")]
public sealed class CycleTick(CycleStore store, CycleEngine engine, ILogger<CycleTick> logger) : ITimerFunction
{
    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        foreach (var year in await store.YearsAsync(cancellationToken))
        {
            try
            {
                await engine.TickAsync(year, cancellationToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // One year's trouble must not hold up another's; the next tick tries again.
                logger.LogWarning(error, "The {Year} cycle could not move on this tick", year);
            }
        }
    }
}

/// <summary>
/// Runs one unit's step of a phase (cycle-steps queue). A repeated message finds the step ended and does nothing; a
/// paused cycle puts the message back for later; a step not ready yet (money still settling) comes back after a growing delay
/// without counting an attempt; an error is retried until the fifth attempt, which ends the step as failed with its
/// reason, visible in the cycle's status and retried by the regulator. One unit's failure never holds up another's.
/// </summary>
[QueueTrigger(StorageNames.Queues.CycleSteps)]
public sealed class RunCycleStep(CycleStore store, CycleSnapshots snapshots, CyclePhases phases, CycleEngine engine, TimeProvider clock) : IQueueFunction
{
    private static readonly TimeSpan PausedDelay = TimeSpan.FromSeconds(5);

    /// <summary>A step not ready yet looks again after 1, 2, 4 ... up to 30 seconds, so waiting steps do not crowd out the work they wait for.</summary>
    private static TimeSpan NotYetDelay(int waits) => TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(waits, 5)));

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var step = JsonSerializer.Deserialize<CycleStepMessage>(message.Body, DocumentRows.Json) ?? throw new JsonException($"Message {message.Id} holds JSON null.");
        var (state, schedule) = await snapshots.GetAsync(step.Year, cancellationToken);
        if (state is null || schedule is null) return;
        if (state.Paused)
        {
            await engine.SendAsync(step, PausedDelay, cancellationToken);
            return;
        }
        if (await store.FindStepAsync(step.Year, step.Phase, step.Uscc, cancellationToken) is not var (current, etag) || current.State != StepState.Pending) return;

        StepResult result;
        try
        {
            result = await phases.RunStepAsync(step.Year, step.Phase, step.Uscc, schedule, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            var attempts = current.Attempts + 1;
            if (attempts >= CycleEngine.MaxAttempts)
            {
                await store.TryReplaceStepAsync(step.Year, current with { State = StepState.Failed, Attempts = attempts, Reason = error.Message, UpdatedAt = clock.GetUtcNow() }, etag, cancellationToken);
                return;
            }
            await store.TryReplaceStepAsync(step.Year, current with { Attempts = attempts, Reason = error.Message, UpdatedAt = clock.GetUtcNow() }, etag, cancellationToken);
            throw;
        }
        var now = clock.GetUtcNow();
        switch (result)
        {
            case StepResult.Done done:
                await store.TryReplaceStepAsync(step.Year, current with { State = StepState.Done, Outcome = done.Outcome, Reason = null, UpdatedAt = now }, etag, cancellationToken);
                break;
            case StepResult.Failed failed:
                await store.TryReplaceStepAsync(step.Year, current with { State = StepState.Failed, Reason = failed.Reason, Attempts = current.Attempts + 1, UpdatedAt = now }, etag, cancellationToken);
                break;
            case StepResult.NotYet:
                // Its message is in the queue again, hidden until the delay ends: say so, or the engine would take a
                // long wait for a lost message and send another.
                var delay = NotYetDelay(step.Waits);
                if (!await store.TryReplaceStepAsync(step.Year, current with { EnqueuedAt = DateTimeOffset.UtcNow + delay }, etag, cancellationToken)) return;
                await engine.SendAsync(step with { Waits = step.Waits + 1 }, delay, cancellationToken);
                break;
        }
    }
}
