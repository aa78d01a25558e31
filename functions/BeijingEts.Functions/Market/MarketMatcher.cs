using Azure.Storage.Blobs.Specialized;

namespace BeijingEts.Functions.Market;

/// <summary>
/// Matches each book's commands in their one sequence, on one instance at a time: whoever holds the book's blob lease
/// (as Azure Functions singletons do) matches; the others leave it to the holder. The holder keeps the book in memory
/// while the marker says nobody else matched since, else replays the commands up to the marker. Effects are written
/// before the marker moves, so a crash only makes the next holder derive and write the same effects again.
/// </summary>
public sealed class MarketMatcher(
    BookJournal journal, OrderStore orders, StorageClients storage, MarketSettings settings, TimeProvider clock, ILogger<MarketMatcher> logger)
{
    private static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(30);
    private const int CommandsPerRound = 200;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<BookKey, BookState> _books = new();

    private BlobContainerClient Locks => storage.Container(StorageNames.Containers.MarketLocks);

    /// <summary>Books this instance is matching now: it looks at the head again before it stops, so nobody here need ask.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<BookKey, byte> _matching = new();

    /// <summary>Matches what is waiting in the book. False when another instance holds the book (it will match it).</summary>
    public async Task<bool> RunAsync(BookKey book, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lease = await TryLeaseAsync(book, cancellationToken);
            if (lease is null) return false;
            _matching[book] = 0;
            try
            {
                await MatchWaitingAsync(book, lease, cancellationToken);
            }
            finally
            {
                // Cleared before the last look at the head: a command appended after that look finds the book not
                // being matched here, and asks (RequestAsync).
                _matching.TryRemove(book, out _);
                await lease.ReleaseAsync(cancellationToken: CancellationToken.None);
            }
            // A command appended while the lease was held, whose message found the book taken, is matched now.
            if (await journal.HeadAsync(book, cancellationToken) <= await journal.MarkerAsync(book, cancellationToken)) return true;
        }
    }

    private async Task MatchWaitingAsync(BookKey book, BlobLeaseClient lease, CancellationToken cancellationToken)
    {
        var marker = await journal.MarkerAsync(book, cancellationToken);
        if (!_books.TryGetValue(book, out var state) || state.MatchedThrough != marker)
        {
            state = new BookState(book, settings);
            foreach (var command in await journal.CommandsAsync(book, 0, marker, cancellationToken)) state.Apply(command, null);
            _books[book] = state;
        }
        while (true)
        {
            var head = await journal.HeadAsync(book, cancellationToken);
            if (head <= state.MatchedThrough) return;
            var commands = await journal.CommandsAsync(book, state.MatchedThrough, Math.Min(head, state.MatchedThrough + CommandsPerRound), cancellationToken);
            var effects = new MatchEffects();
            try
            {
                foreach (var command in commands) state.Apply(command, effects);
                await WriteAsync(book, state, effects, cancellationToken);
                var matched = clock.GetUtcNow();
                foreach (var placed in commands.Where(c => c.Kind == BookCommandKind.Place))
                {
                    EtsTelemetry.MatchLatency.Record((matched - placed.At).TotalMilliseconds,
                        new KeyValuePair<string, object?>(EtsTelemetry.BookTag, book.ToString()), new KeyValuePair<string, object?>(EtsTelemetry.StoragePrefixTag, storage.Names.Prefix));
                }
                await lease.RenewAsync(cancellationToken: cancellationToken);
            }
            catch
            {
                // The in-memory book is ahead of what was recorded: forget it, the next holder replays.
                _books.TryRemove(book, out _);
                throw;
            }
        }
    }

    private async Task WriteAsync(BookKey book, BookState state, MatchEffects effects, CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
        // Trades before orders: an order seen filled has its trades on record. The marker goes last (crash safety).
        await journal.WriteTradesAsync(book, effects.Trades, cancellationToken);
        await orders.PutManyAsync(effects.Orders.Values, cancellationToken);
        // The round's trades and what its ended orders give back are settled together: one message, one pass over the
        // accounts they touch. A round too large for one message sends its releases on their own.
        var round = SettlementMessage.SettleRound(book, effects.Trades.Count == 0 ? null : (effects.Trades[0].TradeId, effects.Trades[^1].TradeId), effects.Releases);
        var queue = storage.Queue(StorageNames.Queues.MarketSettlement);
        IEnumerable<SettlementMessage> messages = round.Fits ? [round] : [round with { Releases = null }, .. effects.Releases];
        await Parallel.ForEachAsync(messages.Where(m => !m.IsEmpty), parallel, async (message, ct) => await queue.SendMessageAsync(JsonSerializer.Serialize(message, JsonSerializerOptions.Web), ct));
        await journal.RecordMatchedAsync(book, state.Depth(clock.GetUtcNow()), state.MatchedThrough, cancellationToken);
        if (effects.Trades.Count > 0) logger.LogDebug("{Book}: {Trades} trade(s) through sequence {Sequence}", book, effects.Trades.Count, state.MatchedThrough);
    }

    private Task<BlobLeaseClient?> TryLeaseAsync(BookKey book, CancellationToken cancellationToken) =>
        MarketLocks.TryAcquireAsync(Locks, book.ToString(), LeaseTime, cancellationToken);

    /// <summary>
    /// Asks for the book to be matched (market-match queue), after a command was appended. Not needed while this
    /// instance is matching the book: it reads the head again after it stops matching, so it sees the command.
    /// </summary>
    public Task RequestAsync(BookKey book, CancellationToken cancellationToken) =>
        _matching.ContainsKey(book) ? Task.CompletedTask
        : storage.Queue(StorageNames.Queues.MarketMatch).SendMessageAsync(JsonSerializer.Serialize(new MatchOrders.Message(book.ToString()), JsonSerializerOptions.Web), cancellationToken);
}

