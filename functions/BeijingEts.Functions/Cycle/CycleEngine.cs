namespace BeijingEts.Functions.Cycle;

/// <summary>
/// Moves a year's orchestration on, one tick at a time (the CycleTick timer, a start, a resume). Each tick reads the
/// state and does the next thing due: send out the current phase's unit steps once its time has come (after what runs
/// once for the whole year), or, when every step has ended and nothing else is awaited, begin the next phase. The
/// state is written under its ETag, steps are rows added once and messages are safe to send twice, so a crash at any
/// point, or two ticks at once, leaves the same end result.
/// </summary>
public sealed class CycleEngine(CycleStore store, CycleScheduleStore schedules, CyclePhases phases, StorageClients storage, TimeProvider clock, ILogger<CycleEngine> logger)
{
    /// <summary>
    /// A step still pending this long (wall-clock: queue delivery is wall-clock) while the queue is empty lost its message,
    /// which is sent again; while the queue still holds messages the step is taken to be among them unless it has waited
    /// <see cref="Stuck"/> (re-sending a backlog would only multiply it).
    /// </summary>
    public static readonly TimeSpan Redeliver = TimeSpan.FromMinutes(2);

    public static readonly TimeSpan Stuck = TimeSpan.FromMinutes(30);

    public const int MaxAttempts = 5;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, DateTimeOffset> _lastLook = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, SemaphoreSlim> _ticking = new();

    public async Task TickAsync(int year, CancellationToken cancellationToken)
    {
        // One tick per year at a time in this process (the timer, a start and a resume can coincide): a second one
        // would send a phase's messages again while the first is still sending them. Across instances the timer is
        // a singleton in Azure; the ETag on the state keeps even overlapping ticks correct, only not thrifty.
        var gate = _ticking.GetOrAdd(year, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            for (var moves = 0; moves < 32; moves++)
            {
                if (!await StepForwardAsync(year, cancellationToken)) return;
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Does the next thing due; true if it changed the state (and there may be more to do now).</summary>
    private async Task<bool> StepForwardAsync(int year, CancellationToken cancellationToken)
    {
        if (await store.FindAsync(year, cancellationToken) is not var (state, etag)) return false;
        if (state.Paused || (state.Phase == CyclePhase.Closed && state.FannedOut)) return false;
        var schedule = await schedules.FindAsync(year, cancellationToken);
        if (schedule is null) return false;
        var now = clock.GetUtcNow();
        var phase = state.Phase;

        if (!state.FannedOut)
        {
            if (now < CyclePhases.DueAt(phase, schedule)) return false;
            var blocked = await phases.PrepareAsync(year, phase, cancellationToken);
            if (blocked is not null)
            {
                if (blocked != state.Blocked) await store.TryReplaceAsync(state with { Blocked = blocked }, etag, cancellationToken);
                return false;
            }
            var (revision, units) = await phases.UnitsAsync(year, phase, cancellationToken);
            await SendOutAsync(year, phase, units, cancellationToken);
            var fannedOut = state with
            {
                Blocked = null,
                ListRevision = revision ?? state.ListRevision,
                Phases = [.. state.Phases.SkipLast(1), state.Current with { FannedOutAt = now, Total = units.Count }],
            };
            return await store.TryReplaceAsync(fannedOut, etag, cancellationToken);
        }

        // A list revision since the steps went out: the units it added join the open phase.
        var latest = await phases.LatestRevisionAsync(year, cancellationToken);
        if (latest is not null && latest != state.ListRevision)
        {
            var known = await store.StepUnitsAsync(year, phase, cancellationToken);
            var (_, units) = await phases.UnitsAsync(year, phase, cancellationToken);
            var joined = units.Where(u => !known.Contains(u)).ToList();
            if (joined.Count > 0)
            {
                logger.LogInformation("{Count} unit(s) joined the {Year} {Phase} phase from list revision {Revision}", joined.Count, year, phase, latest);
                await SendOutAsync(year, phase, joined, cancellationToken);
            }
            var revised = state with { ListRevision = latest, Phases = [.. state.Phases.SkipLast(1), state.Current with { Total = known.Count + joined.Count }] };
            return await store.TryReplaceAsync(revised, etag, cancellationToken);
        }
        if (await store.AnyPendingAsync(year, phase, cancellationToken))
        {
            await RedeliverStaleAsync(year, phase, cancellationToken);
            return false;
        }
        if (phase == CyclePhase.Assessment && now < schedule.Close) return false;
        var waiting = state.AdvanceRequested ? null : await phases.WaitingForAsync(year, phase, cancellationToken);
        if (waiting is not null)
        {
            if (waiting != state.Blocked) await store.TryReplaceAsync(state with { Blocked = waiting }, etag, cancellationToken);
            return false;
        }
        var failed = (await store.StepsInAsync(year, phase, StepState.Failed, cancellationToken)).Count;
        var cause = state.AdvanceRequested && phase == CyclePhase.Confirmation
            ? "advanced by the regulator"
            : $"{state.Current.Total} step(s) ended ({failed} failed)";
        return await store.TryReplaceAsync(Advance(state, now, cause), etag, cancellationToken);
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

    /// <summary>Adds a pending step per unit (those already there are kept) and sends each a message.</summary>
    private async Task SendOutAsync(int year, CyclePhase phase, IReadOnlyList<string> units, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var sentAt = DateTimeOffset.UtcNow;
        await store.AddStepsAsync(year, units.Select(u => new CycleStep(u, phase, StepState.Pending, 0, null, null, now, sentAt)).ToList(), cancellationToken);
        await Parallel.ForEachAsync(units, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (uscc, ct) => await SendAsync(new CycleStepMessage(year, phase, uscc), null, ct));
    }

    /// <summary>Sends again the messages of steps that look lost; looks at most once a minute per year.</summary>
    private async Task RedeliverStaleAsync(int year, CyclePhase phase, CancellationToken cancellationToken)
    {
        if (_lastLook.TryGetValue(year, out var last) && DateTimeOffset.UtcNow - last < TimeSpan.FromMinutes(1)) return;
        _lastLook[year] = DateTimeOffset.UtcNow;
        var queued = (await storage.Queue(StorageNames.Queues.CycleSteps).GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        var stale = DateTimeOffset.UtcNow - (queued == 0 ? Redeliver : Stuck);
        foreach (var (step, etag) in await store.PendingSinceAsync(year, phase, stale, cancellationToken))
        {
            if (await store.TryReplaceStepAsync(year, step with { EnqueuedAt = DateTimeOffset.UtcNow }, etag, cancellationToken))
            {
                await SendAsync(new CycleStepMessage(year, step.Phase, step.Uscc), null, cancellationToken);
            }
        }
    }

    public Task SendAsync(CycleStepMessage message, TimeSpan? delay, CancellationToken cancellationToken) =>
        storage.Queue(StorageNames.Queues.CycleSteps).SendMessageAsync(JsonSerializer.Serialize(message, DocumentRows.Json), visibilityTimeout: delay, cancellationToken: cancellationToken);
}
