using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Trading;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Market;

/// <summary>
/// One piece of settlement work (market-settlement queue): a trade to settle, or what an ended order gives back.
/// Every id it leads to is derived from the trade or order id, so doing it twice does it once.
/// </summary>
public sealed record SettlementMessage(string Kind, string Book, string Id, string? Participant = null, long Amount = 0, string? Lot = null)
{
    public const string TradeKind = "trade";
    public const string ReleaseFundsKind = "release-funds";
    public const string ReleaseHoldingsKind = "release-holdings";

    public static SettlementMessage Settle(BookKey book, string tradeId) => new(TradeKind, book.ToString(), tradeId);

    public static SettlementMessage ReleaseFunds(BookKey book, string orderId, string participant, long fen) => new(ReleaseFundsKind, book.ToString(), orderId, participant, fen);

    public static SettlementMessage ReleaseHoldings(BookKey book, string orderId, string participant, long tonnes, string? lot) => new(ReleaseHoldingsKind, book.ToString(), orderId, participant, tonnes, lot);
}

/// <summary>
/// Settles fills on the conserving ledger and the funds accounts (Art. 18): the tonnes move from the seller's frozen
/// account to the buyer, the buyer pays turnover and fee out of frozen funds, the seller receives the turnover and pays
/// its fee, the exchange receives both fees. Each leg is its own idempotent movement, so a crash anywhere in between
/// is finished by the message coming back, and nothing is paid or moved twice.
/// </summary>
public sealed class MarketSettlement(BookJournal journal, FundsStore funds, LedgerSubmitter submitter, LedgerSettlement ledger, TimeProvider clock)
{
    /// <summary>The exchange's own funds account, where fees go. It is kept in <see cref="FeeShards"/> parts, so trades settling at once do not all write one row.</summary>
    public const string ExchangeAccount = "EXCHANGE";

    public const int FeeShards = 8;

    /// <summary>The parts of the exchange's account (and the account itself, which held the fees before it was split).</summary>
    public static IEnumerable<string> ExchangeAccounts => [ExchangeAccount, .. Enumerable.Range(0, FeeShards).Select(i => $"{ExchangeAccount}-{i}")];

    /// <summary>The part of the exchange's account a trade's fees go to: always the same one for the same trade.</summary>
    public static string ExchangeFeeAccount(string tradeTransactionId) =>
        $"{ExchangeAccount}-{tradeTransactionId.Aggregate(2166136261u, (hash, c) => unchecked((hash ^ c) * 16777619u)) % FeeShards}"; // FNV-1a: stable across processes

    /// <summary>The id of the funds a buy order sets aside; its holdings (a sell order) go under <see cref="LedgerIds.OrderFreeze"/>.</summary>
    public static string FreezeTransactionId(string orderId) => $"order-{orderId}-freeze";

    public async Task RunAsync(SettlementMessage message, CancellationToken cancellationToken)
    {
        if (!BookKey.TryParse(message.Book, out var book)) throw new InvalidOperationException($"Unknown book {message.Book}.");
        switch (message.Kind)
        {
            case SettlementMessage.TradeKind:
                await SettleTradeAsync(book, message.Id, cancellationToken);
                break;
            case SettlementMessage.ReleaseFundsKind:
                await MoveFundsAsync(message.Participant!, new FundsMovement($"order-{message.Id}-release", FundsMovementKind.Release, message.Amount, message.Id, clock.GetUtcNow()), cancellationToken);
                break;
            case SettlementMessage.ReleaseHoldingsKind:
                await ReleaseHoldingsAsync(LedgerIds.OrderRelease(message.Id), message.Participant!, book, message.Amount, message.Lot, $"order {message.Id} ended", cancellationToken);
                break;
            default:
                throw new InvalidOperationException($"Unknown settlement kind {message.Kind}.");
        }
    }

    /// <summary>Settles one recorded trade now (every leg once, however often it is asked).</summary>
    public async Task SettleTradeAsync(BookKey book, string tradeId, CancellationToken cancellationToken)
    {
        var trade = await journal.FindTradeAsync(book, tradeId, cancellationToken) ?? throw new InvalidOperationException($"Trade {tradeId} of {book} is not recorded.");
        // The funds legs keep their own ids (the funds accounts are not the ledger); the tonnes move under the platform's.
        var id = $"trade-{book}-{tradeId}";
        var now = clock.GetUtcNow();
        // An auction sells from the reserve itself (Art. 12); every other trade from the seller's frozen holdings.
        var (type, from) = trade.MethodName == TradeMethods.Auction
            ? (TransactionType.Allocation, RegulatorAccounts.Reserve)
            : (TransactionType.Transfer, FrozenAccounts.For(trade.Seller));
        await MoveTonnesAsync(new LedgerTransaction(LedgerIds.Trade(book.ToString(), tradeId), type, from, trade.Buyer, trade.Product, trade.Vintage,
            new Tonnes(trade.Quantity), trade.Lot, $"{trade.MethodName} trade {tradeId} at {trade.Price} yuan", "system:market", now), cancellationToken);
        await MoveFundsAsync(trade.Buyer, new FundsMovement($"{id}-pay", FundsMovementKind.Pay, trade.TurnoverFen + trade.BuyerFeeFen, id, now), cancellationToken);
        // The seller's proceeds and its fee, as two journal lines in one write.
        List<FundsMovement> seller = [new($"{id}-proceeds", FundsMovementKind.Receive, trade.TurnoverFen, id, now)];
        if (trade.SellerFeeFen > 0) seller.Add(new($"{id}-fee", FundsMovementKind.Charge, trade.SellerFeeFen, id, now));
        await MoveFundsAsync(trade.Seller, seller, cancellationToken);
        if (trade.BuyerFeeFen + trade.SellerFeeFen > 0)
        {
            await MoveFundsAsync(ExchangeFeeAccount(id), [new FundsMovement($"{id}-fees", FundsMovementKind.Receive, trade.BuyerFeeFen + trade.SellerFeeFen, id, now)], cancellationToken);
        }
        await journal.MarkSettledAsync(book, tradeId, cancellationToken);
    }

