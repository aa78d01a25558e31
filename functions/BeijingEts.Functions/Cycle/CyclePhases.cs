using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Surrender;

namespace BeijingEts.Functions.Cycle;

/// <summary>What a unit step came to: done with its outcome, failed for good with a reason, or not ready yet (try again shortly, no attempt counted).</summary>
public abstract record StepResult
{
    public sealed record Done(string Outcome) : StepResult;
    public sealed record Failed(string Reason) : StepResult;
    public sealed record NotYet(string Why) : StepResult;
}

/// <summary>
/// What a batch's steps read, read once for the batch (a range query per table, not a read per unit); a phase fills in
/// only what its steps use.
/// </summary>
public sealed record StepInputs(
    IReadOnlyDictionary<string, VerificationRecord> Verifications,
    IReadOnlyDictionary<string, ConfirmedEmissions> Confirmations,
    IReadOnlyDictionary<string, UnitAllocation> Allocations,
    IReadOnlyDictionary<string, ComplianceView> Compliance)
{
    public static readonly StepInputs None = new(new Dictionary<string, VerificationRecord>(), new Dictionary<string, ConfirmedEmissions>(),
        new Dictionary<string, UnitAllocation>(), new Dictionary<string, ComplianceView>());
}

/// <summary>Which units a phase has a step for.</summary>
public enum StepScope
{
    None,
    Listed,
    Key,
}

