using System.Globalization;
using BeijingEts.Domain.Trading;

namespace BeijingEts.Functions.Market;

public enum BookCommandKind { Place, Cancel }

/// <summary>One entry of a book's sequence: an order placed (everything the matcher needs to know of it) or a cancellation.</summary>
public sealed record BookCommand(
    long Sequence, BookCommandKind Kind, string OrderId, string Participant, DateTimeOffset At,
    string? ClientOrderId = null, Side Side = Side.Buy, decimal Price = 0, long Quantity = 0, long FrozenFen = 0, string? Reason = null, string? Lot = null);

/// <summary>How a trade was made (Art. 19).</summary>
public static class TradeMethods
{
    /// <summary>公开竞价: matched in the order book.</summary>
    public const string Bidding = "bidding";
    /// <summary>协议转让: proposed by the seller, confirmed by the buyer.</summary>
    public const string Negotiated = "negotiated";
    /// <summary>有偿竞价: allowances sold from the reserve at an auction's clearing price.</summary>
    public const string Auction = "auction";
}

/// <summary>
/// A fill as the market records it, with each side's fee. <c>Method</c> is null for public bidding (trades recorded
/// before it existed); <c>Lot</c> is the BCER lot the seller delivers (null for BEA).
/// </summary>
public sealed record Trade(
    string TradeId, string Product, int Vintage, string Buyer, string Seller, string BuyOrderId, string SellOrderId,
    decimal Price, long Quantity, long BuyerFeeFen, long SellerFeeFen, DateTimeOffset At, string? Method = null, string? Lot = null)
{
    public string MethodName => Method ?? TradeMethods.Bidding;

    public long TurnoverFen => Money.ToFen(PriceRules.Turnover(Price, Quantity));
}

public sealed record DepthLevel(decimal Price, long Quantity, int Orders);

public sealed record BookDepth(string Product, int Vintage, IReadOnlyList<DepthLevel> Bids, IReadOnlyList<DepthLevel> Asks, long Sequence, DateTimeOffset? At,
    decimal? LastPrice = null, DateOnly? LastDate = null, decimal? PreviousClose = null)
{
    /// <summary>The centre of today's band (Art. 20): the previous trading day's close, else the exchange's reference price.</summary>
    public decimal? BandCentre(DateOnly today, decimal? reference) =>
        LastDate is { } last && last < today ? LastPrice : PreviousClose ?? reference;
}

/// <summary>The exchange's reference price for a book, the band's centre until its first close.</summary>
public sealed record ReferencePrice(decimal Price, DateTimeOffset SetAt, string SetBy);

/// <summary>
/// The orderbook table, a partition per book: "head" (the next sequence number), "c-{seq}" the commands in the one
/// order they are matched in, "o-{orderId}"/"x-{orderId}" so an order is placed and cancelled once, "marker" (the
/// last sequence matched), "t-{seq}-{n}" the trades, and "depth". Appending takes the head under its ETag, so
/// whatever the number of app instances the sequence has no gaps and no two commands share a number.
/// </summary>
public sealed class BookJournal(StorageClients storage)
{
    private const string HeadRow = "head";
    private const string MarkerRow = "marker";
    private const string DepthRow = "depth";
    private const int MaxAttempts = 100;

    private TableClient Table => storage.Table(StorageNames.Tables.OrderBook);

    private static string CommandRow(long sequence) => "c-" + sequence.ToString("D12", CultureInfo.InvariantCulture);

    public static string TradeId(long sequence, int fill) => sequence.ToString("D12", CultureInfo.InvariantCulture) + "-" + fill.ToString("D3", CultureInfo.InvariantCulture);

    /// <summary>A command waiting to be appended, and who waits for its number.</summary>
    private sealed record Waiting(BookCommand Command, string OnceRow, TaskCompletionSource<long> Numbered);

    /// <summary>Commands per write: the head row plus a command row and a once row each, within a transaction's 100 rows.</summary>
    private const int GroupSize = 40;

    /// <summary>Each book's head row as this instance last wrote it, with its ETag (only the book's one group writer touches it).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TableEntity> _heads = new(StringComparer.Ordinal);

    /// <summary>Each book's appends in this instance, written a group at a time.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, GroupCommit<Waiting>> _appenders = new(StringComparer.Ordinal);

