using System.Collections.Concurrent;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Allocation;

/// <summary>
/// POST /api/allocation/{year}/verified-allocation (regulator; the yearly cycle calls the same service once emissions
/// and activity are confirmed): computes each key unit's verified allocation (核定) on its confirmed figures and tops up
/// or claws back the difference from its pre-allocation (Art. 14). What a claw-back cannot take now (the unit no longer
/// holds it) is recorded and deducted from its next-year allocation. Each unit is settled once; running it again
/// settles only units not yet settled (such as those confirmed since).
/// </summary>
public sealed class RunVerifiedAllocation : IHttpFunction
{
    public sealed record Answer(int Year, int ListRevision, int Units, int Settled, int SettledBefore, Tonnes Verified, Tonnes ToppedUp, Tonnes ClawedBack,
        Tonnes CarriedToNextYear, Tonnes Issued, IReadOnlyList<AllocationFailure> Failures);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/allocation/{year:int}/verified-allocation", HandleAsync).RequireRoles(Roles.Regulator).WithTags("Allocation");

    private static async Task<Results<Ok<Answer>, ProblemHttpResult>> HandleAsync(int year, HttpContext http, VerifiedAllocationService service, CancellationToken cancellationToken) =>
        await service.RunAsync(year, Actor.From(http.User), cancellationToken);
}