/// <summary>
/// Leases on empty blobs in the market-locks container: whoever holds a name's lease is the one instance doing that
/// name's work (as Azure Functions singletons do). The blob is made on first use.
/// </summary>
public static class MarketLocks
{
    /// <summary>The lease, or null when another instance holds it.</summary>
    public static async Task<BlobLeaseClient?> TryAcquireAsync(BlobContainerClient locks, string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        var blob = locks.GetBlobClient(name);
        var lease = blob.GetBlobLeaseClient();
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                await lease.AcquireAsync(duration, cancellationToken: cancellationToken);
                return lease;
            }
            catch (RequestFailedException error) when (error.Status == 409)
            {
                return null; // held by another instance
            }
            catch (RequestFailedException error) when (error.Status == 404 && attempt == 0)
            {
                try
                {
                    await blob.UploadAsync(BinaryData.Empty, overwrite: false, cancellationToken);
                }
                catch (RequestFailedException exists) when (exists.Status == 409)
                {
                    // Made by another instance meanwhile.
                }
            }
        }
        return null;
    }

    private static readonly TimeSpan HoldingLease = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Runs <paramref name="work"/> holding the name's lease, waiting (up to about 10 s) while another instance holds it;
    /// Held is false if it never came free. The lease is renewed every 5 s while the work runs, so slow work (a loaded
    /// machine, a slow storage call) never lets a second instance in beside it.
    /// </summary>
    public static async Task<(bool Held, T? Result)> WhileHoldingAsync<T>(BlobContainerClient locks, string name, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= 100; attempt++)
        {
            if (await TryAcquireAsync(locks, name, HoldingLease, cancellationToken) is { } lease)
            {
                using var done = new CancellationTokenSource();
                var renewal = KeepAsync(lease, HoldingLease / 3, done.Token);
                try
                {
                    return (true, await work());
                }
                finally
                {
                    await done.CancelAsync();
                    await renewal;
                    try
                    {
                        await lease.ReleaseAsync(cancellationToken: CancellationToken.None);
                    }
                    catch (RequestFailedException error) when (error.Status == 409)
                    {
                        // The lease ran out (renewal could not reach storage in time): the work is done, and the lease is free anyway.
                    }
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
        return (false, default);
    }

    private static async Task KeepAsync(BlobLeaseClient lease, TimeSpan every, CancellationToken done)
    {
        // Renewals on a fixed cadence from the last one that reached storage; one that fails for a passing reason
        // (a timeout, a 5xx after the client's own retries) is tried again each second until the lease would have run
        // out, so a single slow or failed call does not give the lock away while the work still runs.
        var heldUntil = DateTimeOffset.UtcNow + HoldingLease;
        var next = every;
        try
        {
            while (true)
            {
                await Task.Delay(next, done);
                var asked = DateTimeOffset.UtcNow;
                try
                {
                    // Not cancelled mid-flight: a renewal the server applied must be seen through.
                    await lease.RenewAsync(cancellationToken: CancellationToken.None);
                    heldUntil = asked + HoldingLease;
                    next = every - (DateTimeOffset.UtcNow - asked);
                    if (next < TimeSpan.Zero) next = TimeSpan.Zero;
                }
                catch (RequestFailedException error) when (error.Status == 409)
                {
                    return; // lost: another instance took it after it ran out; the release below finds it gone
                }
                catch (Exception error) when (Passing(error) && DateTimeOffset.UtcNow < heldUntil)
                {
                    next = TimeSpan.FromSeconds(1);
                }
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
        }
        catch (Exception error) when (Passing(error))
        {
            // Storage unreachable past the lease's end: nothing more to keep; the release above finds it gone.
        }
    }

    /// <summary>A failure of the call, not of the lease (the renewal runs uncancelled, so a cancellation is its timeout).</summary>
    private static bool Passing(Exception error) =>
        error is RequestFailedException or IOException or TimeoutException or HttpRequestException or OperationCanceledException;
}

/// <summary>The market-match queue: a book has commands to match. A book held elsewhere is matched by its holder.</summary>
[QueueTrigger(StorageNames.Queues.MarketMatch)]
public sealed class MatchOrders(MarketMatcher matcher) : IQueueFunction
{
    public sealed record Message(string Book);

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var book = message.Read<Message>().Book;
        if (!BookKey.TryParse(book, out var key)) throw new InvalidOperationException($"Unknown book {book}.");
        await matcher.RunAsync(key, cancellationToken);
    }
}

/// <summary>
/// Every 10 seconds: a book with commands not yet matched (a message lost, an instance stopped mid-way) is asked for
/// again, so nothing placed waits forever.
/// </summary>
[TimerTrigger("*/10 * * * * *")]
public sealed class SweepOrderBooks(BookJournal journal, MarketMatcher matcher) : ITimerFunction
{
    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        foreach (var book in await journal.BooksAsync(cancellationToken))
        {
            if (await journal.HeadAsync(book, cancellationToken) > await journal.MarkerAsync(book, cancellationToken)) await matcher.RequestAsync(book, cancellationToken);
        }
    }
}

/// <summary>
/// Art. 16: a suspended account cannot sell, so its open sell orders are cancelled (in their books' sequence, like any
/// cancellation) and the matcher gives their frozen tonnes back to the account, which can still receive.
/// </summary>
public sealed class SellOrderCancellation(OrderStore orders, BookJournal journal, MarketMatcher matcher, TimeProvider clock)
{
    public async Task<int> CancelOpenSellOrdersAsync(string participant, string reason, CancellationToken cancellationToken)
    {
        var open = (await orders.ListAsync(participant, null, cancellationToken))
            .Where(o => o.Side == Domain.Trading.Side.Sell && o.Status is OrderStatus.Open or OrderStatus.PartiallyFilled).ToList();
        foreach (var book in open.GroupBy(o => o.Book))
        {
            foreach (var order in book)
            {
                await journal.AppendAsync(book.Key, new BookCommand(0, BookCommandKind.Cancel, order.OrderId, participant, clock.GetUtcNow(), Reason: reason), cancellationToken);
            }
            await matcher.RequestAsync(book.Key, cancellationToken);
        }
        return open.Count;
    }
}
