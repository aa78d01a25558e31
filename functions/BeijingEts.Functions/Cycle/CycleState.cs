namespace BeijingEts.Functions.Cycle;

/// <summary>The phases of a compliance year, in order (DESIGN: the yearly cycle).</summary>
public enum CyclePhase
{
    ListPublished,
    PreAllocation,
    Reporting,
    Verification,
    Confirmation,
    VerifiedAllocation,
    Surrender,
    Assessment,
    Closed,
}

public enum StepState
{
    Pending,
    Done,
    Failed,
}

/// <summary>A change of phase (or of paused), when and why.</summary>
public sealed record CycleTransition(DateTimeOffset At, string? From, string To, string Cause);

/// <summary>When a phase began, when its unit steps were sent out and how many, and when it ended.</summary>
public sealed record PhaseRecord(CyclePhase Phase, DateTimeOffset StartedAt, DateTimeOffset? FannedOutAt = null, int Total = 0, DateTimeOffset? EndedAt = null);

/// <summary>
/// One year's orchestration: the phase it is in, whether that phase's unit steps have been sent out, whether it is
/// paused or waiting on something only the regulator can fix (Blocked), and its history. Changed only under its ETag.
/// </summary>
public sealed record CycleState(
    int Year, CyclePhase Phase, bool Paused, bool AdvanceRequested, string? Blocked, int? ListRevision, IReadOnlyList<PhaseRecord> Phases,
    IReadOnlyList<CycleTransition> History, DateTimeOffset StartedAt, string StartedBy)
{
    public PhaseRecord Current => Phases[^1];

    public bool FannedOut => Current.FannedOutAt is not null;

    public static string Name(CyclePhase phase) => JsonNamingPolicy.KebabCaseLower.ConvertName(phase.ToString());
}

/// <summary>
/// One unit's step of one phase: its state, attempts, and what it found (a reminder, a listing, an amount) or why it
/// failed. A pending step is not looked at before NotBefore (wall clock: it waits for money to settle), and Waits counts
/// how often it was found not ready yet.
/// </summary>
public sealed record CycleStep(string Uscc, CyclePhase Phase, StepState State, int Attempts, string? Outcome, string? Reason, DateTimeOffset UpdatedAt, DateTimeOffset NotBefore, int Waits = 0);

/// <summary>
/// The cycles table (partition {yyyy}: the "schedule" and "state" rows) and the cyclesteps table (partition
/// {yyyy}-{phase}: a row per unit).
/// </summary>
public sealed class CycleStore(StorageClients storage)
{
    private const string StateRow = "state";
    private const string NotBeforeColumn = "NotBefore";

    private TableClient Cycles => storage.Table(StorageNames.Tables.Cycles);

    private TableClient Steps => storage.Table(StorageNames.Tables.CycleSteps);

    private static string StepPartition(int year, CyclePhase phase) => $"{DocumentRows.YearKey(year)}-{CycleState.Name(phase)}";

