using BeijingEts.Domain.Trading;

namespace BeijingEts.Functions.Market;

/// <summary>What matching some commands produced: trades, orders whose state changed, and what to unfreeze.</summary>
public sealed class MatchEffects
{
    public List<Trade> Trades { get; } = [];
    public Dictionary<string, MarketOrder> Orders { get; } = new(StringComparer.Ordinal);
    public List<SettlementMessage> Releases { get; } = [];
}

/// <summary>
/// One book's matching state, rebuilt by replaying its commands in sequence: the order book plus, for each order, what
/// is needed to describe it and to unfreeze what it no longer needs. Pure and deterministic: replaying the same
/// commands gives the same trades, the same ids and the same releases, which is what makes a crash harmless.
/// </summary>
public sealed class BookState(BookKey key, MarketSettings settings)
{
    private sealed class Tracked(MarketOrder order)
    {
        public MarketOrder Order { get; set; } = order;
        /// <summary>A buy order's payments so far: turnover and buyer fee of each fill, in fen.</summary>
        public long PaidFen { get; set; }
    }

    private readonly OrderBook _book = new();
    private readonly Dictionary<string, Tracked> _orders = new(StringComparer.Ordinal);

    /// <summary>
    /// Cancels that came before their order's placement (a cancel asked while the placing request was still freezing):
    /// the order is cancelled as it arrives, before it can trade, and gives back all it froze. One whose order never
    /// comes (its freeze was refused) stays here, a few bytes, for as long as the book is kept.
    /// </summary>
    private readonly Dictionary<string, BookCommand> _cancelledFirst = new(StringComparer.Ordinal);

    public BookKey Key { get; } = key;
    public long MatchedThrough { get; private set; }

    /// <summary>The last trade's price and Beijing date, and the close of the trading day before that date.</summary>
    public decimal? LastPrice { get; private set; }
    public DateOnly? LastDate { get; private set; }
    public decimal? PreviousClose { get; private set; }

    public void Apply(BookCommand command, MatchEffects? effects)
    {
        if (command.Sequence <= MatchedThrough) return;
        MatchedThrough = command.Sequence;
        if (command.Kind == BookCommandKind.Cancel)
        {
            if (!_orders.TryGetValue(command.OrderId, out var cancelled))
            {
                _cancelledFirst.TryAdd(command.OrderId, command);
                return;
            }
            if (cancelled.Order.IsFinal) return;
            var remaining = _book.Cancel(command.OrderId);
            Finish(cancelled, OrderStatus.Cancelled, command.Reason ?? "cancelled", command.At, effects, remaining);
            return;
        }
        var order = new MarketOrder(command.OrderId, command.ClientOrderId ?? "", command.Participant, Key.Product, Key.Vintage, command.Side, command.Price,
            command.Quantity, 0, OrderStatus.Open, null, command.FrozenFen, command.At, command.At, command.Sequence, command.Lot);
        var tracked = new Tracked(order);
        _orders[order.OrderId] = tracked;
        if (_cancelledFirst.Remove(order.OrderId, out var cancel) && cancel.Participant == order.Participant)
        {
            Finish(tracked, OrderStatus.Cancelled, cancel.Reason ?? "cancelled", cancel.At, effects, order.Quantity);
            return;
        }
        var result = _book.Submit(new BookOrder(order.OrderId, order.Participant, order.Side, order.Price, order.Quantity));
        if (result.Outcome == MatchOutcome.RejectedSelfMatch)
        {
            Finish(tracked, OrderStatus.Rejected, "It would have traded with your own resting order (no self-trades, Art. 34); nothing traded.", command.At, effects, order.Quantity);
            return;
        }
        for (var i = 0; i < result.Fills.Count; i++)
        {
            var fill = result.Fills[i];
            var trade = new Trade(BookJournal.TradeId(command.Sequence, i + 1), Key.Product, Key.Vintage, fill.Buyer, fill.Seller, fill.BuyOrderId, fill.SellOrderId,
                fill.Price, fill.Quantity, settings.BuyerFeeFen(fill.Price, fill.Quantity), settings.SellerFeeFen(fill.Price, fill.Quantity), command.At,
                Lot: _orders[fill.SellOrderId].Order.Lot);
            effects?.Trades.Add(trade);
            var date = Lists.BeijingTime.DateOf(command.At);
            if (LastDate is { } last && last < date) PreviousClose = LastPrice;
            (LastPrice, LastDate) = (fill.Price, date);
            _orders[fill.BuyOrderId].PaidFen += trade.TurnoverFen + trade.BuyerFeeFen;
            Fill(_orders[fill.MakerOrderId], fill.Quantity, command.At, effects);
            Fill(tracked, fill.Quantity, command.At, effects);
        }
        if (result.Fills.Count == 0) Changed(tracked, effects);
    }

    public BookDepth Depth(DateTimeOffset? at) => new(Key.Product, Key.Vintage,
        _book.Depth(Side.Buy, 10).Select(l => new DepthLevel(l.Price, l.Quantity, l.Orders)).ToList(),
        _book.Depth(Side.Sell, 10).Select(l => new DepthLevel(l.Price, l.Quantity, l.Orders)).ToList(), MatchedThrough, at, LastPrice, LastDate, PreviousClose);

    private void Fill(Tracked tracked, long quantity, DateTimeOffset at, MatchEffects? effects)
    {
        var filled = tracked.Order.Filled + quantity;
        if (filled == tracked.Order.Quantity)
        {
            tracked.Order = tracked.Order with { Filled = filled };
            Finish(tracked, OrderStatus.Filled, null, at, effects, 0);
            return;
        }
        tracked.Order = tracked.Order with { Filled = filled, Status = OrderStatus.PartiallyFilled, UpdatedAt = at };
        Changed(tracked, effects);
    }

    /// <summary>The order is done: a buy order gives back the funds it did not spend, a sell order the tonnes it did not sell.</summary>
    private void Finish(Tracked tracked, OrderStatus status, string? reason, DateTimeOffset at, MatchEffects? effects, long unsoldTonnes)
    {
        tracked.Order = tracked.Order with { Status = status, Reason = reason, UpdatedAt = at };
        Changed(tracked, effects);
        var order = tracked.Order;
        if (order.Side == Side.Buy && order.FrozenFen - tracked.PaidFen > 0)
        {
            effects?.Releases.Add(SettlementMessage.ReleaseFunds(Key, order.OrderId, order.Participant, order.FrozenFen - tracked.PaidFen));
        }
        if (order.Side == Side.Sell && unsoldTonnes > 0)
        {
            effects?.Releases.Add(SettlementMessage.ReleaseHoldings(Key, order.OrderId, order.Participant, unsoldTonnes, order.Lot));
        }
    }

    private static void Changed(Tracked tracked, MatchEffects? effects)
    {
        if (effects is not null) effects.Orders[tracked.Order.OrderId] = tracked.Order;
    }
}