    /// <summary>
    /// Appends the command once per order and kind; its sequence number (an earlier one if it was appended before).
    /// The head row is taken under its ETag, so whatever the number of instances no two commands share a number and
    /// none is skipped. Within an instance, the commands that arrive while a write is under way go together in the
    /// next one (group commit): one read and one write number up to 40 commands, and an instance never races itself.
    /// </summary>
    public Task<long> AppendAsync(BookKey book, BookCommand command, CancellationToken cancellationToken)
    {
        var appender = _appenders.GetOrAdd(book.ToString(), _ => new GroupCommit<Waiting>(GroupSize, group => WriteGroupAsync(book, group), (group, error) =>
        {
            foreach (var waiting in group) waiting.Numbered.TrySetException(error);
        }));
        var waiting = new Waiting(command, (command.Kind == BookCommandKind.Place ? "o-" : "x-") + command.OrderId,
            new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
        appender.TryAdd(waiting); // never retired
        return waiting.Numbered.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteGroupAsync(BookKey book, List<Waiting> group)
    {
        var partition = book.ToString();
        // The same command twice in one group (a request and its retry) is one command with one number.
        var commands = group.GroupBy(w => w.OnceRow, StringComparer.Ordinal).ToList();
        var checkOnce = false;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (checkOnce)
            {
                // A write failed: some of these may have been appended before (a repeat); they keep their number.
                foreach (var command in commands.ToList())
                {
                    var once = await Table.GetEntityIfExistsAsync<TableEntity>(partition, command.Key, cancellationToken: CancellationToken.None);
                    if (!once.HasValue) continue;
                    foreach (var waiting in command) waiting.Numbered.TrySetResult(once.Value!.GetInt64("Sequence")!.Value);
                    commands.Remove(command);
                }
                if (commands.Count == 0) return;
            }
            // The head as this instance last wrote it, with the ETag the write returned: no read while no other instance
            // appends (one that did makes the write fail on the ETag, and the head is read again).
            TableEntity? known = null;
            var kept = attempt == 1 && _heads.TryGetValue(partition, out known);
            var head = kept ? known : await Table.GetEntityIfExistsAsync<TableEntity>(partition, HeadRow, cancellationToken: CancellationToken.None) is { HasValue: true } read ? read.Value : null;
            var first = head is not null ? head.GetInt64("Next")!.Value : 1;
            var nextHead = new TableEntity(partition, HeadRow) { ["Next"] = first + commands.Count };
            var batch = new List<TableTransactionAction>
            {
                head is not null ? new(TableTransactionActionType.UpdateReplace, nextHead, head.ETag) : new(TableTransactionActionType.Add, nextHead),
            };
            for (var i = 0; i < commands.Count; i++)
            {
                var sequence = first + i;
                batch.Add(new(TableTransactionActionType.Add, DocumentRows.Entity(partition, CommandRow(sequence), commands[i].First().Command with { Sequence = sequence })));
                batch.Add(new(TableTransactionActionType.Add, new TableEntity(partition, commands[i].Key) { ["Sequence"] = sequence }));
            }
            try
            {
                var written = await Table.SubmitTransactionAsync(batch, CancellationToken.None);
                if (written.Value.Count > 0 && written.Value[0].Headers.ETag is { } etag)
                {
                    nextHead.ETag = etag;
                    _heads[partition] = nextHead;
                }
                else
                {
                    _heads.TryRemove(partition, out _);
                }
                for (var i = 0; i < commands.Count; i++)
                {
                    foreach (var waiting in commands[i]) waiting.Numbered.TrySetResult(first + i);
                }
                return;
            }
            catch (TableTransactionFailedException error) when (error.Status is 409 or 412 || (kept && error.Status == 404))
            {
                // Another instance took these numbers, or one of these commands went in before: read again.
                _heads.TryRemove(partition, out _);
                // Only the kept head was out of date (another instance appended since): read it, and nothing else, again.
                if (kept && error.Status is 412 or 404) continue;
                checkOnce = true;
                await Contention.BackOffAsync(attempt, CancellationToken.None, maxRaces: 10);
            }
        }
        throw new InvalidOperationException($"Book {book} stayed contended for {MaxAttempts} attempts; try again.");
    }

    public async Task<bool> HasAsync(BookKey book, BookCommandKind kind, string orderId, CancellationToken cancellationToken) =>
        (await Table.GetEntityIfExistsAsync<TableEntity>(book.ToString(), (kind == BookCommandKind.Place ? "o-" : "x-") + orderId, cancellationToken: cancellationToken)).HasValue;

    /// <summary>Commands after <paramref name="after"/> up to <paramref name="through"/>, in sequence order.</summary>
    public async Task<IReadOnlyList<BookCommand>> CommandsAsync(BookKey book, long after, long through, CancellationToken cancellationToken)
    {
        var commands = new List<BookCommand>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {book.ToString()} and RowKey gt {CommandRow(after)} and RowKey le {CommandRow(through)}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) commands.Add(DocumentRows.Read<BookCommand>(row));
        return commands.OrderBy(c => c.Sequence).ToList();
    }

