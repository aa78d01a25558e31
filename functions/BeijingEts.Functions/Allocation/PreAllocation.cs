using BeijingEts.Domain.Allocation;
using BeijingEts.Domain.Calendar;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Allocation;

/// <summary>A key unit's allocation for a year: the basis and method, and what it was given (Art. 14).</summary>
/// <remarks>
/// After the verified allocation: <c>Verified</c> is the year's full allocation on confirmed figures, <c>TopUp</c> or
/// <c>ClawBack</c> the difference paid or taken back (after deducting <c>DeductedFromPreviousYear</c>, the previous year's
/// unrecovered claw-back, and <c>DeductedByDecisions</c>, what the enforcement cases or adjustment applications named in
/// <c>DeductionDecisions</c> decided: a surrender shortfall, a decrease the unit could not cover), and <c>CarriedDeduction</c> what could not be taken back now and comes off next year's allocation.
/// <c>ReceivedOn</c> is, despite its name, when the latest result was issued; the Art. 15 objection window counts from the
/// receipt of its notice (<see cref="UnitAllocationView"/>). Not sealed only so that the view can extend it.
/// </remarks>
public record UnitAllocation(int Year, string Uscc, string Industry, string? Method, Tonnes Basis, Tonnes PreAllocated, DateOnly? ReceivedOn, string? Failure,
    Tonnes? Verified = null, Tonnes? TopUp = null, Tonnes? ClawBack = null, Tonnes? ClawedBack = null, Tonnes? DeductedFromPreviousYear = null,
    Tonnes? CarriedDeduction = null, DateOnly? PreAllocatedOn = null, DateOnly? VerifiedOn = null, Tonnes? DeductedByDecisions = null,
    IReadOnlyList<string>? DeductionDecisions = null);

public sealed class AllocationStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Allocations);

    public Task<UnitAllocation?> FindAsync(int year, string uscc, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<UnitAllocation>(DocumentRows.YearKey(year), uscc, cancellationToken);

    /// <summary>The named units' allocation records for the year, by unit: one range query.</summary>
    public Task<IReadOnlyDictionary<string, UnitAllocation>> FindManyAsync(int year, IReadOnlyCollection<string> units, CancellationToken cancellationToken) =>
        Table.ReadRowsAsync<UnitAllocation>(DocumentRows.YearKey(year), units, cancellationToken);

    public Task<IReadOnlyList<UnitAllocation>> ReadYearAsync(int year, CancellationToken cancellationToken) =>
        Table.ReadPartitionAsync<UnitAllocation>(DocumentRows.YearKey(year), cancellationToken);

    public Task PutManyAsync(IEnumerable<UnitAllocation> allocations, CancellationToken cancellationToken) =>
        TableBatches.UpsertAsync(Table, allocations.Select(a => DocumentRows.Entity(DocumentRows.YearKey(a.Year), a.Uscc, a)), cancellationToken);
}

/// <summary>
/// POST /api/allocation/{year}/pre-allocation (regulator; the yearly cycle calls the same service): gives every key unit
/// of the year's published list its pre-allocated share of its basis (Art. 14), through the ledger, once: each unit's
/// allocation is a transaction with a fixed id, so running it again gives nobody anything twice.
/// </summary>
public sealed class RunPreAllocation : IHttpFunction
{
    public sealed record Answer(int Year, int ListRevision, int Units, Tonnes PreAllocated, Tonnes Issued, IReadOnlyList<AllocationFailure> Failures);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/allocation/{year:int}/pre-allocation", HandleAsync).WithTags("Allocation");

    private static async Task<Results<Ok<Answer>, ProblemHttpResult>> HandleAsync(int year, HttpContext http, PreAllocationService service, CancellationToken cancellationToken) =>
        await service.RunAsync(year, Actor.From(http.User), cancellationToken);
}

