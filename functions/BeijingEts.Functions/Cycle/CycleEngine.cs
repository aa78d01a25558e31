namespace BeijingEts.Functions.Cycle;

/// <summary>What the year's orchestration does next, as the cycle's state in storage says.</summary>
public enum MoveKind
{
    /// <summary>The cycle is closed: the orchestration ends.</summary>
    Closed,

    /// <summary>Nothing is due: sleep <see cref="CycleMove.WaitSeconds"/> (the app's clock), or until woken.</summary>
    Wait,

    /// <summary>Run the steps of <see cref="CycleMove.Units"/> in <see cref="CycleMove.Phase"/>, in batches.</summary>
    Run,

    /// <summary>The state moved on (a phase began or ended): look again at once.</summary>
    Moved,
}

public sealed record CycleMove(MoveKind Kind, double WaitSeconds = 0, CyclePhase Phase = default, IReadOnlyList<string>? Units = null)
{
    public static readonly CycleMove Closed = new(MoveKind.Closed);
    public static readonly CycleMove Moved = new(MoveKind.Moved);

    public static CycleMove Sleep(TimeSpan wait) => new(MoveKind.Wait, Math.Max(0, wait.TotalSeconds));
}

/// <summary>One activity's share of a phase: up to <see cref="CycleEngine.BatchSize"/> units, all in one step partition.</summary>
public sealed record StepBatch(int Year, CyclePhase Phase, IReadOnlyList<string> Units);

/// <summary>How a batch's steps came out: ended (done or failed), or left pending to be looked at again later.</summary>
public sealed record BatchResult(int Done, int Failed, int Pending);

/// <summary>
/// The decisions of a year's orchestration, made from storage so that the orchestration itself stays deterministic:
/// <see cref="MoveOnAsync"/> does the next thing due (the year-wide work of a phase once its due time has come, adding
/// every unit's pending step; a list revision's joiners; the end of a phase once its steps have ended) and says what the
/// orchestration should do next; <see cref="RunBatchAsync"/> runs a batch of unit steps and writes their rows in one
/// transaction. Both are safe to run twice: the state is written under its ETag, steps are rows added once and changed
/// under their ETags, and every step checks before it acts.
/// </summary>
public sealed class CycleEngine(CycleStore store, CycleScheduleStore schedules, CyclePhases phases, CycleFaults faults, TimeProvider clock, ILogger<CycleEngine> logger)
{
    /// <summary>Units per activity: one entity-group transaction of step rows.</summary>
    public const int BatchSize = 100;

    /// <summary>Pending units handed out per move: the batches the orchestration runs at once.</summary>
    public const int BatchesPerMove = 8;

    /// <summary>A step that throws is tried this many times, then ends failed with the error as its reason.</summary>
    public const int MaxAttempts = 5;

