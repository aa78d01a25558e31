using BeijingEts.Domain.Trading;
using Xunit;

namespace BeijingEts.Domain.Tests;

public sealed class AuctionClearingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 2, 0, 0, TimeSpan.Zero);

    private static SealedBid Bid(string id, string who, decimal price, long quantity, int second = 0) => new(id, who, price, quantity, T0.AddSeconds(second));

    [Fact]
    public void TheClearingPrice_IsTheHighestAtWhichDemandCoversSupply_AndEveryonePaysIt()
    {
        var result = AuctionClearing.Clear([Bid("a", "A", 60m, 400), Bid("b", "B", 58m, 400), Bid("c", "C", 55m, 500), Bid("d", "D", 52m, 900)], supply: 1000, reservePrice: 50m);

        Assert.Equal(55m, result.Price);
        Assert.Equal([("a", 400L), ("b", 400L), ("c", 200L)], result.Awards.Select(a => (a.BidId, a.Quantity)));
        Assert.Equal((1000L, 0L), (result.Sold, result.Unsold));
    }

    [Fact]
    public void BidsAtTheMargin_ShareWhatIsLeftProRata_InWholeTonnes()
    {
        // 100 t left at 55.00 for 300 t of bids: 1/3 each of 100 is 33.33, so one gets the odd tonne (the earliest, remainders being equal).
        var result = AuctionClearing.Clear([Bid("a", "A", 60m, 900), Bid("b", "B", 55m, 100, 2), Bid("c", "C", 55m, 100, 1), Bid("d", "D", 55m, 100, 3)], supply: 1000, reservePrice: 50m);

        Assert.Equal(55m, result.Price);
        Assert.Equal(1000, result.Awards.Sum(a => a.Quantity));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 900, ["b"] = 33, ["c"] = 34, ["d"] = 33 }, result.Awards.ToDictionary(a => a.BidId, a => a.Quantity));
    }

    [Fact]
    public void ProRata_FollowsSize_AndTheLargestRemainderTakesTheOddTonne()
    {
        // 10 t among 30 t and 70 t of bids at one price: 3 and 7 exactly.
        var exact = AuctionClearing.Clear([Bid("a", "A", 55m, 30), Bid("b", "B", 55m, 70)], supply: 10, reservePrice: 50m);
        Assert.Equal([("a", 3L), ("b", 7L)], exact.Awards.Select(a => (a.BidId, a.Quantity)));
        // 5 t among 3 t and 6 t: 1.67 and 3.33 → 2 and 3.
        var odd = AuctionClearing.Clear([Bid("a", "A", 55m, 3), Bid("b", "B", 55m, 6)], supply: 5, reservePrice: 50m);
        Assert.Equal([("a", 2L), ("b", 3L)], odd.Awards.Select(a => (a.BidId, a.Quantity)));
    }

    [Fact]
    public void ShortDemand_FillsEveryValidBid_AtTheLowestValidPrice_AndBidsUnderTheReserveGetNothing()
    {
        var result = AuctionClearing.Clear([Bid("a", "A", 60m, 300), Bid("b", "B", 51m, 200), Bid("c", "C", 49.99m, 5000)], supply: 1000, reservePrice: 50m);

        Assert.Equal(51m, result.Price);
        Assert.Equal([("a", 300L), ("b", 200L)], result.Awards.Select(a => (a.BidId, a.Quantity)));
        Assert.Equal((500L, 500L), (result.Sold, result.Unsold));
    }

    [Fact]
    public void NoValidBid_SellsNothing()
    {
        var result = AuctionClearing.Clear([Bid("a", "A", 40m, 300)], supply: 1000, reservePrice: 50m);

        Assert.Null(result.Price);
        Assert.Empty(result.Awards);
        Assert.Equal((0L, 1000L), (result.Sold, result.Unsold));
    }
}
