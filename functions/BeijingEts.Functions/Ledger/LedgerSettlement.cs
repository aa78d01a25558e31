using BeijingEts.Domain.Ledger;

namespace BeijingEts.Functions.Ledger;

/// <summary>Seams for the crash and race tests: they order or break the steps of a settlement. They do nothing in production.</summary>
public class LedgerFaults
{
    /// <summary>Runs once a delivery has read the pending transaction, before it decides any leg.</summary>
    public virtual Task AfterReadAsync(LedgerTransaction transaction) => Task.CompletedTask;

    /// <summary>Runs between the debit and the credit of a movement.</summary>
    public virtual Task AfterDebitAsync(LedgerTransaction transaction) => Task.CompletedTask;
}

/// <summary>
/// Settles one transaction: debit the source, then credit the target (or refund the source). Each leg's decision is
/// recorded once in its account's partition (<see cref="LedgerStore.ApplyAsync"/>), and the status is derived from those
/// decisions, so a redelivered or duplicated message, or a crash between the legs, ends with the movement applied
/// exactly once and a status that agrees with the balances, whichever delivery writes it (Art. 13).
/// </summary>
public sealed class LedgerSettlement(TransactionStore transactions, LedgerStore ledger, IssuanceCaps caps, LedgerFaults faults, TimeProvider clock)
{
    /// <param name="debitApplied">The caller applied the debit leg itself (a batch of debits, <see cref="LedgerStore.DebitManyAsync"/>).</param>
    /// <returns>The transaction as settled (by this call or an earlier one), or null when no transaction has the id.</returns>
    public async Task<LedgerTransaction?> SettleAsync(string transactionId, CancellationToken cancellationToken, bool debitApplied = false)
    {
        var found = await transactions.FindAsync(transactionId, cancellationToken);
        if (found is null) return null;
        return await SettleAsync(found.Value.Transaction, found.Value.ETag, cancellationToken, debitApplied);
    }

    /// <summary>Settles a transaction the caller has just read or recorded, with the row's ETag: the same, one read fewer.</summary>
    public async Task<LedgerTransaction> SettleAsync(LedgerTransaction tx, ETag etag, CancellationToken cancellationToken, bool debitApplied = false) =>
        tx.IsSettled ? tx : await FinishAsync(await DecideAsync(tx, debitApplied, cancellationToken), etag, cancellationToken);

    /// <summary>
    /// Settles many transactions the caller has just recorded, with their rows' ETags: each one's legs as
    /// <see cref="SettleAsync(LedgerTransaction, ETag, CancellationToken, bool)"/> decides them, then the statuses
    /// together (an allocation run's share a partition: 100 to a request). A crash before the statuses leaves the
    /// transactions pending with their legs decided; settling them again finds those decisions and writes the same statuses.
    /// </summary>
    /// <param name="creditApplied">The caller applied both legs itself (a batch of debits, then of credits,
    /// <see cref="LedgerStore.CreditManyAsync"/>): each is completed, with no leg asked again.</param>
    public async Task<IReadOnlyList<LedgerTransaction>> SettleManyAsync(IReadOnlyCollection<(LedgerTransaction Transaction, ETag ETag)> recorded, CancellationToken cancellationToken,
        bool debitApplied = false, bool creditApplied = false)
    {
        var decided = new System.Collections.Concurrent.ConcurrentBag<(LedgerTransaction, ETag)>();
        await Parallel.ForEachAsync(recorded.Where(r => !r.Transaction.IsSettled), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (r, ct) => decided.Add((creditApplied ? Settled(r.Transaction, TransactionState.Completed, null) : await DecideAsync(r.Transaction, debitApplied, ct), r.ETag)));
        var settled = decided.Select(d => d.Item1).ToDictionary(t => t.TransactionId, StringComparer.Ordinal);
        // A batch that failed (a row another delivery settled meanwhile) is written one by one, each as a single settlement is.
        foreach (var (tx, etag) in await transactions.ReplaceManyAsync(decided, cancellationToken)) settled[tx.TransactionId] = await FinishAsync(tx, etag, cancellationToken);
        return [.. recorded.Select(r => settled.GetValueOrDefault(r.Transaction.TransactionId) ?? r.Transaction)];
    }