public sealed class VerifiedAllocationService(
    AllocationPlanStore plans, PublishedListStore lists, StatisticsStore statistics, ConfirmationStore confirmations, AllocationStore allocations,
    AllocationPayout payout, TransactionStore transactions, LedgerStore ledger, LedgerSettlement settlement, AuditLog audit, TimeProvider clock)
{
    private sealed record Settlement(ListEntry Unit, UnitAllocation? Before, string Method, Tonnes Verified, Tonnes DeductedFromPreviousYear)
    {
        /// <summary>Positive: a top-up; negative: a claw-back.</summary>
        public Tonnes Difference => Verified - (Before?.PreAllocated ?? Tonnes.Zero) - DeductedFromPreviousYear;
    }

    public async Task<Results<Ok<RunVerifiedAllocation.Answer>, ProblemHttpResult>> RunAsync(int year, Actor actor, CancellationToken cancellationToken)
    {
        var (scope, problem) = await AllocationScope.LoadAsync(year, plans, lists, cancellationToken);
        if (scope is null) return problem!;
        var (plan, keyUnits) = (scope.Plan, scope.KeyUnits);

        var inputs = await AllocationInputs.LoadAsync(plan, [year], statistics, confirmations, cancellationToken);
        var existing = (await allocations.ReadYearAsync(year, cancellationToken)).ToDictionary(a => a.Uscc, StringComparer.Ordinal);
        var previous = (await allocations.ReadYearAsync(year - 1, cancellationToken)).ToDictionary(a => a.Uscc, StringComparer.Ordinal);
        var failures = new List<AllocationFailure>();
        var toSettle = new List<Settlement>();
        foreach (var unit in keyUnits)
        {
            existing.TryGetValue(unit.Uscc, out var before);
            if (before?.Verified is not null) continue;
            if (inputs.Confirmed(year, unit.Uscc) is null)
            {
                failures.Add(new(unit.Uscc, $"Its {year} emissions are not confirmed yet (POST /api/units/{unit.Uscc}/reports/{year}/confirmation)."));
                continue;
            }
            var (basis, method, failure) = inputs.Basis(plan, unit, year);
            if (failure is not null)
            {
                failures.Add(new(unit.Uscc, failure));
                continue;
            }
            toSettle.Add(new Settlement(unit, before, method!, basis, previous.TryGetValue(unit.Uscc, out var last) ? last.CarriedDeduction ?? Tonnes.Zero : Tonnes.Zero));
        }
        var verifiedBefore = existing.Values.Aggregate(Tonnes.Zero, (sum, a) => sum + (a.Verified ?? Tonnes.Zero));
        var verifiedTotal = toSettle.Aggregate(verifiedBefore, (sum, s) => sum + s.Verified);
        if (scope.OverCeiling("Verified allocation would come to", verifiedTotal) is { } overCeiling) return overCeiling;

        var paid = await payout.PayAsync(year, toSettle.Where(s => s.Difference.Value > 0).Select(s => (TopUpTransactionId(year, s.Unit.Uscc), s.Unit.Uscc, s.Difference)),
            "verified-allocation", $"Art. 14 verified allocation {year}", actor, cancellationToken);
        if (paid.Failure is not null) return Problems.Unprocessable(paid.Failure);
        var clawedBack = new ConcurrentDictionary<string, Tonnes>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(toSettle.Where(s => s.Difference.Value < 0), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (s, ct) => clawedBack[s.Unit.Uscc] = await ClawBackAsync(year, s.Unit.Uscc, -s.Difference, actor, ct));

        var today = BeijingTime.Today(clock);
        var settled = toSettle.Select(s =>
        {
            var claw = s.Difference.Value < 0 ? -s.Difference : Tonnes.Zero;
            var taken = clawedBack.GetValueOrDefault(s.Unit.Uscc);
            return (s.Before ?? new UnitAllocation(year, s.Unit.Uscc, s.Unit.Industry, s.Method, s.Verified, Tonnes.Zero, null, null)) with
            {
                Method = s.Method, Basis = s.Verified, Verified = s.Verified, Failure = null,
                TopUp = s.Difference.Value > 0 ? s.Difference : Tonnes.Zero, ClawBack = claw, ClawedBack = taken,
                DeductedFromPreviousYear = s.DeductedFromPreviousYear, CarriedDeduction = claw - taken, ReceivedOn = today, VerifiedOn = today,
            };
        }).ToList();
        await allocations.PutManyAsync(settled, cancellationToken);

        var answer = new RunVerifiedAllocation.Answer(year, scope.ListRevision, keyUnits.Count, settled.Count, existing.Values.Count(a => a.Verified is not null),
            settled.Aggregate(Tonnes.Zero, (sum, a) => sum + a.Verified!.Value), settled.Aggregate(Tonnes.Zero, (sum, a) => sum + a.TopUp!.Value),
            settled.Aggregate(Tonnes.Zero, (sum, a) => sum + a.ClawedBack!.Value), settled.Aggregate(Tonnes.Zero, (sum, a) => sum + a.CarriedDeduction!.Value), paid.Issued, failures);
        await audit.RecordAsync(actor, "allocation.verified", $"allocation/{year}", null, answer, cancellationToken);
        return TypedResults.Ok(answer);
    }

    /// <summary>
    /// Takes back up to <paramref name="owed"/> of the year's BEA from the unit, as much as it holds; returns what was
    /// taken. Under a fixed id, so a run resumed after a crash finds the claw-back it already made.
    /// </summary>
    private async Task<Tonnes> ClawBackAsync(int year, string uscc, Tonnes owed, Actor actor, CancellationToken cancellationToken)
    {
        var id = $"verified-clawback-{year}-{uscc}";
        if ((await transactions.FindAsync(id, cancellationToken))?.Transaction is not { } recorded)
        {
            var held = (await ledger.ReadAccountAsync(uscc, cancellationToken)).Holdings
                .Where(h => h.Product == Products.Bea && h.Vintage == year && h.Lot is null).Aggregate(Tonnes.Zero, (sum, h) => sum + h.Quantity);
            var take = held < owed ? held : owed;
            if (take.Value <= 0) return Tonnes.Zero;
            var tx = new LedgerTransaction(id, TransactionType.Reclaim, uscc, RegulatorAccounts.Issuance, Products.Bea, year, take, null,
                $"Art. 14 verified allocation {year}: claw-back", actor.Id, clock.GetUtcNow());
            recorded = await transactions.TryAddAsync(tx, cancellationToken) ?? tx;
        }
        await settlement.SettleAsync(id, cancellationToken);
        // A suspended account, or holdings moved away since they were read: nothing is taken, all of it is carried.
        return (await transactions.FindAsync(id, cancellationToken))!.Value.Transaction.State == TransactionState.Completed ? recorded.Quantity : Tonnes.Zero;
    }

    public static string TopUpTransactionId(int year, string uscc) => $"verified-allocation-{year}-{uscc}";
}
