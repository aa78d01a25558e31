using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Market;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Supervision;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Allocation;

/// <summary>Why a key unit asks for its year's allocation to change (Art. 11).</summary>
public static class AdjustmentReasons
{
    public const string LineClosed = "line-closed";
    public const string LineAdded = "line-added";
    public const string ActivityChange = "activity-change";
    public const string MergerOrSplit = "merger-or-split";
    public const string Other = "other";
    /// <summary>A new or expanded project gone into operation (Art. 10 para 2): filed by the platform from its carbon assessment.</summary>
    public const string NewEntrant = "new-entrant";

    public static readonly string[] All = [LineClosed, LineAdded, ActivityChange, MergerOrSplit, NewEntrant, Other];
}

public static class AdjustmentOutcomes
{
    public const string Granted = "granted";
    public const string Partial = "partial";
    public const string Refused = "refused";

    public static readonly string[] All = [Granted, Partial, Refused];
}

/// <summary>
/// The regulator's decision on an application. <see cref="QuantityT"/> is signed like the request (more or less
/// allocation); for an increase, <see cref="PaidT"/> is what the ledger paid from the reserve (0 if it refused); for a
/// decrease, <see cref="ReclaimedT"/> is what was taken back into the reserve now and <see cref="CarriedT"/> what the unit
/// could not cover, deducted from its next verified allocation.
/// </summary>
public sealed record AdjustmentDecision(string Outcome, long QuantityT, string Reasons, string ProposedBy, string DecidedBy, DateTimeOffset DecidedAt, string? TransactionId = null,
    long? ReclaimedT = null, long? CarriedT = null, int? CarriedToYear = null, long? PaidT = null);

/// <summary>
/// A key unit's application to adjust its year's allocation (Art. 11): why, what it asks for (positive: more; negative:
/// less), and the evidence; decided prudently and strictly (谨慎、从严) by the regulator, with a second's approval for a
/// change that moves tonnes (Art. 12).
/// </summary>
public sealed record AdjustmentApplication(string Id, int Year, string Uscc, string District, string Reason, string Explanation, long RequestedT, string Status,
    DateTimeOffset FiledAt, string FiledBy, AdjustmentDecision? Decision = null)
{
    public const string Submitted = "submitted";
}

/// <summary>The adjustments table: one partition, a row per application keyed by its id; year, unit, status and district as columns for the query.</summary>
public sealed class AdjustmentStore(StorageClients storage)
{
    private KeyedDocuments<AdjustmentApplication> Rows => new(storage.Table(StorageNames.Tables.Adjustments), "adjustment", a => a.Id,
        a => [("Year", a.Year), ("Uscc", a.Uscc), ("Status", a.Status), ("District", a.District)]);

    public Task<(AdjustmentApplication Application, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken) => Rows.FindAsync(id, cancellationToken);

    public Task AddAsync(AdjustmentApplication application, CancellationToken cancellationToken) => Rows.AddAsync(application, cancellationToken);

    /// <summary>Adds the application unless its id is taken (one filed by the platform under a fixed id); false then.</summary>
    public Task<bool> TryAddAsync(AdjustmentApplication application, CancellationToken cancellationToken) => Rows.TryAddAsync(application, cancellationToken);

    /// <summary>Writes the application if it is unchanged since read; false when someone else changed it first.</summary>
    public Task<bool> TryReplaceAsync(AdjustmentApplication application, ETag etag, CancellationToken cancellationToken) => Rows.TryReplaceAsync(application, etag, cancellationToken);

    public async Task<IReadOnlyList<AdjustmentApplication>> ListAsync(int? year, string? uscc, string? status, string? district, CancellationToken cancellationToken) =>
        (await Rows.QueryAsync([("Year", year), ("Uscc", uscc), ("Status", status), ("District", district)], cancellationToken)).OrderBy(a => a.FiledAt).ToList();
}

/// <summary>
/// The adjustment reserve of a year (调节量, Art. 12) as allocation decisions have used it: its ceiling (the plan's
/// reserve, at most 5% of the cap), what adjustments and upheld objections paid out of it, what decreases took back
/// into it, and what is left; with what the reserve account holds and what open auctions offer from it.
/// </summary>
public sealed record ReserveView(int Year, long CeilingT, long PaidOutT, long ReclaimedT, long LeftT, long HeldT, long OfferedInAuctionsT, long SoughtInBuyBacksT);

public sealed class ReserveLedger(AllocationPlanStore plans, AdjustmentStore adjustments, ObjectionStore objections, ReserveBudget budget)
{
    public async Task<ReserveView?> ReadAsync(int year, CancellationToken cancellationToken)
    {
        var plan = await plans.FindAsync(year, cancellationToken);
        if (plan is null) return null;
        var decided = (await adjustments.ListAsync(year, null, null, null, cancellationToken)).Where(a => a.Decision?.TransactionId is not null).ToList();
        var paid = decided.Sum(a => a.Decision!.PaidT ?? 0)
            + (await objections.ListAsync(cancellationToken)).Where(o => o.Year == year && o.AdjustmentTransactionId is not null).Sum(o => o.Adjustment!.Value.Value);
        var reclaimed = decided.Sum(a => a.Decision!.ReclaimedT ?? 0);
        var standing = await budget.ReadAsync(year, cancellationToken);
        return new ReserveView(year, plan.Reserve.Value, paid, reclaimed, plan.Reserve.Value - paid + reclaimed, standing.Held, standing.OfferedInAuctions, standing.SoughtInBuyBacks);
    }
}

