using System.Collections.Concurrent;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;
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
        api.MapPost("/allocation/{year:int}/verified-allocation", HandleAsync).WithTags("Allocation");

    private static async Task<Results<Ok<Answer>, ProblemHttpResult>> HandleAsync(int year, HttpContext http, VerifiedAllocationService service, CancellationToken cancellationToken) =>
        await service.RunAsync(year, Actor.From(http.User), cancellationToken);
}

public sealed class VerifiedAllocationService(
    AllocationPlanStore plans, PublishedListStore lists, StatisticsStore statistics, ConfirmationStore confirmations, AllocationStore allocations,
    AllocationPayout payout, TransactionStore transactions, LedgerStore ledger, LedgerSettlement settlement, Supervision.CaseStore cases, NoticeOutbox notices, AuditLog audit,
    TimeProvider clock, ILogger<VerifiedAllocationService> logger)
{
    private sealed record Settlement(ListEntry Unit, UnitAllocation? Before, string Method, Tonnes Verified, Tonnes DeductedFromPreviousYear,
        IReadOnlyList<Supervision.AllocationDeduction> Decided)
    {
        public Tonnes DeductedByDecisions => Decided.Aggregate(Tonnes.Zero, (sum, d) => sum + d.Quantity);

        /// <summary>Positive: a top-up; negative: a claw-back.</summary>
        public Tonnes Difference => Verified - (Before?.PreAllocated ?? Tonnes.Zero) - DeductedFromPreviousYear - DeductedByDecisions;
    }

    public async Task<Results<Ok<RunVerifiedAllocation.Answer>, ProblemHttpResult>> RunAsync(int year, Actor actor, CancellationToken cancellationToken)
    {
        var (scope, problem) = await AllocationScope.LoadAsync(year, plans, lists, cancellationToken);
        if (scope is null) return problem!;
        var (plan, keyUnits) = (scope.Plan, scope.KeyUnits);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var inputs = await AllocationInputs.LoadAsync(plan, [year], statistics, confirmations, cancellationToken);
        var existing = (await allocations.ReadYearAsync(year, cancellationToken)).ToDictionary(a => a.Uscc, StringComparer.Ordinal);
        var previous = (await allocations.ReadYearAsync(year - 1, cancellationToken)).ToDictionary(a => a.Uscc, StringComparer.Ordinal);
        // Deductions decided in enforcement cases (a shortfall, Art. 29) or adjustments (a decrease not covered) come off this year's allocation like a carried claw-back.
        var deductions = await cases.DeductionsAsync(year, cancellationToken);
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
            toSettle.Add(new Settlement(unit, before, method!, basis, previous.TryGetValue(unit.Uscc, out var last) ? last.CarriedDeduction ?? Tonnes.Zero : Tonnes.Zero,
                deductions.GetValueOrDefault(unit.Uscc) ?? []));
        }
        var verifiedBefore = existing.Values.Aggregate(Tonnes.Zero, (sum, a) => sum + (a.Verified ?? Tonnes.Zero));
        var verifiedTotal = toSettle.Aggregate(verifiedBefore, (sum, s) => sum + s.Verified);
        if (scope.OverCeiling("Verified allocation would come to", verifiedTotal) is { } overCeiling) return overCeiling;

        var loaded = watch.Elapsed;
        var paid = await payout.PayAsync(year, toSettle.Where(s => s.Difference.Value > 0).Select(s => (TopUpTransactionId(year, s.Unit.Uscc), s.Unit.Uscc, s.Difference)),
            "verified-allocation", $"Art. 14 verified allocation {year}", actor, cancellationToken);
        if (paid.Failure is not null) return Problems.Unprocessable(paid.Failure);
        var toppedUp = watch.Elapsed;
        var clawedBack = await ClawBackAsync(year, toSettle.Where(s => s.Difference.Value < 0).Select(s => (s.Unit.Uscc, -s.Difference)).ToList(), actor, cancellationToken);

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
                DeductedByDecisions = s.Decided.Count > 0 ? s.DeductedByDecisions : null, DeductionDecisions = s.Decided.Count > 0 ? s.Decided.Select(d => d.SourceId).ToList() : null,
            };
        }).ToList();
        await notices.PublishAsync(settled.Select(NoticeTemplates.VerifiedAllocation).ToList(), cancellationToken);
        await allocations.PutManyAsync(settled, cancellationToken);

        var answer = new RunVerifiedAllocation.Answer(year, scope.ListRevision, keyUnits.Count, settled.Count, existing.Values.Count(a => a.Verified is not null),
            settled.Aggregate(Tonnes.Zero, (sum, a) => sum + a.Verified!.Value), settled.Aggregate(Tonnes.Zero, (sum, a) => sum + a.TopUp!.Value),
            settled.Aggregate(Tonnes.Zero, (sum, a) => sum + a.ClawedBack!.Value), settled.Aggregate(Tonnes.Zero, (sum, a) => sum + a.CarriedDeduction!.Value), paid.Issued, failures);
        await audit.RecordAsync(actor, "allocation.verified", $"allocation/{year}", null, answer, cancellationToken);
        logger.LogInformation("Verified allocation {Year}: {Units} unit(s) in {Seconds:F1} s (inputs {Loaded:F1} s, top-ups {TopUps:F1} s, claw-backs and records {Rest:F1} s)",
            year, settled.Count, watch.Elapsed.TotalSeconds, loaded.TotalSeconds, (toppedUp - loaded).TotalSeconds, (watch.Elapsed - toppedUp).TotalSeconds);
        return TypedResults.Ok(answer);
    }

    /// <summary>
    /// Takes back up to what each unit owes of the year's BEA, as much as it holds; returns what was taken from each.
    /// Under fixed ids, so a run resumed after a crash finds the claw-backs it already made (one query of the run's
    /// partition). They are recorded 100 to a request; each debit is on its own unit's account; the credits into the
    /// issuance account go in batches, not one contended write each; and the statuses 100 to a request again.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, Tonnes>> ClawBackAsync(int year, IReadOnlyList<(string Uscc, Tonnes Owed)> owed, Actor actor, CancellationToken cancellationToken)
    {
        if (owed.Count == 0) return new Dictionary<string, Tonnes>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
        var earlier = await transactions.FindByPrefixAsync(LedgerIds.ClawBack(year, ""), cancellationToken);
        var recorded = new ConcurrentDictionary<string, (LedgerTransaction Transaction, ETag ETag)>(StringComparer.Ordinal);
        var recording = new ConcurrentBag<LedgerTransaction>();
        await Parallel.ForEachAsync(owed, parallel, async (o, ct) =>
        {
            var id = LedgerIds.ClawBack(year, o.Uscc);
            if (earlier.TryGetValue(id, out var before))
            {
                recorded[id] = IsClawBack(before.Transaction, year, o.Uscc) ? before : throw new LedgerIdTakenException(id);
                return;
            }
            var held = await ledger.BalanceAsync(o.Uscc, Products.Bea, year, null, ct);
            var take = held < o.Owed ? held : o.Owed;
            if (take.Value > 0)
            {
                recording.Add(new LedgerTransaction(id, TransactionType.Reclaim, o.Uscc, RegulatorAccounts.Issuance, Products.Bea, year, take, null,
                    $"Art. 14 verified allocation {year}: claw-back", actor.Id, clock.GetUtcNow()));
            }
        });
        // One recorded meanwhile by another run: its quantity was what the unit held then, and it stands.
        foreach (var (id, row) in await transactions.RecordManyAsync(recording, (found, asked) => IsClawBack(found, year, asked.From!), cancellationToken)) recorded[id] = row;

        var pending = recorded.Values.Where(r => !r.Transaction.IsSettled).ToList();
        var debited = new ConcurrentBag<(LedgerTransaction Transaction, ETag ETag)>();
        await Parallel.ForEachAsync(pending, parallel, async (r, ct) =>
        {
            if ((await ledger.ApplyAsync(r.Transaction, Leg.Debit, null, ct)).Applied) debited.Add(r);
        });
        var credited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in debited.Select(d => d.Transaction).Chunk(LedgerStore.DebitsPerBatch))
        {
            credited.UnionWith((await ledger.CreditManyAsync(chunk, cancellationToken)).Select(t => t.TransactionId));
        }
        // Both legs applied: completed. Debited, not credited (a closed issuance account): the credit is asked, refunded
        // if refused. Not debited (suspended, or holdings moved away since they were read): the refusal found, rejected.
        var debitedIds = debited.Select(d => d.Transaction.TransactionId).ToHashSet(StringComparer.Ordinal);
        var settled = (await Task.WhenAll(
            settlement.SettleManyAsync([.. debited.Where(d => credited.Contains(d.Transaction.TransactionId))], cancellationToken, debitApplied: true, creditApplied: true),
            settlement.SettleManyAsync([.. debited.Where(d => !credited.Contains(d.Transaction.TransactionId))], cancellationToken, debitApplied: true),
            settlement.SettleManyAsync([.. pending.Where(p => !debitedIds.Contains(p.Transaction.TransactionId))], cancellationToken)))
            .SelectMany(s => s).Concat(recorded.Values.Where(r => r.Transaction.IsSettled).Select(r => r.Transaction));
        // A suspended account, or holdings moved away since they were read: nothing is taken, all of it is carried.
        return settled.ToDictionary(t => t.From!, t => t.State == TransactionState.Completed ? t.Quantity : Tonnes.Zero, StringComparer.Ordinal);
    }

    /// <summary>Whether the transaction is the unit's claw-back of the year: its quantity was what the unit held then; everything else says whether it is one at all.</summary>
    private static bool IsClawBack(LedgerTransaction recorded, int year, string uscc) =>
        recorded is { Type: TransactionType.Reclaim, To: RegulatorAccounts.Issuance, Product: Products.Bea } && recorded.From == uscc && recorded.Vintage == year;

    public static string TopUpTransactionId(int year, string uscc) => LedgerIds.VerifiedAllocation(year, uscc);
}