    public Task MoveFundsAsync(string participant, FundsMovement movement, CancellationToken cancellationToken) =>
        MoveFundsAsync(participant, [movement], cancellationToken);

    private async Task MoveFundsAsync(string participant, IReadOnlyList<FundsMovement> movements, CancellationToken cancellationToken)
    {
        var (outcome, _, refusal) = await funds.ApplyAllAsync(participant, movements, cancellationToken);
        // Frozen funds were set aside for exactly this, so a refusal means the books disagree: retry, then poison, loudly.
        if (outcome is FundsOutcome.Refused or FundsOutcome.IdTaken)
        {
            throw new InvalidOperationException($"Funds movement {movements[0].TransactionId} on {participant} was {outcome}: {refusal}");
        }
    }

    /// <summary>Sets the holder's tonnes aside in its frozen account, once under the id; null when frozen, else the ledger's reason it could not.</summary>
    public async Task<string?> FreezeHoldingsAsync(string transactionId, string holder, BookKey book, long tonnes, string? lot, string reference, CancellationToken cancellationToken)
    {
        var tx = new LedgerTransaction(transactionId, TransactionType.Freeze, holder, FrozenAccounts.For(holder), book.Product, book.Vintage, new Tonnes(tonnes), lot,
            reference, "system:market", clock.GetUtcNow());
        var settled = await MoveTonnesAsync(tx, cancellationToken, refusalIsAnError: false);
        return settled.State == TransactionState.Rejected ? settled.Reason : null;
    }

    /// <summary>
    /// Gives <paramref name="fen"/> of what the freeze <paramref name="freezeId"/> set aside back to available, once
    /// under <paramref name="releaseId"/>; nothing when that freeze never happened or nothing is left to give back.
    /// </summary>
    public async Task ReleaseFrozenFundsAsync(string holder, string freezeId, string releaseId, long fen, string reference, CancellationToken cancellationToken)
    {
        if (fen <= 0 || await funds.FindAsync(holder, freezeId, cancellationToken) is null) return;
        await MoveFundsAsync(holder, new FundsMovement(releaseId, FundsMovementKind.Release, fen, reference, clock.GetUtcNow()), cancellationToken);
    }

    /// <summary>Gives frozen tonnes back to their holder, once under the id.</summary>
    public Task ReleaseHoldingsAsync(string transactionId, string holder, BookKey book, long tonnes, string? lot, string reference, CancellationToken cancellationToken) =>
        MoveTonnesAsync(new LedgerTransaction(transactionId, TransactionType.Release, FrozenAccounts.For(holder), holder, book.Product, book.Vintage, new Tonnes(tonnes), lot,
            reference, "system:market", clock.GetUtcNow()), cancellationToken);

    /// <summary>Records the ledger movement and settles it now; throws if the ledger refused it.</summary>
    public async Task<LedgerTransaction> MoveTonnesAsync(LedgerTransaction tx, CancellationToken cancellationToken, bool refusalIsAnError = true)
    {
        var (outcome, recorded) = await submitter.SubmitAsync(tx, cancellationToken, settledByCaller: true);
        if (outcome == SubmitOutcome.IdTaken) throw new InvalidOperationException($"Ledger transaction id {tx.TransactionId} is taken by another transaction.");
        var settled = recorded.IsSettled ? recorded : await ledger.SettleAsync(tx.TransactionId, cancellationToken) ?? throw new InvalidOperationException($"Ledger transaction {tx.TransactionId} vanished.");
        if (refusalIsAnError && settled.State == TransactionState.Rejected)
        {
            throw new InvalidOperationException($"Ledger transaction {tx.TransactionId} was rejected: {settled.Reason}");
        }
        return settled;
    }
}

/// <summary>The market-settlement queue: trades to settle and ended orders' releases.</summary>
[QueueTrigger(StorageNames.Queues.MarketSettlement)]
public sealed class SettleMarket(MarketSettlement settlement) : IQueueFunction
{
    public Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken) =>
        settlement.RunAsync(message.Read<SettlementMessage>(), cancellationToken);
}