/// <summary>
/// Carries out a decision on an application, once: a refusal is recorded; a granted increase is paid from the reserve
/// (never past what it holds free of open auctions, nor past the plan's reserve); a granted decrease is reclaimed into
/// the reserve as far as the unit holds the year's allowances, the rest deducted from its next verified allocation.
/// </summary>
public sealed class AdjustmentDecisions(AdjustmentStore adjustments, ReserveLedger reserve, ReserveBudget budget, LedgerStore ledger, LedgerSubmitter submitter,
    LedgerSettlement settlement, TransactionStore transactions, CaseStore deductions, CaseService cases, NoticeOutbox notices, AuditLog audit, TimeProvider clock)
{
    public sealed record Request(string Outcome, long? Quantity, string Reasons);

    /// <summary>What the decision would fail on now, before it is proposed: the reserve's room for an increase.</summary>
    public async Task<string?> RefusalAsync(AdjustmentApplication application, long quantity, CancellationToken cancellationToken)
    {
        if (quantity <= 0) return null;
        var view = await reserve.ReadAsync(application.Year, cancellationToken);
        if (view is null) return $"There is no {application.Year} allocation plan, so no reserve to pay from.";
        if (quantity > view.LeftT) return $"The {application.Year} reserve has {view.LeftT} t left of its {view.CeilingT} t (Art. 12); {quantity} t cannot be paid from it.";
        var free = view.HeldT - view.OfferedInAuctionsT;
        return quantity > free ? $"The reserve account holds {free} t of BEA {application.Year} not offered in open auctions; {quantity} t cannot be paid now (fund the reserve first)." : null;
    }

    public async Task<(AdjustmentApplication? Decided, string? Refusal)> DecideAsync(string id, Request request, Actor proposer, Actor approver, CancellationToken cancellationToken)
    {
        if (await adjustments.FindAsync(id, cancellationToken) is not var (application, etag)) return (null, $"No adjustment application {id}.");
        var quantity = request.Outcome == AdjustmentOutcomes.Refused ? 0 : request.Quantity ?? 0;
        if (application.Status != AdjustmentApplication.Submitted)
        {
            // Decided already: the same decision again finishes what a cut-off execution left (each step is idempotent); another is refused.
            if (application is not { Decision: { } d } || application.Status != request.Outcome || d.QuantityT != quantity) return (null, $"Application {id} was already decided ({application.Status}).");
            await notices.PublishAsync(Notice(application), cancellationToken);
            if (d.TransactionId is null) return (application, null);
            if (d.QuantityT > 0) return (d.PaidT is null ? await PayAsync(application, cancellationToken) : application, null);
            return (d.ReclaimedT is null ? await ReclaimAsync(application, cancellationToken) : application, null);
        }
        var now = clock.GetUtcNow();
        var decision = new AdjustmentDecision(request.Outcome, quantity, request.Reasons.Trim(), proposer.Id, approver.Id, now);
        if (quantity == 0)
        {
            return await SaveAsync(application, etag, application with { Status = request.Outcome, Decision = decision }, approver, cancellationToken);
        }

        string? refusal = null;
        AdjustmentApplication? decided = null;
        // The reserve is checked and committed under its lock, as auctions and buy-backs do, so two decisions cannot spend the same tonnes.
        var locked = await budget.CommitAsync(application.Year, async () =>
        {
            if (quantity > 0 && await RefusalAsync(application, quantity, cancellationToken) is { } noRoom)
            {
                refusal = noRoom;
                return null;
            }
            var txId = LedgerIds.AdjustmentPayout(application.Id);
            var withTx = application with { Status = request.Outcome, Decision = decision with { TransactionId = txId } };
            (decided, refusal) = await SaveAsync(application, etag, withTx, approver, cancellationToken);
            if (decided is null) return null;
            decided = quantity > 0 ? await PayAsync(decided, cancellationToken) : await ReclaimAsync(decided, cancellationToken);
            return null;
        }, cancellationToken);
        if (locked is not null) return (null, locked.ProblemDetails.Detail);
        return (decided, refusal);
    }

    private async Task<(AdjustmentApplication?, string?)> SaveAsync(AdjustmentApplication before, ETag etag, AdjustmentApplication after, Actor actor, CancellationToken cancellationToken)
    {
        if (!await adjustments.TryReplaceAsync(after, etag, cancellationToken)) return (null, $"Application {before.Id} was decided by someone else just now.");
        await audit.RecordAsync(actor, $"adjustment.{after.Status}", $"adjustments/{after.Id}", before, after, cancellationToken);
        await notices.PublishAsync(Notice(after), cancellationToken);
        return (after, null);
    }

    private static NoticeDraft Notice(AdjustmentApplication decided) =>
        NoticeTemplates.AdjustmentDecided(decided.Uscc, decided.Id, decided.Year, decided.Status, decided.Decision!.QuantityT);

    /// <summary>Pays the increase from the reserve and settles it here, under the reserve's lock, recording what the ledger paid.</summary>
    private async Task<AdjustmentApplication> PayAsync(AdjustmentApplication decided, CancellationToken cancellationToken)
    {
        var d = decided.Decision!;
        var tx = new LedgerTransaction(d.TransactionId!, TransactionType.Allocation, RegulatorAccounts.Reserve, decided.Uscc, Products.Bea, decided.Year,
            new Tonnes(d.QuantityT), null, $"Art. 11-12 allocation adjustment {decided.Id}", d.DecidedBy, d.DecidedAt);
        var (_, recorded) = await submitter.SubmitAsync(tx, cancellationToken, settledByCaller: true);
        await settlement.SettleAsync(recorded.TransactionId, cancellationToken);
        var paid = (await transactions.FindSameAsync(recorded, cancellationToken))?.State == TransactionState.Completed ? d.QuantityT : 0;
        return await RecordAsync(decided with { Decision = d with { PaidT = paid } }, "adjustment.paid", cancellationToken);
    }

    /// <summary>Writes what the execution came to onto the application (again on a concurrent write), with its audit row.</summary>
    private async Task<AdjustmentApplication> RecordAsync(AdjustmentApplication settled, string action, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (current, etag) = (await adjustments.FindAsync(settled.Id, cancellationToken))!.Value;
            var next = current with { Decision = settled.Decision };
            if (!await adjustments.TryReplaceAsync(next, etag, cancellationToken)) continue;
            await audit.RecordAsync(Actor.System("allocation-adjustment"), action, $"adjustments/{settled.Id}", current, next, cancellationToken);
            return next;
        }
    }

    /// <summary>Takes back what the unit holds of the year's BEA, up to the decrease; what it cannot cover now comes off its next verified allocation.</summary>
    private async Task<AdjustmentApplication> ReclaimAsync(AdjustmentApplication decided, CancellationToken cancellationToken)
    {
        var d = decided.Decision!;
        var owed = -d.QuantityT;
        var held = (await ledger.BalanceAsync(decided.Uscc, Products.Bea, decided.Year, null, cancellationToken)).Value;
        var take = Math.Min(held, owed);
        var taken = 0L;
        if (take > 0)
        {
            var tx = new LedgerTransaction(d.TransactionId!, TransactionType.Reclaim, decided.Uscc, RegulatorAccounts.Reserve, Products.Bea, decided.Year, new Tonnes(take), null,
                $"Art. 11-12 allocation adjustment {decided.Id}", d.DecidedBy, d.DecidedAt);
            var (_, recorded) = await submitter.SubmitAsync(tx, cancellationToken, settledByCaller: true);
            await settlement.SettleAsync(recorded.TransactionId, cancellationToken);
            taken = (await transactions.FindSameAsync(recorded, cancellationToken))?.State == TransactionState.Completed ? take : 0;
        }
        var carried = owed - taken;
        int? toYear = null;
        if (carried > 0)
        {
            toYear = await cases.DeductionYearAsync(decided.Uscc, decided.Year - 1, cancellationToken);
            await deductions.PutDeductionAsync(new AllocationDeduction(decided.Id, decided.Uscc, decided.Year, toYear.Value, new Tonnes(carried)), cancellationToken);
        }
        return await RecordAsync(decided with { Decision = d with { ReclaimedT = taken, CarriedT = carried, CarriedToYear = toYear } }, "adjustment.reclaimed", cancellationToken);
    }
}