    /// <summary>A step not ready yet (money still settling) looks again after 1, 2, 4 ... up to 30 seconds, without counting an attempt.</summary>
    public static TimeSpan NotYetDelay(int waits) => TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(waits, 5)));

    /// <summary>How long the orchestration sleeps when only the regulator (or a unit) can move the year on.</summary>
    public static readonly TimeSpan Blocked = TimeSpan.FromMinutes(5);

    public async Task<CycleMove> MoveOnAsync(int year, CancellationToken cancellationToken)
    {
        for (var tries = 0; tries < 8; tries++)
        {
            if (await TryMoveOnAsync(year, cancellationToken) is { } move) return move;
        }
        // Another writer kept changing the state (the regulator, a twin of this activity): look again shortly.
        return CycleMove.Sleep(TimeSpan.FromSeconds(1));
    }

    /// <summary>The next move; null when the state changed under us and the move must be worked out again.</summary>
    private async Task<CycleMove?> TryMoveOnAsync(int year, CancellationToken cancellationToken)
    {
        if (await store.FindAsync(year, cancellationToken) is not var (state, etag)) return CycleMove.Closed;
        if (state.Phase == CyclePhase.Closed) return CycleMove.Closed;
        if (state.Paused) return CycleMove.Sleep(Blocked);
        if (await schedules.FindAsync(year, cancellationToken) is not { } schedule) return CycleMove.Sleep(Blocked);
        var now = clock.GetUtcNow();
        var phase = state.Phase;

        var due = CyclePhases.DueAt(phase, schedule);
        if (!state.FannedOut && now >= due)
        {
            var blocked = await phases.PrepareAsync(year, phase, cancellationToken);
            if (blocked is not null)
            {
                if (blocked != state.Blocked && !await store.TryReplaceAsync(state with { Blocked = blocked }, etag, cancellationToken)) return null;
                return CycleMove.Sleep(Blocked);
            }
            var (revision, units) = await phases.UnitsAsync(year, phase, cancellationToken);
            await store.AddStepsAsync(year, phase, units, now, cancellationToken);
            var fannedOut = state with
            {
                Blocked = null,
                ListRevision = revision ?? state.ListRevision,
                Phases = [.. state.Phases.SkipLast(1), state.Current with { FannedOutAt = now, Total = units.Count }],
            };
            return await store.TryReplaceAsync(fannedOut, etag, cancellationToken) ? CycleMove.Moved : null;
        }

        // A list revision since the steps were added: the units it added join the open phase.
        var latest = await phases.LatestRevisionAsync(year, cancellationToken);
        if (state.FannedOut && latest is not null && latest != state.ListRevision)
        {
            var known = await store.StepUnitsAsync(year, phase, cancellationToken);
            var (_, units) = await phases.UnitsAsync(year, phase, cancellationToken);
            var joined = units.Where(u => !known.Contains(u)).ToList();
            if (joined.Count > 0)
            {
                logger.LogInformation("{Count} unit(s) joined the {Year} {Phase} phase from list revision {Revision}", joined.Count, year, phase, latest);
                await store.AddStepsAsync(year, phase, joined, now, cancellationToken);
            }
            var revised = state with { ListRevision = latest, Phases = [.. state.Phases.SkipLast(1), state.Current with { Total = known.Count + joined.Count }] };
            return await store.TryReplaceAsync(revised, etag, cancellationToken) ? CycleMove.Moved : null;
        }

        // Pending steps, the open phase's and any a retry sent back in an earlier phase, the earliest phase first.
        var wait = state.FannedOut ? (TimeSpan?)null : due - now;
        foreach (var record in state.Phases.Where(p => p.FannedOutAt is not null))
        {
            var (ready, later) = await store.PendingAsync(year, record.Phase, DateTimeOffset.UtcNow, BatchSize * BatchesPerMove, cancellationToken);
            if (ready.Count > 0) return new CycleMove(MoveKind.Run, Phase: record.Phase, Units: ready);
            if (later is { } at && (wait is null || at - DateTimeOffset.UtcNow < wait)) wait = at - DateTimeOffset.UtcNow;
        }
        if (wait is { } sleep) return CycleMove.Sleep(sleep);

        if (phase == CyclePhase.Assessment && now < schedule.Close) return CycleMove.Sleep(schedule.Close - now);
        var waiting = state.AdvanceRequested ? null : await phases.WaitingForAsync(year, phase, cancellationToken);
        if (waiting is not null)
        {
            if (waiting != state.Blocked && !await store.TryReplaceAsync(state with { Blocked = waiting }, etag, cancellationToken)) return null;
            return CycleMove.Sleep(Blocked);
        }
        var failed = (await store.StepsInAsync(year, phase, StepState.Failed, cancellationToken)).Count;
        var cause = state.AdvanceRequested && phase == CyclePhase.Confirmation
            ? "advanced by the regulator"
            : $"{state.Current.Total} step(s) ended ({failed} failed)";
        return await store.TryReplaceAsync(Advance(state, now, cause), etag, cancellationToken) ? CycleMove.Moved : null;
    }

    /// <summary>The state in the next phase; the closed phase is final on arrival.</summary>
    public static CycleState Advance(CycleState state, DateTimeOffset now, string cause)
    {
        var next = state.Phase + 1;
        var entered = new PhaseRecord(next, now, FannedOutAt: next == CyclePhase.Closed ? now : null, EndedAt: next == CyclePhase.Closed ? now : null);
        return state with
        {
            Phase = next,
            AdvanceRequested = false,
            Blocked = null,
            Phases = [.. state.Phases.SkipLast(1), state.Current with { EndedAt = now }, entered],
            History = [.. state.History, new CycleTransition(now, CycleState.Name(state.Phase), CycleState.Name(next), cause)],
        };
    }

    /// <summary>
    /// Runs the batch's steps that are still pending (a second run of the batch finds them ended and does nothing) and
    /// writes what they came to in one transaction. One unit's failure never holds up another's.
    /// </summary>
    public async Task<BatchResult> RunBatchAsync(StepBatch batch, CancellationToken cancellationToken)
    {
        if (await schedules.FindAsync(batch.Year, cancellationToken) is not { } schedule) return new BatchResult(0, 0, batch.Units.Count);
        await faults.BeforeBatchAsync(batch.Year, batch.Phase);
        var steps = await store.PendingStepsAsync(batch.Year, batch.Phase, batch.Units, cancellationToken);
        var inputs = await phases.ReadInputsAsync(batch.Year, batch.Phase, steps.Select(s => s.Step.Uscc).ToList(), cancellationToken);
        var ended = new List<(CycleStep Step, ETag ETag)>();
        var (done, failed, pending) = (0, 0, 0);
        await Parallel.ForEachAsync(steps, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (row, ct) =>
        {
            var (step, etag) = row;
            var next = await RunStepAsync(batch.Year, step, schedule, inputs, ct);
            lock (ended)
            {
                ended.Add((next, etag));
                switch (next.State)
                {
                    case StepState.Done: done++; break;
                    case StepState.Failed: failed++; break;
                    default: pending++; break;
                }
            }
        });
        // Before the steps are recorded done: a batch cut off here runs again and finds what this wrote.
        await phases.FinishBatchAsync(batch.Year, batch.Phase, ended.Where(e => e.Step.State == StepState.Done).Select(e => e.Step.Uscc).ToList(), inputs, cancellationToken);
        await store.ReplaceStepsAsync(batch.Year, ended, cancellationToken);
        return new BatchResult(done, failed, pending);
    }

    private async Task<CycleStep> RunStepAsync(int year, CycleStep step, CycleSchedule schedule, StepInputs inputs, CancellationToken cancellationToken)
    {
        StepResult result;
        try
        {
            await faults.BeforeStepAsync(year, step.Phase, step.Uscc);
            result = await phases.RunStepAsync(year, step.Phase, step.Uscc, schedule, inputs, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            var attempts = step.Attempts + 1;
            logger.LogWarning(error, "The {Year} {Phase} step of {Unit} failed (attempt {Attempts} of {Max})", year, step.Phase, step.Uscc, attempts, MaxAttempts);
            return attempts >= MaxAttempts
                ? step with { State = StepState.Failed, Attempts = attempts, Reason = error.Message, UpdatedAt = clock.GetUtcNow() }
                : step with { Attempts = attempts, Reason = error.Message, UpdatedAt = clock.GetUtcNow(), NotBefore = DateTimeOffset.UtcNow + NotYetDelay(attempts) };
        }
        var now = clock.GetUtcNow();
        return result switch
        {
            StepResult.Done d => step with { State = StepState.Done, Outcome = d.Outcome, Reason = null, UpdatedAt = now },
            StepResult.Failed f => step with { State = StepState.Failed, Reason = f.Reason, Attempts = step.Attempts + 1, UpdatedAt = now },
            StepResult.NotYet n => step with { Waits = step.Waits + 1, Outcome = n.Why, NotBefore = DateTimeOffset.UtcNow + NotYetDelay(step.Waits) },
            _ => throw new InvalidOperationException($"Unknown step result {result}."),
        };
    }
}

/// <summary>Seams for fault injection: tests hold a step here to stop the app in the middle of its batch, or fail a batch. They do nothing in the app.</summary>
public class CycleFaults
{
    public virtual Task BeforeStepAsync(int year, CyclePhase phase, string uscc) => Task.CompletedTask;

    /// <summary>Runs as a batch of steps begins; tests throw here to fail a whole activity.</summary>
    public virtual Task BeforeBatchAsync(int year, CyclePhase phase) => Task.CompletedTask;
}
