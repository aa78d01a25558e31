using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Trading;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Market;

/// <summary>
/// Takes a recorded order the rest of the way into its book: freeze what it needs (once, under an id derived from the
/// order), mark it open, append it to the book's sequence and ask for matching. Every step can be repeated, so the
/// placing request, a retry with the same clientOrderId and the <see cref="ResumeOrderPlacements"/> sweep after a
/// crash all end in the same place.
/// </summary>
public sealed class OrderPlacement(OrderStore orders, BookJournal journal, FundsStore funds, MarketSettlement settlement, MarketMatcher matcher, TimeProvider clock)
{
    /// <summary>
    /// The order as placed (open, or rejected with the refusal), or a null order when another writer changed it
    /// meanwhile (it is being placed by someone else). An order is recorded open (<paramref name="recordedNow"/>: by
    /// this request, just now), and only a refusal writes it again; an order recorded pending (before orders were
    /// recorded open), or continued by a retry or the sweep, is written once more under the ETag it was read with
    /// before it enters the book, so of two requests continuing it only one goes on.
    /// </summary>
    public async Task<(MarketOrder? Order, string? Refusal)> ContinueAsync(MarketOrder order, ETag etag, CancellationToken cancellationToken, bool recordedNow = false)
    {
        // Not in the book as the matcher records it yet: freeze (once, under ids derived from the order; again is a no-op).
        if (order.Status == OrderStatus.Pending || (order.Status == OrderStatus.Open && order.Sequence is null))
        {
            // A retry of an order in the book already (the matcher has not written it yet): placed, nothing to do again. It
            // would otherwise write it under the ETag it read, and fail with a 409 should the matcher write it first.
            if (!recordedNow && order.Status == OrderStatus.Open && await journal.HasAsync(order.Book, BookCommandKind.Place, order.OrderId, cancellationToken))
            {
                await matcher.RequestAsync(order.Book, cancellationToken);
                return (order, null);
            }
            var refusal = await FreezeAsync(order, cancellationToken);
            if (refusal is not null)
            {
                var rejected = order with { Status = OrderStatus.Rejected, Reason = refusal, UpdatedAt = clock.GetUtcNow() };
                await orders.TryReplaceAsync(rejected, etag, cancellationToken);
                return (rejected, refusal);
            }
            if (!recordedNow)
            {
                order = order with { Status = OrderStatus.Open, UpdatedAt = clock.GetUtcNow() };
                // Written before the order enters the book: from then on only the matcher writes it.
                if (!await orders.TryReplaceAsync(order, etag, cancellationToken)) return (null, null);
            }
        }
        if (order.Status != OrderStatus.Open) return (order, null);
        await journal.AppendAsync(order.Book, new BookCommand(0, BookCommandKind.Place, order.OrderId, order.Participant, order.PlacedAt, order.ClientOrderId,
            order.Side, order.Price, order.Quantity, order.FrozenFen, Lot: order.Lot), cancellationToken);
        await matcher.RequestAsync(order.Book, cancellationToken);
        return (order, null);
    }

    /// <summary>Freezes what the order needs, once (ids derived from the order); null when frozen, else why not.</summary>
    private async Task<string?> FreezeAsync(MarketOrder order, CancellationToken cancellationToken)
    {
        if (order.Side == Side.Buy)
        {
            var movement = new FundsMovement(MarketSettlement.FreezeTransactionId(order.OrderId), FundsMovementKind.Freeze, order.FrozenFen, order.OrderId, clock.GetUtcNow());
            // Nothing read but the balance: a freeze made before (a retry, the sweep) makes its row's add fail and is found then.
            var (outcome, refusal) = await funds.ApplyEachAsync(order.Participant, [movement], cancellationToken);
            return outcome == FundsOutcome.Refused ? $"Insufficient funds for this buy order ({Money.ToYuan(order.FrozenFen):0.00} yuan with the fee): {refusal}" : null;
        }
        var refused = await settlement.FreezeHoldingsAsync(LedgerIds.OrderFreeze(order.OrderId), order.Participant, order.Book, order.Quantity, order.Lot,
            $"sell order {order.OrderId}", cancellationToken);
        return refused is null ? null : $"The holdings cannot be frozen for this sell order: {refused}";
    }

    /// <summary>Orders a crash left pending, or open but never appended to their book (frozen or not), placed more than a minute ago: placed now.</summary>
    public async Task<int> ResumeAsync(CancellationToken cancellationToken)
    {
        var resumed = 0;
        foreach (var (order, etag) in await orders.UnsequencedAsync(clock.GetUtcNow() - TimeSpan.FromMinutes(1), cancellationToken))
        {
            // Open and in the book already: only the matcher has not reached it yet (asking again is harmless).
            if (order.Status == OrderStatus.Open && await journal.HasAsync(order.Book, BookCommandKind.Place, order.OrderId, cancellationToken))
            {
                await matcher.RequestAsync(order.Book, cancellationToken);
                continue;
            }
            await ContinueAsync(order, etag, cancellationToken);
            resumed++;
        }
        return resumed;
    }
}

/// <summary>Every minute: finishes placing orders whose request stopped part-way (a crash, a lost connection), so nothing stays frozen for an order that is in no book.</summary>
[TimerTrigger("30 * * * * *")]
public sealed class ResumeOrderPlacements(OrderPlacement placement) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => placement.ResumeAsync(cancellationToken);
}
