using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Trading;

namespace BeijingEts.Functions.Market;

/// <summary>
/// Clears auctions whose bidding has closed, in three steps each recorded before the next, so a crash anywhere is
/// finished by the next run with the same outcome: (1) the auction row goes to Clearing under its ETag, which turns
/// away any bid still on its way; (2) bids not yet confirmed are rejected (and any funds they froze go back), the
/// uniform price and awards are worked out from the rest, their trades written to the book's journal and the auction
/// row set Cleared with them; (3) each award settles (allowances from the reserve, the price and buyer's fee from the
/// bidder's frozen funds, the proceeds to the reserve's funds account), what each bid froze and did not spend goes
/// back, and the auction is Settled.
/// </summary>
public sealed class AuctionHouse(AuctionStore auctions, BookJournal journal, MarketSettlement settlement, MarketSettings settings,
    TimeProvider clock, ILogger<AuctionHouse> logger)
{
    /// <summary>The funds account the reserve's money is in: auction proceeds come in, buy-backs are paid out.</summary>
    public const string ReserveFunds = RegulatorAccounts.Reserve;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var worked = 0;
        foreach (var listed in await auctions.ListAsync(cancellationToken))
        {
            if (listed.Status == AuctionStatus.Settled || (listed.Status == AuctionStatus.Open && listed.ClosesAt > now)) continue;
            try
            {
                await FinishAsync(listed.Id, cancellationToken);
                worked++;
            }
            catch (Exception error) when (error is RequestFailedException or InvalidOperationException)
            {
                // One auction that cannot settle (the ledger refused a leg) does not hold up the others; the next run tries again.
                logger.LogError(error, "Auction {Auction} could not be finished; it is tried again on the next run", listed.Id);
            }
        }
        return worked;
    }

    /// <summary>Takes one closed auction as far as it goes: clearing, cleared, settled.</summary>
    public async Task FinishAsync(string auctionId, CancellationToken cancellationToken)
    {
        if (await auctions.FindAsync(auctionId, cancellationToken) is not var (auction, etag)) return;
        if (auction.Status == AuctionStatus.Open && auction.ClosesAt > clock.GetUtcNow()) return; // still taking bids
        if (auction.Status == AuctionStatus.Open)
        {
            var clearing = auction with { Status = AuctionStatus.Clearing };
            if (!await auctions.TryReplaceAsync(clearing, etag, cancellationToken)) return; // a bid got in first, or another instance: the next run
            (auction, etag) = (await auctions.FindAsync(auctionId, cancellationToken))!.Value;
        }
        if (auction.Status == AuctionStatus.Clearing)
        {
            var cleared = await ClearAsync(auction, cancellationToken);
            if (!await auctions.TryReplaceAsync(cleared, etag, cancellationToken)) return;
            logger.LogInformation("Auction {Auction} cleared at {Price}: {Sold} t sold, {Unsold} t stay in the reserve", auction.Id, cleared.ClearingPrice, cleared.Sold, cleared.Unsold);
            (auction, etag) = (await auctions.FindAsync(auctionId, cancellationToken))!.Value;
        }
        if (auction.Status == AuctionStatus.Cleared)
        {
            await SettleAsync(auction, cancellationToken);
            await auctions.TryReplaceAsync(auction with { Status = AuctionStatus.Settled }, etag, cancellationToken);
        }
    }

    private async Task<PaidAuction> ClearAsync(PaidAuction auction, CancellationToken cancellationToken)
    {
        var active = new List<AuctionBid>();
        foreach (var (bid, bidETag) in await auctions.BidsAsync(auction.Id, cancellationToken))
        {
            if (bid.Status == BidStatus.Active) active.Add(bid);
            if (bid.Status != BidStatus.Pending) continue;
            // Its request froze no funds before the close (or is still freezing them): out, and whatever it froze goes back.
            var rejected = bid with { Status = BidStatus.Rejected, Reason = "Its funds were not frozen before the auction closed.", UpdatedAt = clock.GetUtcNow() };
            if (await auctions.TryRejectBidAsync(rejected, bidETag, cancellationToken)) await ReleaseUnspentAsync(rejected, 0, cancellationToken);
            else if ((await auctions.FindBidAsync(auction.Id, bid.BidId, cancellationToken))?.Bid is { Status: BidStatus.Active } confirmed) active.Add(confirmed);
        }
        var result = AuctionClearing.Clear(active.Select(b => new SealedBid(b.BidId, b.Bidder, b.Price, b.Quantity, b.PlacedAt)).ToList(), auction.Quantity, auction.ReservePrice);
        var awards = result.Awards.Select((a, i) => new AuctionAwardRecord(a.BidId, a.Bidder, a.Quantity, PaidAuction.TradeId(auction.Id, i + 1))).ToList();
        var now = clock.GetUtcNow();
        // The reserve sells: only the buyer pays a fee.
        var trades = awards.Select(a => new Trade(a.TradeId, auction.Product, auction.Vintage, a.Bidder, RegulatorAccounts.Reserve, a.BidId, auction.Id,
            result.Price!.Value, a.Quantity, settings.BuyerFeeFen(result.Price.Value, a.Quantity), 0, now, TradeMethods.Auction)).ToList();
        // Written before the auction row says Cleared; a crash before that clears again and writes the same rows over them.
        await journal.WriteTradesAsync(auction.Book, trades, cancellationToken);
        return auction with { Status = AuctionStatus.Cleared, ClearingPrice = result.Price, Sold = result.Sold, Unsold = result.Unsold, Awards = awards, ClearedAt = now };
    }

    private async Task SettleAsync(PaidAuction auction, CancellationToken cancellationToken)
    {
        var awards = (auction.Awards ?? []).ToDictionary(a => a.BidId, StringComparer.Ordinal);
        foreach (var award in awards.Values) await settlement.SettleTradeAsync(auction.Book, award.TradeId, cancellationToken);
        foreach (var (bid, _) in await auctions.BidsAsync(auction.Id, cancellationToken))
        {
            if (bid.Status is BidStatus.Rejected or BidStatus.Pending)
            {
                // A bid turned away at the close whose request froze funds after all: they go back.
                await ReleaseUnspentAsync(bid, 0, cancellationToken);
                continue;
            }
            var won = awards.GetValueOrDefault(bid.BidId);
            var spent = 0L;
            if (won is not null)
            {
                var trade = (await journal.FindTradeAsync(auction.Book, won.TradeId, cancellationToken))!;
                spent = trade.TurnoverFen + trade.BuyerFeeFen;
            }
            await ReleaseUnspentAsync(bid, spent, cancellationToken);
            await auctions.PutBidAsync(bid with
            {
                Status = won is null ? BidStatus.Unsuccessful : BidStatus.Awarded,
                Awarded = won?.Quantity ?? 0,
                Reason = won is null ? $"Not awarded: the auction cleared at {auction.ClearingPrice?.ToString() ?? "no price"}." : null,
                UpdatedAt = clock.GetUtcNow(),
            }, cancellationToken);
        }
    }

    /// <summary>Gives back what the bid froze and did not spend (nothing if its freeze never happened).</summary>
    private Task ReleaseUnspentAsync(AuctionBid bid, long spentFen, CancellationToken cancellationToken) =>
        settlement.ReleaseFrozenFundsAsync(bid.Bidder, bid.FreezeId, bid.ReleaseId, bid.FrozenFen - spentFen, bid.BidId, cancellationToken);
}

/// <summary>Every 10 seconds: auctions whose bidding has closed are cleared at one price and settled (Art. 19-20).</summary>
[TimerTrigger("*/10 * * * * *")]
public sealed class ClearAuctions(AuctionHouse house) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => house.RunAsync(cancellationToken);
}
