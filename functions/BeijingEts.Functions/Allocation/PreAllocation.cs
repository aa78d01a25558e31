using System.Globalization;
using BeijingEts.Domain.Allocation;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Allocation;

/// <summary>A key unit's allocation for a year: the basis and method, and what it was given (Art. 14).</summary>
public sealed record UnitAllocation(int Year, string Uscc, string Industry, string? Method, Tonnes Basis, Tonnes PreAllocated, DateOnly? ReceivedOn, string? Failure);

public sealed class AllocationStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Allocations);

    public async Task<UnitAllocation?> FindAsync(int year, string uscc, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Key(year), uscc, cancellationToken: cancellationToken);
        return row.HasValue ? JsonSerializer.Deserialize<UnitAllocation>(row.Value!.GetString("Document"), AuditLog.AuditJson) : null;
    }

    public Task PutManyAsync(IEnumerable<UnitAllocation> allocations, CancellationToken cancellationToken) =>
        TableBatches.UpsertAsync(Table, allocations.Select(a => new TableEntity(Key(a.Year), a.Uscc) { ["Document"] = JsonSerializer.Serialize(a, AuditLog.AuditJson) }), cancellationToken);

    private static string Key(int year) => year.ToString("D4", CultureInfo.InvariantCulture);
}

/// <summary>
/// POST /api/allocation/{year}/pre-allocation (regulator; the yearly cycle calls the same service): gives every key unit
/// of the year's published list its pre-allocated share of its basis (Art. 14), through the ledger, once: each unit's
/// allocation is a transaction with a fixed id, so running it again gives nobody anything twice.
/// </summary>
public sealed class RunPreAllocation : IHttpFunction
{
    public sealed record Failure(string Uscc, string Reason);

    public sealed record Answer(int Year, int ListRevision, int Units, Tonnes PreAllocated, Tonnes Issued, IReadOnlyList<Failure> Failures);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/allocation/{year:int}/pre-allocation", HandleAsync).RequireRoles(Roles.Regulator).WithTags("Allocation");

    private static async Task<Results<Ok<Answer>, ProblemHttpResult>> HandleAsync(int year, HttpContext http, PreAllocationService service, CancellationToken cancellationToken) =>
        await service.RunAsync(year, Actor.From(http.User), cancellationToken);
}

