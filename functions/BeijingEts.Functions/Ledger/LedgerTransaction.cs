using System.Security.Cryptography;
using System.Text;
using BeijingEts.Domain.Ledger;

namespace BeijingEts.Functions.Ledger;

public static class TransactionState
{
    public const string Pending = "pending";
    public const string Completed = "completed";
    public const string Rejected = "rejected";
}

/// <summary>A movement on the ledger, as submitted; its state moves from pending to completed or rejected, once.</summary>
public sealed record LedgerTransaction(
    string TransactionId,
    TransactionType Type,
    string? From,
    string To,
    string Product,
    int Vintage,
    Tonnes Quantity,
    string? Lot,
    string? Reference,
    string SubmittedBy,
    DateTimeOffset SubmittedAt,
    string State = TransactionState.Pending,
    string? Reason = null,
    DateTimeOffset? SettledAt = null)
{
    public bool IsSettled => State is TransactionState.Completed or TransactionState.Rejected;

    /// <summary>What makes two submissions "the same transaction": everything the caller sent.</summary>
    public string ContentHash() => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
        string.Join("\n", TransactionRules.Name(Type), From ?? "", To, Product, Vintage, Quantity.Value, Lot ?? "", Reference ?? ""))));
}

/// <summary>A caller found its transaction id held by a different transaction: a failure, never its own outcome.</summary>
public sealed class LedgerIdTakenException(string transactionId)
    : InvalidOperationException($"Ledger transaction id {transactionId} is taken by a different transaction.")
{
    public string TransactionId { get; } = transactionId;
}

/// <summary>
/// The ledgertransactions table: one row per transaction id, the idempotency record and its outcome. The id is the row
/// key (Azurite finds a row by its row key first and then scans every row that shares it, so a row key common to all
/// transactions made each read and write cost in proportion to the whole table). The partition is the id too, except
/// for an allocation run's transactions, one per unit, which share their run's (<see cref="LedgerIds.Run"/>): a run of
/// 10,000 units records them, and then their outcomes, 100 to a request instead of one each; and for a trade's, which
/// share their book's, so a matching round's trades are recorded and settled the same way, and for a sell order's
/// holdings freeze and release, which share their book's too: those asked at once go in one request (a group commit).
/// </summary>
public sealed class TransactionStore(StorageClients storage)
{

    private TableClient Table => storage.Table(StorageNames.Tables.LedgerTransactions);