/// <summary>
/// What each phase of the year does: when its unit steps go out (its due time), what runs once for the whole year
/// before they do, what each unit's step does, and what else its end waits for. Every step is idempotent: it checks
/// before it acts, and what it moves on the ledger moves under a fixed transaction id.
/// </summary>
public sealed class CyclePhases(
    PublishedListStore lists, PreAllocationService preAllocation, VerifiedAllocationService verifiedAllocation, AllocationStore allocations,
    TransactionStore transactions, ReportStore reports, VerificationStore verifications, ConfirmationStore confirmations, ComplianceService compliance,
    SuccessionObligations successions, Supervision.CaseService cases, NoticeOutbox notices)
{
    private static readonly Actor Orchestration = Actor.System("yearly-cycle");

    public static DateTimeOffset DueAt(CyclePhase phase, CycleSchedule schedule) => phase switch
    {
        CyclePhase.ListPublished => schedule.ListPublication,
        CyclePhase.PreAllocation => schedule.PreAllocation,
        CyclePhase.Reporting => schedule.ReportsDue,
        CyclePhase.Verification => schedule.VerificationDue,
        CyclePhase.Confirmation => schedule.ConfirmationDue,
        CyclePhase.VerifiedAllocation => schedule.VerifiedAllocation,
        CyclePhase.Surrender or CyclePhase.Assessment => schedule.SurrenderDue,
        _ => schedule.Close,
    };

    public static StepScope Scope(CyclePhase phase) => phase switch
    {
        CyclePhase.Reporting => StepScope.Listed,
        CyclePhase.PreAllocation or CyclePhase.Verification or CyclePhase.Confirmation or CyclePhase.VerifiedAllocation or CyclePhase.Assessment => StepScope.Key,
        _ => StepScope.None,
    };

    public async Task<int?> LatestRevisionAsync(int year, CancellationToken cancellationToken) => (await lists.LatestRevisionAsync(year, cancellationToken))?.Revision;

    /// <summary>
    /// The units the phase has a step for, on the year's latest list (a unit added by a revision joins the open phase);
    /// assessment adds each successor that inherited the year's obligation in a merger or split (Art. 8) off the list.
    /// </summary>
    public async Task<(int? Revision, IReadOnlyList<string> Units)> UnitsAsync(int year, CyclePhase phase, CancellationToken cancellationToken)
    {
        var revision = await lists.LatestRevisionAsync(year, cancellationToken);
        if (revision is null || Scope(phase) == StepScope.None) return (revision?.Revision, []);
        var entries = await lists.EntriesAsync(year, revision.Revision, cancellationToken);
        var units = entries.Where(e => Scope(phase) == StepScope.Listed || e.Category == Categories.Key).Select(e => e.Uscc).ToList();
        if (phase == CyclePhase.Assessment)
        {
            var listed = units.ToHashSet(StringComparer.Ordinal);
            units.AddRange((await successions.ForYearAsync(year, cancellationToken)).Successors.Where(s => !listed.Contains(s)).Order(StringComparer.Ordinal));
        }
        return (revision.Revision, units);
    }

    /// <summary>What runs once for the year before the phase's steps go out; null when it succeeded, else why the phase cannot go on yet.</summary>
    public async Task<string?> PrepareAsync(int year, CyclePhase phase, CancellationToken cancellationToken)
    {
        switch (phase)
        {
            case CyclePhase.ListPublished:
                return await lists.LatestRevisionAsync(year, cancellationToken) is null
                    ? $"No {year} list is published; the regulator publishes it with POST /api/lists/{year}/publish (Art. 6-7)."
                    : null;
            case CyclePhase.PreAllocation:
                return Problem((await preAllocation.RunAsync(year, Orchestration, cancellationToken)).Result);
            case CyclePhase.VerifiedAllocation:
                return Problem((await verifiedAllocation.RunAsync(year, Orchestration, cancellationToken)).Result);
            default:
                return null;
        }
    }

    private static string? Problem(IResult result) => result is ProblemHttpResult problem ? problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title : null;

    /// <summary>What the steps of <paramref name="units"/> in the phase read, read for all of them at once.</summary>
    public async Task<StepInputs> ReadInputsAsync(int year, CyclePhase phase, IReadOnlyCollection<string> units, CancellationToken cancellationToken) => phase switch
    {
        CyclePhase.Verification => StepInputs.None with { Verifications = await verifications.FindManyAsync(year, units, cancellationToken) },
        CyclePhase.Confirmation => StepInputs.None with { Confirmations = await confirmations.FindManyAsync(year, units, cancellationToken) },
        CyclePhase.PreAllocation => StepInputs.None with { Allocations = await allocations.FindManyAsync(year, units, cancellationToken) },
        CyclePhase.VerifiedAllocation => StepInputs.None with
        {
            Allocations = await allocations.FindManyAsync(year, units, cancellationToken),
            Confirmations = await confirmations.FindManyAsync(year, units, cancellationToken),
        },
        CyclePhase.Assessment => StepInputs.None with { Compliance = await compliance.ForUnitsAsync(units, year, cancellationToken) },
        _ => StepInputs.None,
    };

    /// <summary>One unit's step of the phase, on what <see cref="ReadInputsAsync"/> read for its batch.</summary>
    public async Task<StepResult> RunStepAsync(int year, CyclePhase phase, string uscc, CycleSchedule schedule, StepInputs inputs, CancellationToken cancellationToken)
    {
        switch (phase)
        {
            case CyclePhase.PreAllocation:
                return await AllocationStepAsync(year, uscc, verified: false, inputs, cancellationToken);
            case CyclePhase.Reporting:
                var version = await reports.LatestVersionAsync(uscc, year, cancellationToken);
                return new StepResult.Done(version > 0 ? $"reported (version {version})" : $"reminder: no {year} report by {schedule.ReportsDue:yyyy-MM-dd HH:mm}Z");
            case CyclePhase.Verification:
                var verification = inputs.Verifications.GetValueOrDefault(uscc);
                return new StepResult.Done(verification?.Status == VerificationStatus.Accepted
                    ? $"verified ({verification.VerifiedEmissionsT?.Value} t)"
                    : $"listed: no accepted verification by {schedule.VerificationDue:yyyy-MM-dd HH:mm}Z");
            case CyclePhase.Confirmation:
                var confirmed = inputs.Confirmations.GetValueOrDefault(uscc);
                return new StepResult.Done(confirmed is not null
                    ? $"confirmed ({confirmed.ConfirmedEmissionsT.Value} t)"
                    : $"listed: not confirmed by {schedule.ConfirmationDue:yyyy-MM-dd HH:mm}Z");
            case CyclePhase.VerifiedAllocation:
                return await AllocationStepAsync(year, uscc, verified: true, inputs, cancellationToken);
            case CyclePhase.Assessment:
                var view = inputs.Compliance.GetValueOrDefault(uscc) ?? await compliance.ForUnitAsync(uscc, year, cancellationToken);
                if (view.PendingT > 0) return new StepResult.NotYet($"{view.PendingT} t of surrenders are still settling");
                return new StepResult.Done(view.Status switch
                {
                    ComplianceStatus.Compliant => "compliant",
                    ComplianceStatus.NoConfirmedEmissions => "no-confirmed-emissions",
                    _ => $"non-compliant: shortfall {view.ShortfallT} t of {view.ObligationT ?? view.ConfirmedEmissionsT} t",
                });
            default:
                return new StepResult.Done("nothing to do");
        }
    }

    /// <summary>
    /// A unit's pre-allocation or verified allocation: its record and the ledger transactions it names. A unit the
    /// year-wide run has not reached (joined by a list revision, or confirmed since) runs it again; it pays only the new.
    /// </summary>
    private async Task<StepResult> AllocationStepAsync(int year, string uscc, bool verified, StepInputs inputs, CancellationToken cancellationToken)
    {
        var record = inputs.Allocations.GetValueOrDefault(uscc);
        if (record is null || (verified && record.Verified is null))
        {
            if (verified && !inputs.Confirmations.ContainsKey(uscc) && await confirmations.FindAsync(year, uscc, cancellationToken) is null)
            {
                return new StepResult.Failed($"Its {year} emissions are not confirmed; confirm them, then retry the step.");
            }
            var blocked = await PrepareAsync(year, verified ? CyclePhase.VerifiedAllocation : CyclePhase.PreAllocation, cancellationToken);
            if (blocked is not null) return new StepResult.Failed(blocked);
            record = await allocations.FindAsync(year, uscc, cancellationToken);
            if (record is null || (verified && record.Verified is null)) return new StepResult.Failed("The allocation run did not reach this unit; see GET /api/allocation/{year}/units/{uscc}.");
        }
        if (!verified && record.Failure is not null) return new StepResult.Failed(record.Failure);
        var ids = verified
            ? new[] { (VerifiedAllocationService.TopUpTransactionId(year, uscc), record.TopUp), (LedgerIds.ClawBack(year, uscc), record.ClawedBack) }
            : [(PreAllocationService.PreAllocationTransactionId(year, uscc), (Tonnes?)record.PreAllocated)];
        foreach (var (id, quantity) in ids.Where(i => i.Item2 is { Value: > 0 }))
        {
            var found = await transactions.FindAsync(id, cancellationToken);
            if (found is null || !found.Value.Transaction.IsSettled) return new StepResult.NotYet($"transaction {id} is settling");
            if (found.Value.Transaction is var t && (t.Quantity != quantity || (t.To != uscc && t.From != uscc))) return new StepResult.Failed($"Transaction id {id} is taken by a different transaction.");
            if (found.Value.Transaction.State == TransactionState.Rejected) return new StepResult.Failed($"Transaction {id} was rejected: {found.Value.Transaction.Reason}");
        }
        return new StepResult.Done(verified
            ? $"verified allocation {record.Verified?.Value} t: top-up {record.TopUp?.Value ?? 0} t, claw-back {record.ClawedBack?.Value ?? 0} t, carried {record.CarriedDeduction?.Value ?? 0} t"
            : $"pre-allocated {record.PreAllocated.Value} t");
    }

    /// <summary>
    /// What a batch's ended steps lead to, done once for the batch: at assessment, the frozen non-compliant list's cases,
    /// one per unit and year (Art. 29), written together (a batch that runs again finds them opened).
    /// </summary>
    public async Task FinishBatchAsync(int year, CyclePhase phase, IReadOnlyList<string> done, StepInputs inputs, CancellationToken cancellationToken)
    {
        if (phase != CyclePhase.Assessment || done.Count == 0) return;
        var revision = await lists.LatestRevisionAsync(year, cancellationToken);
        var districts = revision is null ? new Dictionary<string, string>()
            : (await lists.EntriesAsync(year, revision.Revision, cancellationToken)).ToDictionary(e => e.Uscc, e => e.District, StringComparer.Ordinal);
        var shortfalls = new List<(string Uscc, long ShortfallT, string? District)>();
        var told = new List<NoticeDraft>();
        foreach (var uscc in done)
        {
            var view = inputs.Compliance.GetValueOrDefault(uscc) ?? await compliance.ForUnitAsync(uscc, year, cancellationToken);
            if (view is { Status: ComplianceStatus.NonCompliant, ShortfallT: > 0 }) shortfalls.Add((uscc, view.ShortfallT.Value, districts.GetValueOrDefault(uscc)));
            if (view.Status is ComplianceStatus.Compliant or ComplianceStatus.NonCompliant)
            {
                told.Add(NoticeTemplates.ComplianceStatus(uscc, year, view.Status == ComplianceStatus.Compliant ? "compliant" : "non-compliant", new Tonnes(view.ShortfallT ?? 0)));
            }
        }
        await cases.OpenForNonComplianceAsync(year, shortfalls, cancellationToken);
        // Each assessed unit learns its status, as the frozen list records it.
        await notices.PublishAsync(told, cancellationToken);
    }

    /// <summary>What the phase still waits for once its steps have ended; null when it may end.</summary>
    public async Task<string?> WaitingForAsync(int year, CyclePhase phase, CancellationToken cancellationToken)
    {
        if (phase != CyclePhase.Confirmation) return null;
        var (_, keyUnits) = await UnitsAsync(year, phase, cancellationToken);
        var confirmed = await confirmations.ReadYearAsync(year, cancellationToken);
        var missing = keyUnits.Count(u => !confirmed.ContainsKey(u));
        return missing == 0 ? null : $"Waiting for {missing} key unit(s) to have their emissions confirmed, or for the regulator to advance (POST /api/cycles/{year}/advance).";
    }
}