    /// <summary>Decides the transaction's legs (or reads the decisions made before) and gives it the status they make, not yet written.</summary>
    private async Task<LedgerTransaction> DecideAsync(LedgerTransaction tx, bool debitApplied, CancellationToken cancellationToken)
    {
        await faults.AfterReadAsync(tx);
        if (!TransactionRules.Creates(tx.Type) && !debitApplied)
        {
            var debit = await ledger.ApplyAsync(tx, Leg.Debit, null, cancellationToken);
            if (!debit.Applied) return Settled(tx, TransactionState.Rejected, debit.Rejection);
            await faults.AfterDebitAsync(tx);
        }
        var cap = tx.Type == TransactionType.Issuance ? await caps.CapAsync(tx.Vintage, cancellationToken) : null; // none: no plan, nothing to issue
        var credit = await ledger.ApplyAsync(tx, Leg.Credit, cap, cancellationToken);
        if (!credit.Applied)
        {
            // Issuance over its cap (or with none) debited nothing; a refund gives a debited source back what a closed target refused.
            if (!TransactionRules.Creates(tx.Type)) await ledger.ApplyAsync(tx, Leg.Refund, null, cancellationToken);
            return Settled(tx, TransactionState.Rejected, credit.Rejection);
        }
        return Settled(tx, TransactionState.Completed, null);
    }

    private LedgerTransaction Settled(LedgerTransaction tx, string state, string? reason) => tx with { State = state, Reason = reason, SettledAt = clock.GetUtcNow() };

    /// <summary>Records the status with the ETag read at the start; if another delivery wrote first, it derived the same status from the same decisions.</summary>
    private async Task<LedgerTransaction> FinishAsync(LedgerTransaction settled, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await transactions.ReplaceAsync(settled, etag, cancellationToken);
            return settled;
        }
        catch (RequestFailedException error) when (error.Status == 412)
        {
            // The row changed since it was read: a concurrent delivery settled it from the same recorded leg decisions,
            // so its status is this one.
            if (await transactions.FindAsync(settled.TransactionId, cancellationToken) is not { Transaction.IsSettled: true } recorded) throw;
            return recorded.Transaction;
        }
    }
}

/// <summary>The queue function: each allowance-events message names one transaction to settle.</summary>
[QueueTrigger(StorageNames.Queues.AllowanceEvents)]
public sealed class SettleLedgerTransaction(LedgerSettlement settlement) : IQueueFunction
{
    /// <param name="Transaction">The transaction as recorded, with its row's <paramref name="ETag"/>: settled without reading
    /// the row back. A message with only the id (the pending sweep's) reads it.</param>
    public sealed record Message(string TransactionId, LedgerTransaction? Transaction = null, string? ETag = null);

    public Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken) => message.Read<Message>() switch
    {
        // A first delivery settles what it carries; a later one may find it settled, which reading first tells at once.
        { Transaction: { } tx, ETag: { } etag } read when tx.TransactionId == read.TransactionId && message.DequeueCount <= 1 => settlement.SettleAsync(tx, new ETag(etag), cancellationToken),
        var read => settlement.SettleAsync(read.TransactionId, cancellationToken) as Task,
    };
}

/// <summary>
/// Every minute: a transaction still pending with no message left to settle it lost its message between being recorded
/// and being enqueued; it is enqueued again. While the queue still holds messages, the pending ones are taken to be
/// among them (re-sending them would only multiply a backlog); one pending for half an hour is re-sent regardless.
/// Settling twice is harmless.
/// </summary>
[TimerTrigger("0 * * * * *")]
public sealed class ResumePendingTransactions(TransactionStore transactions, StorageClients storage, TimeProvider clock) : ITimerFunction
{
    private static readonly TimeSpan Lost = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Stuck = TimeSpan.FromMinutes(30);

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(StorageNames.Queues.AllowanceEvents);
        var queued = (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
        var olderThan = clock.GetUtcNow() - (queued == 0 ? Lost : Stuck);
        await foreach (var tx in transactions.PendingAsync(olderThan, cancellationToken))
        {
            await queue.SendMessageAsync(JsonSerializer.Serialize(new SettleLedgerTransaction.Message(tx.TransactionId), QueueJson), cancellationToken);
        }
    }

    internal static readonly JsonSerializerOptions QueueJson = new(JsonSerializerDefaults.Web);
}