    public async Task<(LedgerTransaction Transaction, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition(id), id, cancellationToken: cancellationToken);
        return row.HasValue ? (JsonSerializer.Deserialize<LedgerTransaction>(row.Value!.GetString("Document"))!, row.Value.ETag) : null;
    }

    /// <summary>Records a new transaction and returns its row's ETag; null when the id is taken.</summary>
    public async Task<ETag?> AddAsync(LedgerTransaction transaction, CancellationToken cancellationToken) =>
        LedgerIds.OrderBook(transaction.TransactionId) is { } book
            ? await GroupedAsync(book, new Grouped(ToEntity(transaction), null), cancellationToken)
            : await AddOneAsync(ToEntity(transaction), cancellationToken);

    private async Task<ETag?> AddOneAsync(TableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            return (await Table.AddEntityAsync(entity, cancellationToken)).Headers.ETag;
        }
        catch (RequestFailedException error) when (error.Status == 409)
        {
            return null;
        }
    }

    /// <summary>A row to add (no ETag) or to replace under its ETag, waiting for its partition's next write, and what became of it.</summary>
    private sealed record Grouped(TableEntity Entity, ETag? Replacing)
    {
        public TaskCompletionSource<ETag?> Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Each shared partition's adds and replaces in this instance (the sell orders' freezes of a book), written a group at a time.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, GroupCommit<Grouped>> _groups = new(StringComparer.Ordinal);

    /// <summary>
    /// Writes the row with the others asked for its partition meanwhile (a group commit: the sell orders placed at once
    /// in a book record their freezes, then their statuses, in one request). A group that fails (a row taken, or changed
    /// since its ETag) is written one by one, so each caller gets the answer a write of its own gives.
    /// </summary>
    private async Task<ETag?> GroupedAsync(string partition, Grouped row, CancellationToken cancellationToken)
    {
        var group = _groups.GetOrAdd(partition, _ => new GroupCommit<Grouped>(TableBatches.MaxBatch, WriteGroupAsync, (rows, error) =>
        {
            foreach (var r in rows) r.Written.TrySetException(error);
        }));
        group.TryAdd(row); // never retired
        return await row.Written.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteGroupAsync(List<Grouped> rows)
    {
        if (rows.Count > 1 && rows.DistinctBy(r => r.Entity.RowKey, StringComparer.Ordinal).Count() == rows.Count)
        {
            try
            {
                var written = await Table.SubmitTransactionAsync(rows.Select(r => r.Replacing is { } etag
                    ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, r.Entity, etag)
                    : new TableTransactionAction(TableTransactionActionType.Add, r.Entity)), CancellationToken.None);
                if (written.Value.Count == rows.Count && written.Value.All(w => w.Headers.ETag is not null))
                {
                    for (var i = 0; i < rows.Count; i++) rows[i].Written.TrySetResult(written.Value[i].Headers.ETag);
                    return;
                }
                foreach (var r in rows.Where(r => r.Replacing is not null)) r.Written.TrySetResult(null); // replaced: the caller needs no ETag
                foreach (var r in rows.Where(r => r.Replacing is null)) r.Written.TrySetResult((await Table.GetEntityAsync<TableEntity>(r.Entity.PartitionKey, r.Entity.RowKey)).Value.ETag);
                return;
            }
            catch (TableTransactionFailedException)
            {
                // One row was taken or changed: each is written on its own below, and answered as such a write is.
            }
        }
        await Task.WhenAll(rows.Select(async r =>
        {
            try
            {
                r.Written.TrySetResult(r.Replacing is { } etag
                    ? (await Table.UpdateEntityAsync(r.Entity, etag, TableUpdateMode.Replace, CancellationToken.None)).Headers.ETag
                    : await AddOneAsync(r.Entity, CancellationToken.None));
            }
            catch (Exception error)
            {
                r.Written.TrySetException(error);
            }
        }));
    }

    /// <summary>
    /// Every transaction whose id starts with <paramref name="prefix"/>, with its ETag: one query over that key range
    /// (the ids a payout makes share a prefix), instead of a read per id.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, (LedgerTransaction Transaction, ETag ETag)>> FindByPrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        if (prefix.Length == 0) throw new ArgumentException("Give a prefix: a whole-table scan is not what this is for.", nameof(prefix));
        var after = prefix[..^1] + (char)(prefix[^1] + 1);
        // Within one run's partition, the ids are its row keys; otherwise every partition from the prefix on (a run's
        // among them, which may hold ids that do not start with the prefix).
        var filter = LedgerIds.Run(prefix) is { } run
            ? TableClient.CreateQueryFilter($"PartitionKey eq {run} and RowKey ge {prefix} and RowKey lt {after}")
            : TableClient.CreateQueryFilter($"PartitionKey ge {prefix} and PartitionKey lt {after}");
        var found = new Dictionary<string, (LedgerTransaction, ETag)>(StringComparer.Ordinal);
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey.StartsWith(prefix, StringComparison.Ordinal)) found[row.RowKey] = (JsonSerializer.Deserialize<LedgerTransaction>(row.GetString("Document"))!, row.ETag);
        }
        return found;
    }

    /// <summary>
    /// Records new transactions, those sharing a partition (an allocation run's) up to 100 to a request, and returns
    /// the row's ETag of each one recorded now. An id already taken (by this transaction, recorded before, or by another)
    /// is not in the answer: a batch holding one fails whole, and its rows are then added one by one.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, ETag>> AddManyAsync(IReadOnlyCollection<LedgerTransaction> recording, CancellationToken cancellationToken)
    {
        var added = new System.Collections.Concurrent.ConcurrentDictionary<string, ETag>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(Batches(recording.DistinctBy(t => t.TransactionId, StringComparer.Ordinal), t => t), Parallelism(cancellationToken), async (batch, ct) =>
        {
            if (batch.Length > 1 && await TrySubmitAsync(batch.Select(t => new TableTransactionAction(TableTransactionActionType.Add, ToEntity(t))), ct) is { } written)
            {
                // A row whose ETag did not come back is recorded all the same: the caller reads it, as it reads a taken id.
                for (var i = 0; i < batch.Length; i++) if (written[i] is { } etag) added[batch[i].TransactionId] = etag;
                return;
            }
            foreach (var tx in batch)
            {
                if (await AddAsync(tx, ct) is { } etag) added[tx.TransactionId] = etag;
            }
        });
        return added;
    }

    /// <summary>
    /// <see cref="AddManyAsync"/>, then each id found taken is read: a transaction <paramref name="same"/> takes for the
    /// one asked (recorded before, or by a run at once) stands, with its ETag; any other is a failure, never ours (Art. 13).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, (LedgerTransaction Transaction, ETag ETag)>> RecordManyAsync(IReadOnlyCollection<LedgerTransaction> recording,
        Func<LedgerTransaction, LedgerTransaction, bool> same, CancellationToken cancellationToken)
    {
        var (recorded, taken) = await TryRecordManyAsync(recording, same, cancellationToken);
        return taken.Count == 0 ? recorded : throw new LedgerIdTakenException(taken[0]);
    }

    /// <summary>
    /// <see cref="RecordManyAsync"/>, answering the ids held by other transactions (<c>Taken</c>, in the order asked)
    /// instead of failing on the first: the caller decides what becomes of each (a market round settles those trades alone).
    /// </summary>
    public async Task<(IReadOnlyDictionary<string, (LedgerTransaction Transaction, ETag ETag)> Recorded, IReadOnlyList<string> Taken)> TryRecordManyAsync(
        IReadOnlyCollection<LedgerTransaction> recording, Func<LedgerTransaction, LedgerTransaction, bool> same, CancellationToken cancellationToken)
    {
        var added = await AddManyAsync(recording, cancellationToken);
        var recorded = new System.Collections.Concurrent.ConcurrentDictionary<string, (LedgerTransaction, ETag)>(StringComparer.Ordinal);
        foreach (var tx in recording.Where(t => added.ContainsKey(t.TransactionId))) recorded[tx.TransactionId] = (tx, added[tx.TransactionId]);
        var taken = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(recording.Where(t => !added.ContainsKey(t.TransactionId)), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (tx, ct) =>
            {
                if (await FindAsync(tx.TransactionId, ct) is { } found && same(found.Transaction, tx)) recorded[tx.TransactionId] = found;
                else taken[tx.TransactionId] = 0;
            });
        return (recorded, [.. recording.Select(t => t.TransactionId).Where(taken.ContainsKey)]);
    }

    /// <summary>
    /// Replaces the rows of settled transactions, each conditional on its ETag, those sharing a partition up to 100 to a
    /// request; returns the ones not written because a batch of them failed (a row changed since its ETag: another
    /// delivery settled it), for the caller to write one by one.
    /// </summary>
    public async Task<IReadOnlyList<(LedgerTransaction Transaction, ETag ETag)>> ReplaceManyAsync(IReadOnlyCollection<(LedgerTransaction Transaction, ETag ETag)> settled,
        CancellationToken cancellationToken)
    {
        var left = new System.Collections.Concurrent.ConcurrentBag<(LedgerTransaction, ETag)>();
        await Parallel.ForEachAsync(Batches(settled, s => s.Transaction), Parallelism(cancellationToken), async (batch, ct) =>
        {
            var actions = batch.Select(s => new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(s.Transaction), s.ETag));
            if (await TrySubmitAsync(actions, ct) is null) foreach (var s in batch) left.Add(s);
        });
        return [.. left];
    }

    /// <summary>The items in batches of one partition each, at most 100 (an entity-group transaction's limit).</summary>
    private static IEnumerable<T[]> Batches<T>(IEnumerable<T> items, Func<T, LedgerTransaction> transaction) =>
        items.GroupBy(i => Partition(transaction(i).TransactionId), StringComparer.Ordinal).SelectMany(partition => partition.Chunk(TableBatches.MaxBatch));

    /// <summary>Submits one entity-group transaction; the rows' new ETags, or null when a row was taken or changed (409, 412, 404).</summary>
    private async Task<ETag?[]?> TrySubmitAsync(IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            var written = await Table.SubmitTransactionAsync(actions, cancellationToken);
            return written.Value.Select(r => r.Headers.ETag).ToArray();
        }
        catch (TableTransactionFailedException error) when (error.Status is 404 or 409 or 412)
        {
            return null;
        }
    }

    private static ParallelOptions Parallelism(CancellationToken cancellationToken) => new() { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken };

    /// <summary>Records a new transaction; if the id is taken, returns the transaction already recorded under it.</summary>
    public async Task<LedgerTransaction?> TryAddAsync(LedgerTransaction transaction, CancellationToken cancellationToken) =>
        await AddAsync(transaction, cancellationToken) is null ? (await FindAsync(transaction.TransactionId, cancellationToken))!.Value.Transaction : null;

    /// <summary>
    /// The transaction recorded under <paramref name="expected"/>'s id, read together with its content: null when none is,
    /// and <see cref="LedgerIdTakenException"/> when a different transaction holds the id, whose outcome is not ours (Art. 13).
    /// </summary>
    public async Task<LedgerTransaction?> FindSameAsync(LedgerTransaction expected, CancellationToken cancellationToken)
    {
        if (await FindAsync(expected.TransactionId, cancellationToken) is not { Transaction: var recorded }) return null;
        return recorded.ContentHash() == expected.ContentHash() ? recorded : throw new LedgerIdTakenException(expected.TransactionId);
    }

    public Task ReplaceAsync(LedgerTransaction transaction, ETag etag, CancellationToken cancellationToken) =>
        LedgerIds.OrderBook(transaction.TransactionId) is { } book
            ? GroupedAsync(book, new Grouped(ToEntity(transaction), etag), cancellationToken)
            : Table.UpdateEntityAsync(ToEntity(transaction), etag, TableUpdateMode.Replace, cancellationToken);

    /// <summary>Pending transactions submitted before <paramref name="before"/>: ones whose queue message may be lost.</summary>
    public async IAsyncEnumerable<LedgerTransaction> PendingAsync(DateTimeOffset before, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"State eq {TransactionState.Pending}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var transaction = JsonSerializer.Deserialize<LedgerTransaction>(row.GetString("Document"))!;
            if (transaction.SubmittedAt < before) yield return transaction;
        }
    }

    /// <summary>
    /// The partition of a transaction's row: its allocation run's, a trade's book's (<see cref="LedgerIds.TradeBook"/>), a
    /// sell order's holdings freeze or release's book's (<see cref="LedgerIds.OrderBook"/>), or its own.
    /// </summary>
    internal static string Partition(string transactionId) => LedgerIds.Run(transactionId) ?? LedgerIds.TradeBook(transactionId) ?? LedgerIds.OrderBook(transactionId) ?? transactionId;

    private static TableEntity ToEntity(LedgerTransaction t) => new(Partition(t.TransactionId), t.TransactionId)
    {
        ["State"] = t.State,
        ["Type"] = TransactionRules.Name(t.Type),
        ["Document"] = JsonSerializer.Serialize(t),
    };
}
