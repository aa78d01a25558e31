using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Trading;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Market;

/// <summary>
/// One piece of settlement work (market-settlement queue): a trade to settle, or what an ended order gives back.
/// Every id it leads to is derived from the trade or order id, so doing it twice does it once.
/// </summary>
public sealed record SettlementMessage(string Kind, string Book, string Id, string? Participant = null, long Amount = 0, string? Lot = null, string? LastId = null,
    IReadOnlyList<SettlementMessage>? Releases = null)
{
    public const string TradeKind = "trade";
    public const string RoundKind = "round";
    public const string ReleaseFundsKind = "release-funds";
    public const string ReleaseHoldingsKind = "release-holdings";

    public static SettlementMessage Settle(BookKey book, string tradeId) => new(TradeKind, book.ToString(), tradeId);

    /// <summary>
    /// One matching round: its trades (the first through the last, when it made any) and the releases of the orders it
    /// ended, settled together.
    /// </summary>
    public static SettlementMessage SettleRound(BookKey book, (string First, string Last)? trades, IReadOnlyList<SettlementMessage> releases) =>
        new(RoundKind, book.ToString(), trades?.First ?? "", LastId: trades?.Last, Releases: releases.Count == 0 ? null : releases);

    /// <summary>A round with neither trades nor releases: nothing to send.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => Kind == RoundKind && LastId is null && (Releases is null || Releases.Count == 0);

    /// <summary>Whether the message fits a queue message (64 KiB, base64-encoded) with room to spare.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Fits => JsonSerializer.SerializeToUtf8Bytes(this, JsonSerializerOptions.Web).Length < 40_000;

    public static SettlementMessage ReleaseFunds(BookKey book, string orderId, string participant, long fen) => new(ReleaseFundsKind, book.ToString(), orderId, participant, fen);

    public static SettlementMessage ReleaseHoldings(BookKey book, string orderId, string participant, long tonnes, string? lot) => new(ReleaseHoldingsKind, book.ToString(), orderId, participant, tonnes, lot);
}