public sealed class PreAllocationService(
    AllocationPlanStore plans, PublishedListStore lists, StatisticsStore statistics, AllocationStore allocations, TransactionStore transactions,
    LedgerStore ledger, LedgerSettlement settlement, LedgerSubmitter submitter, AuditLog audit, TimeProvider clock)
{
    public async Task<Results<Ok<RunPreAllocation.Answer>, ProblemHttpResult>> RunAsync(int year, Actor actor, CancellationToken cancellationToken)
    {
        var plan = await plans.FindAsync(year, cancellationToken);
        if (plan is null) return Problems.Unprocessable($"No allocation plan for {year}; set it with PUT /api/allocation/{year}/plan first.");
        var revision = (await lists.RevisionsAsync(year, cancellationToken)).LastOrDefault();
        if (revision is null) return Problems.Unprocessable($"No list for {year} is published; publish it with POST /api/lists/{year}/publish first.");
        var keyUnits = (await lists.EntriesAsync(year, revision.Revision, cancellationToken)).Where(e => e.Category == Categories.Key).ToList();

        var today = BeijingTime.Today(clock);
        var results = new List<UnitAllocation>();
        var failures = new List<RunPreAllocation.Failure>();
        var baseYears = plan.Methods.Values.SelectMany(m => m.BaseYears).Distinct().ToList();
        var figures = new Dictionary<int, IReadOnlyDictionary<string, Domain.Lists.UnitStatistics>>();
        foreach (var baseYear in baseYears) figures[baseYear] = await statistics.ReadYearAsync(baseYear, cancellationToken);
        foreach (var unit in keyUnits)
        {
            var (basis, method, failure) = Basis(plan, unit, figures, year);
            if (failure is not null) failures.Add(new(unit.Uscc, failure));
            results.Add(new UnitAllocation(year, unit.Uscc, unit.Industry, method, basis,
                failure is null ? AllocationFormulas.PreAllocation(basis, plan.PreAllocationRatio) : Tonnes.Zero, failure is null ? today : null, failure));
        }
        var total = results.Aggregate(Tonnes.Zero, (sum, r) => sum + r.PreAllocated);
        if (total > plan.FreeAllocationCeiling)
        {
            return Problems.Unprocessable($"Pre-allocation would hand out {total.Value} t, over the free allocation ceiling of {plan.FreeAllocationCeiling.Value} t (cap {plan.Cap.Value} t less reserve {plan.Reserve.Value} t).");
        }

        // Issue what the issuance account lacks for the allocations not yet made, settled here so they can follow at once.
        var pending = new List<LedgerTransaction>();
        foreach (var result in results.Where(r => r.PreAllocated.Value > 0))
        {
            var tx = new LedgerTransaction($"pre-allocation-{year}-{result.Uscc}", TransactionType.Allocation, RegulatorAccounts.Issuance, result.Uscc,
                Domain.Ledger.Products.Bea, year, result.PreAllocated, null, $"Art. 14 pre-allocation {year}", actor.Id, clock.GetUtcNow());
            if (await transactions.FindAsync(tx.TransactionId, cancellationToken) is null) pending.Add(tx);
        }
        var needed = pending.Aggregate(Tonnes.Zero, (sum, t) => sum + t.Quantity);
        var inIssuance = (await ledger.ReadAccountAsync(RegulatorAccounts.Issuance, cancellationToken)).Holdings
            .Where(h => h.Product == Domain.Ledger.Products.Bea && h.Vintage == year).Aggregate(Tonnes.Zero, (sum, h) => sum + h.Quantity);
        var toIssue = needed > inIssuance ? needed - inIssuance : Tonnes.Zero;
        if (toIssue.Value > 0)
        {
            var issuance = new LedgerTransaction($"pre-allocation-{year}-issuance-{Guid.NewGuid():N}", TransactionType.Issuance, null, RegulatorAccounts.Issuance,
                Domain.Ledger.Products.Bea, year, toIssue, null, $"Art. 14 pre-allocation {year}", actor.Id, clock.GetUtcNow());
            await transactions.TryAddAsync(issuance, cancellationToken);
            await settlement.SettleAsync(issuance.TransactionId, cancellationToken);
            if ((await transactions.FindAsync(issuance.TransactionId, cancellationToken))!.Value.Transaction is { State: TransactionState.Rejected } rejected)
            {
                return Problems.Unprocessable($"The allowances for pre-allocation could not be issued: {rejected.Reason}");
            }
        }
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (tx, ct) => await submitter.SubmitAsync(tx, ct));
        // Units allocated by an earlier run keep what they were given; their records stay as they are.
        var allocatedNow = pending.Select(p => p.To).ToHashSet(StringComparer.Ordinal);
        var allocatedBefore = results.Where(r => r.PreAllocated.Value > 0 && !allocatedNow.Contains(r.Uscc)).Select(r => r.Uscc).ToHashSet(StringComparer.Ordinal);
        await allocations.PutManyAsync(results.Where(r => !allocatedBefore.Contains(r.Uscc)), cancellationToken);

        var answer = new RunPreAllocation.Answer(year, revision.Revision, results.Count, total, toIssue, failures);
        await audit.RecordAsync(actor, "allocation.pre-allocated", $"allocation/{year}", null, answer, cancellationToken);
        return TypedResults.Ok(answer);
    }

    private static (Tonnes Basis, string? Method, string? Failure) Basis(AllocationPlan plan, ListEntry unit,
        IReadOnlyDictionary<int, IReadOnlyDictionary<string, Domain.Lists.UnitStatistics>> figures, int year)
    {
        if (!plan.Methods.TryGetValue(unit.Industry, out var rule)) return (Tonnes.Zero, null, $"The {year} plan has no method for industry {unit.Industry}.");
        var method = JsonNamingPolicy.KebabCaseLower.ConvertName(rule.Method.ToString());
        if (rule.Method == AllocationMethod.HistoricalTotal)
        {
            var emissions = new List<long>();
            foreach (var baseYear in rule.BaseYears)
            {
                // Confirmed emissions replace these once emissions are confirmed (reports and verification).
                if (!figures[baseYear].TryGetValue(unit.Uscc, out var stats)) return (Tonnes.Zero, method, $"No emissions are known for base year {baseYear}.");
                emissions.Add(stats.DirectEmissionsT + stats.IndirectEmissionsT);
            }
            return (AllocationFormulas.HistoricalTotal(emissions, rule.ControlFactor), method, null);
        }
        // Activity comes from the unit's annual report for the year before (Art. 14 pre-allocation); none is on file.
        return (Tonnes.Zero, method, $"No activity data for {year - 1} is on file; {method} needs the annual report's activity lines.");
    }
}

/// <summary>GET /api/allocation/{year}/units/{uscc}: the unit's basis, method and pre-allocation, and when it received it.</summary>
public sealed class GetUnitAllocation : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/allocation/{year:int}/units/{uscc}", HandleAsync).WithTags("Allocation");

    private static async Task<Results<Ok<UnitAllocation>, ProblemHttpResult>> HandleAsync(
        int year, string uscc, HttpContext http, UnitStore units, AllocationStore allocations, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units,
            $"Unit {uscc}'s allocation can be read by the regulator, its own district bureau and the unit itself.", cancellationToken);
        if (unit is null) return problem!;
        return await allocations.FindAsync(year, unit.Uscc, cancellationToken) is { } allocation
            ? TypedResults.Ok(allocation)
            : ProblemHandling.NotFound($"Unit {unit.Uscc} has no allocation for {year}.");
    }
}