/// <summary>A decision that moves tonnes, once a second regulator approves it.</summary>
public sealed class AdjustmentApproval(AdjustmentDecisions decisions) : ApprovableAction<AdjustmentApproval.Payload>
{
    public const string KindName = "allocation.adjustment";

    public sealed record Payload(string ApplicationId, AdjustmentDecisions.Request Decision, Actor Proposer);

    public override string Kind => KindName;

    protected override async Task<ActionOutcome> ExecuteAsync(Domain.Approvals.Proposal proposal, Payload payload, Actor approver, CancellationToken cancellationToken) =>
        await decisions.DecideAsync(payload.ApplicationId, payload.Decision, payload.Proposer, approver, cancellationToken) switch
        {
            ({ } decided, _) => ActionOutcome.Executed(decided.Decision!.QuantityT > 0
                ? $"application {decided.Id} {decided.Status}: {decided.Decision.QuantityT} t paid from the {decided.Year} reserve as transaction {decided.Decision.TransactionId}"
                : $"application {decided.Id} {decided.Status}: {decided.Decision.ReclaimedT} t reclaimed into the reserve, {decided.Decision.CarriedT} t carried to {decided.Decision.CarriedToYear?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no year"}"),
            (_, var refusal) => ActionOutcome.Failed(refusal!),
        };
}
