using BeijingEts.Domain.Trading;
using Xunit;

namespace BeijingEts.Domain.Tests;

public sealed class OrderBookTests
{
    private static BookOrder Buy(string id, string who, decimal price, long quantity) => new(id, who, Side.Buy, price, quantity);
    private static BookOrder Sell(string id, string who, decimal price, long quantity) => new(id, who, Side.Sell, price, quantity);

    [Fact]
    public void ABuyTakesTheLowestAskFirst_AtTheRestingPrice()
    {
        var book = new OrderBook();
        book.Submit(Sell("s1", "A", 80.00m, 10));
        book.Submit(Sell("s2", "B", 79.50m, 10));

        var result = book.Submit(Buy("b1", "C", 81.00m, 15));

        Assert.Equal(MatchOutcome.Accepted, result.Outcome);
        Assert.Equal([("s2", 79.50m, 10L), ("s1", 80.00m, 5L)], result.Fills.Select(f => (f.MakerOrderId, f.Price, f.Quantity)));
        Assert.All(result.Fills, f => Assert.Equal(("C", "b1"), (f.Buyer, f.BuyOrderId)));
        Assert.Equal(0, result.Resting);
        Assert.Equal(5, book.RemainingOf("s1"));
    }

    [Fact]
    public void WithinAPrice_TheEarlierOrderTradesFirst()
    {
        var book = new OrderBook();
        book.Submit(Buy("b1", "A", 70m, 5));
        book.Submit(Buy("b2", "B", 70m, 5));

        var result = book.Submit(Sell("s1", "C", 70m, 7));

        Assert.Equal([("b1", 5L), ("b2", 2L)], result.Fills.Select(f => (f.MakerOrderId, f.Quantity)));
        Assert.Equal(3, book.RemainingOf("b2"));
    }

    [Fact]
    public void AnOrderThatDoesNotCross_RestsWhole()
    {
        var book = new OrderBook();
        book.Submit(Sell("s1", "A", 80m, 10));

        var result = book.Submit(Buy("b1", "B", 79.99m, 4));

        Assert.Empty(result.Fills);
        Assert.Equal(4, result.Resting);
        Assert.Equal([(79.99m, 4L, 1)], book.Depth(Side.Buy));
        Assert.Equal([(80m, 10L, 1)], book.Depth(Side.Sell));
    }

    [Fact]
    public void AnOrderThatWouldMeetItsOwnParticipant_IsRefusedWhole_AndTheBookIsUnchanged()
    {
        var book = new OrderBook();
        book.Submit(Sell("s1", "B", 79m, 3));
        book.Submit(Sell("s2", "A", 80m, 10));

        var result = book.Submit(Buy("b1", "A", 81m, 5)); // 3 from B, then A's own ask

        Assert.Equal(MatchOutcome.RejectedSelfMatch, result.Outcome);
        Assert.Empty(result.Fills);
        Assert.Equal(3, book.RemainingOf("s1"));
        Assert.Equal(0, book.RemainingOf("b1"));
    }

    [Fact]
    public void AnOwnOrderBeyondWhatWouldTrade_DoesNotStopTheOrder()
    {
        var book = new OrderBook();
        book.Submit(Sell("s1", "B", 79m, 5));
        book.Submit(Sell("s2", "A", 80m, 10));

        var result = book.Submit(Buy("b1", "A", 81m, 5));

        Assert.Equal(MatchOutcome.Accepted, result.Outcome);
        Assert.Equal([("s1", 5L)], result.Fills.Select(f => (f.MakerOrderId, f.Quantity)));
    }

    [Fact]
    public void Cancel_ReturnsWhatWasStillOpen_Once()
    {
        var book = new OrderBook();
        book.Submit(Sell("s1", "A", 80m, 10));
        book.Submit(Buy("b1", "B", 80m, 4));

        Assert.Equal(6, book.Cancel("s1"));
        Assert.Equal(0, book.Cancel("s1"));
        Assert.Empty(book.Depth(Side.Sell));
    }

    [Fact]
    public void RandomOrders_NeverLeaveTheBookCrossed_AndEveryTonneBoughtIsSold()
    {
        var random = new Random(20240501);
        var book = new OrderBook();
        var placed = new Dictionary<string, BookOrder>();
        var filled = new Dictionary<string, long>();
        for (var i = 0; i < 5000; i++)
        {
            if (i % 7 == 6 && placed.Count > 0)
            {
                book.Cancel(placed.Keys.ElementAt(random.Next(placed.Count)));
                continue;
            }
            var order = new BookOrder($"o{i}", $"p{random.Next(8)}", random.Next(2) == 0 ? Side.Buy : Side.Sell, 60m + random.Next(0, 400) / 100m, random.Next(1, 50));
            placed[order.OrderId] = order;
            var result = book.Submit(order);
            foreach (var fill in result.Fills)
            {
                Assert.NotEqual(fill.Buyer, fill.Seller);
                Assert.True(placed[fill.BuyOrderId].Price >= fill.Price && placed[fill.SellOrderId].Price <= fill.Price);
                filled[fill.BuyOrderId] = filled.GetValueOrDefault(fill.BuyOrderId) + fill.Quantity;
                filled[fill.SellOrderId] = filled.GetValueOrDefault(fill.SellOrderId) + fill.Quantity;
            }
            var (bids, asks) = (book.Depth(Side.Buy, 1), book.Depth(Side.Sell, 1));
            if (bids.Count > 0 && asks.Count > 0) Assert.True(bids[0].Price < asks[0].Price, $"crossed after {order.OrderId}");
        }
        Assert.Equal(
            filled.Where(f => placed[f.Key].Side == Side.Buy).Sum(f => f.Value),
            filled.Where(f => placed[f.Key].Side == Side.Sell).Sum(f => f.Value));
        Assert.All(filled, f => Assert.True(f.Value <= placed[f.Key].Quantity));
    }

    [Theory]
    [InlineData("80.00", true)]
    [InlineData("80.01", true)]
    [InlineData("80.005", false)]
    [InlineData("0", false)]
    [InlineData("-1.00", false)]
    public void Prices_AreOnTheFenTick(string price, bool onTick) =>
        Assert.Equal(onTick, PriceRules.OnTick(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void TheBand_IsTradablePricesWithinThePercent()
    {
        Assert.Equal((64.00m, 96.00m), PriceRules.Band(80m, 20m));
        Assert.Equal((65.60m, 98.38m), PriceRules.Band(81.99m, 20m)); // 65.592 up, 98.388 down
    }

    [Fact]
    public void Fees_RoundHalfUpToTheFen()
    {
        Assert.Equal(1.20m, PriceRules.Fee(800m, 0.15m));
        Assert.Equal(0.01m, PriceRules.Fee(3.34m, 0.15m)); // 0.00501
        Assert.Equal(0.00m, PriceRules.Fee(3.33m, 0.15m)); // 0.004995
    }
}
