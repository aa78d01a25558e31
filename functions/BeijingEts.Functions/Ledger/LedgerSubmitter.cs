namespace BeijingEts.Functions.Ledger;

public enum SubmitOutcome
{
    /// <summary>Recorded now and queued for settlement.</summary>
    Recorded,
    /// <summary>The same transaction was recorded before; queued again if still pending.</summary>
    AlreadyRecorded,
    /// <summary>The id is taken by a different transaction.</summary>
    IdTaken,
}

/// <summary>Records a transaction under its id and queues it for settlement: the one way movements enter the ledger.</summary>
public sealed class LedgerSubmitter(TransactionStore transactions, StorageClients storage)
{
    /// <param name="settledByCaller">The caller settles it right away itself; no message is sent. Should the caller stop
    /// first, the transaction is pending with no message, and <see cref="ResumePendingTransactions"/> sends one.</param>
    public async Task<(SubmitOutcome Outcome, LedgerTransaction Recorded)> SubmitAsync(LedgerTransaction tx, CancellationToken cancellationToken, bool settledByCaller = false)
    {
        var (outcome, recorded, _) = await RecordAsync(tx, cancellationToken, settledByCaller);
        return (outcome, recorded);
    }

    /// <summary>
    /// <see cref="SubmitAsync"/>, also giving the row's ETag, so a caller that settles the transaction itself hands it to
    /// <see cref="LedgerSettlement.SettleAsync(LedgerTransaction, ETag, CancellationToken, bool)"/> instead of reading the row back.
    /// The message carries the transaction and the ETag too, so the settling worker reads nothing back either.
    /// </summary>
    public async Task<(SubmitOutcome Outcome, LedgerTransaction Recorded, ETag ETag)> RecordAsync(LedgerTransaction tx, CancellationToken cancellationToken, bool settledByCaller = false)
    {
        var added = await transactions.AddAsync(tx, cancellationToken);
        var (recorded, etag) = added is { } newRow ? (tx, newRow) : (await transactions.FindAsync(tx.TransactionId, cancellationToken))!.Value;
        if (added is null && recorded.ContentHash() != tx.ContentHash()) return (SubmitOutcome.IdTaken, recorded, etag);
        if (!recorded.IsSettled && !settledByCaller)
        {
            // Sent again while pending: enqueue again too, in case the first message was lost. Settling is idempotent.
            await storage.Queue(StorageNames.Queues.AllowanceEvents).SendMessageAsync(
                JsonSerializer.Serialize(new SettleLedgerTransaction.Message(recorded.TransactionId, recorded, etag.ToString()), ResumePendingTransactions.QueueJson), cancellationToken);
        }
        return (added is null ? SubmitOutcome.AlreadyRecorded : SubmitOutcome.Recorded, recorded, etag);
    }
}