    /// <summary>The last sequence number given out (0 when none).</summary>
    public async Task<long> HeadAsync(BookKey book, CancellationToken cancellationToken)
    {
        var head = await Table.GetEntityIfExistsAsync<TableEntity>(book.ToString(), HeadRow, cancellationToken: cancellationToken);
        return head.HasValue ? head.Value!.GetInt64("Next")!.Value - 1 : 0;
    }

    /// <summary>The last sequence number matched (0 when none).</summary>
    public async Task<long> MarkerAsync(BookKey book, CancellationToken cancellationToken)
    {
        var marker = await Table.GetEntityIfExistsAsync<TableEntity>(book.ToString(), MarkerRow, cancellationToken: cancellationToken);
        return marker.HasValue ? marker.Value!.GetInt64("MatchedThrough")!.Value : 0;
    }

    /// <summary>Writes trades (again identically if matching runs twice; merged, so a trade keeps its Settled flag).</summary>
    public async Task WriteTradesAsync(BookKey book, IReadOnlyList<Trade> trades, CancellationToken cancellationToken)
    {
        var partition = book.ToString();
        foreach (var chunk in trades.Chunk(TableBatches.MaxBatch))
        {
            await Table.SubmitTransactionAsync(chunk.Select(t => new TableTransactionAction(TableTransactionActionType.UpsertMerge, DocumentRows.Entity(partition, "t-" + t.TradeId, t))), cancellationToken);
        }
    }

    /// <summary>Records that matching reached <paramref name="through"/>, with the depth it left: last, after every effect is written.</summary>
    public async Task RecordMatchedAsync(BookKey book, BookDepth depth, long through, CancellationToken cancellationToken)
    {
        var partition = book.ToString();
        await Table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.UpsertReplace, DocumentRows.Entity(partition, DepthRow, depth)),
            new(TableTransactionActionType.UpsertReplace, new TableEntity(partition, MarkerRow) { ["MatchedThrough"] = through }),
        ], cancellationToken);
    }

    public async Task<Trade?> FindTradeAsync(BookKey book, string tradeId, CancellationToken cancellationToken) =>
        await Table.FindDocumentAsync<Trade>(book.ToString(), "t-" + tradeId, cancellationToken);

    /// <summary>Marks trades settled, up to a hundred in one write.</summary>
    public async Task MarkSettledAsync(BookKey book, IReadOnlyList<string> tradeIds, CancellationToken cancellationToken)
    {
        foreach (var chunk in tradeIds.Chunk(TableBatches.MaxBatch))
        {
            await Table.SubmitTransactionAsync(chunk.Select(id => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                new TableEntity(book.ToString(), "t-" + id) { ["Settled"] = true }, ETag.All)), cancellationToken);
        }
    }

    /// <summary>The trades from <paramref name="firstTradeId"/> through <paramref name="lastTradeId"/> (one matching round's), in order: one query.</summary>
    public async Task<IReadOnlyList<(Trade Trade, bool Settled)>> TradesBetweenAsync(BookKey book, string firstTradeId, string lastTradeId, CancellationToken cancellationToken)
    {
        var trades = new List<(Trade, bool)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {book.ToString()} and RowKey ge {"t-" + firstTradeId} and RowKey le {"t-" + lastTradeId}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) trades.Add((DocumentRows.Read<Trade>(row), row.GetBoolean("Settled") == true));
        return trades.OrderBy(t => t.Item1.TradeId, StringComparer.Ordinal).ToList();
    }

    /// <summary>The book's trades, in the order they were made.</summary>
    public async Task<IReadOnlyList<(Trade Trade, bool Settled)>> TradesAsync(BookKey book, CancellationToken cancellationToken)
    {
        var trades = new List<(Trade, bool)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {book.ToString()} and RowKey gt {"t-"} and RowKey lt {"t."}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            trades.Add((DocumentRows.Read<Trade>(row), row.GetBoolean("Settled") == true));
        }
        return trades.OrderBy(t => t.Item1.TradeId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every book that has had a command: the partitions with a head row.</summary>
    public async Task<IReadOnlyList<BookKey>> BooksAsync(CancellationToken cancellationToken)
    {
        var books = new List<BookKey>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {HeadRow}"), select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            if (BookKey.TryParse(row.PartitionKey, out var key)) books.Add(key);
        }
        return books;
    }

    public async Task<BookDepth?> DepthAsync(BookKey book, CancellationToken cancellationToken) =>
        await Table.FindDocumentAsync<BookDepth>(book.ToString(), DepthRow, cancellationToken);

    public async Task<ReferencePrice?> ReferenceAsync(BookKey book, CancellationToken cancellationToken) =>
        await Table.FindDocumentAsync<ReferencePrice>(book.ToString(), "reference", cancellationToken);

    public Task SetReferenceAsync(BookKey book, ReferencePrice reference, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(book.ToString(), "reference", reference, cancellationToken);
}
