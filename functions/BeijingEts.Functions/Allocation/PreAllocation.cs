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

    public async Task<IReadOnlyList<UnitAllocation>> ReadYearAsync(int year, CancellationToken cancellationToken)
    {
        var all = new List<UnitAllocation>();
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == Key(year), cancellationToken: cancellationToken))
        {
            all.Add(JsonSerializer.Deserialize<UnitAllocation>(row.GetString("Document"), AuditLog.AuditJson)!);
        }
        return all;
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

        // Record every allocation as a transaction under its fixed id; one recorded by an earlier run is taken as it is.
        var allocationsToMake = results.Where(r => r.PreAllocated.Value > 0).Select(r => new LedgerTransaction($"pre-allocation-{year}-{r.Uscc}",
            TransactionType.Allocation, RegulatorAccounts.Issuance, r.Uscc, Domain.Ledger.Products.Bea, year, r.PreAllocated, null,
            $"Art. 14 pre-allocation {year}", actor.Id, clock.GetUtcNow())).ToList();
        var recorded = new System.Collections.Concurrent.ConcurrentBag<LedgerTransaction>();
        await Parallel.ForEachAsync(allocationsToMake, Parallelism(cancellationToken), async (tx, ct) =>
        {
            var earlier = await transactions.TryAddAsync(tx, ct);
            recorded.Add(earlier ?? tx);
        });
        var pending = recorded.Where(t => !t.IsSettled).OrderBy(t => t.To, StringComparer.Ordinal).ToList();

        // Issue what the issuance account lacks for the allocations still to make, settled here so they can follow at once.
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

        // The issuance account pays a batch of allocations in one write; each unit's credit then follows on its own
        // account. What a batch could not pay goes through the queue and is settled (or refused, with the reason) alone.
        await Parallel.ForEachAsync(pending.Chunk(LedgerStore.DebitsPerBatch), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = cancellationToken }, async (batch, ct) =>
        {
            var debited = await ledger.DebitManyAsync(batch, ct);
            await Parallel.ForEachAsync(debited, Parallelism(ct), async (tx, inner) => await settlement.SettleAsync(tx.TransactionId, inner, debitApplied: true));
            foreach (var tx in batch.Except(debited)) await submitter.SubmitAsync(tx, ct);
        });
        // Units allocated by an earlier run keep what they were given; their records stay as they are.
        var allocatedBefore = (await allocations.ReadYearAsync(year, cancellationToken)).Where(a => a.PreAllocated.Value > 0).Select(a => a.Uscc).ToHashSet(StringComparer.Ordinal);
        await allocations.PutManyAsync(results.Where(r => !allocatedBefore.Contains(r.Uscc)), cancellationToken);

        var answer = new RunPreAllocation.Answer(year, revision.Revision, results.Count, total, toIssue, failures);
        await audit.RecordAsync(actor, "allocation.pre-allocated", $"allocation/{year}", null, answer, cancellationToken);
        return TypedResults.Ok(answer);
    }

    private static ParallelOptions Parallelism(CancellationToken cancellationToken) => new() { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };

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
