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
    public async Task<LedgerTransaction> SettleAsync(LedgerTransaction tx, ETag etag, CancellationToken cancellationToken, bool debitApplied = false)
    {
        if (tx.IsSettled) return tx;
        await faults.AfterReadAsync(tx);

        if (!TransactionRules.Creates(tx.Type) && !debitApplied)
        {
            var debit = await ledger.ApplyAsync(tx, Leg.Debit, null, cancellationToken);
            if (!debit.Applied) return await FinishAsync(tx, etag, TransactionState.Rejected, debit.Rejection, cancellationToken);
            await faults.AfterDebitAsync(tx);
        }
        var cap = tx.Type == TransactionType.Issuance ? await caps.CapAsync(tx.Vintage, cancellationToken) : null; // none: no plan, nothing to issue
        var credit = await ledger.ApplyAsync(tx, Leg.Credit, cap, cancellationToken);
        if (!credit.Applied)
        {
            // Issuance over its cap (or with none) debited nothing; a refund gives a debited source back what a closed target refused.
            if (!TransactionRules.Creates(tx.Type)) await ledger.ApplyAsync(tx, Leg.Refund, null, cancellationToken);
            return await FinishAsync(tx, etag, TransactionState.Rejected, credit.Rejection, cancellationToken);
        }
        return await FinishAsync(tx, etag, TransactionState.Completed, null, cancellationToken);
    }

    /// <summary>Records the status with the ETag read at the start; if another delivery wrote first, it derived the same status from the same decisions.</summary>
    private async Task<LedgerTransaction> FinishAsync(LedgerTransaction tx, ETag etag, string state, string? reason, CancellationToken cancellationToken)
    {
        var settled = tx with { State = state, Reason = reason, SettledAt = clock.GetUtcNow() };
        try
        {
            await transactions.ReplaceAsync(settled, etag, cancellationToken);
            return settled;
        }
        catch (RequestFailedException error) when (error.Status == 412)
        {
            // The row changed since it was read: a concurrent delivery settled it from the same recorded leg decisions,
            // so its status is this one.
            if (await transactions.FindAsync(tx.TransactionId, cancellationToken) is not { Transaction.IsSettled: true } recorded) throw;
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
