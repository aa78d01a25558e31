namespace BeijingEts.Domain.Trading;

/// <summary>A sealed bid in a paid auction (有偿竞价): a limit price and the tonnes wanted at it or below.</summary>
public sealed record SealedBid(string BidId, string Bidder, decimal Price, long Quantity, DateTimeOffset At);

public sealed record AuctionAward(string BidId, string Bidder, long Quantity);

/// <summary>The outcome: one price for every award, what was sold, and what stays in the reserve.</summary>
public sealed record AuctionResult(decimal? Price, IReadOnlyList<AuctionAward> Awards, long Sold, long Unsold);

/// <summary>
/// Uniform-price clearing (Art. 19-20): the clearing price is the highest price at which the bids at or above it
/// cover the supply, never below the reserve price; everyone pays it. Bids above it are filled whole; bids at it share
/// what is left pro rata to their size, in whole tonnes, the odd tonnes going to the largest remainders (then the
/// earlier bid). If all the valid bids together want less than the supply, they are all filled at the lowest valid
/// bid's price and the rest stays in the reserve.
/// </summary>
public static class AuctionClearing
{
    public static AuctionResult Clear(IReadOnlyList<SealedBid> bids, long supply, decimal reservePrice)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(supply);
        var valid = bids.Where(b => b.Price >= reservePrice && b.Quantity > 0).ToList();
        if (valid.Count == 0) return new AuctionResult(null, [], 0, supply);

        var levels = valid.GroupBy(b => b.Price).OrderByDescending(g => g.Key).ToList();
        var awards = new List<AuctionAward>();
        var left = supply;
        foreach (var level in levels)
        {
            var wanted = level.Sum(b => b.Quantity);
            if (wanted <= left)
            {
                awards.AddRange(level.Select(b => new AuctionAward(b.BidId, b.Bidder, b.Quantity)));
                left -= wanted;
                if (left == 0) return new AuctionResult(level.Key, awards, supply, 0);
                continue;
            }
            awards.AddRange(ProRata(level.ToList(), wanted, left));
            return new AuctionResult(level.Key, awards, supply, 0);
        }
        // Demand fell short of the supply: everyone is filled, at the lowest price bid.
        return new AuctionResult(levels[^1].Key, awards, supply - left, left);
    }

    /// <summary>Shares <paramref name="available"/> tonnes among bids wanting <paramref name="wanted"/> in all, in proportion, in whole tonnes.</summary>
    private static IEnumerable<AuctionAward> ProRata(List<SealedBid> level, long wanted, long available)
    {
        var shares = level.Select(b =>
        {
            var exact = (decimal)b.Quantity * available;
            return (Bid: b, Whole: (long)(exact / wanted), Remainder: exact % wanted);
        }).ToList();
        var odd = available - shares.Sum(s => s.Whole);
        var extra = shares.OrderByDescending(s => s.Remainder).ThenBy(s => s.Bid.At).ThenBy(s => s.Bid.BidId, StringComparer.Ordinal)
            .Take((int)odd).Select(s => s.Bid.BidId).ToHashSet(StringComparer.Ordinal);
        return shares.Select(s => new AuctionAward(s.Bid.BidId, s.Bid.Bidder, s.Whole + (extra.Contains(s.Bid.BidId) ? 1 : 0))).Where(a => a.Quantity > 0);
    }
}