    public async Task<(CycleState State, ETag ETag)?> FindAsync(int year, CancellationToken cancellationToken)
    {
        var row = await Cycles.GetEntityIfExistsAsync<TableEntity>(DocumentRows.YearKey(year), StateRow, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<CycleState>(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>Adds the state of a new cycle; false if the year already has one.</summary>
    public Task<bool> TryAddAsync(CycleState state, CancellationToken cancellationToken) =>
        Cycles.TryWriteAsync(DocumentRows.Entity(DocumentRows.YearKey(state.Year), StateRow, state), null, cancellationToken);

    /// <summary>Replaces the state if unchanged since read; false if another writer changed it first.</summary>
    public Task<bool> TryReplaceAsync(CycleState state, ETag etag, CancellationToken cancellationToken) =>
        Cycles.TryWriteAsync(DocumentRows.Entity(DocumentRows.YearKey(state.Year), StateRow, state), etag, cancellationToken);

    public Task<IReadOnlyList<(CycleStep Step, ETag ETag)>> StepsAsync(int year, CyclePhase phase, CancellationToken cancellationToken) =>
        QueryStepsAsync($"PartitionKey eq '{StepPartition(year, phase)}'", cancellationToken);

    /// <summary>The phase's steps in a state, found by the State column rather than by reading every step.</summary>
    public Task<IReadOnlyList<(CycleStep Step, ETag ETag)>> StepsInAsync(int year, CyclePhase phase, StepState state, CancellationToken cancellationToken) =>
        QueryStepsAsync(TableClient.CreateQueryFilter($"PartitionKey eq {StepPartition(year, phase)} and State eq {StateName(state)}"), cancellationToken);

    private async Task<IReadOnlyList<(CycleStep Step, ETag ETag)>> QueryStepsAsync(string filter, CancellationToken cancellationToken)
    {
        var steps = new List<(CycleStep, ETag)>();
        await foreach (var row in Steps.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) steps.Add((DocumentRows.Read<CycleStep>(row), row.ETag));
        return steps;
    }

    /// <summary>
    /// Up to <paramref name="take"/> of the phase's pending steps that may run now (their keys, in key order), and when
    /// the soonest of those that may not will be ready. Reads the keys and the wait column only.
    /// </summary>
    public async Task<(IReadOnlyList<string> Ready, DateTimeOffset? Later)> PendingAsync(int year, CyclePhase phase, DateTimeOffset now, int take, CancellationToken cancellationToken)
    {
        var ready = new List<string>();
        DateTimeOffset? later = null;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {StepPartition(year, phase)} and State eq {StateName(StepState.Pending)}");
        await foreach (var row in Steps.QueryAsync<TableEntity>(filter, select: ["RowKey", NotBeforeColumn], cancellationToken: cancellationToken))
        {
            var notBefore = row.GetDateTimeOffset(NotBeforeColumn) ?? ReadyNow;
            if (notBefore <= now)
            {
                ready.Add(row.RowKey);
                if (ready.Count == take) break;
            }
            else if (later is null || notBefore < later) later = notBefore;
        }
        return (ready, later);
    }

    /// <summary>The steps of the named units that are still pending, with their ETags: one query over the units' key range.</summary>
    public async Task<IReadOnlyList<(CycleStep Step, ETag ETag)>> PendingStepsAsync(int year, CyclePhase phase, IReadOnlyList<string> units, CancellationToken cancellationToken)
    {
        if (units.Count == 0) return [];
        var wanted = units.ToHashSet(StringComparer.Ordinal);
        var steps = await QueryStepsAsync($"{DocumentRows.RowRange(StepPartition(year, phase), units)} and {TableClient.CreateQueryFilter($"State eq {StateName(StepState.Pending)}")}",
            cancellationToken);
        return steps.Where(s => wanted.Contains(s.Step.Uscc)).ToList();
    }

    /// <summary>
    /// Writes steps of one phase back under their ETags, 100 rows a transaction; when a transaction is refused because
    /// another writer changed one of its rows first, its rows are written one by one and the changed ones are left.
    /// </summary>
    public async Task ReplaceStepsAsync(int year, IReadOnlyList<(CycleStep Step, ETag ETag)> steps, CancellationToken cancellationToken)
    {
        foreach (var chunk in steps.Chunk(100))
        {
            try
            {
                await Steps.SubmitTransactionAsync(chunk.Select(s => new TableTransactionAction(TableTransactionActionType.UpdateReplace, StepEntity(year, s.Step), s.ETag)), cancellationToken);
            }
            catch (TableTransactionFailedException error) when (error.Status is 412 or 404)
            {
                foreach (var (step, etag) in chunk) await TryReplaceStepAsync(year, step, etag, cancellationToken);
            }
        }
    }

    /// <summary>How many of the phase's steps there are, and how many are done and failed: the State column only.</summary>
    public async Task<(int Total, int Done, int Failed)> CountStepsAsync(int year, CyclePhase phase, CancellationToken cancellationToken)
    {
        var (total, done, failed) = (0, 0, 0);
        await foreach (var row in Steps.QueryAsync<TableEntity>($"PartitionKey eq '{StepPartition(year, phase)}'", select: ["State"], cancellationToken: cancellationToken))
        {
            total++;
            var state = row.GetString("State");
            if (state == StateName(StepState.Done)) done++;
            else if (state == StateName(StepState.Failed)) failed++;
        }
        return (total, done, failed);
    }

    /// <summary>The units that have a step in the phase: the row keys only.</summary>
    public async Task<IReadOnlySet<string>> StepUnitsAsync(int year, CyclePhase phase, CancellationToken cancellationToken)
    {
        var units = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in Steps.QueryAsync<TableEntity>($"PartitionKey eq '{StepPartition(year, phase)}'", select: ["RowKey"], cancellationToken: cancellationToken)) units.Add(row.RowKey);
        return units;
    }

    private static string StateName(StepState state) => JsonNamingPolicy.KebabCaseLower.ConvertName(state.ToString());

    /// <summary>A step's row: the document, plus its state as a column to filter on.</summary>
    private static TableEntity StepEntity(int year, CycleStep step)
    {
        var entity = DocumentRows.Entity(StepPartition(year, step.Phase), step.Uscc, step);
        entity["State"] = StateName(step.State);
        entity[NotBeforeColumn] = step.NotBefore;
        return entity;
    }

    /// <summary>A pending step's NotBefore when nothing holds it back.</summary>
    public static readonly DateTimeOffset ReadyNow = DateTimeOffset.UnixEpoch;

    /// <summary>Adds a pending step per unit in batches of 100 (one partition per phase); steps that already exist are left as they are.</summary>
    public async Task AddStepsAsync(int year, CyclePhase phase, IReadOnlyList<string> units, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var chunk in units.Select(u => new CycleStep(u, phase, StepState.Pending, 0, null, null, now, ReadyNow)).Chunk(100))
        {
            try
            {
                await Steps.SubmitTransactionAsync(chunk.Select(s => new TableTransactionAction(TableTransactionActionType.Add, StepEntity(year, s))), cancellationToken);
            }
            catch (TableTransactionFailedException error) when (error.Status == 409)
            {
                // Some were added by an earlier attempt that stopped halfway: add the rest one by one.
                foreach (var step in chunk)
                {
                    try { await Steps.AddEntityAsync(StepEntity(year, step), cancellationToken); }
                    catch (RequestFailedException one) when (one.Status == 409) { }
                }
            }
        }
    }

    /// <summary>Replaces a step if unchanged since read; false if another delivery changed it first.</summary>
    public Task<bool> TryReplaceStepAsync(int year, CycleStep step, ETag etag, CancellationToken cancellationToken) =>
        Steps.TryWriteAsync(StepEntity(year, step), etag, cancellationToken);
}