/// <summary>
/// Settles fills on the conserving ledger and the funds accounts (Art. 18): the tonnes move from the seller's frozen
/// account to the buyer, the buyer pays turnover and fee out of frozen funds, the seller receives the turnover and pays
/// its fee, the exchange receives both fees. Each leg is its own idempotent movement, so a crash anywhere in between
/// is finished by the message coming back, and nothing is paid or moved twice.
/// </summary>
public sealed class MarketSettlement(BookJournal journal, FundsStore funds, LedgerSubmitter submitter, LedgerSettlement ledger, TransactionStore transactions,
    StorageClients storage, TimeProvider clock, ILogger<MarketSettlement> logger)
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
            case SettlementMessage.RoundKind:
                if (message.LastId is { } last) await SettleRoundAsync(book, message.Id, last, cancellationToken);
                if (message.Releases is { Count: > 0 } releases) await ReleaseAllAsync(book, releases, cancellationToken);
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
        var id = FundsId(book, trade);
        var now = clock.GetUtcNow();
        await MoveTonnesAsync(TonnesOf(book, trade, now), cancellationToken);
        // Each party's movements in one write (the seller's proceeds and its fee as two journal lines).
        foreach (var party in FundsOf(trade, id, now).GroupBy(f => f.Participant))
        {
            await MoveEachAsync(party.Key == ExchangeAccount ? ExchangeFeeAccount(id) : party.Key, party.Select(f => f.Movement).ToList(), cancellationToken);
        }
        await journal.MarkSettledAsync(book, [tradeId], cancellationToken);
    }

    /// <summary>
    /// Settles a matching round's trades in one pass: every trade's tonnes move on its own (the ledger commits the legs
    /// on one account together), then each participant's funds movements of the round (the buyer's payments, the
    /// seller's proceeds and fees) go in one write per participant, the round's fees in one write to one part of the
    /// exchange's account, and the trades are marked settled together. The movements keep the ids and amounts they
    /// have when a trade settles alone, so the statements read the same; settling the round again, or a part of it
    /// after a crash, moves nothing twice (the trades still unsettled are always among those of the first attempt).
    /// </summary>
    public async Task SettleRoundAsync(BookKey book, string firstTradeId, string lastTradeId, CancellationToken cancellationToken)
    {
        var unsettled = (await journal.TradesBetweenAsync(book, firstTradeId, lastTradeId, cancellationToken)).Where(t => !t.Settled).Select(t => t.Trade).ToList();
        if (unsettled.Count == 0) return;
        var now = clock.GetUtcNow();
        var trades = await MoveRoundTonnesAsync(book, unsettled, now, cancellationToken);

        // Each participant's movements in one write; the fees to the part of the exchange's account each trade's go to.
        var movements = new Dictionary<string, List<FundsMovement>>(StringComparer.Ordinal);
        foreach (var trade in trades)
        {
            var id = FundsId(book, trade);
            foreach (var (participant, movement) in FundsOf(trade, id, now))
            {
                var account = participant == ExchangeAccount ? ExchangeFeeAccount(id) : participant;
                if (!movements.TryGetValue(account, out var list)) movements[account] = list = [];
                list.Add(movement);
            }
        }
        // Every account's movements are tried, whichever fails; a failure is thrown after, and the message comes back.
        await Task.WhenAll(movements.Select(each => MoveEachAsync(each.Key, each.Value, cancellationToken)));
        await journal.MarkSettledAsync(book, trades.Select(t => t.TradeId).ToList(), cancellationToken);
    }

    /// <summary>
    /// Moves the tonnes of a round's trades; the trades whose tonnes moved. The trades' transactions share their book's
    /// partition (<see cref="LedgerIds.TradeBook"/>), so they are recorded 100 to a request, their legs decided as each
    /// alone would be (the ledger commits the legs on one account together), and their statuses written 100 to a
    /// request. A trade whose tonnes cannot move now (a closed buyer, an account too busy, its id taken) goes on as a
    /// message of its own, to be retried (and, if it keeps failing, set aside) alone; the round's other trades settle.
    /// </summary>
    private async Task<List<Trade>> MoveRoundTonnesAsync(BookKey book, IReadOnlyList<Trade> unsettled, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var tonnes = unsettled.ToDictionary(t => LedgerIds.Trade(book.ToString(), t.TradeId), t => TonnesOf(book, t, now), StringComparer.Ordinal);
        var failed = new System.Collections.Concurrent.ConcurrentBag<Trade>();
        IReadOnlyList<LedgerTransaction> settled = [];
        try
        {
            // Recorded before (a round settled again): read and kept; an id holding another transaction is taken.
            var (recorded, _) = await transactions.TryRecordManyAsync(tonnes.Values, (found, asked) => found.ContentHash() == asked.ContentHash(), cancellationToken);
            foreach (var trade in unsettled.Where(t => !recorded.ContainsKey(LedgerIds.Trade(book.ToString(), t.TradeId)))) failed.Add(trade);
            settled = await ledger.SettleManyAsync([.. recorded.Values], cancellationToken);
        }
        catch (Exception error) when (error is InvalidOperationException or RequestFailedException)
        {
            // One account too busy fails the batch: each trade is settled on its own instead, as the round was before.
            logger.LogWarning(error, "The tonnes of a round of {Book} did not move together; each trade is moved on its own", book);
            failed.Clear();
            var each = await Task.WhenAll(unsettled.Select(async trade =>
            {
                try
                {
                    return await MoveTonnesAsync(TonnesOf(book, trade, now), cancellationToken);
                }
                catch (Exception one) when (one is InvalidOperationException or RequestFailedException)
                {
                    logger.LogWarning(one, "Trade {Trade} of {Book} did not settle with its round", trade.TradeId, book);
                    failed.Add(trade);
                    return null;
                }
            }));
            settled = each.OfType<LedgerTransaction>().ToList();
        }
        var completed = settled.Where(t => t.State == TransactionState.Completed).Select(t => t.TransactionId).ToHashSet(StringComparer.Ordinal);
        foreach (var trade in unsettled)
        {
            if (completed.Contains(LedgerIds.Trade(book.ToString(), trade.TradeId)) || failed.Contains(trade)) continue;
            failed.Add(trade); // rejected, or never recorded: on its own, where a refusal is an error that is retried and then set aside
        }
        foreach (var trade in failed)
        {
            logger.LogWarning("Trade {Trade} of {Book} did not settle with its round; it is settled on its own", trade.TradeId, book);
            await storage.Queue(StorageNames.Queues.MarketSettlement).SendMessageAsync(JsonSerializer.Serialize(SettlementMessage.Settle(book, trade.TradeId), JsonSerializerOptions.Web), cancellationToken);
        }
        return unsettled.Where(t => completed.Contains(LedgerIds.Trade(book.ToString(), t.TradeId))).ToList();
    }

    /// <summary>
    /// What a round's ended orders give back: each participant's funds in one write, the holdings each on its own ledger
    /// movement (the ledger commits those on one account together). The ids are the ones a release alone has.
    /// </summary>
    private async Task ReleaseAllAsync(BookKey book, IReadOnlyList<SettlementMessage> releases, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
        var funds = releases.Where(r => r.Kind == SettlementMessage.ReleaseFundsKind).GroupBy(r => r.Participant!, StringComparer.Ordinal);
        await Parallel.ForEachAsync(funds, parallel, async (each, ct) => await MoveEachAsync(each.Key,
            each.Select(r => new FundsMovement($"order-{r.Id}-release", FundsMovementKind.Release, r.Amount, r.Id, now)).ToList(), ct));
        await Parallel.ForEachAsync(releases.Where(r => r.Kind == SettlementMessage.ReleaseHoldingsKind), parallel, async (r, ct) =>
            await ReleaseHoldingsAsync(LedgerIds.OrderRelease(r.Id), r.Participant!, book, r.Amount, r.Lot, $"order {r.Id} ended", ct));
    }

    /// <summary>The id a trade's funds movements are named from.</summary>
    private static string FundsId(BookKey book, Trade trade) => $"trade-{book}-{trade.TradeId}";

    /// <summary>The tonnes a trade moves: from the reserve for an auction (Art. 12), else from the seller's frozen holdings.</summary>
    private static LedgerTransaction TonnesOf(BookKey book, Trade trade, DateTimeOffset now)
    {
        var (type, from) = trade.MethodName == TradeMethods.Auction
            ? (TransactionType.Allocation, RegulatorAccounts.Reserve)
            : (TransactionType.Transfer, FrozenAccounts.For(trade.Seller));
        return new LedgerTransaction(LedgerIds.Trade(book.ToString(), trade.TradeId), type, from, trade.Buyer, trade.Product, trade.Vintage,
            new Tonnes(trade.Quantity), trade.Lot, $"{trade.MethodName} trade {trade.TradeId} at {trade.Price} yuan", "system:market", now);
    }

    /// <summary>
    /// A trade's funds movements and whose they are (<see cref="ExchangeAccount"/> for the fees): the buyer pays turnover
    /// and fee out of frozen funds, the seller receives the turnover and pays its fee, the exchange receives both fees.
    /// </summary>
    private static IEnumerable<(string Participant, FundsMovement Movement)> FundsOf(Trade trade, string id, DateTimeOffset now)
    {
        yield return (trade.Buyer, new FundsMovement($"{id}-pay", FundsMovementKind.Pay, trade.TurnoverFen + trade.BuyerFeeFen, id, now));
        yield return (trade.Seller, new FundsMovement($"{id}-proceeds", FundsMovementKind.Receive, trade.TurnoverFen, id, now));
        if (trade.SellerFeeFen > 0) yield return (trade.Seller, new FundsMovement($"{id}-fee", FundsMovementKind.Charge, trade.SellerFeeFen, id, now));
        if (trade.BuyerFeeFen + trade.SellerFeeFen > 0) yield return (ExchangeAccount, new FundsMovement($"{id}-fees", FundsMovementKind.Receive, trade.BuyerFeeFen + trade.SellerFeeFen, id, now));
    }

    /// <summary>
    /// Movements on one account: each once, whichever were applied before in another grouping (a replayed round can
    /// group them otherwise, and a trade of a round can be settled alone).
    /// </summary>
    private async Task MoveEachAsync(string participant, IReadOnlyList<FundsMovement> movements, CancellationToken cancellationToken)
    {
        var (outcome, refusal) = await funds.ApplyEachAsync(participant, movements, cancellationToken);
        if (outcome is FundsOutcome.Refused or FundsOutcome.IdTaken)
        {
            throw new InvalidOperationException($"Funds movements {movements[0].TransactionId}… on {participant} were {outcome}: {refusal}");
        }
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
        var (outcome, recorded, etag) = await submitter.RecordAsync(tx, cancellationToken, settledByCaller: true);
        if (outcome == SubmitOutcome.IdTaken) throw new InvalidOperationException($"Ledger transaction id {tx.TransactionId} is taken by another transaction.");
        var settled = await ledger.SettleAsync(recorded, etag, cancellationToken); // settled already: returned as it is
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