public sealed class PreAllocationService(
    AllocationPlanStore plans, PublishedListStore lists, StatisticsStore statistics, ConfirmationStore confirmations, AllocationStore allocations,
    AllocationPayout payout, NoticeOutbox notices, AuditLog audit, TimeProvider clock, ILogger<PreAllocationService> logger)
{
    public async Task<Results<Ok<RunPreAllocation.Answer>, ProblemHttpResult>> RunAsync(int year, Actor actor, CancellationToken cancellationToken)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (scope, problem) = await AllocationScope.LoadAsync(year, plans, lists, cancellationToken);
        if (scope is null) return problem!;
        var (plan, keyUnits) = (scope.Plan, scope.KeyUnits);

        // Activity-based methods pre-allocate on the year before's confirmed activity (Art. 14).
        var inputs = await AllocationInputs.LoadAsync(plan, [year - 1], statistics, confirmations, cancellationToken);
        var today = BeijingTime.Today(clock);
        var results = new List<UnitAllocation>();
        var failures = new List<AllocationFailure>();
        foreach (var unit in keyUnits)
        {
            var (basis, method, failure) = inputs.Basis(plan, unit, year - 1);
            if (failure is not null) failures.Add(new(unit.Uscc, failure));
            results.Add(new UnitAllocation(year, unit.Uscc, unit.Industry, method, basis,
                failure is null ? AllocationFormulas.PreAllocation(basis, plan.PreAllocationRatio) : Tonnes.Zero, failure is null ? today : null, failure,
                PreAllocatedOn: failure is null ? today : null));
        }
        var total = results.Aggregate(Tonnes.Zero, (sum, r) => sum + r.PreAllocated);
        if (scope.OverCeiling("Pre-allocation would hand out", total) is { } overCeiling) return overCeiling;
        var loaded = watch.Elapsed;

        // Units allocated by an earlier run keep what they were given; their records stay as they are.
        var allocatedBefore = (await allocations.ReadYearAsync(year, cancellationToken)).Where(a => a.PreAllocated.Value > 0).Select(a => a.Uscc).ToHashSet(StringComparer.Ordinal);
        var allocatedNow = results.Where(r => !allocatedBefore.Contains(r.Uscc)).ToList();
        // Each unit is told of its result once its payment is recorded (nothing is told when the run fails before that),
        // while the payments settle, and before the record says it was issued: a run resumed after a crash in between
        // finds the notices written (their ids are fixed) and the records not, and writes the records.
        var paid = await payout.PayAsync(year, results.Select(r => (PreAllocationTransactionId(year, r.Uscc), r.Uscc, r.PreAllocated)), "pre-allocation", $"Art. 14 pre-allocation {year}", actor,
            cancellationToken, whenRecorded: ct => notices.PublishAsync(allocatedNow.Where(r => r.Failure is null).Select(r => NoticeTemplates.PreAllocation(r.Uscc, year, r.PreAllocated)).ToList(), ct));
        if (paid.Failure is not null) return Problems.Unprocessable(paid.Failure);
        var settled = watch.Elapsed;
        await allocations.PutManyAsync(allocatedNow, cancellationToken);

        var answer = new RunPreAllocation.Answer(year, scope.ListRevision, results.Count, total, paid.Issued, failures);
        await audit.RecordAsync(actor, "allocation.pre-allocated", $"allocation/{year}", null, answer, cancellationToken);
        logger.LogInformation("Pre-allocation {Year}: {Units} unit(s) in {Seconds:F1} s (inputs {Loaded:F1} s, payout and notices {Payout:F1} s, records {Rest:F1} s)",
            year, results.Count, watch.Elapsed.TotalSeconds, loaded.TotalSeconds, (settled - loaded).TotalSeconds, (watch.Elapsed - settled).TotalSeconds);
        return TypedResults.Ok(answer);
    }

    public static string PreAllocationTransactionId(int year, string uscc) => LedgerIds.PreAllocation(year, uscc);
}

/// <summary>
/// GET /api/allocation/{year}/units/{uscc}'s answer: the record with, for the latest result, the day its notice reached the
/// unit (<see cref="NoticeReceipt"/>) and the last day to object, 7 working days later (Art. 15); both null while the
/// notice has not reached it (or the result failed). A result issued before notices existed counts from its issue.
/// </summary>
public sealed record UnitAllocationView : UnitAllocation
{
    public UnitAllocationView(UnitAllocation allocation, DateOnly? noticeReceivedOn, DateOnly? objectionDueOn)
        : base(allocation) => (NoticeReceivedOn, ObjectionDueOn) = (noticeReceivedOn, objectionDueOn);

    public DateOnly? NoticeReceivedOn { get; init; }

    public DateOnly? ObjectionDueOn { get; init; }
}

/// <summary>GET /api/allocation/{year}/units/{uscc}: the unit's basis, method and pre-allocation, when its notice reached it and until when it may object.</summary>
public sealed class GetUnitAllocation : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/allocation/{year:int}/units/{uscc}", HandleAsync).WithTags("Allocation");

    private static Task<Results<Ok<UnitAllocationView>, ProblemHttpResult>> HandleAsync(
        int year, string uscc, HttpContext http, UnitStore units, AllocationStore allocations, NoticeStore notices, NoticeSettings noticeSettings,
        CalendarService calendar, TimeProvider clock, CancellationToken cancellationToken) =>
        UnitInput.ReadVisibleAsync(uscc, http.User, units, "allocation", async code =>
            await allocations.FindAsync(year, code, cancellationToken) is { } allocation
                ? await ViewAsync(allocation, notices, noticeSettings, await calendar.GetAsync(cancellationToken), BeijingTime.Today(clock), cancellationToken)
                : null,
            code => $"Unit {code} has no allocation for {year}.", cancellationToken);

    private static async Task<UnitAllocationView> ViewAsync(UnitAllocation allocation, NoticeStore notices, NoticeSettings settings, WorkingDayCalendar calendar,
        DateOnly today, CancellationToken cancellationToken)
    {
        if (allocation.ReceivedOn is not { } issuedOn) return new(allocation, null, null);
        if (await FileObjection.NoticeReceivedAsync(allocation, issuedOn, today, notices, settings, calendar, cancellationToken) is not var (received, _)) return new(allocation, null, null);
        try
        {
            return new(allocation, received, calendar.AddWorkingDays(received, Objection.FilingWorkingDays));
        }
        catch (CalendarYearMissingException)
        {
            return new(allocation, received, null); // no working-day calendar for the due date's year yet
        }
    }
}
