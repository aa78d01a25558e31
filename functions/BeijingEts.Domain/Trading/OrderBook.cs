namespace BeijingEts.Domain.Trading;

public enum Side { Buy, Sell }

/// <summary>An order as the matcher sees it: who, which side, a limit price in yuan, a whole number of tonnes.</summary>
public sealed record BookOrder(string OrderId, string Participant, Side Side, decimal Price, long Quantity);

/// <summary>One fill: the resting (maker) order's price, the quantity both sides traded.</summary>
public sealed record Fill(string TakerOrderId, string MakerOrderId, string Buyer, string Seller, string BuyOrderId, string SellOrderId, decimal Price, long Quantity);

public enum MatchOutcome
{
    /// <summary>Matched as far as it could; any remainder rests in the book.</summary>
    Accepted,
    /// <summary>It would have traded with its own participant's resting order: refused whole, nothing traded (Art. 34).</summary>
    RejectedSelfMatch,
}

public sealed record MatchResult(MatchOutcome Outcome, IReadOnlyList<Fill> Fills, long Resting);

/// <summary>
/// Continuous matching for one product and vintage (公开竞价, Art. 19): price-time priority, each trade at the resting
/// order's price. An order that would trade against its own participant is refused before anything trades, so a
/// participant can never be both sides of a trade. Deterministic: the same commands in the same order give the same
/// fills, which is how the app rebuilds a book after a restart.
/// </summary>
public sealed class OrderBook
{
    private sealed class Resting(BookOrder order)
    {
        public BookOrder Order { get; } = order;
        public long Remaining { get; set; } = order.Quantity;
    }

    // Best first: highest bid, lowest ask; within a price, arrival order.
    private readonly SortedDictionary<decimal, LinkedList<Resting>> _bids = new(Comparer<decimal>.Create((a, b) => b.CompareTo(a)));
    private readonly SortedDictionary<decimal, LinkedList<Resting>> _asks = new();
    private readonly Dictionary<string, (Resting Entry, LinkedListNode<Resting> Node)> _byId = new(StringComparer.Ordinal);

    public int OpenOrders => _byId.Count;

    public MatchResult Submit(BookOrder order)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(order.Quantity);
        if (_byId.ContainsKey(order.OrderId)) throw new InvalidOperationException($"Order {order.OrderId} is already in the book.");
        var opposite = order.Side == Side.Buy ? _asks : _bids;
        if (WouldMeetOwnOrder(order, opposite)) return new MatchResult(MatchOutcome.RejectedSelfMatch, [], 0);

        var fills = new List<Fill>();
        var remaining = order.Quantity;
        while (remaining > 0 && opposite.Count > 0)
        {
            var (price, level) = opposite.First();
            if (!Crosses(order, price)) break;
            var maker = level.First!.Value;
            var quantity = Math.Min(remaining, maker.Remaining);
            var (buy, sell) = order.Side == Side.Buy ? (order, maker.Order) : (maker.Order, order);
            fills.Add(new Fill(order.OrderId, maker.Order.OrderId, buy.Participant, sell.Participant, buy.OrderId, sell.OrderId, price, quantity));
            remaining -= quantity;
            maker.Remaining -= quantity;
            if (maker.Remaining == 0) Remove(maker.Order.OrderId);
        }
        if (remaining > 0) Add(order, remaining);
        return new MatchResult(MatchOutcome.Accepted, fills, remaining);
    }

    /// <summary>Takes an order's remainder out of the book; how many tonnes were still open, 0 if none.</summary>
    public long Cancel(string orderId)
    {
        if (!_byId.TryGetValue(orderId, out var found)) return 0;
        var remaining = found.Entry.Remaining;
        Remove(orderId);
        return remaining;
    }

    public long RemainingOf(string orderId) => _byId.TryGetValue(orderId, out var found) ? found.Entry.Remaining : 0;

    /// <summary>Aggregated depth, best price first: (price, tonnes, orders) per level.</summary>
    public IReadOnlyList<(decimal Price, long Quantity, int Orders)> Depth(Side side, int levels = int.MaxValue) =>
        (side == Side.Buy ? _bids : _asks).Take(levels).Select(l => (l.Key, l.Value.Sum(o => o.Remaining), l.Value.Count)).ToList();

    private static bool Crosses(BookOrder order, decimal restingPrice) =>
        order.Side == Side.Buy ? order.Price >= restingPrice : order.Price <= restingPrice;

    /// <summary>Walks the orders this one would trade with, in priority order, looking for its own participant's.</summary>
    private static bool WouldMeetOwnOrder(BookOrder order, SortedDictionary<decimal, LinkedList<Resting>> opposite)
    {
        var remaining = order.Quantity;
        foreach (var (price, level) in opposite)
        {
            if (!Crosses(order, price)) return false;
            foreach (var resting in level)
            {
                if (resting.Order.Participant == order.Participant) return true;
                remaining -= resting.Remaining;
                if (remaining <= 0) return false;
            }
        }
        return false;
    }

    private void Add(BookOrder order, long remaining)
    {
        var side = order.Side == Side.Buy ? _bids : _asks;
        if (!side.TryGetValue(order.Price, out var level)) side[order.Price] = level = new LinkedList<Resting>();
        var entry = new Resting(order) { Remaining = remaining };
        _byId[order.OrderId] = (entry, level.AddLast(entry));
    }

    private void Remove(string orderId)
    {
        var (entry, node) = _byId[orderId];
        var side = entry.Order.Side == Side.Buy ? _bids : _asks;
        var level = side[entry.Order.Price];
        level.Remove(node);
        if (level.Count == 0) side.Remove(entry.Order.Price);
        _byId.Remove(orderId);
    }
}
