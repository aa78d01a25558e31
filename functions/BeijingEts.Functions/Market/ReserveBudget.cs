using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Market;

/// <summary>
/// Where a vintage's adjustment reserve (Art. 12) stands for market intervention (Art. 20): its ceiling (the plan's
/// reserve, at most 5% of the cap), what the reserve account holds, what open auctions offer from it and what open
/// buy-backs still mean to buy into it.
/// </summary>
public sealed record ReserveStanding(int Vintage, long? Ceiling, long Held, long OfferedInAuctions, long SoughtInBuyBacks)
{
    /// <summary>What a new auction may still offer.</summary>
    public long AvailableToAuction => Held - OfferedInAuctions;

    /// <summary>What a new buy-back may still buy before the reserve would pass its ceiling.</summary>
    public long RoomForBuyBacks => Math.Max(0, (Ceiling ?? 0) - Held - SoughtInBuyBacks);
}

public sealed class ReserveBudget(AllocationPlanStore plans, LedgerStore ledger, AuctionStore auctions, OrderStore orders, StorageClients storage)
{
    /// <summary>
    /// Runs <paramref name="work"/> (a check of the standing and what it commits: an auction, a buy-back) as the only
    /// instance doing so for the vintage, so two at once cannot both count the same tonnes. Its refusal, if any; a
    /// conflict when the vintage's lock stayed taken.
    /// </summary>
    public async Task<ProblemHttpResult?> CommitAsync(int vintage, Func<Task<ProblemHttpResult?>> work, CancellationToken cancellationToken)
    {
        var (held, refusal) = await MarketLocks.WhileHoldingAsync(storage.Container(StorageNames.Containers.MarketLocks), $"reserve-{vintage}", work, cancellationToken);
        return held ? refusal : Errors.Problems.Conflict($"Another auction or buy-back of {vintage} is being checked against the reserve; ask again.");
    }

    public async Task<ReserveStanding> ReadAsync(int vintage, CancellationToken cancellationToken)
    {
        var plan = await plans.FindAsync(vintage, cancellationToken);
        var held = await ledger.BalanceAsync(RegulatorAccounts.Reserve, Products.Bea, vintage, null, cancellationToken);
        var offered = (await auctions.ListAsync(cancellationToken)).Where(a => a.Vintage == vintage).Sum(a => a.Committed);
        var sought = (await orders.ListAsync(RegulatorAccounts.Reserve, null, cancellationToken))
            .Where(o => o.Vintage == vintage && !o.IsFinal).Sum(o => o.Quantity - o.Filled);
        return new ReserveStanding(vintage, plan?.Reserve.Value, held.Value, offered, sought);
    }
}
