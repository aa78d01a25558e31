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
/// The ledgertransactions table: one row per transaction id, the idempotency record and its outcome. The id is both
/// keys: Azurite finds a row by its row key first and then scans every row that shares it, so a row key common to all
/// transactions made each read and write cost in proportion to the whole table.
/// </summary>
public sealed class TransactionStore(StorageClients storage)
{

    private TableClient Table => storage.Table(StorageNames.Tables.LedgerTransactions);

    public async Task<(LedgerTransaction Transaction, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(id, id, cancellationToken: cancellationToken);
        return row.HasValue ? (JsonSerializer.Deserialize<LedgerTransaction>(row.Value!.GetString("Document"))!, row.Value.ETag) : null;
    }

    /// <summary>Records a new transaction and returns its row's ETag; null when the id is taken.</summary>
    public async Task<ETag?> AddAsync(LedgerTransaction transaction, CancellationToken cancellationToken)
    {
        try
        {
            return (await Table.AddEntityAsync(ToEntity(transaction), cancellationToken)).Headers.ETag;
        }
        catch (RequestFailedException error) when (error.Status == 409)
        {
            return null;
        }
    }

    /// <summary>
    /// Every transaction whose id starts with <paramref name="prefix"/>, with its ETag: one query over that key range
    /// (the ids a payout makes share a prefix), instead of a read per id.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, (LedgerTransaction Transaction, ETag ETag)>> FindByPrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        if (prefix.Length == 0) throw new ArgumentException("Give a prefix: a whole-table scan is not what this is for.", nameof(prefix));
        var after = prefix[..^1] + (char)(prefix[^1] + 1);
        var found = new Dictionary<string, (LedgerTransaction, ETag)>(StringComparer.Ordinal);
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey ge {prefix} and PartitionKey lt {after}"), cancellationToken: cancellationToken))
        {
            found[row.PartitionKey] = (JsonSerializer.Deserialize<LedgerTransaction>(row.GetString("Document"))!, row.ETag);
        }
        return found;
    }

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
        Table.UpdateEntityAsync(ToEntity(transaction), etag, TableUpdateMode.Replace, cancellationToken);

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

    private static TableEntity ToEntity(LedgerTransaction t) => new(t.TransactionId, t.TransactionId)
    {
        ["State"] = t.State,
        ["Type"] = TransactionRules.Name(t.Type),
        ["Document"] = JsonSerializer.Serialize(t),
    };
}
